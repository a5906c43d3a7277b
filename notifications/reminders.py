"""Reminders and escalations as rows with a due time: the scheduler tick finds them by an indexed
query, so a lost broker or a restart loses nothing.

- accept_overdue: not accepted 4 hours after receipt (or by the deadline if sooner) → the named
  officer, and the team leaders (escalation).
- deadline_approaching: 2 hours before the contact deadline with no attempt → the officer.
- deadline_missed: at the deadline with no attempt → the officer and the team leaders.
- release_tomorrow: 09:00 London the day before a release or discharge date → the officer.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from notifications import outbox, templates
from referral_service import clock
from referral_service.domain import audit, rowbatch
from referral_service.extensions import db
from referral_service.models import Audience, Referral, ReferralStatus, Reminder, User

ACCEPT_WITHIN = timedelta(hours=4)
WARN_BEFORE_DEADLINE = timedelta(hours=2)
BATCH = 200
S = ReferralStatus


def schedule(referral: Referral) -> None:
    """Write the reminders a new referral needs (in the caller's transaction)."""
    due = referral.contact_due_by
    plans = {
        "accept_overdue": min(referral.received_at + ACCEPT_WITHIN, due),
        "deadline_approaching": due - WARN_BEFORE_DEADLINE,
        "deadline_missed": due,
    }
    release = referral.release_or_discharge_date
    if release is not None:
        eve = clock.london_to_utc(release - timedelta(days=1), time(9, 0))
        if eve > referral.received_at:
            plans["release_tomorrow"] = eve
    for kind, due_at in plans.items():
        # Receiving a referral: one INSERT for its reminders, at the end.
        rowbatch.new(Reminder, referral=referral, kind=kind, due_at=due_at)


def _still_relevant(reminder: Reminder) -> bool:
    referral = reminder.referral
    if not referral.is_open:
        return False
    if reminder.kind == "accept_overdue":
        return referral.status in {S.ASSIGNED, S.UNASSIGNED}
    if reminder.kind in {"deadline_approaching", "deadline_missed"}:
        return referral.first_contact_attempt_at is None
    return referral.named_officer is not None


def process_due(now: datetime | None = None) -> int:
    """Send what is due and still relevant; mark each reminder done. Returns how many fired."""
    now = now or clock.now()
    due = list(db.session.scalars(
        select(Reminder).where(Reminder.done_at.is_(None), Reminder.due_at <= now)
        .order_by(Reminder.due_at).limit(BATCH)))
    fired = 0
    system = audit.Actor.system("scheduler")
    leaders_of: dict[object, list[User]] = {}  # one query per authority per batch
    for reminder in due:
        reminder.done_at = now
        if not _still_relevant(reminder):
            continue
        fired += 1
        referral = reminder.referral
        officer = referral.named_officer
        if officer is not None:
            outbox.to_person(referral, officer, event=reminder.kind, template=reminder.kind,
                             audience=Audience.OFFICER, text=templates.officer_reminder(
                                 reminder.kind, officer.name, referral.reference,
                                 referral.contact_due_by))
        if reminder.kind in {"accept_overdue", "deadline_missed"}:
            if referral.authority_id not in leaders_of:
                leaders_of[referral.authority_id] = outbox.team_leaders(referral)
            for leader in leaders_of[referral.authority_id]:
                outbox.to_person(referral, leader, event=f"escalation_{reminder.kind}",
                                 template="team_leader_escalation",
                                 audience=Audience.TEAM_LEADER,
                                 text=templates.team_leader_escalation(
                                     reminder.kind, referral.reference,
                                     officer.name if officer else None,
                                     referral.contact_due_by))
        audit.record(system, f"referral.{reminder.kind}", subject_type="referral",
                     subject_id=referral.id, referral=referral)
    db.session.commit()
    return fired
