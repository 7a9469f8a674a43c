"""Registers the messaging webhooks with the platforms (run once per clinic, after deployment).

    python -m core.webhooks telegram     # setWebhook with the secret token, then shows getWebhookInfo
    python -m core.webhooks whatsapp     # prints what to enter in the Meta app dashboard

Reads the settings (MESO_PUBLIC_URL, MESO_TELEGRAM_*, MESO_WHATSAPP_*). Secrets are never printed.
What is sent is cleaned first (core/text_clean.py); an answer that is not JSON is a SetupError.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Any

from core.settings import Settings, get_settings
from core.text_clean import clean_text, clean_value

TELEGRAM_UPDATES = ["message", "edited_message", "callback_query"]


class SetupError(RuntimeError):
    pass


def _public_url(settings: Settings) -> str:
    if not settings.public_url or not settings.public_url.startswith("https://"):
        raise SetupError("set MESO_PUBLIC_URL to the server's public https:// address first (platforms require HTTPS)")
    return settings.public_url.rstrip("/")


def _call(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps(clean_value(payload), ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            answer = json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        body = clean_text(exc.read().decode(errors="replace")[:300])
        raise SetupError(f"the platform answered {exc.code}: {body}") from None
    except OSError as exc:
        raise SetupError(f"cannot reach the platform API: {exc}") from None
    except (ValueError, RecursionError):
        raise SetupError("the platform's answer is not JSON") from None
    if not isinstance(answer, dict):
        raise SetupError("the platform's answer is not a JSON object")
    cleaned: dict[str, Any] = clean_value(answer)
    return cleaned


def register_telegram(settings: Settings) -> dict[str, Any]:
    """Points the bot's webhook at this server, with the secret token Telegram will send back."""
    if not settings.telegram_enabled:
        raise SetupError("set MESO_TELEGRAM_BOT_TOKEN and MESO_TELEGRAM_SECRET_TOKEN first")
    api = f"{settings.telegram_api_base.rstrip('/')}/bot{settings.telegram_bot_token}"
    result = _call(
        f"{api}/setWebhook",
        {
            "url": f"{_public_url(settings)}/webhooks/telegram/webhook",
            "secret_token": settings.telegram_secret_token,
            "allowed_updates": TELEGRAM_UPDATES,
            "max_connections": 40,
        },
    )
    if not result.get("ok"):
        raise SetupError(f"Telegram refused setWebhook: {result.get('description', result)}")
    info = _call(f"{api}/getWebhookInfo", {})
    return info.get("result") or {}


def whatsapp_instructions(settings: Settings) -> str:
    if not settings.whatsapp_enabled:
        raise SetupError("set MESO_WHATSAPP_ACCESS_TOKEN, _PHONE_NUMBER_ID, _APP_SECRET and _VERIFY_TOKEN first")
    return (
        "In the Meta app dashboard (WhatsApp > Configuration > Webhook):\n"
        f"  Callback URL:  {_public_url(settings)}/webhooks/whatsapp/webhook\n"
        "  Verify token:  the value of MESO_WHATSAPP_VERIFY_TOKEN\n"
        "  Then subscribe to the 'messages' field. Meta signs every POST with the app secret\n"
        "  (MESO_WHATSAPP_APP_SECRET); unsigned or wrongly signed requests get a 401."
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("telegram", "whatsapp"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        settings = get_settings()
        if argv[0] == "telegram":
            info = register_telegram(settings)
            print(
                f"Telegram webhook registered: {info.get('url')} (pending updates: {info.get('pending_update_count', 0)})"
            )
        else:
            print(whatsapp_instructions(settings))
    except (SetupError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
