"""The development outbox: a sender that sends nothing anywhere.

Every message stays where the outbox already keeps it (its database row), which the development
outbox page (``/dev/outbox``) shows; this sender only marks it delivered. The provider factory
never hands it out when ``APP_ENV=production``.
"""
from __future__ import annotations

import logging

from integrations.ports import Accepted, Email, Sms

log = logging.getLogger(__name__)


class DevOutboxSender:
    """Both an ``SmsSender`` and an ``EmailSender``; the provider id is ``dev-<reference>``."""

    def send_sms(self, message: Sms) -> Accepted:
        log.info("sms %s: kept in the development outbox, not sent", message.reference)
        return Accepted(provider_id=f"dev-{message.reference}", status="delivered")

    def send_email(self, message: Email) -> Accepted:
        log.info("email %s: kept in the development outbox, not sent", message.reference)
        return Accepted(provider_id=f"dev-{message.reference}", status="delivered")
