"""Which dramatiq broker, by ``BROKER_URL``, and reaching it, chosen by ``BROKER_URL`` (API.md §5).

``embedded`` (the default)
    A :class:`~dramatiq.brokers.stub.StubBroker` in memory, worked by a worker and a scheduler
    running as threads of ``referrals serve`` (:func:`notifications.runtime.start_embedded`).
    Nothing to install; messages waiting in memory are lost when the process stops, which loses
    nothing that matters: the outbox rows are in the database and the next scheduler tick
    enqueues them again.
``redis://…`` / ``rediss://…``
    :class:`~dramatiq.brokers.redis.RedisBroker`; run ``referrals worker`` processes and one
    ``referrals scheduler``.
``amqp://…`` / ``amqps://…``
    :class:`~dramatiq.brokers.rabbitmq.RabbitmqBroker`, likewise.

:func:`notifications.runtime.configure` makes the broker and declares the actors on it. A
process that builds more than one app (the tests do) declares the actors again on each new
broker; each app keeps its own broker in ``app.extensions`` and :func:`get_broker` returns the
current app's.

Every message runs inside an app context of the app that configured its broker
(:class:`AppContext`), and the SQLAlchemy session is removed after each message, so no
connection or half-finished transaction leaks from one message to the next.
"""
from __future__ import annotations

import logging
import threading
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


def broker_url(app: Flask) -> str:
    return str(app.config.get("BROKER_URL") or EMBEDDED)


def get_broker(app: Flask | None = None) -> dramatiq.Broker:
    """The broker configured for ``app`` (by default the current app)."""
    application = app if app is not None else current_app
    broker: dramatiq.Broker = application.extensions[EXTENSION]
    return broker


def is_embedded(app: Flask | None = None) -> bool:
    application = app if app is not None else current_app
    return broker_url(application) == EMBEDDED


def broker_ready(app: Flask | None = None) -> bool:
    """Can this process reach its broker? (For ``/readyz``; embedded is always reachable.)

    A separate short-lived connection with a short timeout is used, so that a broker host that
    does not answer makes readiness fail quickly instead of hanging the probe.
    """
    application = app if app is not None else current_app
    url = broker_url(application)
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
