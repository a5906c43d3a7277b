"""Send outbox messages, exactly once, a batch at a time: claim the rows with one compare-and-set,
send only what was claimed, record the provider's ids in one transaction. A crash after claiming
leaves rows in ``sending`` for the reconciler, which never resends blindly.

Transactions: this is the one place in ``notifications`` that commits, and on purpose (everything
else writes in its caller's transaction). Exactly-once sending needs three steps that must not
share a transaction: the claim is committed *before* the provider is called (so no other worker
can take the row, no transaction is held open over a slow HTTP call, and a crash leaves the row
visibly in ``sending`` for the reconciler rather than silently queued again), and the provider's
answer is committed *after* (so its id is there for the status callback). :func:`_commit` is
where both happen.

Why batches: per message, the fixed cost of a broker message (consume, ack) and of two committed
transactions (claim; record) is several times the cost of the provider call itself. Claiming and
recording up to ``BATCH_SIZE`` rows at once shares that cost (benchmarks/README.md).
"""
from __future__ import annotations

import html
import logging
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from integrations.ports import (
    Accepted,
    Email,
    EmailSender,
    FateUnknownError,
    PermanentError,
    RetryableError,
    Sms,
    SmsSender,
)
from notifications import delivery_status, fallback, one_time_links
from referral_service import clock
from referral_service.extensions import db
from referral_service.models import Channel, MessageStatus, OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
SMS_VALIDITY_SECONDS = 4 * 3600
# Ids per actor message (the scheduler and the after-commit enqueue group them so).
BATCH_SIZE = 50
# A batch stops sending after this long and hands its unsent rows back (well inside the actor's
# time limit, so a slow provider never leaves claimed-but-unsent rows for the reconciler).
BATCH_SECONDS = 45.0
# Results are committed at least this often within a batch (see deliver_batch).
RECORD_EVERY_SECONDS = 0.25


# What one send left behind: the provider's error, if any (the row's new state is already set).
ProviderOutcome = RetryableError | PermanentError | FateUnknownError | None
# A message the provider may hold under an id we chose (an email's Message-ID), unconfirmed.
FATE_UNKNOWN = ("The provider did not confirm it: it may have arrived. Waiting to be checked, "
                "not sent again.")


@dataclass(frozen=True)
class Senders:
    sms: SmsSender
    email: EmailSender
    status_callback_url: str | None = None


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8, 16 minutes… between tries of a retryable failure."""
    return timedelta(minutes=2 ** max(0, attempts - 1))


def claim_batch(message_ids: Iterable[uuid.UUID]) -> list[OutboxMessage]:
    """queued → sending for each of ``message_ids`` still queued and due, in one statement; the
    rows come back from it (RETURNING) and the claim is committed at once. Two workers cannot
    both win a row: the ``status = 'queued'`` condition is the compare-and-set, re-checked by
    PostgreSQL after waiting for another writer's lock.

    No ``SKIP LOCKED`` here, on purpose: these ids were handed over by name, and the usual holder
    of their locks is the scheduler's own transaction that is handing them over (it marks them,
    enqueues, then commits). Skipping would drop them until the scheduler's re-enqueue; waiting
    a few milliseconds for its commit sends them now."""
    ids = list(dict.fromkeys(message_ids))
    if not ids:
        return []
    now = clock.now()
    claimed = list(db.session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .where(OutboxMessage.status == MessageStatus.QUEUED)
        .where(OutboxMessage.not_before <= now)
        .values(status=MessageStatus.SENDING, claimed_at=now,
                attempts=OutboxMessage.attempts + 1, updated_at=now)
        .returning(OutboxMessage)
        # The returned rows replace any stale copies in the session (which does not expire on
        # commit): a retry's "back to queued" must be seen as a change.
        .execution_options(synchronize_session=False, populate_existing=True)
    ))
    # Committed before the provider is called: no transaction is held open during slow HTTP
    # calls, and on SQLite the final write does not start from a stale read (which fails at once
    # with "database is locked" when another thread has written).
    _commit()
    order = {ident: position for position, ident in enumerate(ids)}
    claimed.sort(key=lambda message: order[message.id])
    return claimed


def claim(message_id: uuid.UUID) -> OutboxMessage | None:
    """Claim one message (see :func:`claim_batch`); None if it is not ours to send."""
    claimed = claim_batch([message_id])
    return claimed[0] if claimed else None


def deliver_batch(message_ids: Iterable[uuid.UUID], senders: Senders
                  ) -> dict[uuid.UUID, MessageStatus]:
    """Send each message this caller claims; return the new status of each claimed one (ids
    not claimed — already taken, not due, unknown — are absent).

    Results are recorded in one transaction for the batch, or every ``RECORD_EVERY_SECONDS``
    when the provider is slow: Twilio's first status callback finds a message only by the id
    recorded here, so that id must not wait long. A retryable failure, a send of unknown fate
    (left in ``sending`` for the reconciler) or a batch that runs too long hands the untried
    rest back. Anything unexpected (a bug, the actor's time limit) keeps
    the results so far and hands back what was never tried; the message in hand stays in
    ``sending`` for the reconciler.
    """
    claimed = claim_batch(message_ids)
    if not claimed:
        return {}
    started = last_recorded = time.monotonic()
    unrecorded: list[tuple[OutboxMessage, ProviderOutcome]] = []
    attempted = 0  # how many were handed to _send, the one in hand included
    try:
        for message in claimed:
            if time.monotonic() - started > BATCH_SECONDS:
                break
            attempted += 1
            outcome = _send(message, senders)
            unrecorded.append((message, outcome))
            if isinstance(outcome, RetryableError | FateUnknownError):
                # The provider is unavailable or not answering: the rest would fail the same
                # way, each after a timeout. They were claimed but never sent, so they may
                # safely go later.
                break
            if time.monotonic() - last_recorded >= RECORD_EVERY_SECONDS:
                _record(unrecorded)
                unrecorded, last_recorded = [], time.monotonic()
    except BaseException:
        _hand_back(claimed[attempted:], "stopped by an error")
        try:
            _record(unrecorded)
        except Exception:  # the database is what failed: nothing more can be kept
            db.session.rollback()
        raise
    _hand_back(claimed[attempted:], "provider unavailable or batch too slow")
    _record(unrecorded)
    return {message.id: message.status for message in claimed}


def _record(results: list[tuple[OutboxMessage, ProviderOutcome]]) -> None:
    """Commit the states ``_send`` set, after arranging the fallback for each refused SMS."""
    _keep_callback_progress(results)
    refused = [(message, outcome) for message, outcome in results
               if isinstance(outcome, PermanentError)]
    for message, error in refused:
        fallback.after_permanent_failure(message, error)
    _commit()


def _commit() -> None:
    """Commit a step of sending: the claim before the provider is called, the provider's answer
    after (see the module's docstring for why these are transactions of their own)."""
    db.session.commit()


def _keep_callback_progress(results: list[tuple[OutboxMessage, ProviderOutcome]]) -> None:
    """A status callback can come before this batch records Twilio's sid: it finds the message
    by the outbox id in its URL and moves it on (delivered, or failed with its fallback). That
    state is kept, not overwritten with "sent". The rows are locked (PostgreSQL), so a callback
    arriving now waits for this commit and then finds the message by its sid."""
    rank = delivery_status.STATUS_RANK
    accepted = {message.id: message for message, outcome in results
                if outcome is None and message.channel is Channel.SMS and message.provider_id}
    if not accepted:
        return
    with db.session.no_autoflush:  # the database's values, not this session's pending ones
        stored = db.session.execute(
            select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.provider_status,
                   OutboxMessage.status_reason)
            .where(OutboxMessage.id.in_(list(accepted))).with_for_update()).all()
    for ident, status, provider_status, reason in stored:
        message = accepted[ident]
        if rank[status] > rank[message.status]:
            message.status, message.provider_status = status, provider_status
            message.status_reason = reason


def deliver(message_id: uuid.UUID, senders: Senders) -> MessageStatus | None:
    """Send one message if this caller claims it; return its new status (None: not ours)."""
    return deliver_batch([message_id], senders).get(message_id)


def _send(message: OutboxMessage, senders: Senders) -> ProviderOutcome:
    """Hand one claimed message to its provider and set (not commit) its new state."""
    now = clock.now()
    if message.expires_at is not None and message.expires_at <= now:
        _finish(message, MessageStatus.FAILED, "Not sent: it was out of date before it could go.")
        return None
    try:
        if message.channel is Channel.SMS:
            accepted = senders.sms.send_sms(Sms(
                to=message.to_address, body=message.body, reference=str(message.id),
                status_callback=senders.status_callback_url,
                validity_seconds=_validity_seconds(message.expires_at, now)))
        else:
            # One-time links are made here, for the provider only: the row never holds them.
            text = one_time_links.for_sending(message.template, message.body)
            accepted = senders.email.send_email(Email(
                to=message.to_address, subject=message.subject or "", text=text,
                html=as_html(text), reference=str(message.id)))
    except RetryableError as error:
        log.warning("message %s: retryable %s (code %s)", message.id, type(error).__name__,
                    error.code)
        if message.attempts >= MAX_ATTEMPTS:
            _finish(message, MessageStatus.FAILED,
                    f"Gave up after {message.attempts} tries (provider unavailable).")
        else:
            message.status = MessageStatus.QUEUED
            message.not_before = now + backoff(message.attempts)
            message.enqueued_at = None  # the scheduler hands it over again when it is due
            message.status_reason = f"Provider unavailable; try {message.attempts + 1} later."
        return error
    except FateUnknownError as error:
        # It may have gone: it stays in `sending` for the reconciler, which never resends it
        # blindly (notifications.scheduler). An SMS row is left exactly as claimed: a status
        # callback may be recording Twilio's sid on it right now. An email's Message-ID is
        # recorded: it tells the reconciler the server may have it.
        log.warning("message %s: fate unknown (%s); left for the reconciler", message.id,
                    type(error).__name__)
        if error.provider_id is not None:
            message.provider_id = error.provider_id
            message.status_reason = FATE_UNKNOWN
        return error
    except PermanentError as error:
        log.info("message %s: permanent failure (code %s)", message.id, error.code)
        _finish(message, MessageStatus.FAILED, _refusal(error))
        return error
    _record_accepted(message, accepted, now)
    return None


def _refusal(error: PermanentError) -> str:
    """The reason an operator reads: the provider's code, or when there is none our adapter's
    own words, which say what to change (and never carry an address or a body)."""
    if error.code is not None:
        return f"Refused by the provider (code {error.code})."
    return f"Not sent: {error}"[:300]


def as_html(text: str) -> str:
    """The HTML part of an email: the same words, escaped, a paragraph per blank-line-separated
    block and line breaks kept (mail clients that prefer HTML then show what the text says)."""
    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    paragraphs = "".join(
        "<p>" + html.escape(block.strip()).replace("\n", "<br>\n") + "</p>\n"
        for block in blocks)
    return f'<!DOCTYPE html>\n<html lang="en"><body>\n{paragraphs}</body></html>\n'


def _validity_seconds(expires_at: datetime | None, now: datetime) -> int | None:
    """Twilio's validity period for a time-sensitive message: no longer than it has left (and
    within Twilio's 1 s to 4 h), so a text that would arrive too late is dropped by Twilio."""
    if expires_at is None:
        return None
    left = int((expires_at - now).total_seconds())
    return max(1, min(SMS_VALIDITY_SECONDS, left))


def _record_accepted(message: OutboxMessage, accepted: Accepted, now: datetime) -> None:
    message.status = (MessageStatus.DELIVERED if accepted.status == "delivered"
                      else MessageStatus.SENT)
    message.provider_id = accepted.provider_id
    message.provider_status = accepted.status
    message.sent_at = now
    message.status_reason = None


def _hand_back(unsent: list[OutboxMessage], why: str) -> None:
    """Claimed rows that were never handed to a provider go back to ``queued`` (this try not
    counted), for the scheduler to hand over again."""
    if unsent:
        log.warning("%d claimed message(s) handed back unsent: %s", len(unsent), why)
    for message in unsent:
        message.status = MessageStatus.QUEUED
        message.attempts = max(0, message.attempts - 1)
        message.claimed_at = None
        message.enqueued_at = None


def _finish(message: OutboxMessage, status: MessageStatus, reason: str) -> None:
    message.status = status
    message.status_reason = reason


def already_recorded(provider_ids: Iterable[str]) -> set[str]:
    """Which of these provider ids some outbox row already holds (for the reconciler)."""
    ids = list(provider_ids)
    if not ids:
        return set()
    return set(db.session.scalars(select(OutboxMessage.provider_id)
                                  .where(OutboxMessage.provider_id.in_(ids))))
