"""Texts people send us (an opt-out, an opt-in, or a reply for their officer), already in our
words (``integrations.ports.InboundText``: the adapter knows its provider's keywords).

Never commits: the webhook view owns the transaction.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from integrations.ports import InboundText, TextKind
from notifications import outbox, templates
from referral_service import clock
from referral_service.domain import audit, consent
from referral_service.extensions import db
from referral_service.models import (
    OPEN_STATUSES_LIST,
    Audience,
    InboundSms,
    Referral,
    SmsOptOut,
)


def receive(text: InboundText) -> InboundSms:
    """Record a text from a person. Re-delivery of the same text changes nothing."""
    existing = db.session.scalar(select(InboundSms)
                                 .where(InboundSms.provider_id == text.provider_id))
    if existing is not None:
        return existing
    referral = db.session.scalar(
        select(Referral).where(Referral.person_phone == text.from_phone)
        .where(Referral.status.in_(OPEN_STATUSES_LIST))
        .order_by(Referral.received_at.desc()).limit(1))
    try:
        # A savepoint: the same text delivered twice at once fails only this, not the caller's
        # transaction, and the other request's row is returned.
        with db.session.begin_nested():
            inbound = InboundSms(provider_id=text.provider_id, from_phone=text.from_phone,
                                 body=text.body, kind=text.kind.value, referral=referral,
                                 received_at=clock.now())
            db.session.add(inbound)
            db.session.flush()
    except IntegrityError:
        again = db.session.scalar(select(InboundSms)
                                  .where(InboundSms.provider_id == text.provider_id))
        if again is None:
            raise
        return again
    if text.kind is TextKind.OPT_OUT:
        if db.session.get(SmsOptOut, text.from_phone) is None:
            db.session.add(SmsOptOut(phone=text.from_phone, keyword=text.keyword,
                                     opted_out_at=clock.now()))
        if referral is not None:  # shown as the person withdrawing consent to texts
            consent.texted_stop(referral, inbound.id)
    elif text.kind is TextKind.OPT_IN:
        opt_out = db.session.get(SmsOptOut, text.from_phone)
        if opt_out is not None:
            db.session.delete(opt_out)
        if referral is not None:
            consent.texted_start(referral)
    elif referral is not None and referral.named_officer is not None:
        officer = referral.named_officer
        outbox.to_person(referral, officer, event="reply_received", template="reply_received",
                         audience=Audience.OFFICER, text=templates.officer_reminder(
                             "reply_received", officer.name, referral.reference,
                             referral.contact_due_by))
    audit.record(audit.Actor.system("sms"), f"sms.{text.kind.value}",
                 subject_type="inbound_sms", subject_id=inbound.id, referral=referral)
    db.session.flush()
    return inbound
