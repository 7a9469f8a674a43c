"""A small JSON client for the messaging platforms' HTTP APIs (Telegram Bot API, WhatsApp Cloud
API). The base URL is configurable, so tests point it at a local fake. Failed calls are logged and
retried once; they never raise into the dialogue."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=20)


@dataclass(frozen=True)
class ApiResult:
    ok: bool
    status: int
    body: Any = None
    error: str = ""


class PlatformApi:
    def __init__(self, base_url: str, headers: dict[str, str] | None = None, name: str = "platform") -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = headers or {}
        self.name = name
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT, headers=self.headers)
        return self._session

    async def post(self, path: str, payload: dict[str, Any]) -> ApiResult:
        url = f"{self.base_url}/{path.lstrip('/')}"
        result = ApiResult(False, 0, error="not sent")
        for attempt in (1, 2):
            try:
                async with self._client().post(url, json=payload) as resp:
                    try:
                        body = await resp.json(content_type=None)
                    except ValueError:
                        body = None
                    result = ApiResult(200 <= resp.status < 300, resp.status, body)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                result = ApiResult(False, 0, error=f"{type(exc).__name__}: {exc}")
            if result.ok or (result.status and result.status < 500 and result.status != 429):
                break
            if attempt == 1:
                await asyncio.sleep(1.0)
        if not result.ok:
            # The path may hold the Telegram bot token: log the method name only.
            log.error(
                "%s API call %s failed: %s %s %s",
                self.name,
                path.rsplit("/", 1)[-1],
                result.status,
                result.error,
                str(result.body)[:300],
            )
        return result
