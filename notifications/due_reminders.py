"""The scheduler's reminder job: fire the reminders and escalations that are due
(``notifications.reminders`` wrote them with the referral), as outbox rows for the officer and,
for escalations, the team leaders. Each fired reminder is audited.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from notifications import outbox, templates
from referral_service import clock
from referral_service.domain import audit
from referral_service.extensions import db
from referral_service.models import Audience, ReferralStatus, Reminder, User

BATCH = 200
S = ReferralStatus


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
    """Write the messages of the reminders that are due and still relevant, and mark each one
    done, in the caller's transaction (the scheduler tick commits it). Returns how many fired."""
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
    return fired
