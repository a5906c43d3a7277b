"""What providers report about messages we sent (status callbacks, a stuck message's lookup),
applied to our outbox rows. The reports arrive in our words (``integrations.ports.StatusEvent``):
each adapter maps its provider's status words and error codes.

Never commits: the caller (the webhook view, the scheduler's reconciler, the dispatcher) owns
the transaction.
"""
from __future__ import annotations

import uuid

from sqlalchemy import and_, or_, select

from integrations.ports import DeliveryStatus, PermanentError, StatusEvent
from notifications import fallback
from referral_service.extensions import db
from referral_service.models import Channel, MessageStatus, OutboxMessage

# Later states never go backwards when callbacks arrive out of order.
STATUS_RANK = {MessageStatus.QUEUED: 0, MessageStatus.SENDING: 1, MessageStatus.SENT: 2,
               MessageStatus.DELIVERED: 3, MessageStatus.FAILED: 3, MessageStatus.SUPPRESSED: 3}
_OURS = {DeliveryStatus.ON_ITS_WAY: None, DeliveryStatus.SENT: MessageStatus.SENT,
         DeliveryStatus.DELIVERED: MessageStatus.DELIVERED,
         DeliveryStatus.FAILED: MessageStatus.FAILED}


def our_status(status: DeliveryStatus) -> MessageStatus | None:
    """What a provider's report means for our row (None: still on its way, nothing new)."""
    return _OURS[status]


def _outbox_id(reference: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(reference or "")
    except ValueError:  # anything that is not one of our ids is ignored
        return None


def record_status(report: StatusEvent) -> bool:
    """Apply a status report. False when the message is not ours (nothing changes).

    ``report.reference`` is our outbox id from the (signed) callback URL: it finds an SMS whose
    provider id the worker has not recorded yet, and records it. The row is locked (PostgreSQL)
    so the worker's recording of the same message waits for this, or this for it.
    """
    found = OutboxMessage.provider_id == report.provider_id
    message_id = _outbox_id(report.reference)
    if message_id is not None:
        found = or_(found, and_(OutboxMessage.id == message_id,
                                OutboxMessage.channel == Channel.SMS,
                                OutboxMessage.provider_id.is_(None)))
    message = db.session.scalar(select(OutboxMessage).where(found).limit(1).with_for_update())
    if message is None:
        return False
    message.provider_id = report.provider_id
    message.provider_status = report.provider_status
    new = our_status(report.status)
    if new is not None and STATUS_RANK[new] > STATUS_RANK[message.status]:
        message.status = new
        if new is MessageStatus.FAILED:
            not_delivered(message, report)
    db.session.flush()
    return True


def not_delivered(message: OutboxMessage, report: StatusEvent) -> None:
    """The provider took the text and could not deliver it: say so on the row, and run the
    fallback (a safe email, or the officer is told) in the caller's transaction."""
    message.status = MessageStatus.FAILED
    message.status_reason = f"Not delivered (provider code {report.error_code or 'none'})."
    fallback.after_permanent_failure(message, PermanentError(
        "not delivered", code=report.error_code, kind=report.failure_kind))
