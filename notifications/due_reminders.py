"""The scheduler's reminder job: fire the reminders and escalations that are due
(``notifications.reminders`` wrote them with the referral), as outbox rows for the officer and,
for escalations, the team leaders; the release-day text goes to the applicant, by the safety
rules of every applicant message (``outbox.to_applicant``). Each fired reminder is audited.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from notifications import outbox, quiet_hours, templates
from referral_service import clock
from referral_service.clock import LONDON
from referral_service.domain import audit
from referral_service.extensions import db
from referral_service.models import Audience, Referral, ReferralStatus, Reminder, User

BATCH = 200
S = ReferralStatus


def _still_relevant(reminder: Reminder, now: datetime) -> bool:
    referral = reminder.referral
    if not referral.is_open:
        return False
    if reminder.kind == "release_day":
        # Useful after contact too: the day they most need the team's number. But it says
        # "today": a tick that comes too late (quiet hours, the next day) drops it.
        return (now.astimezone(LONDON).date() == referral.release_or_discharge_date
                and not quiet_hours.in_quiet_hours(now))
    if reminder.kind == "accept_overdue":
        return referral.status in {S.ASSIGNED, S.UNASSIGNED}
    if reminder.kind in {"deadline_approaching", "deadline_missed"}:
        return referral.first_contact_attempt_at is None
    return referral.named_officer is not None


def _text_on_release_day(referral: Referral) -> None:
    officer = referral.named_officer
    outbox.to_applicant(referral, event="release_day", template="applicant_release_day",
                        text=templates.applicant_release_day(
                            referral.authority.name, officer.name if officer else None,
                            referral.authority.team_phone, referral.reference,
                            referral.language))


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
    # One email per team leader per tick, listing every escalation (issue 15.5).
    escalations: dict[User, list[tuple[str, str, str | None, datetime]]] = {}
    for reminder in due:
        reminder.done_at = now
        if not _still_relevant(reminder, now):
            continue
        fired += 1
        referral = reminder.referral
        officer = referral.named_officer
        if reminder.kind == "release_day":
            _text_on_release_day(referral)
        elif officer is not None:
            outbox.to_person(referral, officer, event=reminder.kind, template=reminder.kind,
                             audience=Audience.OFFICER, text=templates.officer_reminder(
                                 reminder.kind, officer.name, referral.reference,
                                 referral.contact_due_by))
        if reminder.kind in {"accept_overdue", "deadline_missed"}:
            if referral.authority_id not in leaders_of:
                leaders_of[referral.authority_id] = outbox.team_leaders(referral)
            for leader in leaders_of[referral.authority_id]:
                escalations.setdefault(leader, []).append(
                    (reminder.kind, referral.reference, officer.name if officer else None,
                     referral.contact_due_by))
        audit.record(system, f"referral.{reminder.kind}", subject_type="referral",
                     subject_id=referral.id, referral=referral)
    for leader, items in escalations.items():
        outbox.escalation_digest(leader, items)
    return fired
