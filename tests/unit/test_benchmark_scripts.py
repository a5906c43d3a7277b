"""The intake benchmark's scripts load, read their options and stay referral-shaped. Nothing
here measures anything: the benchmarks themselves are not part of the test run."""
from __future__ import annotations

import importlib
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from flask import Flask

from notifications.quiet_hours import in_quiet_hours
from referral_service import config
from referral_service.clock import LONDON
from referral_service.models import AuditEvent, Consent, Referral
from referral_service.models.events import DomainEvent

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def benchmark_module(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.setenv("DATABASE_URL", "sqlite://")

    def load(name: str) -> ModuleType:
        sys.modules.pop(name, None)
        return importlib.import_module(name)

    yield load
    for name in ("referral_ceiling", "text_latency"):
        sys.modules.pop(name, None)


def test_the_runner_parses() -> None:
    subprocess.run(["bash", "-n", str(BENCHMARKS / "run")], check=True)  # noqa: S603,S607


def test_text_latency_options(benchmark_module) -> None:  # type: ignore[no-untyped-def]
    args = benchmark_module("text_latency").arguments(
        ["--rate", "50", "--seconds", "60", "--redis-url", "redis://127.0.0.1:6379/11"])
    assert (args.rate, args.seconds, args.scheduler_interval) == (50, 60, 60)


@pytest.mark.parametrize("hour", range(24))
def test_the_run_never_falls_in_quiet_hours_which_stay_on(benchmark_module, hour: int) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 12, 5, hour, 30, tzinfo=LONDON)
    window = benchmark_module("text_latency").quiet_hours_for(now)
    app = Flask(__name__)
    app.config["APPLICANT_QUIET_HOURS"] = config.load(
        config.DEFAULT_INSTANCE_PATH,
        {"SECRET_KEY": "x", **({"APPLICANT_QUIET_HOURS": window} if window else {})},
    )["APPLICANT_QUIET_HOURS"]
    with app.app_context():
        assert not any(in_quiet_hours(now + timedelta(minutes=m)) for m in range(0, 121, 5))
        assert any(in_quiet_hours(now + timedelta(hours=h)) for h in range(24))


def test_the_ceiling_writes_every_column_intake_writes(benchmark_module) -> None:  # type: ignore[no-untyped-def]
    """If the referral or audit tables gain a column, the ceiling must write it too (or it is no
    longer the same row): this fails until referral_ceiling.py is brought up to date."""
    ceiling = benchmark_module("referral_ceiling")
    people = benchmark_module("people")
    ceiling._ids.update(authority="a", organisation="o")
    now = datetime(2026, 12, 5, 12, tzinfo=LONDON)
    row = ceiling.referral_row(people.referral_body(1), now, "officer")
    assert set(row) == {column.name for column in Referral.__table__.columns}
    assert row["person_phone"].startswith("+447")
    for audit_row in ceiling.audit_rows(row, now, "officer"):
        assert set(audit_row) == {column.name for column in AuditEvent.__table__.columns}
    body = people.referral_body(1)
    assert set(ceiling.consent_row(row, body, now)) == {
        column.name for column in Consent.__table__.columns}
    assert {"id", "type", "referral_id", "occurred_at", "data"} <= {
        column.name for column in DomainEvent.__table__.columns}
