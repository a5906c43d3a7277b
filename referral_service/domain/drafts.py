"""Referrals being written on the web form (``models/drafts.py``): one per referrer, kept
between question pages, deleted when sent, abandoned (no consent, "start again") or stale.

A draft holds personal data about someone not yet referred, so it is kept no longer than
``RETENTION`` after its last change: a stale draft is gone for its referrer at once, and the
scheduler's tick (a bounded batch each minute, ``notifications.purge``) or
``referrals drafts purge`` deletes the rows. Functions flush; the caller commits.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from referral_service import clock
from referral_service.domain import audit, pruning
from referral_service.extensions import db
from referral_service.models import ReferralDraft, User

RETENTION = timedelta(days=30)


def current(user: User) -> ReferralDraft | None:
    """The referrer's draft, unless it has gone stale (then it is deleted)."""
    draft = db.session.scalar(select(ReferralDraft).where(ReferralDraft.user_id == user.id))
    if draft is not None and draft.updated_at < clock.now() - RETENTION:
        db.session.delete(draft)
        db.session.flush()
        return None
    return draft


def start(user: User, initial: dict[str, Any]) -> ReferralDraft:
    """The referrer's draft, made on first use with ``initial`` answers."""
    draft = current(user)
    if draft is None:
        draft = ReferralDraft(user_id=user.id, answered=[], answers=dict(initial))
        db.session.add(draft)
        db.session.flush()
    return draft


def save(draft: ReferralDraft, page: str, answers: dict[str, Any]) -> None:
    # New objects rather than in-place changes: JSON columns notice reassignment only.
    draft.answers = {**draft.answers, **answers}
    if page not in draft.answered:
        draft.answered = [*draft.answered, page]
    draft.updated_at = clock.now()
    db.session.flush()


def discard(user: User) -> None:
    db.session.execute(delete(ReferralDraft).where(ReferralDraft.user_id == user.id))


def take(draft: ReferralDraft) -> bool:
    """Delete the draft being sent; False if another request already did (a second click).

    Counting the rows deleted is what stops a double submission making two referrals: the
    second transaction waits for the first's delete and then finds nothing to delete.
    """
    deleted = db.session.execute(delete(ReferralDraft).where(ReferralDraft.id == draft.id))
    db.session.expunge(draft)
    return bool(deleted.rowcount == 1)  # type: ignore[attr-defined]


def purge_stale(actor: audit.Actor, older_than: timedelta = RETENTION,
                limit: int | None = None, now: datetime | None = None) -> int:
    """Delete the drafts unchanged for ``older_than`` before ``now`` (at most ``limit``, the
    stalest first); audited with the count only."""
    cutoff = (now or clock.now()) - older_than
    deleted = pruning.delete_oldest(ReferralDraft, ReferralDraft.updated_at < cutoff,
                                    ReferralDraft.updated_at, limit)
    if deleted:
        audit.record(actor, "referral_drafts.purged", subject_type="referral_draft",
                     subject_id="stale", count=deleted, older_than_days=older_than.days)
    db.session.flush()
    return int(deleted)
