"""The console's FastAPI app: thin routers over the console database and Rasa's tracker store."""

from __future__ import annotations

from fastapi import FastAPI

from console.db import migrate
from console.deps import settings_dep
from console.routers import audit_log, auth, conversations, review, users
from core.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    migrate(settings.console_db_url)
    app = FastAPI(
        title="Mesotherapy assistant: staff console",
        version="0.1.0",
        description="Review conversations, answer handed-off patients, keep health data safe.",
    )
    app.dependency_overrides[settings_dep] = lambda: settings

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(auth.router)
    app.include_router(users.router)
    app.include_router(conversations.router)
    app.include_router(review.router)
    app.include_router(audit_log.router)
    return app
