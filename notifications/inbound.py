"""What Twilio tells us: delivery status of what we sent, and texts people send back."""
from __future__ import annotations

import re
import uuid

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from integrations.ports import PermanentError
from notifications import fallback, outbox, templates
from referral_service import clock
from referral_service.domain import audit
from referral_service.extensions import db
from referral_service.models import (
    OPEN_STATUSES_LIST,
    Audience,
    Channel,
    InboundSms,
    MessageStatus,
    OutboxMessage,
    Referral,
    SmsOptOut,
)

# Twilio's own opt-out and opt-in keywords (Advanced Opt-Out defaults).
STOP_WORDS = frozenset({"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
                        "REVOKE", "OPTOUT", "OPT OUT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP", "OPTIN", "OPT IN"})

# Later states never go backwards when callbacks arrive out of order.
STATUS_RANK = {MessageStatus.QUEUED: 0, MessageStatus.SENDING: 1, MessageStatus.SENT: 2,
         MessageStatus.DELIVERED: 3, MessageStatus.FAILED: 3, MessageStatus.SUPPRESSED: 3}
_TWILIO_STATUS = {"queued": None, "accepted": None, "scheduled": None, "sending": None,
                  "sent": MessageStatus.SENT, "delivered": MessageStatus.DELIVERED,
                  "read": MessageStatus.DELIVERED, "undelivered": MessageStatus.FAILED,
                  "failed": MessageStatus.FAILED, "canceled": MessageStatus.FAILED}


def record_status(provider_id: str, provider_status: str, error_code: str | None,
                  message_id: uuid.UUID | None = None) -> bool:
    """Apply a status callback. False when the message is not ours (nothing changes).

    ``message_id`` is our outbox id from the (signed) callback URL: it finds an SMS whose sid
    the worker has not recorded yet, and records the sid. The row is locked (PostgreSQL) so the
    worker's recording of the same message waits for this, or this for it.
    """
    found = OutboxMessage.provider_id == provider_id
    if message_id is not None:
        found = or_(found, and_(OutboxMessage.id == message_id,
                                OutboxMessage.channel == Channel.SMS,
                                OutboxMessage.provider_id.is_(None)))
    message = db.session.scalar(select(OutboxMessage).where(found).limit(1).with_for_update())
    if message is None:
        return False
    message.provider_id = provider_id
    message.provider_status = provider_status
    new = our_status(provider_status)
    if new is not None and STATUS_RANK[new] > STATUS_RANK[message.status]:
        message.status = new
        if new is MessageStatus.FAILED:
            not_delivered(message, error_code)
    db.session.commit()
    return True


def our_status(provider_status: str) -> MessageStatus | None:
    """What a Twilio status word means for our row (None: still on its way, nothing new). The
    one mapping: status callbacks and the reconciler's lookup of a stuck text both use it."""
    return _TWILIO_STATUS.get(provider_status.lower())


def not_delivered(message: OutboxMessage, error_code: str | None) -> None:
    """Twilio took the text and could not deliver it: say so on the row, and run the fallback
    (a safe email, or the officer is told) in the caller's transaction. Flushes; never commits."""
    message.status = MessageStatus.FAILED
    message.status_reason = f"Not delivered (provider code {error_code or 'none'})."
    fallback.after_permanent_failure(message, PermanentError("undelivered", code=error_code))


def keyword(body: str) -> str:
    return re.sub(r"\s+", " ", body.strip().upper().rstrip(".!"))


def receive(provider_id: str, from_phone: str, body: str) -> InboundSms:
    """A text from a person. Re-delivery of the same text changes nothing."""
    existing = db.session.scalar(select(InboundSms).where(InboundSms.provider_id == provider_id))
    if existing is not None:
        return existing
    word = keyword(body)
    kind = "opt_out" if word in STOP_WORDS else "opt_in" if word in START_WORDS else "reply"
    referral = db.session.scalar(
        select(Referral).where(Referral.person_phone == from_phone)
        .where(Referral.status.in_(OPEN_STATUSES_LIST))
        .order_by(Referral.received_at.desc()).limit(1))
    inbound = InboundSms(provider_id=provider_id, from_phone=from_phone, body=body, kind=kind,
                         referral=referral, received_at=clock.now())
    db.session.add(inbound)
    system = audit.Actor.system("sms")
    if kind == "opt_out":
        if db.session.get(SmsOptOut, from_phone) is None:
            db.session.add(SmsOptOut(phone=from_phone, keyword=word, opted_out_at=clock.now()))
    elif kind == "opt_in":
        opt_out = db.session.get(SmsOptOut, from_phone)
        if opt_out is not None:
            db.session.delete(opt_out)
    elif referral is not None and referral.named_officer is not None:
        officer = referral.named_officer
        outbox.to_person(referral, officer, event="reply_received", template="reply_received",
                         audience=Audience.OFFICER, text=templates.officer_reminder(
                             "reply_received", officer.name, referral.reference,
                             referral.contact_due_by))
    try:
        db.session.flush()
        audit.record(system, f"sms.{kind}", subject_type="inbound_sms", subject_id=inbound.id,
                     referral=referral)
        db.session.commit()
    except IntegrityError:
        # The same text delivered twice at once: the other request recorded it.
        db.session.rollback()
        again = db.session.scalar(select(InboundSms).where(InboundSms.provider_id == provider_id))
        if again is None:
            raise
        return again
    return inbound
