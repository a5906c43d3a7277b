"""Working hours, and the calendar table (``working_hours``) that lets SQL count them.

Working hours are 09:00 to 17:00 Europe/London, Monday to Friday, except England and Wales bank
holidays (``deadlines.is_working_day``, from the ``holidays`` package). The calendar covers
FIRST_DAY to LAST_DAY; ``referrals reports calendar`` rebuilds it (after a ``holidays`` upgrade
brings a newly announced bank holiday) or extends it.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from referral_service.clock import LONDON, london_to_utc
from referral_service.domain.deadlines import is_working_day

WORK_START = time(9, 0)
WORK_END = time(17, 0)
# The Homelessness Reduction Act came into force in April 2018: nothing is older.
FIRST_DAY = date(2018, 1, 1)
LAST_DAY = date(2035, 12, 31)
HOUR = timedelta(hours=1)


def hour_rows(first: date = FIRST_DAY, last: date = LAST_DAY) -> Iterator[dict[str, Any]]:
    """Every UTC hour from London midnight on ``first`` to the midnight after ``last``."""
    moment, end = london_to_utc(first), london_to_utc(last + timedelta(days=1))
    seconds_before = 0
    while moment < end:
        local = moment.astimezone(LONDON)
        day = local.date()
        working = int(is_working_day(day) and WORK_START <= local.time() < WORK_END)
        yield {"hour": int(moment.timestamp()) // 3600, "working": working,
               "seconds_before": seconds_before, "local_date": day,
               "week_start": day - timedelta(days=day.weekday())}
        seconds_before += 3600 * working
        moment += HOUR


def rebuild(connection: sa.Connection, first: date = FIRST_DAY, last: date = LAST_DAY) -> int:
    """Replace the calendar (in the caller's transaction); returns the number of hours."""
    table = sa.table("working_hours", sa.column("hour"), sa.column("working"),
                     sa.column("seconds_before"), sa.column("local_date"),
                     sa.column("week_start"))
    connection.execute(sa.delete(table))
    rows = list(hour_rows(first, last))
    for start in range(0, len(rows), 5000):
        connection.execute(sa.insert(table), rows[start:start + 5000])
    return len(rows)


def working_seconds_between(start: datetime, end: datetime) -> int:
    """The same measure in Python, to the second, for checks and the docs' examples."""
    total = 0
    moment = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end_utc, start_utc = end.astimezone(UTC), start.astimezone(UTC)
    while moment < end_utc:
        local = moment.astimezone(LONDON)
        if is_working_day(local.date()) and WORK_START <= local.time() < WORK_END:
            window = min(end_utc, moment + HOUR) - max(start_utc, moment)
            total += max(0, int(window.total_seconds()))
        moment += HOUR
    return total
