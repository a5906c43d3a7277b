"""dramatiq actors: ids in, the database holds the rest.

The actors are declared on a placeholder broker of their own, so that importing this module
touches no global state (dramatiq would otherwise make a default broker);
:func:`notifications.runtime.configure` moves them to the app's broker (:func:`declare_on`).

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
from dramatiq.brokers.stub import StubBroker
from flask import Flask, current_app

from integrations import providers
from integrations.ports import PermanentError
from notifications import dispatch, expansion, webhook_delivery
from notifications.broker import get_broker

log = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"


def build_senders(config: Mapping[str, Any]) -> dispatch.Senders:
    """The SMS and email senders the settings call for (Twilio/SMTP, or the development outbox)."""
    return dispatch.Senders(
        sms=providers.sms_sender(config), email=providers.email_sender(config),
        status_callback_url=str(config["PUBLIC_BASE_URL"]).rstrip("/") + STATUS_CALLBACK_PATH)


def check_senders(config: Mapping[str, Any]) -> None:
    """Raise RuntimeError (saying what is missing) if the settings give no way to send a
    message: checked when a worker starts, so that it refuses then rather than fail every one."""
    senders = build_senders(config)
    close_sender(senders.sms)
    close_sender(senders.email)


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
# handled inside deliver_batch(), which puts a retryable failure back in the outbox with a
# backoff the scheduler honours, so dramatiq's own retries stay few. A crash after the claim
# leaves rows in `sending`, which a retry cannot claim: the scheduler's reconciler settles them.
# The time limit is well above dispatch.BATCH_SECONDS, after which a batch hands back the rest.
_ACTOR_OPTIONS: dict[str, Any] = {
    "broker": StubBroker(),  # a placeholder until declare_on(): see the module's docstring
    "queue_name": "messages", "max_retries": 3, "min_backoff": 5_000, "max_backoff": 120_000,
    "time_limit": 120_000, "throws": (PermanentError,)}


@dramatiq.actor(**_ACTOR_OPTIONS)
def send_outbox_messages(message_ids: list[str]) -> None:
    """Send a batch of outbox messages (up to ``dispatch.BATCH_SIZE`` ids)."""
    idents: list[uuid.UUID] = []
    for message_id in message_ids if isinstance(message_ids, list) else []:
        try:
            idents.append(uuid.UUID(message_id))
        except (TypeError, ValueError, AttributeError):
            log.warning("send_outbox_messages: not an outbox id, dropped")
    if not idents:
        return
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    statuses = dispatch.deliver_batch(idents, thread_senders(app))
    for ident in dict.fromkeys(idents):
        status = statuses.get(ident)
        log.debug("message %s: %s", ident, status or "not claimed (already taken or not due)")


@dramatiq.actor(**_ACTOR_OPTIONS)
def send_outbox_message(message_id: str) -> None:
    """One message: what the service enqueued before batches; kept so that actor messages
    still in a broker's queue after an upgrade are worked, not dead-lettered."""
    send_outbox_messages.fn([message_id])


# Expansion failures are handled inside (a consumer that fails is logged and left for the
# scheduler's sweep), so dramatiq retries only what escaped: the database gone mid-message.
@dramatiq.actor(broker=_ACTOR_OPTIONS["broker"], queue_name="events", max_retries=3,
                min_backoff=1_000, max_backoff=30_000, time_limit=120_000)
def expand_events(sequences: list[int]) -> None:
    """Expand these domain events for every consumer (``notifications.expansion``)."""
    wanted = [s for s in sequences if isinstance(s, int) and not isinstance(s, bool)] \
        if isinstance(sequences, list) else []
    if len(wanted) != (len(sequences) if isinstance(sequences, list) else -1):
        log.warning("expand_events: not an event sequence, dropped")
    if wanted:
        expansion.expand(wanted)




@dramatiq.actor(broker=StubBroker(), queue_name="webhooks", max_retries=3, min_backoff=5_000,
                max_backoff=120_000, time_limit=120_000)
def deliver_webhook(delivery_id: str) -> None:
    """Try one partner webhook delivery (a due pending row; anything else is left alone).
    Failures are retried by the row's own ``next_attempt_at``, not by dramatiq."""
    try:
        ident = uuid.UUID(delivery_id)
    except (TypeError, ValueError, AttributeError):
        log.warning("deliver_webhook: not a delivery id, dropped")
        return
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    webhook_delivery.deliver(ident, webhook_delivery.client_for(app.config))


ACTORS: tuple[dramatiq.Actor[Any, Any], ...] = (send_outbox_messages, send_outbox_message,
                                                expand_events, deliver_webhook)


def declare_on(broker: dramatiq.Broker) -> None:
    """Declare every actor on ``broker`` and make it the one ``actor.send`` uses."""
    for actor in ACTORS:
        actor.broker = broker
        broker.declare_actor(actor)


def enqueue(message_ids: Iterable[uuid.UUID | str]) -> int:
    """Ask the current app's broker to send these outbox messages, ``dispatch.BATCH_SIZE`` ids
    per actor message; return how many ids were handed over (always a prefix of the input).

    Broker errors are logged and swallowed: the rows stay queued in the database and the next
    scheduler tick enqueues them again, so a broker outage delays messages but loses none. After
    the first failure the rest are not tried (they would fail the same way, each after a
    timeout).
    """
    broker = get_broker()
    ids = [str(message_id) for message_id in message_ids]
    size = dispatch.BATCH_SIZE
    for start in range(0, len(ids), size):
        try:
            broker.enqueue(send_outbox_messages.message(ids[start:start + size]))
        except Exception as error:  # any broker failure: the scheduler tick will retry
            log.warning("could not enqueue %d outbox message(s) (%s); the scheduler will "
                        "enqueue them again", len(ids) - start, type(error).__name__)
            return start
    return len(ids)


def enqueue_events(sequences: list[int]) -> bool:
    """Ask the broker to expand these domain events (one actor message). A broker error is
    logged and swallowed: the scheduler's sweep expands them a few seconds later."""
    try:
        get_broker().enqueue(expand_events.message(sequences))
    except Exception as error:  # any broker failure: the sweep will expand them
        log.warning("could not enqueue %d domain event(s) (%s); the sweep will expand them",
                    len(sequences), type(error).__name__)
        return False
    return True


def enqueue_webhooks(delivery_ids: Iterable[uuid.UUID | str]) -> int:
    """Hand webhook deliveries to the broker (queue ``webhooks``); as :func:`enqueue`, a broker
    failure is logged and the scheduler hands them over again."""
    broker = get_broker()
    ids = [str(ident) for ident in delivery_ids]
    for done, ident in enumerate(ids):
        try:
            broker.enqueue(deliver_webhook.message(ident))
        except Exception as error:  # any broker failure: the scheduler tick will retry
            log.warning("could not enqueue %d webhook deliveries (%s)", len(ids) - done,
                        type(error).__name__)
            return done
    return len(ids)
