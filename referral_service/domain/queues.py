"""What officers and team leaders see in lists: their referrals by deadline, the team queue,
caseloads against capacity, overdue and escalated referrals. Read-only queries, free of Flask.

Deadline status (shown as a tag on every list):

- ``met``: a first contact attempt was made (the s.213B deadline is about the attempt);
- ``overdue``: no attempt and the deadline has passed;
- ``due_today``: no attempt and the deadline is today (London time);
- ``due``: later.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from referral_service import clock
from referral_service.domain import routing
from referral_service.extensions import db
from referral_service.models import (
    OPEN_STATUSES_LIST,
    AuditEvent,
    PossibleDuplicate,
    Referral,
    ReferralStatus,
    Role,
    User,
)

# Audit actions that mean a team leader was alerted about a referral (notifications.reminders),
# or that routing could not move an absent officer's accepted case.
ESCALATIONS = ("referral.accept_overdue", "referral.deadline_missed",
               "referral.reassignment_needed")


def deadline_status(referral: Referral, now: datetime | None = None) -> str:
    if referral.first_contact_attempt_at is not None:
        return "met"
    now = now or clock.now()
    due = clock.as_utc(referral.contact_due_by)
    if due < now:
        return "overdue"
    if due.astimezone(clock.LONDON).date() == now.astimezone(clock.LONDON).date():
        return "due_today"
    return "due"


def officers_open_referrals(officer: User) -> list[Referral]:
    """The officer's open referrals, the nearest deadline first (so overdue ones lead)."""
    return list(db.session.scalars(
        select(Referral).where(Referral.named_officer_id == officer.id,
                               Referral.authority_id == officer.authority_id,
                               Referral.status.in_(OPEN_STATUSES_LIST))
        .order_by(Referral.contact_due_by, Referral.received_at)))


def team_queue(authority_id: uuid.UUID) -> list[Referral]:
    """Referrals waiting for an officer to claim them, nearest deadline first."""
    return list(db.session.scalars(
        select(Referral).where(Referral.authority_id == authority_id,
                               Referral.status == ReferralStatus.UNASSIGNED)
        .order_by(Referral.contact_due_by, Referral.received_at)))


def team_queue_count(authority_id: uuid.UUID) -> int:
    """How many referrals wait in the team queue (the badge on the team queue link)."""
    return db.session.scalar(
        select(func.count()).select_from(Referral).where(
            Referral.authority_id == authority_id,
            Referral.status == ReferralStatus.UNASSIGNED)) or 0


def overdue(authority_id: uuid.UUID, now: datetime | None = None) -> list[Referral]:
    """Open referrals of the authority past their deadline with no contact attempt."""
    return list(db.session.scalars(
        select(Referral).where(Referral.authority_id == authority_id,
                               Referral.status.in_(OPEN_STATUSES_LIST),
                               Referral.first_contact_attempt_at.is_(None),
                               Referral.contact_due_by < (now or clock.now()))
        .order_by(Referral.contact_due_by)))


def escalated(authority_id: uuid.UUID) -> list[tuple[Referral, str]]:
    """Open referrals a team leader was alerted about, with the latest alert's kind."""
    latest = (select(AuditEvent.referral_id, func.max(AuditEvent.occurred_at).label("at"))
              .where(AuditEvent.action.in_(ESCALATIONS))
              .group_by(AuditEvent.referral_id).subquery())
    rows = db.session.execute(
        select(Referral, AuditEvent.action)
        .join(latest, latest.c.referral_id == Referral.id)
        .join(AuditEvent, (AuditEvent.referral_id == Referral.id)
              & (AuditEvent.occurred_at == latest.c.at)
              & AuditEvent.action.in_(ESCALATIONS))
        .where(Referral.authority_id == authority_id,
               Referral.status.in_(OPEN_STATUSES_LIST))
        .order_by(Referral.contact_due_by)).all()
    seen: dict[uuid.UUID, tuple[Referral, str]] = {}
    for referral, action in rows:
        seen.setdefault(referral.id, (referral, action.removeprefix("referral.")))
    return list(seen.values())


@dataclass(frozen=True)
class Caseload:
    officer: User
    open_cases: int
    overdue: int
    absent_today: bool

    @property
    def at_capacity(self) -> bool:
        return routing.is_at_capacity(self.officer, self.open_cases)


def officers_of(authority_id: uuid.UUID, *, active_only: bool = True) -> list[User]:
    query = select(User).where(User.authority_id == authority_id, User.role == Role.OFFICER)
    if active_only:
        query = query.where(User.active.is_(True))
    return list(db.session.scalars(query.order_by(User.name)))


def caseloads(authority_id: uuid.UUID, now: datetime | None = None) -> list[Caseload]:
    """Each active officer's open caseload (as routing counts it), overdue count and absence."""
    now = now or clock.now()
    officers = officers_of(authority_id)
    counts = routing.open_caseloads([o.id for o in officers])
    late: dict[uuid.UUID | None, int] = {officer_id: count for officer_id, count in (
        db.session.execute(
        select(Referral.named_officer_id, func.count(Referral.id))
        .where(Referral.authority_id == authority_id,
               Referral.status.in_(OPEN_STATUSES_LIST),
               Referral.first_contact_attempt_at.is_(None),
               Referral.contact_due_by < now)
        .group_by(Referral.named_officer_id)).all())}
    today = clock.today_in_london()
    return [Caseload(o, counts.get(o.id, 0), late.get(o.id, 0), o.is_absent_on(today))
            for o in officers]


def possible_duplicates(referral: Referral) -> list[tuple[PossibleDuplicate, Referral]]:
    """Links either way between this referral and others of the same authority, each with the
    other referral, in one query (a page can have many links)."""
    link = PossibleDuplicate
    other_side = or_(
        and_(link.referral_id == referral.id, Referral.id == link.existing_referral_id),
        and_(link.existing_referral_id == referral.id, Referral.id == link.referral_id))
    return [(found, other) for found, other in db.session.execute(
        select(link, Referral).join(Referral, other_side)
        .where(Referral.authority_id == referral.authority_id)
        .order_by(link.created_at, link.id))]
