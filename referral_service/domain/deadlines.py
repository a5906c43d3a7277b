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
    # With a release or discharge date, contact is due this many working days before it, so
    # that the council has time to plan somewhere to go (see ``contact_due_by``).
    release_days_before: int = 5

    def __post_init__(self) -> None:
        for name in ("working_days", "release_days_before"):
            days = getattr(self, name)
            if isinstance(days, bool) or not isinstance(days, int):
                raise ValueError(f"{name} must be a whole number of days, not {days!r}.")
            if not 0 <= days <= MAX_POLICY_WORKING_DAYS:
                raise ValueError(
                    f"{name} must be between 0 and {MAX_POLICY_WORKING_DAYS}, not {days}."
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


def _working_day_beside(d: date, step: int) -> date:
    """The first working day strictly after (``step`` 1) or before (``step`` -1) ``d``."""
    day = d + timedelta(days=step)
    while not is_working_day(day):
        day += timedelta(days=step)
    return day


def _count_working_days(d: date, n: int, step: int) -> date:
    if n < 0:
        raise ValueError(f"n must be zero or more, not {n}.")
    day = d if n == 0 and is_working_day(d) else _working_day_beside(d, step)
    for _ in range(n - 1):
        day = _working_day_beside(day, step)
    return day


def next_working_day(d: date) -> date:
    """The first working day strictly after ``d``."""
    return _working_day_beside(d, 1)


def previous_working_day(d: date) -> date:
    """The last working day strictly before ``d``."""
    return _working_day_beside(d, -1)


def working_days_before(d: date, n: int) -> date:
    """The working day ``n`` working days before ``d``; with ``n == 0``, ``d`` or the one before."""
    return _count_working_days(d, n, -1)


def add_working_days(d: date, n: int) -> date:
    """The working day ``n`` working days after ``d``; with ``n == 0``, ``d`` or the next one."""
    return _count_working_days(d, n, 1)


def effective_receipt_day(received_at: datetime, policy: DeadlinePolicy = DEFAULT_POLICY) -> date:
    """The working day a referral counts as received on (London time, after the cut-off)."""
    local = _local(received_at, "received_at")
    day = local.date()
    if not is_working_day(day) or local.time() >= policy.due_time:
        return next_working_day(day)
    return day


def _date_is_near(release_or_discharge_date: date, at: datetime) -> bool:
    # A date already passed is the most urgent case of all: the person is already out.
    return release_or_discharge_date <= _local(at, "received_at").date() + timedelta(days=2)


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
    return _date_is_near(release_or_discharge_date, received_at)


def _same_day_deadline(at: datetime, policy: DeadlinePolicy) -> datetime:
    """The urgent deadline: today by the due time, or next working day's morning if too late."""
    local = _local(at, "received_at")
    today = local.date()
    if is_working_day(today) and local.time() < policy.due_time:
        return london_to_utc(today, policy.due_time)
    return london_to_utc(next_working_day(today), policy.urgent_next_day_time)


def release_deadline(
    release_or_discharge_date: date, *, known_at: datetime, policy: DeadlinePolicy = DEFAULT_POLICY
) -> datetime:
    """When contact is due because of a release or discharge date learnt at ``known_at``.

    By ``policy.due_time`` on the working day ``policy.release_days_before`` working days
    before the date (with 0: the date itself, or the working day before it when it is not one).
    Never earlier than the urgent (same-day) deadline from ``known_at``: a day already passed
    when the date was learnt cannot be promised. A date within two days of ``known_at`` (or
    passed) gives that urgent deadline.
    """
    soonest = _same_day_deadline(known_at, policy)
    if _date_is_near(release_or_discharge_date, known_at):
        return soonest
    day = working_days_before(release_or_discharge_date, policy.release_days_before)
    return max(london_to_utc(day, policy.due_time), soonest)


def contact_due_by(
    received_at: datetime,
    *,
    urgent: bool,
    policy: DeadlinePolicy = DEFAULT_POLICY,
    release_or_discharge_date: date | None = None,
    date_known_at: datetime | None = None,
) -> datetime:
    """When the first contact attempt is due, as an aware UTC datetime.

    The usual rule: urgent referrals today by ``due_time`` (or, received too late, by
    ``urgent_next_day_time`` next working day); others ``working_days`` working days after the
    effective day of receipt, by ``due_time``.

    With a release or discharge date, the earlier of the usual deadline and
    ``release_deadline`` (the date learnt at ``date_known_at``, by default at receipt). So the
    date can only bring contact forward: never later than the usual rule, never later than
    ``release_days_before`` working days before the date unless that had already passed when
    the date was learnt (then the urgent deadline from that moment), and an urgent referral
    keeps its same-day deadline.
    """
    if urgent:
        usual = _same_day_deadline(received_at, policy)
    else:
        receipt_day = effective_receipt_day(received_at, policy)
        usual = london_to_utc(add_working_days(receipt_day, policy.working_days), policy.due_time)
    if release_or_discharge_date is None:
        return usual
    known_at = date_known_at if date_known_at is not None else received_at
    return min(usual, release_deadline(release_or_discharge_date, known_at=known_at,
                                       policy=policy))


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
