"""The scheduler tick: the database says what is due, the tick hands it to the broker.

Every minute (``referrals scheduler``, or a thread of ``referrals serve`` in embedded mode) one
tick:

1. settles outbox rows stuck in ``sending`` (a worker claimed them and then stopped);
2. fires due reminders and escalations (``notifications.due_reminders``), which write outbox rows
   (one escalation digest per team leader per tick);
   then gathers the team-queue arrivals whose digest slot has ended into one email per team
   mailbox (``notifications.team_digest``);
3. enqueues the outbox rows that are due (an indexed query on ``status, not_before``);
4. expands domain events not yet expanded (``notifications.expansion.sweep``; between ticks too,
   every ``EVENT_SWEEP_SECONDS``, so a lost hand-over delays messages by seconds, not a minute);
5. deletes rows that have outlived their use (expired tokens and assertions, old
   ``Idempotency-Key`` records, stale drafts), a bounded batch per table (``notifications.purge``).

Each of these jobs (and each table's purge) is one transaction, committed here: a job that fails
is rolled back and logged, and the others' work stands. The jobs themselves never commit.

Because every tick enqueues whatever is due, a lost broker message, a flushed Redis or a restart
of the embedded broker loses nothing; and because the actor claims each row with a
compare-and-set, enqueuing a row twice never sends it twice.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from types import FrameType
from typing import Any, TypeVar, cast

from flask import Flask, current_app
from sqlalchemy import Row, Select, or_, select, update

from integrations import providers
from integrations.ports import DeliveryStatus, StatusEvent
from notifications import (
    actors,
    delivery_status,
    dispatch,
    due_reminders,
    expansion,
    outbox,
    purge,
    team_digest,
    templates,
    webhook_delivery,
)
from notifications.dispatch import MAX_ATTEMPTS
from referral_service import clock
from referral_service.extensions import db
from referral_service.models import Audience, Channel, MessageStatus, OutboxMessage

log = logging.getLogger(__name__)

BATCH = 500
# How often run_forever sweeps for domain events not yet expanded (between its ticks).
EVENT_SWEEP_SECONDS = 5.0
STUCK_AFTER = timedelta(minutes=10)
# A row handed to the broker this long ago and still queued was lost (a flushed Redis, a
# restarted embedded broker): hand it over again.
REENQUEUE_AFTER = timedelta(minutes=2)
# A stuck SMS whose provider lookup keeps failing this long is given to an officer to check.
LOOKUP_GIVE_UP_AFTER = timedelta(hours=1)
UNKNOWN_DELIVERY = ("Delivery unknown (a worker stopped, or the provider did not answer in "
                    "time): check the provider before sending again.")
EMAIL_UNKNOWN = ("Delivery unknown: the mail server took the email but never confirmed it. Not "
                 "sent again; look for its Message-ID (the provider id) in the server's log.")
EMAIL_REQUEUED = "Requeued: a worker stopped while sending it."
GAVE_UP_STUCK = "Gave up after {attempts} tries: a worker stopped each time."


_Query = TypeVar("_Query", bound=Select)


def _locking(query: _Query) -> _Query:
    """On PostgreSQL let concurrent schedulers share the work (``FOR UPDATE SKIP LOCKED``);
    SQLite has one writer at a time and no such clause."""
    if db.session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


Job = Callable[[], dict[str, int]]


def tick(now: datetime | None = None) -> dict[str, int]:
    """One pass of the scheduler; returns what it did, as counts. Needs an app context.

    Each job runs in a transaction of its own (:func:`run_job`); a job that fails counts
    nothing and the tick goes on with the next."""
    now = now or clock.now()
    jobs: dict[str, Job] = {
        "reconcile": lambda: reconcile_stuck(now),
        "reminders": lambda: {"reminders": due_reminders.process_due(now)},
        # Before "enqueue": held arrivals become one digest row, which that job then hands over.
        "team_digest": lambda: team_digest.send_due(now),
        "enqueue": lambda: enqueue_due(now),
        "webhooks": lambda: enqueue_due_webhooks(now),
    }
    # Last: housekeeping never delays a message.
    for name, batch in purge.batches(now, current_app.config).items():
        jobs[name] = lambda name=name, batch=batch: {name: batch()}  # type: ignore[misc]
    counts: dict[str, int] = {}
    # Each event and consumer commits on its own (notifications.expansion): no job wrapper.
    counts.update(sweep_events(now))
    for name, job in jobs.items():
        counts.update(run_job(name, job))
    purge.report({name: count for name, count in counts.items() if name.endswith("_purged")})
    return counts


def sweep_events(now: datetime | None = None) -> dict[str, int]:
    """Expand the domain events the actor has not (``expansion.sweep``); never raises."""
    try:
        return {"events_expanded": expansion.sweep(now)}
    except Exception:
        db.session.rollback()
        log.exception("event sweep failed; the next one tries again")
        return {}


def run_job(name: str, job: Job) -> dict[str, int]:
    """Run one job of the tick and commit what it wrote; if it fails, roll it back, log it and
    count nothing (the next tick tries again)."""
    try:
        counts = job()
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("scheduler job %s failed; the next tick tries again", name)
        return {}
    return counts


def enqueue_due(now: datetime) -> dict[str, int]:
    """Hand the broker the outbox rows that are due (and any it seems to have lost)."""
    due = list(db.session.scalars(_locking(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == MessageStatus.QUEUED, OutboxMessage.not_before <= now)
        # Held team arrivals go only in a digest (notifications.team_digest).
        .where(OutboxMessage.template != outbox.TEAM_ARRIVAL_HELD)
        .where(or_(OutboxMessage.enqueued_at.is_(None),
                   OutboxMessage.enqueued_at < now - REENQUEUE_AFTER))
        .order_by(OutboxMessage.not_before)
        .limit(BATCH))))
    counts = {"due": len(due), "enqueued": 0}
    if due:
        # Mark first, then enqueue, then commit (run_job): the rows are written (locked) before
        # a worker can be handed them, so its claim waits for this commit instead of this
        # transaction's write failing on SQLite after the worker's ("database is locked"). On
        # PostgreSQL a second scheduler skips the locked rows.
        _mark_enqueued(due, now)
        counts["enqueued"] = actors.enqueue(due)
        if counts["enqueued"] < len(due):
            _mark_enqueued(due[counts["enqueued"]:], None)  # the broker is down: next tick
    return counts


def enqueue_due_webhooks(now: datetime) -> dict[str, int]:
    """Hand the broker the partner webhook deliveries that are due (first tries the after-commit
    hand-over lost, and retries whose back-off has passed)."""
    due = webhook_delivery.due(now)
    return {"webhooks_due": len(due), "webhooks_enqueued": actors.enqueue_webhooks(due)}


def _mark_enqueued(ids: list[uuid.UUID], when: datetime | None) -> None:
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids))
        .values(enqueued_at=when).execution_options(synchronize_session=False))


def reconcile_stuck(now: datetime) -> dict[str, int]:
    """Settle rows claimed more than ``STUCK_AFTER`` ago and never finished.

    The worker may or may not have handed such a message to the provider before it stopped, so
    an SMS is never resent blindly: a second text to someone in a crisis (or to a phone someone
    else may read) is worse than a failure an officer can see and check. If the SMS sender can
    look up what it sent (``integrations.ports.SentLookup``: Twilio's message list), its answer
    settles the row: sent (its id recorded), or never sent (queued again). Without a lookup, or
    when the provider cannot tell, the row is marked failed with a reason that says to check
    the provider, and the named officer is told.

    An email has no such lookup. One that already holds its Message-ID was handed to the mail
    server, which then never answered (``dispatch``: fate unknown): it is marked failed with a
    reason that says so, never resent, and the named officer is told. One without (the worker
    stopped somewhere in the exchange) is sent again: a duplicate is then the lesser harm.

    A text the provider took and then could not deliver is failed as its status callback would
    fail it (``delivery_status.not_delivered`` with the provider's report, so an opted-out
    recipient is remembered), and its fallback (a safe email, or the officer is told) is
    written in the same transaction: the batch's settling, its fallbacks and its notices to
    officers commit together (the tick's :func:`run_job`) or not at all, so a crash can never
    leave a row settled whose fallback did not run. Never commits.
    """
    counts = {"stuck_requeued": 0, "stuck_sent": 0, "stuck_unknown": 0, "stuck_gave_up": 0}
    # Columns, not entities: the rows are changed by compare-and-set updates below, and no stale
    # copy is left in the session's identity map.
    stuck = db.session.execute(_locking(
        select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.attempts,
               OutboxMessage.to_address, OutboxMessage.body, OutboxMessage.claimed_at,
               OutboxMessage.provider_id, OutboxMessage.provider_status)
        .where(OutboxMessage.status == MessageStatus.SENDING,
               OutboxMessage.claimed_at < now - STUCK_AFTER)
        .order_by(OutboxMessage.claimed_at)
        .limit(BATCH))).all()
    if not stuck:
        return counts
    sms = None
    if any(message.channel is Channel.SMS for message in stuck):
        sms = providers.sms_sender(current_app.config)
    unknown: list[uuid.UUID] = []
    undelivered: list[tuple[uuid.UUID, StatusEvent]] = []  # with the provider's report
    try:
        _settle_all(stuck, getattr(sms, "find_sent", None), now, counts, unknown, undelivered)
    finally:
        actors.close_sender(sms)
    _fall_back_for_undelivered(undelivered)
    _tell_officers_of_unknown(unknown)
    if counts["stuck_unknown"]:
        log.warning("%d message(s) marked failed: delivery unknown", counts["stuck_unknown"])
    return counts


def _settle_all(stuck: Sequence[Row], find_sent: Callable[..., Any] | None, now: datetime,
                counts: dict[str, int], unknown: list[uuid.UUID],
                undelivered: list[tuple[uuid.UUID, StatusEvent]]) -> None:
    taken: set[str] = set()  # provider ids matched in this pass (two rows, same text)
    for message in stuck:
        if message.channel is Channel.SMS:
            found = _look_up(message, find_sent, now)
            if found is _ASK_AGAIN:
                continue
            if found is None and message.provider_id is None:  # no lookup, or cannot tell
                if _settle(message.id, counts, "stuck_unknown", status=MessageStatus.FAILED,
                           status_reason=UNKNOWN_DELIVERY):
                    unknown.append(message.id)
                continue
            candidates = cast(list[StatusEvent], found or [])
            recorded: set[str]
            if message.provider_id is not None:
                # A status callback named Twilio's message while the worker waited for an
                # answer that never came: that one is ours, listed or not (yet).
                candidates = [a for a in candidates if a.provider_id == message.provider_id] or [
                    _as_recorded(message)]
                recorded = set()
            else:
                recorded = dispatch.already_recorded(a.provider_id for a in candidates) | taken
            ours = [accepted for accepted in candidates if accepted.provider_id not in recorded]
            if ours:
                accepted = ours[-1]  # the oldest not yet claimed by another row
                # The provider has it: sent, unless its status says more (delivered, failed).
                status = delivery_status.our_status(accepted.status) or MessageStatus.SENT
                if _settle(message.id, counts, "stuck_sent", status=status,
                           provider_id=accepted.provider_id,
                           provider_status=accepted.provider_status,
                           sent_at=message.claimed_at, status_reason=None):
                    taken.add(accepted.provider_id)
                    if status is MessageStatus.FAILED:
                        undelivered.append((message.id, accepted))
                continue
            # The provider has no such message: it was never sent, so it may be sent now.
        elif message.provider_id is not None:
            # The mail server was given this email and never answered: there is no asking it.
            if _settle(message.id, counts, "stuck_unknown", status=MessageStatus.FAILED,
                       status_reason=EMAIL_UNKNOWN):
                unknown.append(message.id)
            continue
        # A duplicate email is less harmful than a lost one, so an email a worker stopped
        # sending is sent again (as is an SMS the provider says it never received).
        if message.attempts >= MAX_ATTEMPTS:
            _settle(message.id, counts, "stuck_gave_up", status=MessageStatus.FAILED,
                    status_reason=GAVE_UP_STUCK.format(attempts=message.attempts))
        else:
            _settle(message.id, counts, "stuck_requeued", status=MessageStatus.QUEUED,
                    enqueued_at=None,
                    status_reason=EMAIL_REQUEUED if message.channel is Channel.EMAIL else None)


_ASK_AGAIN = object()


def _as_recorded(message: Row) -> StatusEvent:
    """What the row already says of the provider's message (a status callback recorded it), as
    the lookup would report it; its status is in the provider's words, so "on its way" here."""
    return StatusEvent(provider_id=message.provider_id,
                       provider_status=message.provider_status or "",
                       status=DeliveryStatus.ON_ITS_WAY)


def _look_up(message: Row, find_sent: Callable[..., Any] | None, now: datetime) -> object:
    """What the provider sent of this stuck SMS: a list (maybe empty), None (cannot tell, or no
    lookup), or ``_ASK_AGAIN`` when the provider could not be asked (the next tick tries again,
    until the row has been stuck ``LOOKUP_GIVE_UP_AFTER``: then it cannot tell)."""
    if find_sent is None:
        return None
    try:
        found: list[StatusEvent] | None = find_sent(message.to_address, message.body,
                                                 message.claimed_at)
    except Exception as error:  # the lookup failed: leave the row for the next tick
        log.warning("message %s: could not look up the provider (%s)", message.id,
                    type(error).__name__)
        if message.claimed_at < now - LOOKUP_GIVE_UP_AFTER:
            return None
        return _ASK_AGAIN
    return found


def _settle(message_id: uuid.UUID, counts: dict[str, int], outcome: str,
            **values: Any) -> bool:
    """Change a stuck row only if it is still in ``sending``: a worker that finishes late wins."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == MessageStatus.SENDING)
        .values(updated_at=clock.now(), **values)
        .execution_options(synchronize_session=False))
    if result.rowcount == 1:  # type: ignore[attr-defined]
        counts[outcome] += 1
        return True
    return False


def _fall_back_for_undelivered(failed: list[tuple[uuid.UUID, StatusEvent]]) -> None:
    """Rows settled as failed from the provider's records: the reason, the fallback and (for an
    opted-out recipient) the opt-out, by the status callback's own
    ``delivery_status.not_delivered``, in this same transaction."""
    for message_id, report in failed:
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        if message is not None:
            delivery_status.not_delivered(message, report)


def _tell_officers_of_unknown(message_ids: list[uuid.UUID]) -> None:
    """A text or an email to an applicant that may or may not have gone: the named officer
    decides."""

    for message_id in message_ids:
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        if message is None or message.audience is not Audience.APPLICANT:
            continue
        referral = message.referral
        if referral is None or referral.named_officer is None:
            continue
        officer = referral.named_officer
        kind = f"{message.channel.value}_delivery_unknown"
        outbox.to_person(referral, officer, event=kind, template=kind,
                         audience=Audience.OFFICER,
                         text=templates.officer_reminder(kind, officer.name, referral.reference,
                                                         referral.contact_due_by))


def run_forever(app: Flask, interval: float = 60.0, stop: threading.Event | None = None) -> None:
    """Tick every ``interval`` seconds until ``stop`` is set, or SIGTERM/SIGINT arrives (when
    run in the main thread). A failed tick is logged and the loop goes on; a signal ends it
    between ticks, never half-way through one."""
    stop = stop or threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        def _request_stop(signum: int, _frame: FrameType | None) -> None:
            log.info("scheduler: signal %d, stopping after this tick", signum)
            stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, _request_stop)
    try:
        next_tick = 0.0
        while not stop.is_set():
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + interval
                try:
                    with app.app_context():
                        counts = tick()
                    if any(counts.values()):
                        log.info("scheduler tick: %s", counts)
                except Exception:
                    log.exception("scheduler tick failed; trying again in %.0f s", interval)
            else:
                with app.app_context():
                    swept = sweep_events()
                if any(swept.values()):
                    log.info("event sweep: %s", swept)
            stop.wait(min(EVENT_SWEEP_SECONDS, max(0.0, next_tick - time.monotonic())))
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
