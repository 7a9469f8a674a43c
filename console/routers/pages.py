"""The console's screens: one HTML page and its static files (vanilla JS, no build step), sent with
strict security headers. Not part of the API (kept out of the OpenAPI schema by console/app.py)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(tags=["pages"])


@router.get("/")
def index() -> FileResponse:
    return FileResponse(
        STATIC / "index.html", media_type=TYPES[".html"], headers={**SECURITY_HEADERS, "Cache-Control": "no-store"}
    )


@router.get("/static/{path:path}")
def static_file(path: str) -> FileResponse:
    file = (STATIC / path).resolve()
    if not file.is_relative_to(STATIC) or not file.is_file() or file.suffix not in TYPES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    # no-cache: browsers revalidate, so a new version of the console is picked up at once
    return FileResponse(file, media_type=TYPES[file.suffix], headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})
