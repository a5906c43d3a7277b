"""London days, written and turned into instants one way for the whole service (``clock``)."""
from __future__ import annotations

from datetime import UTC, date, datetime

from referral_service import clock
from referral_service.web import labels


def test_a_day_is_written_as_gov_uk_writes_it_on_pages_and_in_refusals() -> None:
    assert clock.long_date(date(2027, 1, 1)) == "1 January 2027"
    assert labels.london_date(date(2027, 1, 1)) == "1 January 2027"
    # A stored instant is shown as the London day it fell on (23:30 UTC in summer is tomorrow).
    assert labels.london_date(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "1 July 2026"
    assert labels.london_datetime(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == (
        "1 July 2026 at 12:30am")
    assert labels.london_date(None) == ""


def test_a_london_day_becomes_the_right_utc_instant_either_side_of_the_clock_changes() -> None:
    from datetime import time

    assert clock.london_to_utc(date(2026, 1, 15)) == datetime(2026, 1, 15, 0, 0, tzinfo=UTC)
    assert clock.london_to_utc(date(2026, 7, 15)) == datetime(2026, 7, 14, 23, 0, tzinfo=UTC)
    # The last Sunday of March (clocks go forward at 01:00) and of October (back at 02:00).
    assert clock.london_to_utc(date(2026, 3, 29), time(9)) == datetime(
        2026, 3, 29, 8, 0, tzinfo=UTC)
    assert clock.london_to_utc(date(2026, 10, 25), time(9)) == datetime(
        2026, 10, 25, 9, 0, tzinfo=UTC)
