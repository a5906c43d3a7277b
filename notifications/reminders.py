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

from sqlalchemy import select

from referral_service import clock, rowbatch
from referral_service.extensions import db
from referral_service.models import Referral, Reminder

ACCEPT_WITHIN = timedelta(hours=4)
WARN_BEFORE_DEADLINE = timedelta(hours=2)
RELEASE_DAY_TEXT_AT = time(8, 0)
# Planned from the release or discharge date: planned again for a new date even once sent.
FOR_THE_RELEASE_DATE = frozenset({"release_tomorrow", "release_day"})


def schedule(referral: Referral) -> None:
    """Write the reminders a new referral needs (in the caller's transaction: the expansion of
    its ``referral.received`` event, ``notifications.expansion``)."""
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


def replan(referral: Referral) -> None:
    """Reminders for a new deadline or release date, through :func:`schedule`.

    A reminder already sent is not sent again, except those of the release date (the officer's
    "release tomorrow", the applicant's release-day text) for the new date.
    """
    fired: set[str] = set()
    for reminder in db.session.scalars(select(Reminder).where(
            Reminder.referral_id == referral.id)):
        if reminder.done_at is None or reminder.kind in FOR_THE_RELEASE_DATE:
            db.session.delete(reminder)
        else:
            fired.add(reminder.kind)
    db.session.flush()  # the unique (referral, kind) rows are gone before new ones are added
    schedule(referral)
    now = clock.now()
    for added in [obj for obj in db.session.new if isinstance(obj, Reminder)]:
        if added.referral is not referral:
            continue
        # "Release tomorrow" the day of a release (or after) would be wrong, as would a
        # release-morning text in the afternoon; the deadline reminders already do their job.
        if added.kind in fired or (added.kind in FOR_THE_RELEASE_DATE and added.due_at <= now):
            db.session.expunge(added)
