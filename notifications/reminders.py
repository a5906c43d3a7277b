"""Reminders and escalations as rows with a due time, written with the referral: the scheduler
tick finds them by an indexed query (``notifications.due_reminders``), so a lost broker or a
restart loses nothing.

- accept_overdue: not accepted 4 hours after receipt (or by the deadline if sooner) → the named
  officer, and the team leaders (escalation).
- deadline_approaching: 2 hours before the contact deadline with no attempt → the officer.
- deadline_missed: at the deadline with no attempt → the officer and the team leaders.
- release_tomorrow: 09:00 London the day before a release or discharge date → the officer.
- release_day: 08:00 London on the release or discharge date (the end of quiet hours) → the
  applicant, by a safe route as every applicant message: who can help and the team's number.
  Sent while the referral is open, even after contact is made: it is the day they most need
  the number, and the text says nothing an earlier one did not.
"""
from __future__ import annotations

from datetime import time, timedelta

from referral_service import clock, rowbatch
from referral_service.models import Referral, Reminder

ACCEPT_WITHIN = timedelta(hours=4)
WARN_BEFORE_DEADLINE = timedelta(hours=2)
RELEASE_DAY_TEXT_AT = time(8, 0)
# Planned from the release or discharge date: planned again for a new date even once sent.
FOR_THE_RELEASE_DATE = frozenset({"release_tomorrow", "release_day"})


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
        morning = clock.london_to_utc(release, RELEASE_DAY_TEXT_AT)
        if morning > referral.received_at:
            plans["release_day"] = morning
    for kind, due_at in plans.items():
        # Receiving a referral: one INSERT for its reminders, at the end.
        rowbatch.new(Reminder, referral=referral, kind=kind, due_at=due_at)
