"""Deadlines against the real England and Wales bank-holiday calendar and Europe/London clock."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.quiet_hours import in_quiet_hours, next_send_time
from referral_service import clock
from referral_service.clock import LONDON
from referral_service.domain.deadlines import (
    DeadlinePolicy,
    add_working_days,
    contact_due_by,
    effective_receipt_day,
    is_urgent,
    is_working_day,
    next_working_day,
    release_deadline,
    working_days_before,
    working_hours_between,
)


def london(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=LONDON)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- the calendar -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 11, 6), True, id="friday"),
        pytest.param(date(2026, 11, 7), False, id="saturday"),
        pytest.param(date(2026, 11, 8), False, id="sunday"),
        pytest.param(date(2026, 11, 9), True, id="monday"),
        pytest.param(date(2026, 12, 25), False, id="christmas-2026-friday"),
        pytest.param(date(2026, 12, 28), False, id="boxing-day-substitute-2026"),
        pytest.param(date(2026, 12, 29), True, id="tuesday-after-christmas-2026"),
        pytest.param(date(2027, 12, 27), False, id="christmas-substitute-2027"),
        pytest.param(date(2027, 12, 28), False, id="boxing-day-substitute-2027"),
        pytest.param(date(2027, 3, 26), False, id="good-friday-2027"),
        pytest.param(date(2027, 3, 29), False, id="easter-monday-2027"),
        pytest.param(date(2026, 5, 4), False, id="early-may-2026"),
        pytest.param(date(2026, 5, 25), False, id="spring-2026"),
        pytest.param(date(2026, 8, 31), False, id="summer-2026"),
        pytest.param(date(2027, 5, 3), False, id="early-may-2027"),
        pytest.param(date(2027, 5, 31), False, id="spring-2027"),
        pytest.param(date(2027, 8, 30), False, id="summer-2027"),
        pytest.param(date(2022, 9, 19), False, id="state-funeral-2022"),
        pytest.param(date(2026, 3, 17), True, id="st-patricks-day-not-in-england"),
        pytest.param(date(2026, 11, 30), True, id="st-andrews-day-not-in-england"),
    ],
)
def test_is_working_day(day: date, expected: bool) -> None:
    assert is_working_day(day) is expected


def test_christmas_2026_substitute_day_comes_from_the_real_calendar() -> None:
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=2026)
    assert date(2026, 12, 25).weekday() == 4  # a Friday
    assert "Boxing Day" in calendar[date(2026, 12, 28)]
    assert is_working_day(date(2026, 12, 28)) is False


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 11, 6), date(2026, 11, 9), id="friday-to-monday"),
        pytest.param(date(2026, 11, 7), date(2026, 11, 9), id="saturday-to-monday"),
        pytest.param(date(2026, 11, 9), date(2026, 11, 10), id="strictly-after-a-working-day"),
        pytest.param(date(2026, 12, 24), date(2026, 12, 29), id="over-christmas-2026"),
        pytest.param(date(2027, 3, 25), date(2027, 3, 30), id="over-easter-2027"),
        pytest.param(date(2026, 8, 28), date(2026, 9, 1), id="over-summer-bank-holiday"),
    ],
)
def test_next_working_day(day: date, expected: date) -> None:
    assert next_working_day(day) == expected


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        pytest.param(date(2026, 11, 9), 0, date(2026, 11, 9), id="zero-on-working-day"),
        pytest.param(date(2026, 11, 7), 0, date(2026, 11, 9), id="zero-on-saturday"),
        pytest.param(date(2026, 11, 9), 2, date(2026, 11, 11), id="monday-plus-two"),
        pytest.param(date(2026, 11, 5), 2, date(2026, 11, 9), id="thursday-plus-two"),
        pytest.param(date(2026, 12, 24), 2, date(2026, 12, 30), id="christmas-2026"),
        pytest.param(date(2026, 12, 14), 10, date(2026, 12, 30), id="ten-over-christmas"),
    ],
)
def test_add_working_days(day: date, n: int, expected: date) -> None:
    assert add_working_days(day, n) == expected


def test_add_working_days_refuses_negative() -> None:
    with pytest.raises(ValueError, match="zero or more"):
        add_working_days(date(2026, 11, 9), -1)


# --- effective day of receipt -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_at", "expected"),
    [
        pytest.param(london(2026, 11, 9, 16, 59, 59), date(2026, 11, 9), id="just-before-cut-off"),
        pytest.param(london(2026, 11, 9, 17, 0), date(2026, 11, 10), id="at-cut-off"),
        pytest.param(london(2026, 11, 9, 0, 5), date(2026, 11, 9), id="just-after-midnight"),
        pytest.param(london(2026, 11, 7, 10, 0), date(2026, 11, 9), id="saturday"),
        pytest.param(london(2026, 8, 28, 18, 0), date(2026, 9, 1), id="friday-late-bank-holiday"),
        # 16:30 UTC in summer is 17:30 in London: after the cut-off.
        pytest.param(utc(2026, 7, 1, 16, 30), date(2026, 7, 2), id="utc-input-summer"),
        # 23:30 UTC on Friday in summer is already Saturday in London.
        pytest.param(utc(2026, 7, 3, 23, 30), date(2026, 7, 6), id="utc-late-friday-summer"),
    ],
)
def test_effective_receipt_day(received_at: datetime, expected: date) -> None:
    assert effective_receipt_day(received_at, DeadlinePolicy()) == expected


# --- non-urgent deadlines -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_at", "expected"),
    [
        pytest.param(london(2026, 11, 9, 10, 0), utc(2026, 11, 11, 17, 0), id="monday-morning"),
        pytest.param(london(2026, 11, 9, 18, 0), utc(2026, 11, 12, 17, 0), id="after-cut-off"),
        pytest.param(london(2026, 11, 7, 10, 0), utc(2026, 11, 11, 17, 0), id="saturday"),
        pytest.param(london(2026, 11, 6, 18, 0), utc(2026, 11, 11, 17, 0), id="friday-evening"),
        pytest.param(london(2026, 12, 24, 10, 0), utc(2026, 12, 30, 17, 0), id="christmas-eve"),
        pytest.param(london(2026, 12, 24, 18, 0), utc(2026, 12, 31, 17, 0), id="christmas-late"),
        # Good Friday, Easter Monday and the March clock change all in between: 17:00 BST.
        pytest.param(london(2027, 3, 25, 10, 0), utc(2027, 3, 31, 16, 0), id="easter-2027"),
        pytest.param(london(2026, 5, 1, 10, 0), utc(2026, 5, 6, 16, 0), id="early-may-2026"),
        pytest.param(london(2026, 5, 22, 10, 0), utc(2026, 5, 27, 16, 0), id="spring-2026"),
        pytest.param(london(2026, 8, 28, 10, 0), utc(2026, 9, 2, 16, 0), id="summer-2026"),
    ],
)
def test_contact_due_by_default_policy(received_at: datetime, expected: datetime) -> None:
    due = contact_due_by(received_at, urgent=False)
    assert due == expected
    assert due.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("received_at", "expected_utc_hour"),
    [
        # Wed 21 Oct 2026 -> Fri 23 Oct, still BST.
        pytest.param(london(2026, 10, 21, 10, 0), 16, id="before-october-change"),
        # Fri 23 Oct 2026 -> Tue 27 Oct, after the clocks went back on Sun 25 Oct: GMT.
        pytest.param(london(2026, 10, 23, 10, 0), 17, id="after-october-change"),
        # Tue 23 Mar 2027 -> Thu 25 Mar, still GMT.
        pytest.param(london(2027, 3, 23, 10, 0), 17, id="before-march-change"),
        # Thu 1 Apr 2027 -> Mon 5 Apr, after the clocks went forward on Sun 28 Mar: BST.
        pytest.param(london(2027, 4, 1, 10, 0), 16, id="after-march-change"),
    ],
)
def test_deadline_is_17_london_either_side_of_a_clock_change(
    received_at: datetime, expected_utc_hour: int
) -> None:
    due = contact_due_by(received_at, urgent=False)
    assert due.tzinfo is UTC
    assert due.hour == expected_utc_hour
    assert due.astimezone(LONDON).time() == time(17, 0)


@pytest.mark.parametrize(
    ("working_days", "received_at", "expected"),
    [
        pytest.param(0, london(2026, 11, 9, 10, 0), utc(2026, 11, 9, 17, 0), id="0-same-day"),
        pytest.param(0, london(2026, 11, 7, 10, 0), utc(2026, 11, 9, 17, 0), id="0-saturday"),
        pytest.param(0, london(2026, 11, 9, 17, 30), utc(2026, 11, 10, 17, 0), id="0-late"),
        pytest.param(5, london(2026, 11, 9, 10, 0), utc(2026, 11, 16, 17, 0), id="5"),
        pytest.param(10, london(2026, 11, 9, 10, 0), utc(2026, 11, 23, 17, 0), id="10"),
        pytest.param(10, london(2026, 12, 14, 10, 0), utc(2026, 12, 30, 17, 0), id="10-christmas"),
    ],
)
def test_contact_due_by_policy_working_days(
    working_days: int, received_at: datetime, expected: datetime
) -> None:
    policy = DeadlinePolicy(working_days=working_days)
    assert contact_due_by(received_at, urgent=False, policy=policy) == expected


def test_policy_due_time_moves_both_deadline_and_cut_off() -> None:
    policy = DeadlinePolicy(due_time=time(16, 0))
    # 16:30 is after a 16:00 cut-off, so receipt counts as Tuesday.
    assert contact_due_by(london(2026, 11, 9, 16, 30), urgent=False, policy=policy) == utc(
        2026, 11, 12, 16, 0
    )


@pytest.mark.parametrize("working_days", [0, 2, 20], ids=["min", "default", "max"])
def test_policy_accepts_range(working_days: int) -> None:
    assert DeadlinePolicy(working_days=working_days).working_days == working_days


@pytest.mark.parametrize(
    "working_days",
    [
        pytest.param(-1, id="negative"),
        pytest.param(21, id="too-many"),
        pytest.param(2.5, id="fraction"),
        pytest.param(True, id="bool"),
    ],
)
def test_policy_refuses_invalid_working_days(working_days: object) -> None:
    with pytest.raises(ValueError, match="working_days"):
        DeadlinePolicy(working_days=working_days)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda t: contact_due_by(t, urgent=False), id="contact_due_by"),
        pytest.param(lambda t: contact_due_by(t, urgent=True), id="contact_due_by-urgent"),
        pytest.param(lambda t: effective_receipt_day(t), id="effective_receipt_day"),
        pytest.param(
            lambda t: is_urgent(
                at_risk_of_rough_sleeping_tonight=False,
                release_or_discharge_date=date(2026, 11, 10),
                received_at=t,
            ),
            id="is_urgent",
        ),
        pytest.param(in_quiet_hours, id="in_quiet_hours"),
        pytest.param(next_send_time, id="next_send_time"),
        pytest.param(lambda t: working_hours_between(t, t), id="working_hours_between"),
    ],
)
def test_naive_datetime_refused(call) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(datetime(2026, 11, 9, 10, 0))


# --- urgent deadlines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_at", "expected"),
    [
        pytest.param(london(2026, 11, 9, 9, 0), utc(2026, 11, 9, 17, 0), id="same-day"),
        pytest.param(london(2026, 11, 9, 16, 59), utc(2026, 11, 9, 17, 0), id="just-in-time"),
        pytest.param(london(2026, 11, 9, 17, 0), utc(2026, 11, 10, 10, 0), id="at-cut-off"),
        pytest.param(london(2026, 11, 9, 20, 0), utc(2026, 11, 10, 10, 0), id="evening"),
        pytest.param(london(2026, 11, 7, 9, 0), utc(2026, 11, 9, 10, 0), id="saturday-morning"),
        # Friday evening before the August bank holiday: Tuesday 10:00 BST.
        pytest.param(london(2026, 8, 28, 19, 0), utc(2026, 9, 1, 9, 0), id="before-bank-holiday"),
        pytest.param(london(2026, 7, 1, 9, 0), utc(2026, 7, 1, 16, 0), id="same-day-summer"),
    ],
)
def test_contact_due_by_urgent(received_at: datetime, expected: datetime) -> None:
    assert contact_due_by(received_at, urgent=True) == expected


@pytest.mark.parametrize(
    ("rough_sleeping", "release", "expected"),
    [
        pytest.param(True, None, True, id="rough-sleeping-tonight"),
        pytest.param(False, None, False, id="nothing-urgent"),
        pytest.param(False, date(2026, 11, 9), True, id="release-today"),
        pytest.param(False, date(2026, 11, 11), True, id="release-in-2-days"),
        pytest.param(False, date(2026, 11, 12), False, id="release-in-3-days"),
        pytest.param(False, date(2026, 10, 1), True, id="release-in-past"),
        pytest.param(True, date(2027, 1, 1), True, id="rough-sleeping-wins"),
    ],
)
def test_is_urgent(rough_sleeping: bool, release: date | None, expected: bool) -> None:
    assert (
        is_urgent(
            at_risk_of_rough_sleeping_tonight=rough_sleeping,
            release_or_discharge_date=release,
            received_at=london(2026, 11, 9, 10, 0),
        )
        is expected
    )


def test_is_urgent_counts_from_the_london_date() -> None:
    # 23:30 UTC on 1 July is 00:30 on 2 July in London, so 4 July is two days away.
    assert is_urgent(
        at_risk_of_rough_sleeping_tonight=False,
        release_or_discharge_date=date(2026, 7, 4),
        received_at=utc(2026, 7, 1, 23, 30),
    )


@time_machine.travel(utc(2026, 8, 28, 18, 30), tick=False)
def test_referral_received_now_on_friday_evening_before_a_bank_holiday() -> None:
    # 19:30 BST on the Friday before the August bank holiday, as a request handler would see it.
    received_at = clock.now()
    assert contact_due_by(received_at, urgent=True) == utc(2026, 9, 1, 9, 0)
    assert contact_due_by(received_at, urgent=False) == utc(2026, 9, 3, 16, 0)


# --- quiet hours --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(london(2026, 11, 9, 20, 59), False, id="20:59"),
        pytest.param(london(2026, 11, 9, 21, 0), True, id="21:00"),
        pytest.param(london(2026, 11, 9, 0, 0), True, id="midnight"),
        pytest.param(london(2026, 11, 9, 7, 59), True, id="07:59"),
        pytest.param(london(2026, 11, 9, 8, 0), False, id="08:00"),
        pytest.param(london(2026, 7, 1, 20, 59), False, id="20:59-summer"),
        pytest.param(london(2026, 7, 1, 21, 0), True, id="21:00-summer"),
        pytest.param(london(2026, 7, 1, 7, 59), True, id="07:59-summer"),
        pytest.param(london(2026, 7, 1, 8, 0), False, id="08:00-summer"),
        # 20:30 UTC in summer is 21:30 in London; 07:30 UTC is 08:30.
        pytest.param(utc(2026, 7, 1, 20, 30), True, id="utc-evening-summer"),
        pytest.param(utc(2026, 7, 1, 7, 30), False, id="utc-morning-summer"),
    ],
)
def test_in_quiet_hours(at: datetime, expected: bool) -> None:
    assert in_quiet_hours(at) is expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(london(2026, 11, 9, 12, 0), utc(2026, 11, 9, 12, 0), id="daytime-unchanged"),
        pytest.param(london(2026, 7, 1, 12, 0), utc(2026, 7, 1, 11, 0), id="daytime-as-utc"),
        pytest.param(london(2026, 11, 9, 22, 0), utc(2026, 11, 10, 8, 0), id="evening"),
        pytest.param(london(2026, 11, 9, 6, 0), utc(2026, 11, 9, 8, 0), id="early-morning"),
        # Night of Sat 24 -> Sun 25 Oct 2026: go to bed in BST, wake in GMT.
        pytest.param(london(2026, 10, 24, 22, 0), utc(2026, 10, 25, 8, 0), id="october-change"),
        # 00:30 UTC is 01:30 BST (first time round); 01:30 UTC is 01:30 GMT (second time).
        pytest.param(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 8, 0), id="october-first-0130"),
        pytest.param(utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 8, 0), id="october-second-0130"),
        pytest.param(london(2026, 10, 23, 22, 0), utc(2026, 10, 24, 7, 0), id="night-before"),
        # Night of Sat 27 -> Sun 28 Mar 2027: go to bed in GMT, wake in BST.
        pytest.param(london(2027, 3, 27, 23, 0), utc(2027, 3, 28, 7, 0), id="march-change"),
        pytest.param(utc(2027, 3, 28, 1, 30), utc(2027, 3, 28, 7, 0), id="march-after-jump"),
    ],
)
def test_next_send_time(at: datetime, expected: datetime) -> None:
    sent = next_send_time(at)
    assert sent == expected
    assert sent.tzinfo is UTC
    assert not in_quiet_hours(sent)


# --- working hours ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(
            london(2026, 11, 9, 8, 0), london(2026, 11, 9, 12, 30), 3.5, id="same-day-early-start"
        ),
        pytest.param(london(2026, 11, 6, 15, 0), london(2026, 11, 9, 11, 0), 4.0, id="weekend"),
        pytest.param(
            london(2026, 8, 28, 16, 0), london(2026, 9, 1, 10, 0), 2.0, id="bank-holiday-weekend"
        ),
        pytest.param(
            london(2026, 12, 24, 9, 0), london(2026, 12, 29, 17, 0), 16.0, id="christmas-2026"
        ),
        # Fri 23 Oct 16:00 BST to Mon 26 Oct 10:00 GMT: the lost hour is not working time.
        pytest.param(
            london(2026, 10, 23, 16, 0), london(2026, 10, 26, 10, 0), 2.0, id="october-change"
        ),
        pytest.param(london(2026, 11, 9, 18, 0), london(2026, 11, 9, 20, 0), 0.0, id="evening"),
        pytest.param(london(2026, 11, 9, 12, 0), london(2026, 11, 9, 12, 0), 0.0, id="empty"),
        pytest.param(london(2026, 11, 9, 12, 0), london(2026, 11, 9, 10, 0), 0.0, id="backwards"),
        pytest.param(utc(2026, 7, 1, 8, 0), utc(2026, 7, 1, 9, 0), 1.0, id="utc-input-summer"),
    ],
)
def test_working_hours_between(start: datetime, end: datetime, expected: float) -> None:
    assert working_hours_between(start, end) == pytest.approx(expected)


def test_working_hours_between_custom_day() -> None:
    hours = working_hours_between(
        london(2026, 11, 9, 0, 0),
        london(2026, 11, 10, 23, 0),
        day_start=time(8, 30),
        day_end=time(16, 30),
    )
    assert hours == pytest.approx(16.0)


def test_working_hours_between_refuses_inverted_day() -> None:
    with pytest.raises(ValueError, match="day_end"):
        working_hours_between(
            london(2026, 11, 9, 9, 0),
            london(2026, 11, 9, 17, 0),
            day_start=time(17, 0),
            day_end=time(9, 0),
        )


# --- properties ---------------------------------------------------------------------------------

_instants = st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2028, 12, 31, 23, 59, 59),
    timezones=st.sampled_from([UTC, LONDON]),
)


def _working_days_after(first: date, last: date) -> int:
    """Working days in (first, last], counted one calendar day at a time."""
    return sum(
        is_working_day(first + timedelta(days=i)) for i in range(1, (last - first).days + 1)
    )


@settings(max_examples=300, deadline=None, database=None)
@given(received_at=_instants, working_days=st.integers(min_value=0, max_value=10))
def test_property_deadline_is_working_day_at_due_time(
    received_at: datetime, working_days: int
) -> None:
    policy = DeadlinePolicy(working_days=working_days)
    due = contact_due_by(received_at, urgent=False, policy=policy)
    local = due.astimezone(LONDON)
    assert due.tzinfo is UTC
    assert is_working_day(local.date())
    assert local.time() == policy.due_time
    assert due >= received_at
    receipt_day = effective_receipt_day(received_at, policy)
    assert _working_days_after(receipt_day, local.date()) == working_days


@settings(max_examples=300, deadline=None, database=None)
@given(received_at=_instants)
def test_property_urgent_deadline_is_soon_and_on_a_working_day(received_at: datetime) -> None:
    due = contact_due_by(received_at, urgent=True)
    local = due.astimezone(LONDON)
    assert is_working_day(local.date())
    assert local.time() in {time(17, 0), time(10, 0)}
    assert due > received_at
    assert due <= contact_due_by(received_at, urgent=False)


# --- release and discharge dates ----------------------------------------------------------------

# A long usual deadline, so that the release rule is what decides.
_SLOW = DeadlinePolicy(working_days=10)


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        pytest.param(date(2026, 11, 13), 0, date(2026, 11, 13), id="friday-itself"),
        pytest.param(date(2026, 11, 14), 0, date(2026, 11, 13), id="saturday-to-friday"),
        pytest.param(date(2026, 11, 16), 1, date(2026, 11, 13), id="monday-back-over-weekend"),
        pytest.param(date(2026, 11, 16), 5, date(2026, 11, 9), id="a-week-before"),
        # Christmas 2026: Friday 25th and the Boxing Day substitute Monday 28th are not working.
        pytest.param(date(2026, 12, 29), 1, date(2026, 12, 24), id="back-over-christmas"),
        pytest.param(date(2026, 12, 29), 5, date(2026, 12, 18), id="five-over-christmas"),
    ],
)
def test_working_days_before(day: date, n: int, expected: date) -> None:
    assert working_days_before(day, n) == expected


def test_working_days_before_refuses_negative() -> None:
    with pytest.raises(ValueError, match="zero or more"):
        working_days_before(date(2026, 11, 16), -1)


@pytest.mark.parametrize(
    ("received_at", "release", "policy", "expected"),
    [
        pytest.param(london(2026, 11, 2, 10), date(2027, 1, 15), DeadlinePolicy(),
                     utc(2026, 11, 4, 17), id="far-away-usual-rule"),
        pytest.param(london(2026, 11, 2, 10), date(2026, 11, 16), _SLOW,
                     utc(2026, 11, 9, 17), id="five-working-days-before"),
        pytest.param(london(2026, 11, 2, 10), date(2026, 11, 16),
                     DeadlinePolicy(working_days=10, release_days_before=3),
                     utc(2026, 11, 11, 17), id="authority-sets-three"),
        pytest.param(london(2026, 11, 2, 10), date(2026, 11, 14),
                     DeadlinePolicy(working_days=10, release_days_before=0),
                     utc(2026, 11, 13, 17), id="zero-days-saturday-means-friday"),
        pytest.param(london(2026, 12, 14, 10), date(2026, 12, 29), _SLOW,
                     utc(2026, 12, 18, 17), id="bank-holidays-skipped"),
        # Good Friday and Easter Monday 2027, and the clocks go forward on 28 March:
        # Tuesday 30 March 17:00 BST is 16:00 UTC.
        pytest.param(london(2027, 3, 22, 10), date(2027, 4, 6), _SLOW,
                     utc(2027, 3, 30, 16), id="easter-and-clocks-forward"),
        # Clocks go back on 25 October 2026: received in BST, due in GMT.
        pytest.param(london(2026, 10, 20, 10), date(2026, 11, 2), _SLOW,
                     utc(2026, 10, 26, 17), id="clocks-back"),
        # Five working days before 9 November is 2 November 17:00, already past at 18:00 that
        # day: the soonest the service can promise, 10:00 next working day.
        pytest.param(london(2026, 11, 2, 18), date(2026, 11, 9), DeadlinePolicy(),
                     utc(2026, 11, 3, 10), id="already-passed-when-received"),
    ],
)
def test_contact_due_by_release_date(
    received_at: datetime, release: date, policy: DeadlinePolicy, expected: datetime
) -> None:
    assert contact_due_by(received_at, urgent=False, policy=policy,
                          release_or_discharge_date=release) == expected


def test_release_date_never_makes_contact_later_than_the_usual_rule() -> None:
    received = london(2026, 11, 2, 10)
    # Five working days before 30 November is 23 November, after the usual 4 November.
    assert contact_due_by(received, urgent=False, release_or_discharge_date=date(2026, 11, 30)
                          ) == contact_due_by(received, urgent=False) == utc(2026, 11, 4, 17)


def test_urgent_stays_urgent_whatever_the_date() -> None:
    received = london(2026, 11, 2, 10)
    assert contact_due_by(received, urgent=True, policy=_SLOW,
                          release_or_discharge_date=date(2026, 11, 16)) == utc(2026, 11, 2, 17)


def test_date_in_the_past_learnt_later_is_due_the_same_day() -> None:
    # A date changed a day after receipt to one already passed: due that day, not back-dated.
    assert contact_due_by(london(2026, 11, 2, 10), urgent=False,
                          release_or_discharge_date=date(2026, 11, 1),
                          date_known_at=london(2026, 11, 3, 11)) == utc(2026, 11, 3, 17)


def test_date_learnt_later_counts_days_from_when_it_was_learnt() -> None:
    # Received on 2 November with no near date; on Friday 6 November the date becomes Monday
    # 16 November: five working days before is 9 November, after the change, so that stands.
    assert contact_due_by(london(2026, 11, 2, 10), urgent=False, policy=_SLOW,
                          release_or_discharge_date=date(2026, 11, 16),
                          date_known_at=london(2026, 11, 6, 12)) == utc(2026, 11, 9, 17)
    # Changed to Wednesday 11 November on the 6th: five before (4th) has passed; near enough
    # to be the soonest deadline from the change, 17:00 that Friday.
    assert contact_due_by(london(2026, 11, 2, 10), urgent=False, policy=_SLOW,
                          release_or_discharge_date=date(2026, 11, 11),
                          date_known_at=london(2026, 11, 6, 12)) == utc(2026, 11, 6, 17)


def test_release_deadline_for_a_near_date_is_the_urgent_one() -> None:
    known = london(2026, 11, 6, 18)  # Friday evening
    assert release_deadline(date(2026, 11, 8), known_at=known) == utc(2026, 11, 9, 10)


@pytest.mark.parametrize("days", [-1, 21, 2.5, True])
def test_policy_refuses_invalid_release_days_before(days: object) -> None:
    with pytest.raises(ValueError, match="release_days_before"):
        DeadlinePolicy(release_days_before=days)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None, database=None)
@given(received_at=_instants, offset=st.integers(min_value=-5, max_value=90),
       working_days=st.integers(min_value=0, max_value=20),
       before=st.integers(min_value=0, max_value=20), urgent=st.booleans())
def test_property_release_date_only_brings_contact_forward(
    received_at: datetime, offset: int, working_days: int, before: int, urgent: bool
) -> None:
    policy = DeadlinePolicy(working_days=working_days, release_days_before=before)
    release = received_at.astimezone(LONDON).date() + timedelta(days=offset)
    usual = contact_due_by(received_at, urgent=urgent, policy=policy)
    due = contact_due_by(received_at, urgent=urgent, policy=policy,
                         release_or_discharge_date=release)
    soonest = contact_due_by(received_at, urgent=True, policy=policy)
    assert soonest <= due <= usual
    assert is_working_day(due.astimezone(LONDON).date())
    # Not after the date itself, unless no deadline before it could still be met.
    on_the_day = clock.london_to_utc(release, policy.due_time)
    assert due <= on_the_day or due == soonest
