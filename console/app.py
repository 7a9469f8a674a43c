"""The console's FastAPI app: thin routers over the console database and Rasa's tracker store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError

from console.db import migrate
from console.deps import settings_dep
from console.routers import (
    audit_log,
    auth,
    canned_replies,
    console_settings,
    contacts,
    conversations,
    dashboard,
    export,
    handoffs,
    knowledge,
    pages,
    patient_data,
    review,
    users,
)
from console.scheduler import schedulers
from core.settings import Settings, get_settings
from core.text_clean import clean_value


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    migrate(settings.console_db_url)
    jobs = schedulers(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for job in jobs:  # retention purge + at-rest redaction; patients' erasure requests (console/scheduler.py)
            job.start()
        try:
            yield
        finally:
            for job in jobs:
                job.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Mesotherapy assistant: staff console",
        version="0.1.0",
        description="Review conversations, answer handed-off patients, keep health data safe.",
    )
    app.dependency_overrides[settings_dep] = lambda: settings

    @app.middleware("http")
    async def no_caching_of_health_data(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(DataError)
    async def unstorable(request: Request, exc: DataError) -> JSONResponse:
        # e.g. a NUL character, which PostgreSQL refuses in text: bad input, not a server fault
        return JSONResponse(
            {"detail": "the request holds characters or values the database cannot store (such as a NUL character)"},
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer, its strings cleaned: a lone surrogate echoed back as `input` cannot be encoded
        return JSONResponse(
            {"detail": clean_value(jsonable_encoder(exc.errors()))}, status_code=status.HTTP_422_UNPROCESSABLE_ENTITY
        )

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(auth.router)
    app.include_router(users.router)
    app.include_router(conversations.router)
    app.include_router(review.router)
    app.include_router(audit_log.router)
    app.include_router(handoffs.router)
    app.include_router(export.router)
    app.include_router(knowledge.router)
    app.include_router(console_settings.router)
    app.include_router(patient_data.router)
    app.include_router(canned_replies.router)
    app.include_router(contacts.router)
    app.include_router(dashboard.router)
    app.include_router(pages.router, include_in_schema=False)  # the screens: /, /static/...
    return app
