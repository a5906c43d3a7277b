"""The one place domain code asks for the time.

Tests move it with time-machine; the demo loader backdates its story with ``travel``. Nothing in
the domain calls ``datetime.now`` directly, so a deadline or a quiet-hours rule can be checked at
any instant without sleeping. London days are written one way everywhere (``long_date``).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

_override: ContextVar[datetime | None] = ContextVar("clock_override", default=None)


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return _override.get() or datetime.now(UTC)


def today_in_london() -> date:
    return now().astimezone(LONDON).date()


def london_to_utc(day: date, at: time = time(0)) -> datetime:
    """The UTC instant of a London wall-clock time on ``day`` (its midnight unless told).

    Building the local wall time first, then converting, gets the UTC offset of that day right
    on either side of the October and March clock changes.
    """
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def long_date(day: date) -> str:
    """1 January 2027: a day as GOV.UK writes it, for pages, messages and refusals alike."""
    return f"{day.day} {day:%B %Y}"


def as_utc(moment: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is taken to be UTC already (as stored)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@contextmanager
def travel(moment: datetime) -> Iterator[None]:
    """Within the block, ``now()`` is ``moment`` (for loading a believable history of events)."""
    if moment.tzinfo is None:
        raise ValueError("travel() needs a timezone-aware moment.")
    token = _override.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _override.reset(token)
