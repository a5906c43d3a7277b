"""Send one outbox message, exactly once: claim it with a compare-and-set, send only what was
claimed, record the provider's id. A crash after claiming leaves the row in ``sending`` for the
reconciler, which never resends blindly."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update

from integrations.ports import Email, EmailSender, PermanentError, RetryableError, Sms, SmsSender
from referral_service.domain import clock
from referral_service.extensions import db
from referral_service.models import Channel, MessageStatus, OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
SMS_VALIDITY_SECONDS = 4 * 3600


@dataclass(frozen=True)
class Senders:
    sms: SmsSender
    email: EmailSender
    status_callback_url: str | None = None


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8, 16 minutes… between tries of a retryable failure."""
    return timedelta(minutes=2 ** max(0, attempts - 1))


def claim(message_id: uuid.UUID) -> OutboxMessage | None:
    """queued → sending, only if still queued and due: two workers cannot both win. The row
    comes back from the same statement (RETURNING), and the claim is committed at once."""
    now = clock.now()
    claimed = db.session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .where(OutboxMessage.status == MessageStatus.QUEUED)
        .where(OutboxMessage.not_before <= now)
        .values(status=MessageStatus.SENDING, claimed_at=now,
                attempts=OutboxMessage.attempts + 1, updated_at=now)
        .returning(OutboxMessage)
        # The returned row replaces any stale copy in the session (which does not expire on
        # commit): a retry's "back to queued" must be seen as a change.
        .execution_options(synchronize_session=False, populate_existing=True)
    ).first()
    # Committed before the provider is called: no transaction is held open during a slow HTTP
    # call, and on SQLite the final write does not start from a stale read (which fails at once
    # with "database is locked" when another thread has written).
    db.session.commit()
    return claimed


def deliver(message_id: uuid.UUID, senders: Senders) -> MessageStatus | None:
    """Send the message if this caller claims it; return its new status (None: not ours)."""
    message = claim(message_id)
    if message is None:
        return None
    now = clock.now()
    if message.expires_at is not None and message.expires_at <= now:
        _finish(message, MessageStatus.FAILED, "Not sent: it was out of date before it could go.")
        return message.status
    try:
        if message.channel is Channel.SMS:
            accepted = senders.sms.send_sms(Sms(
                to=message.to_address, body=message.body, reference=str(message.id),
                status_callback=senders.status_callback_url,
                validity_seconds=SMS_VALIDITY_SECONDS if message.expires_at else None))
        else:
            accepted = senders.email.send_email(Email(
                to=message.to_address, subject=message.subject or "", text=message.body,
                html=None, reference=str(message.id)))
    except RetryableError as error:
        log.warning("message %s: retryable %s (code %s)", message.id, type(error).__name__,
                    error.code)
        if message.attempts >= MAX_ATTEMPTS:
            _finish(message, MessageStatus.FAILED,
                    f"Gave up after {message.attempts} tries (provider unavailable).")
        else:
            message.status = MessageStatus.QUEUED
            message.not_before = now + backoff(message.attempts)
            message.enqueued_at = None  # the scheduler hands it over again when it is due
            message.status_reason = f"Provider unavailable; try {message.attempts + 1} later."
            db.session.commit()
        return message.status
    except PermanentError as error:
        log.info("message %s: permanent failure (code %s)", message.id, error.code)
        _finish(message, MessageStatus.FAILED, f"Refused by the provider (code {error.code}).")
        from notifications import fallback

        fallback.after_permanent_failure(message, error)
        db.session.commit()
        return message.status
    message.status = MessageStatus.SENT
    message.provider_id = accepted.provider_id
    message.provider_status = accepted.status
    message.sent_at = now
    message.status_reason = None
    if accepted.status == "delivered":
        message.status = MessageStatus.DELIVERED
    db.session.commit()
    return message.status


def _finish(message: OutboxMessage, status: MessageStatus, reason: str) -> None:
    message.status = status
    message.status_reason = reason
    db.session.commit()
