"""A worker killed mid-batch, and its broker's memory wiped: no SMS is sent twice, none is lost
without trace.

500 queued SMS in a fresh PostgreSQL database; a real ``referrals worker`` subprocess on Redis
sends them through the real twilio client to a fake Twilio HTTP server. When about 100 have
arrived, the worker gets SIGKILL (no clean shutdown: rows it had claimed stay in ``sending``) and
Redis is flushed (every enqueued message is gone). A new worker and scheduler ticks must then
finish the job from the database alone: the stuck rows are settled by the reconciler (time moved
past ``STUCK_AFTER``), everything else is enqueued again and sent.

The worker claims and sends batches (``dispatch.BATCH_SIZE`` rows per actor message), so the
kill leaves up to a batch per worker thread in ``sending``: some had reached Twilio, some not.
The reconciler asks Twilio's message list (``TwilioSmsSender.find_sent``, served by the fake) for
each: one that arrived is recorded as sent with its sid, one that did not is queued again. So the
fake ends with every message exactly once, and none is left "unknown".
"""
from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select

from notifications import scheduler
from referral_service import clock
from referral_service.extensions import db
from referral_service.models import Audience, Channel, MessageStatus, OutboxMessage
from tests.fakes.twilio import FakeTwilio, fake_twilio  # noqa: F401 - the fixture
from tests.worker_processes import StartWorker, poll, worker_processes

pytestmark = [pytest.mark.redis, pytest.mark.postgres_only]

MESSAGES = 500
KILL_AFTER = 100
FROM_NUMBER = "+447700900999"


@pytest.fixture
def start_worker(redis_app: Flask, fake_twilio: FakeTwilio,  # noqa: F811
                 tmp_path: Path) -> Iterator[StartWorker]:
    """``referrals worker`` in a process of its own, configured only through its environment."""
    with worker_processes({
        "DATABASE_URL": redis_app.config["SQLALCHEMY_DATABASE_URI"],
        "BROKER_URL": redis_app.config["BROKER_URL"],
        "SECRET_KEY": "crash-test", "LOG_LEVEL": "WARNING",
        "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
        "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
        "TWILIO_FROM": FROM_NUMBER, "TWILIO_API_BASE_URL": fake_twilio.url,
        "DEV_OUTBOX": "on",  # email (not tested here) stays in the development outbox
    }, tmp_path) as start:
        yield start


def test_a_killed_worker_never_sends_an_sms_twice(
        redis_app: Flask, fake_twilio: FakeTwilio,  # noqa: F811
        start_worker: StartWorker, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    started_at = time.monotonic()
    # The scheduler (this process) asks the same Twilio the worker sends to.
    redis_app.config.update(TWILIO_ACCOUNT_SID=fake_twilio.account_sid,
                            TWILIO_AUTH_TOKEN=fake_twilio.auth_token, TWILIO_FROM=FROM_NUMBER,
                            TWILIO_API_BASE_URL=fake_twilio.url)
    with redis_app.app_context():
        db.session.add_all(OutboxMessage(
            channel=Channel.SMS, audience=Audience.APPLICANT, event="crash_test",
            template="crash_test", to_address=f"+447700900{n:03d}", body=f"Crash test {n:03d}",
            not_before=clock.now() - timedelta(seconds=1)) for n in range(MESSAGES))
        db.session.commit()

    def count(*statuses: MessageStatus) -> int:
        with redis_app.app_context():
            return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status.in_(statuses))) or 0

    # 1. One worker, one tick: all 500 enqueued; kill the worker when ~100 have gone out.
    first = start_worker("worker-1")
    with redis_app.app_context():
        assert scheduler.tick()["enqueued"] == MESSAGES
    assert poll(lambda: len(fake_twilio.messages) >= KILL_AFTER, seconds=30, interval=0.002), \
        (tmp_path / "worker-1.log").read_text()[-2000:]
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    arrived_before_kill = len(fake_twilio.messages)
    stuck_after_kill = count(MessageStatus.SENDING)

    # 2. The broker forgets everything.
    with redis.Redis.from_url(redis_app.config["BROKER_URL"]) as connection:
        connection.flushdb()

    # 3. A tick as if STUCK_AFTER had passed settles the stuck rows (no worker is running, so
    # nothing in `sending` is in anyone's hands) from Twilio's own list, and enqueues the rest.
    with redis_app.app_context():
        reconciled = scheduler.tick(clock.now() + scheduler.STUCK_AFTER + timedelta(minutes=1))
    assert stuck_after_kill > 0, "the kill came after the last claim: nothing was tested"
    assert reconciled["stuck_unknown"] == 0
    assert reconciled["stuck_sent"] + reconciled["stuck_requeued"] == stuck_after_kill
    assert count(MessageStatus.SENDING) == 0
    lookups = [r for r in fake_twilio.requests if r.method == "GET"]
    assert len(lookups) == stuck_after_kill and all(r.form["To"] for r in lookups)

    # 4. A new worker; a tick every two seconds until nothing is queued or in hand.
    second = start_worker("worker-2")
    ticks = 0
    while True:
        assert ticks < 20, (tmp_path / "worker-2.log").read_text()[-2000:]
        with redis_app.app_context():
            scheduler.tick()
        ticks += 1
        if poll(lambda: count(MessageStatus.QUEUED, MessageStatus.SENDING) == 0, seconds=2):
            break

    # 5. Each message reached Twilio exactly once, and its row holds that message's sid.
    received = Counter(message["Body"] for message in fake_twilio.messages)
    sids = {message["Body"]: message["sid"] for message in fake_twilio.messages}
    assert max(received.values()) == 1, [body for body, n in received.items() if n > 1]
    assert len(received) == MESSAGES
    with redis_app.app_context():
        rows = db.session.scalars(select(OutboxMessage)).all()
    assert {row.status for row in rows} == {MessageStatus.SENT}
    for row in rows:
        assert row.provider_id == sids[row.body]

    # 6. The second worker stops cleanly on SIGTERM.
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=30) == 0
    assert "Worker stopped." in (tmp_path / "worker-2.log").read_text()

    with capsys.disabled():
        print(f"\ncrash test: {MESSAGES} SMS; {arrived_before_kill} at Twilio when the worker "
              f"was killed; {stuck_after_kill} left in `sending`: {reconciled['stuck_sent']} "
              f"found at Twilio and recorded, {reconciled['stuck_requeued']} not there and sent "
              f"again; all {MESSAGES} received exactly once, 0 unknown; {ticks} tick(s) after "
              f"the restart; {time.monotonic() - started_at:.1f} s")
