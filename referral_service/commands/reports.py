"""``referrals reports calendar``: rebuild the working-hours calendar the figures count with.

Run it after upgrading the ``holidays`` package when a new bank holiday has been announced
(a one-off day, like a coronation): the figures then count that day as a holiday everywhere,
for past and future referrals alike. Idempotent.
"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from referral_service.commands.common import emit, json_option, refusals
from referral_service.domain import audit
from referral_service.domain.reports import calendar
from referral_service.extensions import db


@click.group("reports", help="The scrutiny figures.")
def reports_group() -> None:
    pass


@reports_group.command("calendar")
@json_option
@with_appcontext
@refusals
def rebuild_calendar(as_json: bool) -> None:
    """Rebuild the working-hours calendar from the bank holidays the service knows today."""
    hours = calendar.rebuild(db.session.connection())
    audit.record(audit.Actor.system("cli"), "reports.calendar_rebuilt",
                 subject_type="working_hours", subject_id="calendar", hours=hours,
                 first_day=calendar.FIRST_DAY.isoformat(), last_day=calendar.LAST_DAY.isoformat())
    db.session.commit()
    emit(as_json, {"hours": hours, "first_day": calendar.FIRST_DAY.isoformat(),
                   "last_day": calendar.LAST_DAY.isoformat()},
         f"Working-hours calendar rebuilt: {hours:,} hours from {calendar.FIRST_DAY} to "
         f"{calendar.LAST_DAY}.")


def register(main: click.Group) -> None:
    main.add_command(reports_group)
