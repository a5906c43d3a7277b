"""``GET /metrics``: who may scrape it, what it counts (committed work only), the gauges read
from the database, and the sum across gunicorn worker processes (multiprocess mode)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from notifications import due_reminders
from referral_service.extensions import db
from referral_service.models import (
    Audience,
    Channel,
    MessageStatus,
    OutboxMessage,
    ReferralStatus,
)
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
# A Monday in winter (London = UTC), in working hours, after the factory's consent date.
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client, **kwargs) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:  # type: ignore[no-untyped-def]
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for s in family.samples}


@pytest.fixture
def token(app: Flask) -> Iterator[str]:
    app.config["METRICS_TOKEN"] = "s3cret-metrics-token"
    yield "s3cret-metrics-token"
    app.config["METRICS_TOKEN"] = None


def test_without_a_token_only_this_machine_may_scrape(client) -> None:  # type: ignore[no-untyped-def]
    local = client.get("/metrics")
    assert local.status_code == 200
    assert local.headers["Content-Type"].startswith("text/plain; version=")
    elsewhere = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert elsewhere.status_code == 403
    assert elsewhere.mimetype == "application/problem+json"
    # A request relayed by a reverse proxy on this machine is not "this machine".
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403


def test_with_a_token_every_scrape_needs_it(client, token: str) -> None:  # type: ignore[no-untyped-def]
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
        assert refused.mimetype == "application/problem+json"
    allowed = client.get("/metrics", headers={"Authorization": f"Bearer {token}"},
                         environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert allowed.status_code == 200


def test_committed_referrals_and_transitions_are_counted(client, db_session) -> None:  # type: ignore[no-untyped-def]
    at = factories.authority()
    factories.officer(at)
    org = factories.organisation()
    db.session.commit()
    received, assigned = sample("referrals_received_total"), sample(
        "referral_transitions_total", to_status="assigned")
    factories.referral(org)
    db.session.commit()
    assert sample("referrals_received_total") == received + 1
    assert sample("referral_transitions_total", to_status="assigned") == assigned + 1
    # Rolled back: never counted.
    factories.referral(org)
    db.session.rollback()
    assert sample("referrals_received_total") == received + 1


def test_messages_written_with_a_received_referral_are_counted(client, db_session) -> None:  # type: ignore[no-untyped-def]
    """Intake writes its outbox rows in one statement (rowbatch), outside the unit of
    work: they are counted all the same, once committed."""
    at = factories.authority()
    factories.officer(at)
    org = factories.organisation()
    db.session.commit()
    before = {channel: sample("outbox_messages_total", channel=channel.value, status="queued")
              for channel in Channel}
    referral = factories.referral(org, authority_code=at.code)
    db.session.commit()
    written = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.referral_id == referral.id)).all()
    assert written, "the fixture's referral should cause messages"
    for channel in Channel:
        expected = sum(1 for m in written if m.channel is channel
                       and m.status is MessageStatus.QUEUED)
        assert sample("outbox_messages_total", channel=channel.value,
                      status="queued") == before[channel] + expected


def test_messages_are_counted_by_the_status_they_reach(client, db_session) -> None:  # type: ignore[no-untyped-def]
    org = factories.organisation()
    referral = factories.referral(org, authority_code=factories.authority().code)
    db.session.commit()
    queued = sample("outbox_messages_total", channel="sms", status="queued")
    sent = sample("outbox_messages_total", channel="sms", status="sent")
    message = OutboxMessage(referral_id=referral.id, channel=Channel.SMS,
                            audience=Audience.APPLICANT, event="test", template="test",
                            to_address="+447700900123", body="Hello.")
    db.session.add(message)
    db.session.commit()
    message.status = MessageStatus.SENT
    db.session.commit()
    assert sample("outbox_messages_total", channel="sms", status="queued") == queued + 1
    assert sample("outbox_messages_total", channel="sms", status="sent") == sent + 1


def test_a_deadline_passing_without_an_attempt_is_a_breach(client, db_session) -> None:  # type: ignore[no-untyped-def]
    at = factories.authority()
    officer = factories.officer(at)
    org = factories.organisation()
    with time_machine.travel(MONDAY, tick=False):
        waiting = factories.referral(org)
        attempted = factories.referral(org)
        db.session.commit()
    from referral_service.domain import casework
    from referral_service.models import ContactAttemptResult, ContactChannel

    with time_machine.travel(MONDAY + timedelta(hours=1), tick=False):
        casework.accept(attempted, officer)
        casework.record_contact_attempt(attempted, officer, channel=ContactChannel.PHONE,
                                        result=ContactAttemptResult.NO_ANSWER)
        db.session.commit()
    assert waiting.status is ReferralStatus.ASSIGNED
    breaches = sample("referral_deadline_breaches_total")
    # Due Wednesday 2 December 17:00; the scheduler runs at 17:01.
    with time_machine.travel(datetime(2026, 12, 2, 17, 1, tzinfo=UTC), tick=False):
        due_reminders.process_due()
        db.session.commit()
        gauges = scrape(client)
    assert sample("referral_deadline_breaches_total") == breaches + 1
    assert gauges[("referrals_overdue", (("authority", at.code),))] == 1
    assert gauges[("referrals_open", (("authority", at.code), ("status", "assigned")))] == 1
    assert gauges[("referrals_open",
                   (("authority", at.code), ("status", "contact_attempted")))] == 1


def test_queue_lag_is_the_age_of_the_oldest_due_queued_message(client, db_session) -> None:  # type: ignore[no-untyped-def]
    org = factories.organisation()
    referral = factories.referral(org, authority_code=factories.authority().code)
    db.session.flush()
    # Whatever intake queued is due at once; these two say which is oldest and not yet due.
    db.session.execute(OutboxMessage.__table__.update().values(status=MessageStatus.SENT))
    now = datetime(2026, 1, 13, 12, 0, tzinfo=UTC)
    for not_before in (now - timedelta(seconds=90), now + timedelta(hours=1)):
        db.session.add(OutboxMessage(referral_id=referral.id, channel=Channel.EMAIL,
                                     audience=Audience.REFERRER, event="test", template="test",
                                     to_address="sam.patel@probation.example", body="Hi.",
                                     not_before=not_before))
    db.session.commit()
    with time_machine.travel(now, tick=False):
        gauges = scrape(client)
    assert gauges[("outbox_queue_lag_seconds", ())] == 90.0
    assert gauges[("outbox_messages_waiting", (("channel", "email"), ("status", "queued")))] == 2


def test_request_latency_is_observed_per_endpoint(client) -> None:  # type: ignore[no-untyped-def]
    before = sample("http_request_duration_seconds_count", endpoint="ops.healthz", method="GET")
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page")
    assert sample("http_request_duration_seconds_count", endpoint="ops.healthz",
                  method="GET") == before + 2
    assert sample("http_request_duration_seconds_count", endpoint="unmatched",
                  method="GET") >= 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gunicorn_workers_are_summed(fresh_app: Flask, tmp_path: Path) -> None:
    """Two worker processes share the requests; every scrape, from whichever worker, counts
    them all."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": fresh_app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": "test", "METRICS_TOKEN": "t", "LOG_LEVEL": "WARNING",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"), "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(  # noqa: S603 (our own server, fixed arguments)
        [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}",
         "-c", "python:referral_service.gunicorn_conf", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        # Wait for the port, retrying only a refused connection (never counted). A probe that
        # timed out would still be counted by the server later, one more than the test expects
        # (seen under load): so a probe is waited for, not abandoned.
        for _ in range(300):
            try:
                httpx.get(f"{base}/healthz", timeout=120)
                break
            except httpx.ConnectError:
                time.sleep(0.1)

        def healthz(_: int) -> int:
            # A new connection each time, eight at once: a busy sync worker leaves the next
            # connection to the other one, so both workers serve.
            return httpx.get(f"{base}/healthz", headers={"Connection": "close"},
                             timeout=120).status_code

        # Bursts until both workers have served (the second may still be importing the app
        # when the first burst ends: each writes its file with its first request).
        statuses: set[int] = set()
        bursts = 0
        while bursts < 20 and len(list((tmp_path / "prometheus").glob("histogram_*.db"))) < 2:
            with ThreadPoolExecutor(max_workers=8) as pool:
                statuses |= set(pool.map(healthz, range(80)))
            bursts += 1
        counts = []
        for _ in range(6):
            text = httpx.get(f"{base}/metrics", timeout=10, headers={
                "Authorization": "Bearer t", "Connection": "close"}).text
            counts.append(next(
                s.value for f in text_string_to_metric_families(text) for s in f.samples
                if s.name == "http_request_duration_seconds_count"
                and s.labels == {"endpoint": "ops.healthz", "method": "GET"}))
        assert statuses == {200}
        assert counts == [1.0 + 80 * bursts] * 6
        # Both workers wrote their own file, and the scrapes summed them.
        assert len(list((tmp_path / "prometheus").glob("histogram_*.db"))) == 2
    finally:
        server.terminate()
        server.wait(timeout=30)
