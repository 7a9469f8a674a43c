"""Staff alerts by email and Slack-compatible chat webhooks, per role, rate-limited, carrying only the
patient reference (never what the patient wrote). core/alerts.py writes the alerts file first, then hands
each alert to `default_delivery()`.

- config.py: who gets which alerts, the mail server, the limits (from the settings, or JSON for Rasa)
- limiter.py: the per-role rate limit and how alerts over it are held and sent together
- messages.py: the email and the Slack body
- transports.py: SMTP and the webhook POST
- delivery.py: the background threads, retries and logging

Standard library only (the Rasa environment imports it).
"""

from core.alert_channels.config import DeliveryConfig, RoleRoute, SmtpConfig
from core.alert_channels.delivery import AlertDelivery, configured_delivery, default_delivery

__all__ = ["AlertDelivery", "DeliveryConfig", "RoleRoute", "SmtpConfig", "configured_delivery", "default_delivery"]
