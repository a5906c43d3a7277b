"""The messaging process wiring, on top of everything else in ``notifications``.

- :func:`configure`: the app's broker (``notifications.broker``), made dramatiq's global one,
  with the actors declared on it and the middleware that gives each message an app context and
  closes a worker thread's provider connections;
- the after-commit hand-over: rows ``notifications.outbox`` wrote in a transaction, and the
  domain events it recorded (``referral_service.domain.events``), are given to the broker once
  it commits (and forgotten if it rolls back);
- the consumers of domain events that live above ``notifications.expansion`` are registered
  with it here (:func:`register_consumers`);
- the embedded worker and scheduler of ``referrals serve`` (``BROKER_URL=embedded``).

Nothing below imports this module: the writing floor (outbox, templates, policy) learns
whether a row can be handed over at commit through :func:`notifications.outbox.hand_over_with`.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware
from flask import Flask, Response
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from notifications import actors, expansion, outbox, partner_webhooks, scheduler
from notifications.broker import (
    EXTENSION,
    WORKER_TIMEOUT_MS,
    AppContext,
    broker_url,
    get_broker,
    make_broker,
)
from referral_service.domain import events as domain_events
from referral_service.extensions import db

log = logging.getLogger(__name__)


class CloseSenders(Middleware):
    """Close the provider connections a worker thread opened, when that thread stops."""

    def before_worker_thread_shutdown(self, broker: dramatiq.Broker, thread: Any) -> None:
        actors.close_thread_senders()


def configure(app: Flask) -> dramatiq.Broker:
    """Choose the broker for ``app``, make it dramatiq's global broker, declare the actors."""
    broker = make_broker(broker_url(app))
    broker.add_middleware(AppContext(app))
    broker.add_middleware(CloseSenders())
    dramatiq.set_broker(broker)
    actors.declare_on(broker)
    app.extensions[EXTENSION] = broker
    outbox.hand_over_with(delivers_now)
    register_consumers()
    if app.config.get("EVENTS_EXPAND_INLINE"):
        global _inline
        _inline = True
        app.after_request(_expand_inline)
    return broker


def register_consumers() -> None:
    """Give ``notifications.expansion`` the consumers that live above it. A consumer's name is
    part of the idempotency key: never rename one."""
    expansion.register("webhooks", partner_webhooks.on_event)


def _expand_inline(response: Response) -> Response:
    """``EVENTS_EXPAND_INLINE`` (the tests): expand the events the request committed before
    the response leaves, so a test sees the messages and reminders as soon as it has the
    response. Each event and consumer still in its own transaction; a consumer that fails is
    logged and left to the sweep, like any other failure of expansion."""
    sequences = db.session.info.pop(_COMMITTED_EVENTS, None)
    if sequences:
        try:
            expansion.expand(sequences)
        except Exception:  # e.g. the database went away: the sweep expands them later
            db.session.rollback()
            log.exception("inline expansion failed; the sweep will expand the events")
    return response


# --- rows handed to the broker when their transaction commits ------------------------------

# EVENTS_EXPAND_INLINE: the sequences of the events a session committed, for _expand_inline.
_COMMITTED_EVENTS = "notifications.runtime.committed_events"
_inline = False


@event.listens_for(Session, "after_commit", propagate=True)
def _enqueue_after_commit(session: Session) -> None:
    pending = session.info.pop(outbox.PENDING_KEY, None)
    if pending:
        actors.enqueue(pending)
    recorded = session.info.pop(domain_events.PENDING_KEY, None)
    if recorded:
        # Their sequences, known since the flush (read from the identity key: after a commit the
        # objects are expired and must not be loaded here). Without a worker to take them now,
        # the scheduler's sweep expands them.
        sequences = [key[0] for key in (inspect(obj).identity for obj in recorded) if key]
        if sequences and delivers_now():
            actors.enqueue_events(sequences)
        if _inline:
            session.info.setdefault(_COMMITTED_EVENTS, []).extend(sequences)
    deliveries = session.info.pop(partner_webhooks.PENDING_KEY, None)
    if deliveries:
        actors.enqueue_webhooks(deliveries)


@event.listens_for(Session, "after_rollback", propagate=True)
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(outbox.PENDING_KEY, None)
    session.info.pop(domain_events.PENDING_KEY, None)
    session.info.pop(partner_webhooks.PENDING_KEY, None)


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
