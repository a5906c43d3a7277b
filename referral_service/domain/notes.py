"""Notes between the referrer and the council about a referral (API.md: two-way messages)."""
from __future__ import annotations

from sqlalchemy import select

from notifications.outbox import notify
from referral_service import clock
from referral_service.domain import audit
from referral_service.domain.errors import ValidationFailed
from referral_service.extensions import db
from referral_service.models import Referral, ReferralMessage

MAX_LENGTH = 5000


def post(referral: Referral, *, side: str, author_name: str, body: str, actor: audit.Actor,
         ) -> ReferralMessage:
    text = (body or "").strip()
    if not text:
        raise ValidationFailed({"body": ["Write the note."]})
    if len(text) > MAX_LENGTH:
        raise ValidationFailed({"body": [f"Keep the note to {MAX_LENGTH} characters."]})
    message = ReferralMessage(referral_id=referral.id, author_side=side, author_name=author_name,
                              author_user_id=actor.user_id, author_client_id=actor.client_id,
                              body=text, created_at=clock.now())
    db.session.add(message)
    db.session.flush()
    audit.record(actor, "referral.message_posted", subject_type="referral_message",
                 subject_id=message.id, referral=referral, side=side)
    # The other side is told there is a note (never what it says).
    notify("note_posted", referral, side=side)
    return message


def for_referral(referral: Referral) -> list[ReferralMessage]:
    return list(db.session.scalars(
        select(ReferralMessage).where(ReferralMessage.referral_id == referral.id)
        .order_by(ReferralMessage.created_at, ReferralMessage.id)))
