"""Quiet hours: the hours the service never messages applicants (21:00 to 08:00 London time).

A messaging safety rule (``policy``), so it lives with the messages, below the domain. An
operator may set other hours for the deployment (``APPLICANT_QUIET_HOURS``, e.g.
``20:00-09:00``; ``referral_service.config``): the app's setting is used whenever there is an
app (requests, the worker, the scheduler), 21:00-08:00 otherwise. The hours are never switched
off, only moved.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import current_app, has_app_context

from referral_service.clock import LONDON, as_utc, london_to_utc

QUIET_START = time(21, 0)
QUIET_END = time(8, 0)
SETTING = "APPLICANT_QUIET_HOURS"


def hours() -> tuple[time, time]:
    """(start, end) of the quiet hours in London wall-clock time: the app's setting, if any."""
    if has_app_context():
        configured = current_app.config.get(SETTING)
        if configured is not None:
            start, end = configured
            return start, end
    return QUIET_START, QUIET_END


def _inside(local_time: time, start: time, end: time) -> bool:
    if start < end:  # within one day, e.g. 13:00-14:00
        return start <= local_time < end
    return local_time >= start or local_time < end  # across midnight, e.g. 21:00-08:00


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
    start, end = hours()
    return _inside(_local(at, "at").time(), start, end)


def next_send_time(at: datetime) -> datetime:
    """``at`` in UTC if a message may go then, otherwise the end of the quiet hours."""
    local = _local(at, "at")
    if not in_quiet_hours(at):
        return as_utc(at)
    start, end = hours()
    day = local.date()
    if start > end and local.time() >= start:  # the hours run past midnight
        day += timedelta(days=1)
    # An end inside the clock-change gap (01:00-02:00 in March) comes out an hour later, which
    # is still outside the quiet hours; 08:00, the default, never is.
    return london_to_utc(day, end)
