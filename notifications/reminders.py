"""Reminders and escalations as rows with a due time, written with the referral: the scheduler
tick finds them by an indexed query (``notifications.due_reminders``), so a lost broker or a
restart loses nothing.

- accept_overdue: not accepted 4 hours after receipt (or by the deadline if sooner) → the named
  officer, and the team leaders (escalation).
- deadline_approaching: 2 hours before the contact deadline with no attempt → the officer.
- deadline_missed: at the deadline with no attempt → the officer and the team leaders.
- release_tomorrow: 09:00 London the day before a release or discharge date → the officer.
"""
from __future__ import annotations

from datetime import time, timedelta

from referral_service import clock, rowbatch
from referral_service.models import Referral, Reminder

ACCEPT_WITHIN = timedelta(hours=4)
WARN_BEFORE_DEADLINE = timedelta(hours=2)


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
