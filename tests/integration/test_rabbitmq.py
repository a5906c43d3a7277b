"""The worker and scheduler on a real RabbitMQ (marker ``rabbitmq``: runs when ``TEST_RABBITMQ_URL``
is set, as CI does).

Each test run gets a virtual host of its own (``rabbitmqctl add_vhost`` when RabbitMQ is on this
machine, deleted afterwards), so runs side by side never take each other's messages. Nothing
sleeps for a fixed time: the rows' statuses are polled with a deadline, because
``RabbitmqBroker.join`` can return early while messages are delayed (STACK-NOTES).
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import dramatiq
import pytest
from flask import Flask
from sqlalchemy import select

from notifications import actors, scheduler
from notifications.broker import broker_ready, get_broker
from referral_service import clock
from referral_service.app import create_app
from referral_service.extensions import db
from referral_service.models import Audience, Channel, MessageStatus, OutboxMessage
from tests.fakes.twilio import FakeTwilio, fake_twilio  # noqa: F401 - the fixture

pytestmark = pytest.mark.rabbitmq

DEADLINE_SECONDS = 30
REFERRALS = Path(sys.executable).parent / "referrals"
FROM_NUMBER = "+447700900998"


def _rabbitmqctl(*args: str) -> None:
    command = shutil.which("rabbitmqctl")
    assert command is not None
    subprocess.run([command, *args], check=True, capture_output=True,  # noqa: S603
                   timeout=60)


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str]:
    """``TEST_RABBITMQ_URL`` pointed at a virtual host of this run's own. Without rabbitmqctl
    (RabbitMQ on another host) the URL is used as given: give it a vhost nobody else uses."""
    base = os.environ["TEST_RABBITMQ_URL"]
    if shutil.which("rabbitmqctl") is None:
        yield base
        return
    parts = urlsplit(base)
    vhost = f"referrals_test_{uuid.uuid4().hex[:12]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, parts.username or "guest", ".*", ".*", ".*")
        yield urlunsplit(parts._replace(path="/" + quote(vhost, safe="")))
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def rabbitmq_app(fresh_app: Flask, rabbitmq_url: str) -> Iterator[Flask]:
    """An app on ``fresh_app``'s database whose dramatiq broker is RabbitMQ, its queue empty."""
    application = create_app({"TESTING": True, "SECRET_KEY": "test", "BROKER_URL": rabbitmq_url,
                              "PUBLIC_BASE_URL": "http://localhost", "DEV_OUTBOX_ENABLED": True,
                              "SQLALCHEMY_DATABASE_URI": fresh_app.config[
                                  "SQLALCHEMY_DATABASE_URI"]})
    broker = get_broker(application)
    broker.flush_all()
    yield application
    broker.flush_all()
    broker.close()
    with application.app_context():
        db.engine.dispose()


def create_messages(app: Flask, count: int, **values: object) -> list[uuid.UUID]:
    with app.app_context():
        messages = [OutboxMessage(**{
            "channel": Channel.SMS, "audience": Audience.APPLICANT, "event": "rabbitmq_test",
            "template": "rabbitmq_test", "to_address": f"+447700901{n:03d}",
            "body": f"RabbitMQ test {n:03d}", "not_before": clock.now() - timedelta(seconds=1),
            **values}) for n in range(count)]
        db.session.add_all(messages)
        db.session.commit()
        return [message.id for message in messages]


def statuses(app: Flask) -> Counter[MessageStatus]:
    with app.app_context():
        return Counter(db.session.scalars(select(OutboxMessage.status)))


def wait_for(condition: Callable[[], bool], seconds: float = DEADLINE_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {seconds} s")
        time.sleep(0.05)


@pytest.fixture
def worker(rabbitmq_app: Flask) -> Iterator[Callable[[], dramatiq.Worker]]:
    """A real dramatiq Worker in this process on the RabbitMQ broker; stopped after."""
    started: list[dramatiq.Worker] = []

    def start() -> dramatiq.Worker:
        running = dramatiq.Worker(get_broker(rabbitmq_app), worker_threads=2,
                                  worker_timeout=100)
        running.start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop(timeout=10_000)


def test_readyz_is_ok_with_rabbitmq_up(rabbitmq_app: Flask) -> None:
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    assert isinstance(get_broker(rabbitmq_app), RabbitmqBroker)
    with rabbitmq_app.app_context():
        assert broker_ready()
    response = rabbitmq_app.test_client().get("/readyz")
    assert response.status_code == 200 and response.json is not None
    assert response.json["checks"] == {"database": "ok", "broker": "ok"}


def test_a_message_enqueued_four_times_is_sent_once_through_rabbitmq(
        rabbitmq_app: Flask, worker: Callable[[], dramatiq.Worker],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="integrations.dev_outbox")
    [message_id] = create_messages(rabbitmq_app, 1)
    with rabbitmq_app.app_context():
        assert scheduler.tick()["enqueued"] == 1
        for _ in range(3):
            assert actors.enqueue([message_id]) == 1
    worker()
    wait_for(lambda: statuses(rabbitmq_app) == Counter({MessageStatus.DELIVERED: 1}))
    broker = get_broker(rabbitmq_app)
    wait_for(lambda: broker.get_queue_message_counts("messages") == (0, 0, 0))  # type: ignore[attr-defined]
    with rabbitmq_app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert message is not None
        assert message.attempts == 1 and message.provider_id == f"dev-{message_id}"
    sends = [r for r in caplog.records
             if r.name == "integrations.dev_outbox" and str(message_id) in r.message]
    assert len(sends) == 1


def test_messages_purged_from_rabbitmq_are_enqueued_again_by_the_scheduler(
        rabbitmq_app: Flask, worker: Callable[[], dramatiq.Worker]) -> None:
    """The broker loses everything (queues purged) before any worker runs: a later tick hands
    the rows over again and they are sent."""
    create_messages(rabbitmq_app, 3)
    broker = get_broker(rabbitmq_app)
    with rabbitmq_app.app_context():
        assert scheduler.tick()["enqueued"] == 3
    wait_for(lambda: broker.get_queue_message_counts("messages")[0] == 1)  # type: ignore[attr-defined]
    broker.flush_all()
    with rabbitmq_app.app_context():
        assert scheduler.tick()["enqueued"] == 0  # handed over a moment ago: not yet lost
        later = clock.now() + scheduler.REENQUEUE_AFTER + timedelta(seconds=1)
        assert scheduler.tick(later)["enqueued"] == 3
    worker()
    wait_for(lambda: statuses(rabbitmq_app) == Counter({MessageStatus.DELIVERED: 3}))


def test_the_worker_command_sends_through_rabbitmq_to_twilio_exactly_once(
        rabbitmq_app: Flask, fake_twilio: FakeTwilio, tmp_path: Path) -> None:  # noqa: F811
    """``referrals worker`` in a process of its own, on RabbitMQ, through the real twilio client:
    three batches, each message once, and a clean stop on SIGTERM."""
    count = 120
    create_messages(rabbitmq_app, count)
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("TWILIO_", "SMTP_", "TEST_", "FLASK_"))
                   and key not in {"DATABASE_URL", "BROKER_URL", "APP_ENV", "MAIL_FROM"}}
    environment.update({
        "DATABASE_URL": rabbitmq_app.config["SQLALCHEMY_DATABASE_URI"],
        "BROKER_URL": rabbitmq_app.config["BROKER_URL"], "SECRET_KEY": "rabbitmq-test",
        "LOG_LEVEL": "WARNING", "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
        "TWILIO_AUTH_TOKEN": fake_twilio.auth_token, "TWILIO_FROM": FROM_NUMBER,
        "TWILIO_API_BASE_URL": fake_twilio.url, "DEV_OUTBOX": "on"})
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603  (our own console script, fixed arguments)
            [str(REFERRALS), "worker", "--threads", "2"], cwd=tmp_path, env=environment,
            stdout=log, stderr=subprocess.STDOUT)
    try:
        with rabbitmq_app.app_context():
            assert scheduler.tick()["enqueued"] == count
        wait_for(lambda: statuses(rabbitmq_app) == Counter({MessageStatus.SENT: count}))
    finally:
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=DEADLINE_SECONDS)
    output = log_path.read_text()
    assert exit_code == 0, output
    assert "on the RabbitmqBroker" in output and "Worker stopped." in output
    received = Counter(message["Body"] for message in fake_twilio.messages)
    assert len(received) == count and set(received.values()) == {1}
    sids = {message["Body"]: message["sid"] for message in fake_twilio.messages}
    with rabbitmq_app.app_context():
        for row in db.session.scalars(select(OutboxMessage)):
            assert row.provider_id == sids[row.body]
