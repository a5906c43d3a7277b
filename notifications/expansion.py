"""Expanding domain events: what follows from a referral's state change, done after it commits.

A state change writes one ``domain_events`` row with the referral (``referral_service.domain
.events.record``). Here each event is *expanded* once per consumer in :data:`CONSUMERS`:

- ``messages``: the outbox rows (``outbox.notify`` handlers named in :data:`EVENT_MESSAGES`),
  with the safety checks (safe routes, opt-outs, quiet hours, the daily cap) run now, closer to
  sending;
- ``reminders``: plans a new referral's reminders, and plans them again when a referrer's
  change moved the date or deadline;
- ``metrics``: counts the events by type (``referral_events_total``) once committed.

**Idempotency.** Each (event, consumer) runs in a transaction of its own that first inserts its
``event_expansions`` row (the key: event sequence and consumer name) with ``INSERT … ON
CONFLICT DO NOTHING RETURNING``; if the row was already there the consumer is skipped. What
the consumer writes commits with that row or not at all, so a crash mid-expansion, a replay,
the actor and the sweep racing each other, or two workers all leave the same rows. A consumer
that raises is rolled back (its row too), logged, and tried again by the sweep; the other
consumers' work stands. When every consumer has its row the event gets ``expanded_at`` and the
sweep stops looking at it.

**Who runs it.** ``notifications.runtime`` hands the sequences a transaction recorded to the
``expand_events`` actor (queue ``events``) when it commits; the scheduler's sweep
(:func:`sweep`, every few seconds) expands whatever is still not expanded a little later (a lost
broker message, a worker killed mid-expansion, a consumer that failed). Tests, the demo loader
and the factories call :func:`expand_pending` directly.

**Adding a consumer.** ``expansion.register("name", on_event)`` from a module above this one
(``notifications.runtime`` does it for partner webhooks), so this module imports nothing of
theirs. ``on_event(event)`` writes in ``db.session`` and never commits. Events already
expanded before it was registered are not given to it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from prometheus_client import Counter
from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from notifications import outbox, reminders
from referral_service import clock
from referral_service.extensions import db
from referral_service.models import DomainEvent, EventExpansion, EventType

log = logging.getLogger(__name__)

Consumer = Callable[[DomainEvent], None]

# Which ``outbox.notify`` handlers an event runs, in order (each handler is given the event's
# data as keyword arguments). An event type not here sends nothing.
EVENT_MESSAGES: dict[str, tuple[str, ...]] = {
    EventType.RECEIVED: ("officer_named", "referral_received", "landed_in_team_queue"),
    EventType.QUEUED: ("landed_in_team_queue",),
    EventType.NOTE_ADDED: ("note_posted",),
    EventType.ASSIGNED: ("officer_named",),
    EventType.CONTACT_ATTEMPTED: ("contact_attempt_failed",),
    EventType.CONTACT_MADE: ("contact_made",),
    EventType.CLOSED: ("closed",),
    EventType.WITHDRAWN: ("withdrawn",),
    EventType.TRANSFERRED: ("transferred",),
    EventType.TRANSFER_LINK_SENT: ("transfer_link",),
    EventType.CONSENT_WITHDRAWN: ("consent_withdrawn",),
}

# Events the sweep leaves to the actor for this long after they happened (it hands them over at
# commit); after that the sweep expands them itself.
SWEEP_GRACE = timedelta(seconds=2)
SWEEP_BATCH = 200


def messages(event: DomainEvent) -> None:
    for name in EVENT_MESSAGES.get(event.type, ()):
        outbox.notify(name, event.referral, **event.data)


def plan_reminders(event: DomainEvent) -> None:
    referral = event.referral
    if referral is None:
        return
    if event.type == EventType.RECEIVED:
        reminders.schedule(referral)
    elif (event.type == EventType.CHANGED
          and "release_or_discharge_date" in event.data.get("fields", ())):
        reminders.replan(referral)


EVENTS = Counter("referral_events", "Referral domain events expanded (committed), by type.",
                 ["type"])
_COUNTED = "notifications.expansion.counted"


def count(event: DomainEvent) -> None:
    # Counted when the consumer's transaction commits (a rolled-back expansion counts nothing).
    db.session.info.setdefault(_COUNTED, []).append(event.type)


@sa_event.listens_for(Session, "after_commit", propagate=True)
def _count_after_commit(session: Session) -> None:
    for type_ in session.info.pop(_COUNTED, []):
        EVENTS.labels(type_).inc()


@sa_event.listens_for(Session, "after_rollback", propagate=True)
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_COUNTED, None)


CONSUMERS: dict[str, Consumer] = {
    "messages": messages,
    "reminders": plan_reminders,
    "metrics": count,
}


def register(name: str, consumer: Consumer) -> None:
    """Add (or replace) a consumer: every event not yet expanded is given to it too."""
    if not name or len(name) > 40:
        raise ValueError("a consumer's name is 1 to 40 characters (event_expansions.consumer)")
    CONSUMERS[name] = consumer


def expand(sequences: Iterable[int], *, commit: bool = True) -> int:
    """Expand these events for every consumer not yet done; return how many are now fully
    expanded. ``commit=False`` (tests, the demo loader): in the caller's transaction, and a
    consumer's error propagates (the caller's transaction is then for rolling back)."""
    done = 0
    for sequence in sequences:
        done += _expand_event(int(sequence), commit)
    return done


def expand_pending(*, commit: bool = True, before: datetime | None = None,
                   limit: int = SWEEP_BATCH) -> int:
    """Expand the events not yet fully expanded (oldest first; those that happened before
    ``before`` only, if given); return how many are now fully expanded."""
    query = select(DomainEvent.sequence).where(DomainEvent.expanded_at.is_(None))
    if before is not None:
        query = query.where(DomainEvent.occurred_at < before)
    sequences = list(db.session.scalars(query.order_by(DomainEvent.sequence).limit(limit)))
    if commit:
        db.session.commit()  # end the read's transaction: each consumer runs in its own
    return expand(sequences, commit=commit)


def sweep(now: datetime | None = None) -> int:
    """The scheduler's safety net: expand what the actor has not (lost, crashed, failed)."""
    return expand_pending(before=(now or clock.now()) - SWEEP_GRACE)


def _expand_event(sequence: int, commit: bool) -> int:
    results = [_expand_for(sequence, name, consumer, commit)
               for name, consumer in list(CONSUMERS.items())]
    if not all(results):
        return 0
    mark = (update(DomainEvent)
            .where(DomainEvent.sequence == sequence, DomainEvent.expanded_at.is_(None))
            .values(expanded_at=clock.now()))
    if not commit:
        db.session.execute(mark)
        return 1
    try:
        db.session.execute(mark)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("event %d: could not mark it expanded; the sweep will", sequence)
        return 0
    return 1


def _expand_for(sequence: int, name: str, consumer: Consumer, commit: bool) -> bool:
    """Run ``consumer`` for the event unless it already has; True when it has, now or before.

    With ``commit`` the claim and the consumer's writes are one transaction, committed here (no
    SAVEPOINT: its release would fire the session's after-commit listeners, handing outbox rows
    to the broker before they are committed)."""
    if not commit:
        _run(sequence, name, consumer)
        return True
    try:
        _run(sequence, name, consumer)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("event %d: consumer %s failed; the sweep will try again", sequence, name)
        return False
    return True


def _run(sequence: int, name: str, consumer: Consumer) -> None:
    if _claim(sequence, name):
        event = db.session.get(DomainEvent, sequence)
        if event is not None:
            consumer(event)


def _claim(sequence: int, consumer: str) -> bool:
    """Insert the (event, consumer) row; False if it was already there (expanded before)."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(EventExpansion).values(
        event_sequence=sequence, consumer=consumer, expanded_at=clock.now(),
    ).on_conflict_do_nothing(index_elements=["event_sequence", "consumer"]).returning(
        EventExpansion.consumer)
    # RETURNING, not rowcount: a row comes back only if this insert wrote it (rowcount is not
    # reliable for this statement through every driver: psycopg gave -1).
    return db.session.execute(statement).first() is not None
