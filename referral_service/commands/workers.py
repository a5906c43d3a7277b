"""``referrals worker`` and ``referrals scheduler``: background work with a real broker.

With ``BROKER_URL=embedded`` (the default) both run inside ``referrals serve`` as threads; with
Redis or RabbitMQ run any number of ``referrals worker`` processes and one
``referrals scheduler`` (more than one is safe, just wasteful: they share the due rows through
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and every send is claimed).
"""
from __future__ import annotations

import signal
import threading
from types import FrameType

import click
import dramatiq
from flask import Flask, current_app
from flask.cli import with_appcontext

from notifications import actors
from notifications import scheduler as ticks
from notifications.broker import WORKER_TIMEOUT_MS, get_broker, is_embedded
from referral_service.commands.common import (
    CommandRefused,
    announce,
    emit,
    json_lines_option,
    json_option,
    refusals,
)

EMBEDDED_WORKER = ("BROKER_URL is 'embedded': the worker runs inside `referrals serve`. To run "
                   "separate workers, set BROKER_URL to a redis:// or amqp:// URL.")
EMBEDDED_SCHEDULER = ("BROKER_URL is 'embedded': the scheduler runs inside `referrals serve`, "
                      "and messages this process enqueued would be sent by nobody. Use --once "
                      "for one tick, or set BROKER_URL to a redis:// or amqp:// URL.")


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def _wait_for_signal() -> None:
    stop = threading.Event()

    def _request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {signum: signal.signal(signum, _request_stop)
                for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        stop.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@click.command("worker", help="Send queued messages: a dramatiq worker for a Redis or RabbitMQ "
                              "broker (run as many as needed). Stops cleanly on SIGTERM/Ctrl+C.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Messages handled at once by this process.")
@json_lines_option
@with_appcontext
@refusals
def worker(threads: int, as_json: bool) -> None:
    app = _app()
    if is_embedded(app):
        raise CommandRefused(EMBEDDED_WORKER)
    try:  # a missing provider is a refusal now, not a failure at every message
        actors.check_senders(app.config)
    except RuntimeError as error:
        raise CommandRefused(str(error)) from error
    broker = get_broker(app)
    running = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=WORKER_TIMEOUT_MS)
    running.start()
    announce(as_json, "worker_started",
             f"Worker started: {threads} threads on the {type(broker).__name__}. "
             "SIGTERM or Ctrl+C stops it after the messages in hand.",
             threads=threads, broker=type(broker).__name__)
    try:
        _wait_for_signal()
    finally:
        announce(as_json, "worker_stopping", "Worker stopping…")
        running.stop(timeout=30_000)
        broker.close()
    announce(as_json, "worker_stopped", "Worker stopped.")


@click.command("scheduler", help="Enqueue due messages and reminders, settle stuck sends: one "
                                 "tick every --interval seconds (run one of these).")
@click.option("--once", is_flag=True, help="Run one tick, print what it did, and stop.")
@click.option("--interval", default=60.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds between ticks.")
@json_option
@with_appcontext
@refusals
def scheduler(once: bool, interval: float, as_json: bool) -> None:
    app = _app()
    if once:
        counts = ticks.tick()
        emit(as_json, counts, "Scheduler tick: " + ", ".join(
            f"{name.replace('_', ' ')} {count}" for name, count in counts.items()) + ".")
        return
    if is_embedded(app):
        raise CommandRefused(EMBEDDED_SCHEDULER)
    announce(as_json, "scheduler_started",
             f"Scheduler started: a tick every {interval:g} s. SIGTERM or Ctrl+C stops it.",
             interval_seconds=interval)
    ticks.run_forever(app, interval=interval)
    announce(as_json, "scheduler_stopped", "Scheduler stopped.")


def register(group: click.Group) -> None:
    group.add_command(worker)
    group.add_command(scheduler)
