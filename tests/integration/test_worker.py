"""The message worker and the scheduler, run for real: dramatiq's StubBroker with a real Worker in
this process (the embedded default) and, when ``TEST_REDIS_URL`` is set, a RedisBroker.

Messages are outbox rows committed to a database of the test's own (``fresh_app``), sent through
the real senders the settings choose (here the development outbox, which marks them delivered).
Nothing sleeps: a StubBroker is joined; with Redis the row's status is polled with a deadline.
"""
from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import dramatiq
import pytest
import sqlalchemy as sa
import time_machine
from dramatiq.brokers.stub import StubBroker
from flask import Flask, current_app, has_app_context

from integrations.ports import Accepted, DeliveryStatus, StatusEvent
from notifications import actors, runtime, scheduler
from notifications.broker import AppContext, broker_ready, get_broker
from referral_service import clock
from referral_service.app import create_app
from referral_service.extensions import db
from referral_service.models import Audience, Channel, MessageStatus, OutboxMessage
from tests.fakes.smtp import closed_port
from tests.fakes.twilio import FakeTwilio, fake_twilio  # noqa: F401 - the fixture
from tests.support_live import serve_command_environment

PROVIDER_SETTINGS = ("BROKER_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM",
                     "TWILIO_MESSAGING_SERVICE_SID", "TWILIO_API_BASE_URL", "SMTP_HOST",
                     "MAIL_FROM", "APP_ENV", "DEV_OUTBOX")
DEADLINE_SECONDS = 20


@pytest.fixture(autouse=True)
def _embedded_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded default whatever the outer environment says: StubBroker, development outbox."""
    for name in PROVIDER_SETTINGS:
        monkeypatch.delenv(name, raising=False)


def outbox_message(channel: Channel = Channel.SMS, **values: Any) -> OutboxMessage:
    """A queued message, added to the session (the caller commits)."""
    defaults: dict[str, Any] = {
        "channel": channel, "audience": Audience.APPLICANT, "event": "referral_received",
        "template": "referral_received",
        "to_address": "+447700900123" if channel is Channel.SMS else "aoife@example.org",
        "subject": None if channel is Channel.SMS else "Your referral",
        "body": f"Test message {uuid.uuid4().hex[:8]}", "status": MessageStatus.QUEUED,
        "not_before": clock.now() - timedelta(seconds=1)}
    message = OutboxMessage(**{**defaults, **values})
    db.session.add(message)
    return message


def reload(app: Flask, message_id: uuid.UUID) -> OutboxMessage:
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert message is not None
        db.session.expunge(message)
        return message


def create_messages(app: Flask, count: int = 1, **values: Any) -> list[uuid.UUID]:
    with app.app_context():
        messages = [outbox_message(**values) for _ in range(count)]
        db.session.commit()
        return [message.id for message in messages]


def dev_outbox_sends(caplog: pytest.LogCaptureFixture, message_id: uuid.UUID) -> int:
    """How many times the development outbox sender was handed this message."""
    return sum(1 for record in caplog.records
               if record.name == "integrations.dev_outbox" and str(message_id) in record.message)


def wait_for(condition: Callable[[], bool], seconds: float = DEADLINE_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {seconds} s")
        time.sleep(0.02)


@pytest.fixture
def worker(fresh_app: Flask) -> Iterator[Callable[[], dramatiq.Worker]]:
    """Start a real dramatiq Worker (two threads) on ``fresh_app``'s StubBroker; stopped after."""
    started: list[dramatiq.Worker] = []

    def start() -> dramatiq.Worker:
        running = dramatiq.Worker(get_broker(fresh_app), worker_threads=2, worker_timeout=50)
        running.start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop(timeout=10_000)


def drain(app: Flask) -> None:
    broker = get_broker(app)
    assert isinstance(broker, StubBroker)
    broker.join("messages", timeout=DEADLINE_SECONDS * 1000)


# --- the embedded broker ------------------------------------------------------------------------

def test_the_embedded_broker_is_a_stub_broker(fresh_app: Flask) -> None:
    assert fresh_app.config["BROKER_URL"] == "embedded"
    broker = get_broker(fresh_app)
    assert isinstance(broker, StubBroker)
    assert dramatiq.get_broker() is broker
    assert "send_outbox_message" in broker.actors
    assert any(isinstance(m, AppContext) for m in broker.middleware)


def test_a_queued_message_is_sent_once_even_if_enqueued_five_times(
        fresh_app: Flask, worker: Callable[[], dramatiq.Worker],
        caplog: pytest.LogCaptureFixture) -> None:
    # (One level for both: caplog's handler takes the level of the last call.)
    caplog.set_level(logging.DEBUG, logger="integrations.dev_outbox")
    caplog.set_level(logging.DEBUG, logger="notifications.actors")
    [message_id] = create_messages(fresh_app)
    with fresh_app.app_context():
        for _ in range(5):  # five actor messages (one batch would hold the id once)
            assert actors.enqueue([message_id]) == 1
    worker()
    drain(fresh_app)

    message = reload(fresh_app, message_id)
    assert message.status is MessageStatus.DELIVERED
    assert message.provider_id == f"dev-{message_id}"
    assert message.attempts == 1 and message.sent_at is not None
    assert dev_outbox_sends(caplog, message_id) == 1
    # The other four ran and found the row already claimed.
    assert sum("not claimed" in r.message for r in caplog.records
               if r.name == "notifications.actors") == 4


def test_enqueue_hands_over_batches_of_ids(fresh_app: Flask,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from notifications import dispatch

    monkeypatch.setattr(dispatch, "BATCH_SIZE", 2)
    ids = [str(i) for i in create_messages(fresh_app, count=5)]
    broker = get_broker(fresh_app)
    assert isinstance(broker, StubBroker)
    with fresh_app.app_context():
        assert actors.enqueue(ids) == 5
    queued = [dramatiq.Message.decode(item) for item in list(broker.queues["messages"].queue)]
    assert [m.args for m in queued] == [(ids[0:2],), (ids[2:4],), (ids[4:],)]
    broker.flush_all()


def test_a_message_enqueued_before_batches_is_still_sent(
        fresh_app: Flask, worker: Callable[[], dramatiq.Worker]) -> None:
    """An actor message of the one-id kind, left in a broker's queue across an upgrade."""
    [message_id] = create_messages(fresh_app)
    actors.send_outbox_message.send(str(message_id))
    worker()
    drain(fresh_app)
    assert reload(fresh_app, message_id).status is MessageStatus.DELIVERED


def test_an_email_is_sent_by_the_worker(fresh_app: Flask,
                                        worker: Callable[[], dramatiq.Worker]) -> None:
    [message_id] = create_messages(fresh_app, channel=Channel.EMAIL)
    worker()
    with fresh_app.app_context():
        assert actors.enqueue([message_id]) == 1
    drain(fresh_app)
    assert reload(fresh_app, message_id).status is MessageStatus.DELIVERED


def test_an_sms_goes_through_twilio_with_the_status_callback(
        fresh_app: Flask, fake_twilio: FakeTwilio) -> None:  # noqa: F811
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test", "PUBLIC_BASE_URL": "https://dtr.example/",
        "SQLALCHEMY_DATABASE_URI": fresh_app.config["SQLALCHEMY_DATABASE_URI"],
        "TWILIO_ACCOUNT_SID": fake_twilio.account_sid, "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
        "TWILIO_FROM": "+447700900001", "TWILIO_API_BASE_URL": fake_twilio.url,
        "DEV_OUTBOX_ENABLED": True})
    [message_id] = create_messages(app)
    running = dramatiq.Worker(get_broker(app), worker_threads=2, worker_timeout=50)
    running.start()
    try:
        with app.app_context():
            assert actors.enqueue([message_id, message_id]) == 2
        drain(app)
    finally:
        running.stop(timeout=10_000)
        with app.app_context():
            db.engine.dispose()
    [sent] = fake_twilio.messages
    assert sent["StatusCallback"] == (
        f"https://dtr.example/webhooks/twilio/status?message={message_id}")
    message = reload(fresh_app, message_id)
    assert (message.status, message.provider_id) == (MessageStatus.SENT, sent["sid"])


def test_tick_enqueues_due_messages_and_leaves_later_ones(
        fresh_app: Flask, worker: Callable[[], dramatiq.Worker]) -> None:
    now = clock.now()
    [due] = create_messages(fresh_app, not_before=now - timedelta(minutes=1))
    [later] = create_messages(fresh_app, not_before=now + timedelta(hours=1))
    [gone] = create_messages(fresh_app, status=MessageStatus.SENT)
    broker = get_broker(fresh_app)
    assert isinstance(broker, StubBroker)

    with fresh_app.app_context():
        counts = scheduler.tick(now)
    assert counts["due"] == 1 and counts["enqueued"] == 1
    queued = [dramatiq.Message.decode(item) for item in list(broker.queues["messages"].queue)]
    assert [m.args for m in queued] == [([str(due)],)]

    worker()
    drain(fresh_app)
    assert reload(fresh_app, due).status is MessageStatus.DELIVERED
    assert reload(fresh_app, later).status is MessageStatus.QUEUED
    assert reload(fresh_app, gone).status is MessageStatus.SENT

    # An hour on (for the worker's claim too: the clock moves in every thread), it goes.
    with time_machine.travel(now + timedelta(hours=1, minutes=1), tick=True):
        with fresh_app.app_context():
            counts = scheduler.tick()
        assert counts["due"] == 1 and counts["enqueued"] == 1
        drain(fresh_app)
    assert reload(fresh_app, later).status is MessageStatus.DELIVERED


@pytest.mark.postgres_only
def test_two_schedulers_share_the_due_rows_on_postgresql(fresh_app: Flask) -> None:
    """Rows another scheduler has locked (mid-tick) are skipped, not waited for."""
    [locked] = create_messages(fresh_app)
    [free] = create_messages(fresh_app)
    broker = get_broker(fresh_app)
    assert isinstance(broker, StubBroker)
    with fresh_app.app_context(), db.engine.connect() as other:
        transaction = other.begin()
        other.execute(sa.select(OutboxMessage.id).where(OutboxMessage.id == locked)
                      .with_for_update())
        results: list[dict[str, int]] = []

        def tick() -> None:
            with fresh_app.app_context():
                results.append(scheduler.tick())

        ticking = threading.Thread(target=tick)
        ticking.start()
        ticking.join(DEADLINE_SECONDS)
        finished = not ticking.is_alive()
        transaction.rollback()  # let a blocked tick go, whatever happened
        ticking.join(DEADLINE_SECONDS)
    assert finished, "the tick waited for the other scheduler's lock"
    assert results[0]["due"] == 1
    queued = [dramatiq.Message.decode(item) for item in list(broker.queues["messages"].queue)]
    assert [m.args for m in queued] == [([str(free)],)]


def test_tick_takes_at_most_one_batch(fresh_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler, "BATCH", 3)
    create_messages(fresh_app, count=5)
    with fresh_app.app_context():
        assert scheduler.tick()["enqueued"] == 3


def test_a_broker_outage_loses_nothing(fresh_app: Flask, tmp_path: Path,
                                       worker: Callable[[], dramatiq.Worker]) -> None:
    """The enqueue fails (Redis on a closed port), the row stays queued, the next tick (with
    the broker back) enqueues it."""
    [message_id] = create_messages(fresh_app)
    down = create_app({"TESTING": True, "SECRET_KEY": "test",
                       "SQLALCHEMY_DATABASE_URI": fresh_app.config["SQLALCHEMY_DATABASE_URI"],
                       "BROKER_URL": "redis://127.0.0.1:9/0", "DEV_OUTBOX_ENABLED": True})
    try:
        with down.app_context():
            counts = scheduler.tick()
        assert counts["due"] == 1 and counts["enqueued"] == 0
    finally:
        with down.app_context():
            db.engine.dispose()
    assert reload(fresh_app, message_id).status is MessageStatus.QUEUED

    worker()
    with fresh_app.app_context():
        assert scheduler.tick()["enqueued"] == 1
    drain(fresh_app)
    assert reload(fresh_app, message_id).status is MessageStatus.DELIVERED


# --- reconciling rows stuck in `sending` --------------------------------------------------------

def test_a_stuck_sms_is_marked_unknown_and_never_resent(
        fresh_app: Flask, worker: Callable[[], dramatiq.Worker],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="integrations.dev_outbox")
    now = clock.now()
    [stuck] = create_messages(fresh_app, status=MessageStatus.SENDING, attempts=1,
                              claimed_at=now - scheduler.STUCK_AFTER - timedelta(seconds=1))
    [recent] = create_messages(fresh_app, status=MessageStatus.SENDING, attempts=1,
                               claimed_at=now - scheduler.STUCK_AFTER + timedelta(minutes=1))
    with fresh_app.app_context():
        counts = scheduler.tick(now)
    assert counts["stuck_unknown"] == 1 and counts["stuck_requeued"] == 0
    message = reload(fresh_app, stuck)
    assert message.status is MessageStatus.FAILED
    assert message.status_reason == scheduler.UNKNOWN_DELIVERY
    assert "check the provider before sending again" in message.status_reason
    assert reload(fresh_app, recent).status is MessageStatus.SENDING  # not stuck yet

    # Enqueued again by hand and ticked again: still never sent.
    worker()
    with fresh_app.app_context():
        actors.enqueue([stuck])
        scheduler.tick(now)
    drain(fresh_app)
    assert reload(fresh_app, stuck).status is MessageStatus.FAILED
    assert dev_outbox_sends(caplog, stuck) == 0


def test_a_stuck_email_is_requeued_and_sent(fresh_app: Flask,
                                            worker: Callable[[], dramatiq.Worker]) -> None:
    [stuck] = create_messages(fresh_app, channel=Channel.EMAIL, status=MessageStatus.SENDING,
                              attempts=1, claimed_at=clock.now() - timedelta(minutes=11))
    worker()
    with fresh_app.app_context():
        # "now" after the row exists: its not_before (a second before creation) must be due
        # even when a loaded machine takes a while to get here.
        counts = scheduler.tick(clock.now())
    assert counts["stuck_requeued"] == 1 and counts["enqueued"] == 1
    drain(fresh_app)
    message = reload(fresh_app, stuck)
    assert message.status is MessageStatus.DELIVERED and message.attempts == 2


def test_a_stuck_email_that_keeps_stopping_workers_is_given_up(fresh_app: Flask) -> None:
    [stuck] = create_messages(fresh_app, channel=Channel.EMAIL, status=MessageStatus.SENDING,
                              attempts=6, claimed_at=clock.now() - timedelta(minutes=11))
    with fresh_app.app_context():
        assert scheduler.tick()["stuck_gave_up"] == 1
    message = reload(fresh_app, stuck)
    assert message.status is MessageStatus.FAILED
    assert message.status_reason == "Gave up after 6 tries: a worker stopped each time."


class _LookupSender:
    """An SMS sender that can say what it sent (as Twilio's message list can)."""

    def __init__(self, sent: dict[str, StatusEvent]) -> None:
        self.sent = sent

    def send_sms(self, message: Any) -> Accepted:
        raise AssertionError("the reconciler must not send")

    def find_sent(self, to: str, body: str, since: Any) -> list[StatusEvent] | None:
        assert since is not None
        return [self.sent[body]] if body in self.sent else []


def test_a_stuck_sms_is_settled_by_the_providers_lookup_when_there_is_one(
        fresh_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    claimed = clock.now() - timedelta(minutes=11)
    [was_sent] = create_messages(fresh_app, status=MessageStatus.SENDING, attempts=1,
                                 claimed_at=claimed, body="went out")
    [never_sent] = create_messages(fresh_app, status=MessageStatus.SENDING, attempts=1,
                                   claimed_at=claimed, body="never left")
    import integrations.providers

    sender = _LookupSender({"went out": StatusEvent(provider_id="SM123", provider_status="sent",
                                                        status=DeliveryStatus.SENT)})
    monkeypatch.setattr(integrations.providers, "sms_sender", lambda config: sender)
    with fresh_app.app_context():
        counts = scheduler.tick()
    assert counts["stuck_sent"] == 1 and counts["stuck_requeued"] == 1
    assert counts["stuck_unknown"] == 0
    sent = reload(fresh_app, was_sent)
    assert (sent.status, sent.provider_id) == (MessageStatus.SENT, "SM123")
    assert reload(fresh_app, never_sent).status is MessageStatus.QUEUED


def test_a_worker_that_finishes_late_wins_over_the_reconciler(fresh_app: Flask) -> None:
    """The reconciler changes a row only while it is still in ``sending``."""
    [message_id] = create_messages(fresh_app, status=MessageStatus.SENDING, attempts=1,
                                   claimed_at=clock.now() - timedelta(minutes=11))
    with fresh_app.app_context():
        db.session.get(OutboxMessage, message_id).status = MessageStatus.SENT  # type: ignore[union-attr]
        db.session.commit()
        assert scheduler.tick()["stuck_unknown"] == 0
    assert reload(fresh_app, message_id).status is MessageStatus.SENT


# --- the app-context middleware -----------------------------------------------------------------

def test_each_message_runs_in_an_app_context_whose_session_is_removed(
        fresh_app: Flask, worker: Callable[[], dramatiq.Worker]) -> None:
    broker = get_broker(fresh_app)
    seen: list[tuple[Flask, object]] = []

    @dramatiq.actor(broker=broker, queue_name="probe", max_retries=0)
    def probe() -> None:
        db.session.execute(db.text("SELECT 1"))  # begins a transaction: holds a connection
        seen.append((current_app._get_current_object(),  # type: ignore[attr-defined]
                     db.session.registry.scopefunc()))

    worker()
    for _ in range(3):
        probe.send()
    assert isinstance(broker, StubBroker)
    broker.join("probe", timeout=DEADLINE_SECONDS * 1000)

    assert len(seen) == 3 and all(app is fresh_app for app, _ in seen)
    with fresh_app.app_context():
        registry: dict[object, object] = db.session.registry.registry
        assert not any(scope in registry for _, scope in seen)
        assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_the_middleware_pops_the_context_of_a_skipped_message(fresh_app: Flask) -> None:
    middleware = AppContext(fresh_app)
    broker = get_broker(fresh_app)
    assert not has_app_context()
    middleware.before_process_message(broker, None)
    assert has_app_context() and current_app._get_current_object() is fresh_app  # type: ignore[attr-defined]
    db.session.execute(db.text("SELECT 1"))
    middleware.after_skip_message(broker, None)
    assert not has_app_context()
    # A message skipped before this middleware ran pushed nothing: nothing to pop.
    middleware.after_skip_message(broker, None)
    with fresh_app.app_context():
        assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


# --- configuration and readiness ----------------------------------------------------------------

def _app_on(tmp_path: Path, broker_url: str) -> Flask:
    return create_app({"TESTING": True, "SECRET_KEY": "test", "BROKER_URL": broker_url,
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'ready.db'}",
                       "DEV_OUTBOX_ENABLED": True})


@pytest.mark.parametrize("broker_url", ["redis://127.0.0.1:9/0", "amqp://guest:guest@127.0.0.1:9/"])
def test_readyz_is_503_when_the_broker_is_unreachable(tmp_path: Path, broker_url: str) -> None:
    app = _app_on(tmp_path, broker_url)
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 503
        assert response.json == {"status": "unavailable",
                                 "checks": {"database": "ok", "broker": "unavailable"}}
    finally:
        with app.app_context():
            db.engine.dispose()


def test_an_unknown_broker_url_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="BROKER_URL must be 'embedded', a redis:// URL or an "
                                           "amqp:// URL") as raised:
        _app_on(tmp_path, "kafka://user:s3cret@broker:9092")
    assert "s3cret" not in str(raised.value)


def test_a_rabbitmq_url_makes_a_rabbitmq_broker_without_connecting(tmp_path: Path) -> None:
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    app = _app_on(tmp_path, "amqp://guest:guest@127.0.0.1:9/")
    try:
        assert isinstance(get_broker(app), RabbitmqBroker)
    finally:
        with app.app_context():
            db.engine.dispose()


# --- the commands -------------------------------------------------------------------------------

def test_scheduler_once_prints_its_counts_as_json(app: Flask, cli: Any) -> None:
    with app.app_context():
        message = outbox_message()
        outbox_message(not_before=clock.now() + timedelta(hours=2))
        db.session.commit()
    broker = get_broker(app)
    assert isinstance(broker, StubBroker)
    broker.flush_all()
    result = cli("scheduler", "--once", "--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["due"] == 1 and counts["enqueued"] == 1 and counts["stuck_unknown"] == 0
    assert set(counts) >= {"due", "enqueued", "reminders", "stuck_requeued", "stuck_sent",
                           "stuck_unknown"}
    queued = [dramatiq.Message.decode(item) for item in list(broker.queues["messages"].queue)]
    assert [m.args for m in queued] == [([str(message.id)],)]
    broker.flush_all()


def test_worker_refuses_the_embedded_broker(cli: Any) -> None:
    result = cli("worker")
    assert result.exit_code == 1
    assert "BROKER_URL is 'embedded': the worker runs inside `referrals serve`" in result.output


def test_worker_refuses_to_start_without_providers_in_production(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "")  # FlaskGroup sets it; monkeypatch puts it back
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "APP_ENV": "production",
                      "BROKER_URL": "redis://127.0.0.1:9/0",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'worker.db'}"})
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from referral_service.cli import main

    try:
        result = CliRunner().invoke(main, ["worker"], obj=ScriptInfo(create_app=lambda: app,
                                                                     set_debug_flag=False))
        assert result.exit_code == 1
        assert "SMS is not configured (APP_ENV=production needs Twilio" in result.output
    finally:
        with app.app_context():
            db.engine.dispose()


def test_scheduler_loop_refuses_the_embedded_broker(cli: Any) -> None:
    result = cli("scheduler", "--interval", "60")
    assert result.exit_code == 1
    assert "the scheduler runs inside `referrals serve`" in result.output


def test_the_embedded_worker_starts_once_per_process(fresh_app: Flask) -> None:
    [message_id] = create_messages(fresh_app)
    try:
        assert runtime.start_embedded(fresh_app) is True
        assert runtime.start_embedded(fresh_app) is False
        wait_for(lambda: reload(fresh_app, message_id).status is MessageStatus.DELIVERED)
    finally:
        runtime.stop_embedded()
    assert not any(thread.name == "referrals-scheduler" for thread in threading.enumerate())


def test_serve_runs_the_embedded_worker_and_scheduler(fresh_app: Flask, tmp_path: Path) -> None:
    """``referrals serve`` with the embedded broker sends what is queued (its scheduler's first
    tick enqueues it), and stops cleanly on SIGTERM."""
    [message_id] = create_messages(fresh_app)
    port = closed_port()
    environment = serve_command_environment(fresh_app.config["SQLALCHEMY_DATABASE_URI"])
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603  (our own console script, fixed arguments)
            [str(Path(sys.executable).parent / "referrals"), "serve", "--port", str(port)],
            cwd=tmp_path, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: reload(fresh_app, message_id).status is MessageStatus.DELIVERED)
    finally:
        server.send_signal(signal.SIGTERM)
        exit_code = server.wait(timeout=DEADLINE_SECONDS)
    output = log_path.read_text()
    assert exit_code == 0, output
    assert "embedded worker and scheduler running" in output
    assert "Embedded worker and scheduler stopped." in output


# --- Redis --------------------------------------------------------------------------------------

@pytest.mark.redis
def test_a_message_is_sent_once_through_redis(redis_app: Flask,
                                              caplog: pytest.LogCaptureFixture) -> None:
    from dramatiq.brokers.redis import RedisBroker

    caplog.set_level(logging.INFO, logger="integrations.dev_outbox")
    broker = get_broker(redis_app)
    assert isinstance(broker, RedisBroker)
    [message_id] = create_messages(redis_app)
    with redis_app.app_context():
        assert scheduler.tick()["enqueued"] == 1
        assert actors.enqueue([message_id] * 4) == 4
    running = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    running.start()
    try:
        wait_for(lambda: reload(redis_app, message_id).status is MessageStatus.DELIVERED)
        wait_for(lambda: broker.client.llen("dramatiq:messages") == 0)
    finally:
        running.stop(timeout=10_000)
    message = reload(redis_app, message_id)
    assert message.attempts == 1 and message.provider_id == f"dev-{message_id}"
    assert dev_outbox_sends(caplog, message_id) == 1


@pytest.mark.redis
def test_readyz_is_ok_with_redis_up(redis_app: Flask) -> None:
    with redis_app.app_context():
        assert broker_ready()
    response = redis_app.test_client().get("/readyz")
    assert response.status_code == 200 and response.json is not None
    assert response.json["checks"] == {"database": "ok", "broker": "ok"}

