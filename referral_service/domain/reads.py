"""Unread notes (issue 15.5): when each user last viewed each referral (``referral_reads``).

A note from the other side (the referrer's for council staff, the council's for a referrer)
written after the user last viewed the referral is unread: lists mark the referral, and the
referral's page marks the note "New" until that view, which records the new time.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, or_, select

from referral_service import clock
from referral_service.extensions import db
from referral_service.models import ReferralMessage, ReferralRead, Role, User

REFERRER_ROLES = frozenset({Role.PARTNER, Role.PANEL_LEAD})


def other_side(user: User) -> str:
    """Whose notes this user has to read: the council's for a referrer, else the referrer's."""
    return "council" if user.role in REFERRER_ROLES else "referrer"


def last_read(user: User, referral_id: uuid.UUID) -> datetime | None:
    return db.session.scalar(select(ReferralRead.last_read_at).where(
        ReferralRead.user_id == user.id, ReferralRead.referral_id == referral_id))


def viewed(user: User, referral_id: uuid.UUID) -> datetime | None:
    """Record that the user viewed the referral now; returns when they had last viewed it (for
    the page's "New" markers). In the caller's transaction."""
    before = last_read(user, referral_id)
    now = clock.now()
    row = db.session.get(ReferralRead, (user.id, referral_id))
    if row is None:
        db.session.add(ReferralRead(user_id=user.id, referral_id=referral_id, last_read_at=now))
    else:
        row.last_read_at = now
    db.session.flush()
    return before


def with_unread(user: User, referral_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these referrals have a note from the other side the user has not seen."""
    ids = list(referral_ids)
    if not ids:
        return set()
    query = (select(ReferralMessage.referral_id).distinct()
             .outerjoin(ReferralRead, and_(ReferralRead.referral_id == ReferralMessage.referral_id,
                                           ReferralRead.user_id == user.id))
             .where(ReferralMessage.referral_id.in_(ids),
                    ReferralMessage.author_side == other_side(user),
                    or_(ReferralRead.last_read_at.is_(None),
                        ReferralMessage.created_at > ReferralRead.last_read_at)))
    return set(db.session.scalars(query))
