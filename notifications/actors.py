"""dramatiq actors: ids in, the database holds the rest.

Import this module only through :func:`notifications.broker.configure`, which sets the broker
first (actors bind to the global broker when declared).

Every send is idempotent: the actor passes the outbox id to :func:`notifications.dispatch.deliver`,
which claims the row (queued → sending) with a compare-and-set and sends only what it claimed. A
message enqueued five times is sent once; a message whose enqueue was lost is enqueued again by the
next scheduler tick.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import dramatiq
from flask import Flask, current_app

from integrations.ports import PermanentError
from notifications import dispatch

log = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"


def build_senders(config: Mapping[str, Any]) -> dispatch.Senders:
    """The SMS and email senders the settings call for (Twilio/SMTP, or the development outbox)."""
    from integrations.providers import email_sender, sms_sender

    return dispatch.Senders(
        sms=sms_sender(config), email=email_sender(config),
        status_callback_url=str(config["PUBLIC_BASE_URL"]).rstrip("/") + STATUS_CALLBACK_PATH)


def close_sender(sender: object) -> None:
    """Close a sender's pooled connections, if it keeps any (Twilio's HTTP session does)."""
    close = getattr(sender, "close", None)
    if callable(close):
        close()


# One set of senders per worker thread: a Twilio client keeps an HTTP connection pool worth
# reusing between messages, and a thread of its own never shares it. The broker's middleware
# closes them when the worker thread stops.
_thread = threading.local()


def thread_senders(app: Flask) -> dispatch.Senders:
    cached: tuple[Flask, dispatch.Senders] | None = getattr(_thread, "senders", None)
    if cached is None or cached[0] is not app:
        close_thread_senders()
        cached = (app, build_senders(app.config))
        _thread.senders = cached
    return cached[1]


def close_thread_senders() -> None:
    cached: tuple[Flask, dispatch.Senders] | None = getattr(_thread, "senders", None)
    _thread.senders = None
    if cached is not None:
        close_sender(cached[1].sms)
        close_sender(cached[1].email)


# Retries are for the unexpected (the database went away mid-message): provider failures are
# handled inside deliver(), which puts a retryable failure back in the outbox with a backoff
# the scheduler honours, so dramatiq's own retries stay few. A crash after the claim leaves the
# row in `sending`, which a retry cannot claim: the scheduler's reconciler settles it.
@dramatiq.actor(queue_name="messages", max_retries=3, min_backoff=5_000, max_backoff=120_000,
                time_limit=120_000, throws=(PermanentError,))
def send_outbox_message(message_id: str) -> None:
    try:
        ident = uuid.UUID(message_id)
    except (TypeError, ValueError):
        log.warning("send_outbox_message: not an outbox id, dropped")
        return
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    status = dispatch.deliver(ident, thread_senders(app))
    log.debug("message %s: %s", ident, status or "not claimed (already taken or not due)")


ACTORS: tuple[dramatiq.Actor[Any, Any], ...] = (send_outbox_message,)


def declare_on(broker: dramatiq.Broker) -> None:
    """Declare every actor on ``broker`` and make it the one ``actor.send`` uses."""
    for actor in ACTORS:
        actor.broker = broker
        broker.declare_actor(actor)


def enqueue(message_ids: Iterable[uuid.UUID | str]) -> int:
    """Ask the current app's broker to send each outbox message; return how many were enqueued.

    Broker errors are logged and swallowed: the rows stay queued in the database and the next
    scheduler tick enqueues them again, so a broker outage delays messages but loses none. After
    the first failure the rest are not tried (they would fail the same way, each after a
    timeout).
    """
    from notifications.broker import get_broker

    broker = get_broker()
    ids = [str(message_id) for message_id in message_ids]
    for done, message_id in enumerate(ids):
        try:
            broker.enqueue(send_outbox_message.message(message_id))
        except Exception as error:  # any broker failure: the scheduler tick will retry
            log.warning("could not enqueue %d outbox message(s) (%s); the scheduler will "
                        "enqueue them again", len(ids) - done, type(error).__name__)
            return done
    return len(ids)
