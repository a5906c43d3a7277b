"""APPLICANT_QUIET_HOURS: an operator may move the quiet hours, never switch them off."""
from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from flask import Flask

from notifications.quiet_hours import in_quiet_hours, next_send_time
from referral_service import config
from referral_service.clock import LONDON


def london(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON)  # type: ignore[misc]


def settings(value: str | None) -> dict[str, object]:
    env = {"APPLICANT_QUIET_HOURS": value} if value is not None else {}
    return config.load(config.DEFAULT_INSTANCE_PATH, {"SECRET_KEY": "x", **env})


@pytest.mark.parametrize(("value", "expected"), [
    pytest.param(None, None, id="unset"),
    pytest.param("", None, id="empty"),
    pytest.param("20:00-09:00", (time(20, 0), time(9, 0)), id="across-midnight"),
    pytest.param(" 13:00 - 14:30 ", (time(13, 0), time(14, 30)), id="within-a-day"),
])
def test_the_setting_is_read(value: str | None, expected: object) -> None:
    assert settings(value)["APPLICANT_QUIET_HOURS"] == expected


@pytest.mark.parametrize("value", ["off", "21:00", "21-08", "25:00-08:00", "21:00-08:60",
                                   "9:00-17:00", "08:00-08:00", "21:00-08:00-09:00"])
def test_a_bad_setting_stops_the_start_naming_it(value: str) -> None:
    with pytest.raises(RuntimeError, match="APPLICANT_QUIET_HOURS"):
        settings(value)


def app_with(value: str | None) -> Flask:
    app = Flask(__name__)
    app.config["APPLICANT_QUIET_HOURS"] = settings(value)["APPLICANT_QUIET_HOURS"]
    return app


@pytest.mark.parametrize(("at", "expected"), [
    pytest.param(london(2026, 12, 5, 12, 59), False, id="before"),
    pytest.param(london(2026, 12, 5, 13, 0), True, id="start"),
    pytest.param(london(2026, 12, 5, 13, 59), True, id="inside"),
    pytest.param(london(2026, 12, 5, 14, 0), False, id="end"),
    pytest.param(london(2026, 12, 5, 22, 0), False, id="default-hours-no-longer-quiet"),
])
def test_hours_within_a_day(at: datetime, expected: bool) -> None:
    with app_with("13:00-14:00").app_context():
        assert in_quiet_hours(at) is expected
        sent = next_send_time(at)
        assert not in_quiet_hours(sent)
        assert sent == (london(2026, 12, 5, 14, 0) if expected else at).astimezone(UTC)


def test_hours_across_midnight_end_the_next_morning() -> None:
    with app_with("20:00-09:00").app_context():
        assert in_quiet_hours(london(2026, 12, 5, 20, 30))
        assert next_send_time(london(2026, 12, 5, 20, 30)) == london(2026, 12, 6, 9, 0)
        assert next_send_time(london(2026, 12, 6, 8, 30)) == london(2026, 12, 6, 9, 0)
        assert not in_quiet_hours(london(2026, 12, 6, 9, 0))


def test_unset_in_an_app_keeps_the_default() -> None:
    with app_with(None).app_context():
        assert in_quiet_hours(london(2026, 12, 5, 21, 0))
        assert next_send_time(london(2026, 12, 5, 22, 0)) == london(2026, 12, 6, 8, 0)
