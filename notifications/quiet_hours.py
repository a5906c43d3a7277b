"""Quiet hours: the hours the service never messages applicants (21:00 to 08:00 London time).

A messaging safety rule (``policy``), so it lives with the messages, below the domain.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from referral_service.clock import LONDON, as_utc, london_to_utc

QUIET_START = time(21, 0)
QUIET_END = time(8, 0)


def _local(moment: datetime, name: str) -> datetime:
    # A naive time could be local or UTC; guessing wrong moves a message by an hour in summer.
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(
            f"{name} must be timezone-aware: a naive datetime is ambiguous between UTC and "
            "London time, which differ by an hour in summer."
        )
    return moment.astimezone(LONDON)


def in_quiet_hours(at: datetime) -> bool:
    """Whether ``at`` falls in the hours the service never messages applicants (London time)."""
    local_time = _local(at, "at").time()
    return local_time >= QUIET_START or local_time < QUIET_END


def next_send_time(at: datetime) -> datetime:
    """``at`` in UTC if a message may go then, otherwise the end of the quiet hours."""
    local = _local(at, "at")
    if not in_quiet_hours(at):
        return as_utc(at)
    day = local.date()
    if local.time() >= QUIET_START:
        day += timedelta(days=1)
    # 08:00 is never inside a clock-change gap or overlap (those are at 01:00-02:00).
    return london_to_utc(day, QUIET_END)
