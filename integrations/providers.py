"""Choose the SMS and email senders from the Flask config (keys as in ``referral_service.config``).

Twilio when its credentials and a sender are set, SMTP when a host and a From address are set,
otherwise the development outbox if it is switched on (``DEV_OUTBOX=on``, never in production);
without it a missing provider is an error at start-up rather than messages silently going nowhere.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from integrations.dev_outbox import DevOutboxSender
from integrations.ports import EmailSender, SmsSender, SmsWebhooks
from integrations.smtp_email import SmtpEmailSender
from integrations.twilio_sms import TwilioSmsSender, TwilioWebhooks

log = logging.getLogger(__name__)

TWILIO_KEYS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM",
               "TWILIO_MESSAGING_SERVICE_SID")
SMTP_KEYS = ("SMTP_HOST", "MAIL_FROM")
# For a config mapping not built by config.py (tests' overrides), as config.py's default.
DEFAULT_TIMEOUT_SECONDS = 10.0


def _dev_outbox_forbidden(config: Mapping[str, Any]) -> str | None:
    """Why the development outbox may not be used here, or None if it may. It is used only when
    switched on explicitly (``referral_service.config`` decides, outside production)."""
    if config.get("APP_ENV") == "production":
        return "APP_ENV=production"
    if not config.get("DEV_OUTBOX_ENABLED"):
        return "DEV_OUTBOX not on"
    return None


def sms_sender(config: Mapping[str, Any]) -> SmsSender:
    sid = config.get("TWILIO_ACCOUNT_SID")
    token = config.get("TWILIO_AUTH_TOKEN")
    from_number = config.get("TWILIO_FROM")
    service = config.get("TWILIO_MESSAGING_SERVICE_SID")
    if sid and token and (from_number or service):
        return TwilioSmsSender(
            sid, token, from_number=from_number or None, messaging_service_sid=service or None,
            api_base_url=config.get("TWILIO_API_BASE_URL") or None,
            timeout=float(config.get("TWILIO_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS),
        )
    missing = [key for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not config.get(key)]
    if not (from_number or service):
        missing.append("TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")
    reason = _dev_outbox_forbidden(config)
    if reason:
        raise RuntimeError(
            f"SMS is not configured ({reason} needs Twilio; missing: {', '.join(missing)}). "
            "The development outbox is used only outside production with DEV_OUTBOX=on."
        )
    if any(config.get(key) for key in TWILIO_KEYS):
        log.warning("Twilio is partly configured (missing: %s): SMS goes to the development "
                    "outbox.", ", ".join(missing))
    return DevOutboxSender()


def email_sender(config: Mapping[str, Any]) -> EmailSender:
    host = config.get("SMTP_HOST")
    mail_from = config.get("MAIL_FROM")
    if host and mail_from:
        starttls = config.get("SMTP_STARTTLS")
        return SmtpEmailSender(
            host, int(config.get("SMTP_PORT") or 587),
            username=config.get("SMTP_USERNAME") or None,
            password=config.get("SMTP_PASSWORD") or None,
            starttls=True if starttls is None else bool(starttls),
            mail_from=mail_from,
            timeout=float(config.get("SMTP_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS),
        )
    missing = [key for key in SMTP_KEYS if not config.get(key)]
    reason = _dev_outbox_forbidden(config)
    if reason:
        raise RuntimeError(
            f"Email is not configured ({reason} needs SMTP; missing: {', '.join(missing)}). "
            "The development outbox is used only outside production with DEV_OUTBOX=on."
        )
    if host or mail_from:
        log.warning("SMTP is partly configured (missing: %s): email goes to the development "
                    "outbox.", ", ".join(missing))
    return DevOutboxSender()


def sms_webhooks(config: Mapping[str, Any]) -> SmsWebhooks:
    """The SMS provider's webhook checks and parsers (Twilio's: signed with its auth token)."""
    return TwilioWebhooks(config.get("TWILIO_AUTH_TOKEN") or None)
