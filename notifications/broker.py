"""The dramatiq broker for this process, chosen by ``BROKER_URL`` (API.md §5).

``embedded`` (the default)
    A :class:`~dramatiq.brokers.stub.StubBroker` in memory, worked by a worker and a scheduler
    running as threads of ``referrals serve`` (:func:`start_embedded`). Nothing to install;
    messages waiting in memory are lost when the process stops, which loses nothing that matters:
    the outbox rows are in the database and the next scheduler tick enqueues them again.
``redis://…`` / ``rediss://…``
    :class:`~dramatiq.brokers.redis.RedisBroker`; run ``referrals worker`` processes and one
    ``referrals scheduler``.
``amqp://…`` / ``amqps://…``
    :class:`~dramatiq.brokers.rabbitmq.RabbitmqBroker`, likewise.

Actors bind to the global broker when they are declared, so :func:`configure` calls
``dramatiq.set_broker`` first and only then imports :mod:`notifications.actors`. A process that
builds more than one app (the tests do) declares the actors again on each new broker; each app
keeps its own broker in ``app.extensions`` and :func:`get_broker` returns the current app's.

Every message runs inside an app context of the app that configured its broker
(:class:`AppContext`), and the SQLAlchemy session is removed after each message, so no
connection or half-finished transaction leaks from one message to the next.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware
from flask import Flask, current_app
from flask.ctx import AppContext as FlaskAppContext

from referral_service.extensions import db

log = logging.getLogger(__name__)

EXTENSION = "notifications.broker"
EMBEDDED = "embedded"
REDIS_SCHEMES = ("redis", "rediss")
AMQP_SCHEMES = ("amqp", "amqps")
# How long a worker's consumer sleeps, at most, when it fetched nothing new (or all its threads
# are busy). dramatiq's default of 1 s left threads idle after every batch (benchmarks/README.md).
WORKER_TIMEOUT_MS = 100
# readyz must answer quickly even when the broker's host does not.
READINESS_TIMEOUT_SECONDS = 2.0


class AppContext(Middleware):
    """Push an app context for each message and pop it afterwards, removing ``db.session``.

    ``before_process_message`` and ``after_process_message``/``after_skip_message`` run in the
    same worker thread, so the context pushed for a message is kept in a thread-local. A message
    skipped by an earlier middleware (e.g. AgeLimit) never had a context pushed: nothing to pop.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._local = threading.local()

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        context = self.app.app_context()
        context.push()
        self._local.context = context

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        self._pop()

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self._pop()

    def _pop(self) -> None:
        context: FlaskAppContext | None = getattr(self._local, "context", None)
        if context is None:
            return
        self._local.context = None
        try:
            db.session.remove()
        finally:
            context.pop()


class CloseSenders(Middleware):
    """Close the provider connections a worker thread opened, when that thread stops."""

    def before_worker_thread_shutdown(self, broker: dramatiq.Broker, thread: Any) -> None:
        from notifications import actors

        actors.close_thread_senders()


def _scheme(url: str) -> str:
    return urlsplit(url).scheme.lower()


def make_broker(url: str) -> dramatiq.Broker:
    """A broker for ``url``; it does not connect yet (Redis and RabbitMQ connect on first use)."""
    if url == EMBEDDED:
        return StubBroker()
    scheme = _scheme(url)
    if scheme in REDIS_SCHEMES:
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url)
    if scheme in AMQP_SCHEMES:
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    # Only the scheme is shown: the rest of a URL may hold a password.
    raise RuntimeError(
        f"BROKER_URL must be 'embedded', a redis:// URL or an amqp:// URL "
        f"(got a URL with scheme {scheme or 'none'!r}).")


def _broker_url(app: Flask) -> str:
    return str(app.config.get("BROKER_URL") or EMBEDDED)


def configure(app: Flask) -> dramatiq.Broker:
    """Choose the broker for ``app``, make it dramatiq's global broker, declare the actors."""
    broker = make_broker(_broker_url(app))
    broker.add_middleware(AppContext(app))
    broker.add_middleware(CloseSenders())
    # Order matters: actors bind to the global broker when their module is imported.
    dramatiq.set_broker(broker)
    from notifications import actors

    actors.declare_on(broker)
    app.extensions[EXTENSION] = broker
    return broker


def get_broker(app: Flask | None = None) -> dramatiq.Broker:
    """The broker configured for ``app`` (by default the current app)."""
    application = app if app is not None else current_app
    broker: dramatiq.Broker = application.extensions[EXTENSION]
    return broker


def is_embedded(app: Flask | None = None) -> bool:
    application = app if app is not None else current_app
    return _broker_url(application) == EMBEDDED


def broker_ready(app: Flask | None = None) -> bool:
    """Can this process reach its broker? (For ``/readyz``; embedded is always reachable.)

    A separate short-lived connection with a short timeout is used, so that a broker host that
    does not answer makes readiness fail quickly instead of hanging the probe.
    """
    application = app if app is not None else current_app
    url = _broker_url(application)
    if url == EMBEDDED:
        return True
    scheme = _scheme(url)
    try:
        if scheme in REDIS_SCHEMES:
            import redis

            with redis.Redis.from_url(url, socket_connect_timeout=READINESS_TIMEOUT_SECONDS,
                                      socket_timeout=READINESS_TIMEOUT_SECONDS) as client:
                return bool(client.ping())
        if scheme in AMQP_SCHEMES:
            import pika

            parameters = pika.URLParameters(url)
            parameters.socket_timeout = READINESS_TIMEOUT_SECONDS
            parameters.stack_timeout = READINESS_TIMEOUT_SECONDS
            parameters.blocked_connection_timeout = READINESS_TIMEOUT_SECONDS
            parameters.connection_attempts = 1
            connection = pika.BlockingConnection(parameters)
            connection.close()
            return True
    except Exception as error:  # any failure to reach the broker means "not ready"
        log.warning("readiness: broker unavailable (%s)", type(error).__name__)
        return False
    return False


# --- the embedded worker and scheduler --------------------------------------------------------

@dataclass
class _Embedded:
    worker: dramatiq.Worker
    scheduler: threading.Thread
    stop: threading.Event


_embedded: _Embedded | None = None
_embedded_lock = threading.Lock()


def _forget_embedded_after_fork() -> None:
    """Threads do not survive fork: a forked child has no embedded worker, whatever the parent
    had, and may start its own."""
    global _embedded, _embedded_lock
    _embedded = None
    _embedded_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_embedded_after_fork)


def delivers_now(app: Flask | None = None) -> bool:
    """Whether a message handed to the broker now will be processed: always with a real broker;
    with the embedded one only in the process running the embedded worker (``referrals serve``).
    Elsewhere (a CLI command, gunicorn with BROKER_URL=embedded) the rows wait for a scheduler."""
    return not isinstance(get_broker(app), StubBroker) or _embedded is not None


def start_embedded(app: Flask, *, worker_threads: int = 2,
                   scheduler_interval: float = 60.0) -> bool:
    """Start the in-process worker (two threads) and the scheduler loop (a daemon thread).

    Only once per process: a second call does nothing and returns False. Call it in the process
    that serves requests, after any fork: ``referrals serve`` does. Never in a gunicorn master
    started with ``--preload``: its threads die when gunicorn forks the workers and messages are
    then never sent. Under gunicorn use a real broker with ``referrals worker`` processes (or
    call this from a ``post_fork`` hook, which gives one worker and scheduler per gunicorn
    worker: harmless, since every send is claimed, but more than needed).
    """
    global _embedded
    broker = get_broker(app)
    if not isinstance(broker, StubBroker):
        raise RuntimeError("start_embedded() is for BROKER_URL=embedded; with a real broker run "
                           "`referrals worker` and `referrals scheduler`.")
    with _embedded_lock:
        if _embedded is not None:
            return False
        from notifications import scheduler

        worker = dramatiq.Worker(broker, worker_threads=worker_threads,
                                 worker_timeout=WORKER_TIMEOUT_MS)
        worker.start()
        stop = threading.Event()
        thread = threading.Thread(
            target=scheduler.run_forever, args=(app,),
            kwargs={"interval": scheduler_interval, "stop": stop},
            name="referrals-scheduler", daemon=True)
        thread.start()
        _embedded = _Embedded(worker=worker, scheduler=thread, stop=stop)
    log.info("embedded worker (%d threads) and scheduler started", worker_threads)
    return True


def stop_embedded(timeout_seconds: float = 10.0) -> None:
    """Stop the embedded scheduler and worker (finishing the messages in hand)."""
    global _embedded
    with _embedded_lock:
        running, _embedded = _embedded, None
    if running is None:
        return
    running.stop.set()
    running.worker.stop(timeout=int(timeout_seconds * 1000))
    running.scheduler.join(timeout_seconds)
