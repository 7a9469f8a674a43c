"""A small logistic model that turns search features into a calibrated probability that
the top topic is the right one (Platt-style calibration, fitted when the index is built)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Calibration:
    mean: tuple[float, ...]
    std: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def confidence(self, features: np.ndarray) -> float:
        z = (features - np.asarray(self.mean)) / np.asarray(self.std)
        logit = float(np.dot(z, np.asarray(self.coef)) + self.intercept)
        return float(1.0 / (1.0 + np.exp(-np.clip(logit, -30, 30))))

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Calibration:
        return cls(
            mean=tuple(data["mean"]),  # type: ignore[arg-type]
            std=tuple(data["std"]),  # type: ignore[arg-type]
            coef=tuple(data["coef"]),  # type: ignore[arg-type]
            intercept=float(data["intercept"]),  # type: ignore[arg-type]
        )


def fit_calibration(features: np.ndarray, labels: np.ndarray) -> Calibration:
    """features: (n, f); labels: 1 where the top topic was right and in scope, else 0."""
    from sklearn.linear_model import LogisticRegression

    mean = features.mean(axis=0)
    std = features.std(axis=0) + 1e-6
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit((features - mean) / std, labels)
    return Calibration(
        mean=tuple(float(x) for x in mean),
        std=tuple(float(x) for x in std),
        coef=tuple(float(x) for x in model.coef_[0]),
        intercept=float(model.intercept_[0]),
    )
