"""Sending one alert message: by email (SMTP with STARTTLS, implicit TLS, or neither on this machine) and
by a POST of the Slack-compatible JSON body to an incoming webhook. Each raises `DeliveryFailed`, saying
whether trying again could help; the caller retries and logs.

Standard library only.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from core.alert_channels.config import SmtpConfig, redacted_url
from core.alert_channels.messages import Notice

_PERMANENT_HTTP = range(400, 500)
_RETRY_HTTP = {408, 425, 429}


class DeliveryFailed(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def email_message(smtp: SmtpConfig, recipients: tuple[str, ...], notice: Notice) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = " ".join(notice.subject.split())
    message["From"] = smtp.sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    # plain 7-bit text when it can be (it always is: every field is ASCII), so any mail client shows it as is
    plain = notice.text.isascii() and all(len(line) <= 900 for line in notice.text.splitlines())
    message.set_content(notice.text, cte="7bit" if plain else "quoted-printable")
    return message


def send_email(smtp: SmtpConfig, recipients: tuple[str, ...], notice: Notice) -> None:
    """One email to all of `recipients`; recipients the server refuses (some, not all) are logged by the caller
    through the exception's text."""
    message = email_message(smtp, recipients, notice)
    context = ssl.create_default_context()
    # made without a host, so nothing connects before the try: the socket is closed whatever happens
    client = (
        smtplib.SMTP_SSL(timeout=smtp.timeout, context=context)
        if smtp.security == "tls"
        else smtplib.SMTP(timeout=smtp.timeout)
    )
    try:
        code, greeting = client.connect(smtp.host, smtp.port)
        if code != 220:
            raise smtplib.SMTPConnectError(code, greeting)
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.user and smtp.password:
            client.login(smtp.user, smtp.password)
        refused = client.send_message(message, from_addr=smtp.sender, to_addrs=list(recipients))
        with contextlib.suppress(smtplib.SMTPException, OSError):  # sent: a lost goodbye changes nothing
            client.quit()
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryFailed(f"every recipient refused: {sorted(exc.recipients)}", permanent=True) from None
    except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS or no AUTH offered: a setting to fix
        raise DeliveryFailed(f"the mail server does not support this: {exc}"[:300], permanent=True) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryFailed(f"login refused ({exc.smtp_code})", permanent=True) from None
    except smtplib.SMTPResponseException as exc:
        detail = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        raise DeliveryFailed(
            f"server answered {exc.smtp_code} {detail}"[:300], permanent=exc.smtp_code >= 500
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}"[:300]) from None
    finally:
        client.close()
    if refused:
        raise DeliveryFailed(f"refused for {sorted(refused)} (sent to the others)", permanent=True)


def post_webhook(url: str, payload: dict[str, Any], timeout: float = 10.0) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(1024)
    except urllib.error.HTTPError as exc:
        permanent = exc.code in _PERMANENT_HTTP and exc.code not in _RETRY_HTTP
        raise DeliveryFailed(f"{redacted_url(url)} answered {exc.code}", permanent=permanent) from None
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryFailed(f"{redacted_url(url)}: {type(exc).__name__}: {exc}"[:300]) from None
    except ValueError as exc:  # its text may hold the URL, a secret
        raise DeliveryFailed(f"{redacted_url(url)}: {type(exc).__name__}", permanent=True) from None
