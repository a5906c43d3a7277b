"""Working days and contact deadlines: London time, England and Wales bank holidays.

(Quiet hours, a messaging rule, are in ``notifications.quiet_hours``.)
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import holidays

from referral_service.clock import LONDON, as_utc, london_to_utc

# England and Wales share one list, so "ENG" serves both. The package includes substitute days
# and one-off days (e.g. the 2022 state funeral); keep it upgraded so newly announced ones arrive.
# The object fills itself in one year at a time on first lookup.
_BANK_HOLIDAYS = holidays.country_holidays("GB", subdiv="ENG")
# The package marks a year as filled before it has finished filling it, so two threads looking up
# a new year at once could see a bank holiday as a working day.
_BANK_HOLIDAYS_LOCK = threading.Lock()

MAX_POLICY_WORKING_DAYS = 20

@dataclass(frozen=True)
class DeadlinePolicy:
    """An authority's first-contact promise (configurable per authority)."""

    # First contact attempt within this many working days of the (effective) day of receipt.
    working_days: int = 2
    # Deadlines fall at this local time; it is also the end of the working day, so a referral
    # received at or after it counts as received on the next working day.
    due_time: time = time(17, 0)
    # Urgent referrals that arrive too late for a same-day deadline are due by this time next
    # working day: early enough to reach someone before they are on the street for a second night.
    urgent_next_day_time: time = time(10, 0)

    def __post_init__(self) -> None:
        days = self.working_days
        if isinstance(days, bool) or not isinstance(days, int):
            raise ValueError(f"working_days must be a whole number of days, not {days!r}.")
        if not 0 <= days <= MAX_POLICY_WORKING_DAYS:
            raise ValueError(
                f"working_days must be between 0 and {MAX_POLICY_WORKING_DAYS}, not {days}."
            )


DEFAULT_POLICY = DeadlinePolicy()


def _require_aware(moment: datetime, name: str) -> None:
    # A naive time could be local or UTC; guessing wrong moves a deadline by an hour in summer.
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(
            f"{name} must be timezone-aware: a naive datetime is ambiguous between UTC and "
            "London time, which differ by an hour in summer."
        )


def _local(moment: datetime, name: str) -> datetime:
    _require_aware(moment, name)
    return moment.astimezone(LONDON)


def is_working_day(d: date) -> bool:
    """Monday to Friday, and not an England and Wales bank holiday."""
    if d.weekday() >= 5:
        return False
    with _BANK_HOLIDAYS_LOCK:
        return d not in _BANK_HOLIDAYS


def next_working_day(d: date) -> date:
    """The first working day strictly after ``d``."""
    day = d + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(d: date, n: int) -> date:
    """The working day ``n`` working days after ``d``; with ``n == 0``, ``d`` or the next one."""
    if n < 0:
        raise ValueError(f"n must be zero or more, not {n}.")
    if n == 0:
        return d if is_working_day(d) else next_working_day(d)
    day = d
    for _ in range(n):
        day = next_working_day(day)
    return day


def effective_receipt_day(received_at: datetime, policy: DeadlinePolicy = DEFAULT_POLICY) -> date:
    """The working day a referral counts as received on (London time, after the cut-off)."""
    local = _local(received_at, "received_at")
    day = local.date()
    if not is_working_day(day) or local.time() >= policy.due_time:
        return next_working_day(day)
    return day


def is_urgent(
    *,
    at_risk_of_rough_sleeping_tonight: bool,
    release_or_discharge_date: date | None,
    received_at: datetime,
) -> bool:
    """Whether the referral needs same-day contact."""
    if at_risk_of_rough_sleeping_tonight:
        return True
    if release_or_discharge_date is None:
        return False
    received_on = _local(received_at, "received_at").date()
    # A date already passed is the most urgent case of all: the person is already out.
    return release_or_discharge_date <= received_on + timedelta(days=2)


def contact_due_by(
    received_at: datetime, *, urgent: bool, policy: DeadlinePolicy = DEFAULT_POLICY
) -> datetime:
    """When the first contact attempt is due, as an aware UTC datetime."""
    local = _local(received_at, "received_at")
    if urgent:
        today = local.date()
        if is_working_day(today) and local.time() < policy.due_time:
            return london_to_utc(today, policy.due_time)
        return london_to_utc(next_working_day(today), policy.urgent_next_day_time)
    receipt_day = effective_receipt_day(received_at, policy)
    return london_to_utc(add_working_days(receipt_day, policy.working_days), policy.due_time)


def working_hours_between(
    start: datetime,
    end: datetime,
    *,
    day_start: time = time(9, 0),
    day_end: time = time(17, 0),
) -> float:
    """Hours of working time (working days, ``day_start`` to ``day_end`` London) in the interval."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    if day_end <= day_start:
        raise ValueError(f"day_end ({day_end}) must be after day_start ({day_start}).")
    # Compare in UTC: Python compares datetimes that share a tzinfo by wall time, which is wrong
    # in the repeated hour when the clocks go back.
    start_utc, end_utc = as_utc(start), as_utc(end)
    if end_utc <= start_utc:
        return 0.0
    total = timedelta()
    day = start_utc.astimezone(LONDON).date()
    last_day = end_utc.astimezone(LONDON).date()
    while day <= last_day:
        if is_working_day(day):
            window_start = max(start_utc, london_to_utc(day, day_start))
            window_end = min(end_utc, london_to_utc(day, day_end))
            if window_end > window_start:
                total += window_end - window_start
        day += timedelta(days=1)
    return total.total_seconds() / 3600
