"""A worker killed mid-expansion, and its broker's memory wiped: each domain event is expanded
exactly once all the same (issue 14.1).

200 referrals are received in this process on a fresh PostgreSQL database (committed ten at a
time: each commit hands its events to Redis, ``expand_events``); a real ``referrals worker``
subprocess expands them. When about a third of the (event, consumer) expansions are done the
worker gets SIGKILL (its threads anywhere: between events, between consumers, inside a
consumer's transaction), and Redis is flushed. A new worker and the
scheduler's sweep (this process) must finish from the database alone. Each referral then has
exactly one of each message and reminder: an expansion the kill cut short was rolled back with
its claim and done again; one that had committed was never done twice.
"""
from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select

from notifications import expansion
from referral_service import clock
from referral_service.extensions import db
from referral_service.models import DomainEvent, EventExpansion, OutboxMessage, Reminder
from tests import factories as f
from tests.worker_processes import StartWorker, poll, worker_processes

pytestmark = [pytest.mark.redis, pytest.mark.postgres_only]

EVENTS = 200
PER_COMMIT = 10


@pytest.fixture
def start_worker(redis_app: Flask, tmp_path: Path) -> Iterator[StartWorker]:
    with worker_processes({
        "DATABASE_URL": redis_app.config["SQLALCHEMY_DATABASE_URI"],
        "BROKER_URL": redis_app.config["BROKER_URL"],
        "SECRET_KEY": "crash-test", "LOG_LEVEL": "WARNING", "DEV_OUTBOX": "on",
    }, tmp_path) as start:
        yield start


def test_a_killed_worker_leaves_each_event_expanded_exactly_once(
        redis_app: Flask, start_worker: StartWorker,
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with redis_app.app_context():
        authority = f.authority()
        org = f.organisation()
        for n in range(3):
            f.officer(authority, name=f"Officer {n}", capacity=500)
        db.session.commit()
        # Received and committed with no worker running: the events wait in Redis.
        for _batch in range(EVENTS // PER_COMMIT):
            for _ in range(PER_COMMIT):
                f.referral(org, expand=False)
            db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(DomainEvent)) == EVENTS

    def expansions() -> int:
        with redis_app.app_context():
            return db.session.scalar(select(func.count()).select_from(EventExpansion)) or 0

    consumers = len(expansion.CONSUMERS)
    first = start_worker("worker-1")
    assert poll(lambda: expansions() >= EVENTS * consumers // 3, seconds=60, interval=0.002), \
        (tmp_path / "worker-1.log").read_text()[-2000:]
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    at_kill = expansions()
    with redis_app.app_context():
        partly = db.session.scalar(select(func.count()).select_from(
            select(EventExpansion.event_sequence).group_by(EventExpansion.event_sequence)
            .having(func.count() < consumers).subquery()))
        db.session.rollback()
    with redis.Redis.from_url(redis_app.config["BROKER_URL"]) as connection:
        connection.flushdb()
    assert at_kill < EVENTS * consumers, "the kill came after the last expansion: nothing tested"

    # A new worker (for the messages) and the sweep, as the scheduler runs it, until done.
    start_worker("worker-2")
    sweeps = 0
    with redis_app.app_context():
        while db.session.scalar(select(func.count()).select_from(DomainEvent).where(
                DomainEvent.expanded_at.is_(None))):
            assert sweeps < 20
            expansion.sweep(clock.now() + timedelta(minutes=1))
            sweeps += 1
        db.session.rollback()

        assert expansions() == EVENTS * consumers
        messages = Counter(db.session.execute(
            select(OutboxMessage.referral_id, OutboxMessage.event, OutboxMessage.audience)).all())
        reminders = Counter(db.session.execute(
            select(Reminder.referral_id, Reminder.kind)).all())
    # Each referral: its officer, its referrer and its applicant told once; three reminders.
    assert len(messages) == EVENTS * 3 and set(messages.values()) == {1}
    assert len(reminders) == EVENTS * 3 and set(reminders.values()) == {1}

    with capsys.disabled():
        print(f"\nexpansion crash test: {EVENTS} events x {consumers} consumers; {at_kill} "
              f"expansions committed when the worker was killed ({partly} event(s) part-way); "
              f"{sweeps} sweep(s) after; "
              f"every event expanded exactly once")
