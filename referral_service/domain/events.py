"""Recording a referral's state change as one ``domain_events`` row, in the caller's transaction.

Every state change of a referral calls :func:`record` exactly once, next to its audit event: the
referral, its audit events and its event row commit together or not at all. Nothing else is
written by the change: the worker *expands* the event after commit, once per consumer (messages,
reminders, metrics, partner webhooks: ``notifications.expansion``).

The event's ``data`` is what the consumers need to know about the change and is never free text
about the person: only the keys in :data:`ALLOWED` are accepted (ids, codes, flags, field names);
anything else raises ``ValueError``, so a new key is a decision made here, in review.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import Enum

from referral_service import clock
from referral_service.extensions import db
from referral_service.models import DomainEvent, EventType, Referral

# The event objects a transaction recorded: ``notifications.runtime`` hands their sequences to
# the broker once the transaction commits (and forgets them if it rolls back).
PENDING_KEY = "referral_service.events.pending"

# What an event may carry. Ids are the service's own (uuids as text); codes are from its
# vocabularies (outcomes, channels, results, authority codes, status names); flags are booleans.
ALLOWED: frozenset[str] = frozenset({
    "officer_id",           # the officer named (received, assigned)
    "previous_officer_id",  # the officer named before (assigned): the applicant hears of a change
    "queued",               # received: no officer could be named, it is in the team queue
    "urgent",               # received: same-day deadline
    "transferred_from_id",  # received: the referral this one was transferred from
    "from_officer_id",      # queued: the officer it was taken from
    "outcome",              # closed, transferred: the Outcome code
    "to_authority",         # transferred: the GSS code of the authority now responsible
    "attempt_id",           # contact attempted / made: the ContactAttempt's id
    "channel",              # contact attempted / made: how (ContactChannel code)
    "result",               # contact attempted: why it failed (ContactAttemptResult code)
    "note_id",              # note added: the ReferralMessage's id
    "side",                 # note added: who wrote it ("referrer" or "council")
    "private",              # note added: a note partners must not be sent
    "fields",               # changed: the names of the fields changed (never their values)
    "deadline_moved",       # changed: the contact deadline moved with the date
    "scope",                # consent withdrawn: which consent (ConsentScope code)
    "withdrawn_by",         # consent withdrawn: referrer, officer or person (WithdrawnBy code)
    "link_id",              # transfer link sent: the one-time link's id (its secret is made
                            # from it and the secret key only when the email is sent)
})

Value = str | bool | int | list[str] | None


def record(referral: Referral, type: EventType, **data: object) -> DomainEvent:
    """Add the event for ``referral``'s change to the caller's session (flushed and committed
    with the change). ``data``: keys from :data:`ALLOWED`; None values are left out."""
    unknown = sorted(set(data) - ALLOWED)
    if unknown:
        raise ValueError(f"domain event {type.value}: keys not allowed in event data: "
                         f"{', '.join(unknown)} (see referral_service.domain.events.ALLOWED)")
    event = DomainEvent(id=uuid.uuid4(), type=type.value, referral_id=referral.id,
                        occurred_at=clock.now(),
                        data={key: _plain(key, value) for key, value in data.items()
                              if value is not None})
    db.session.add(event)
    db.session.info.setdefault(PENDING_KEY, []).append(event)
    return event


def _plain(key: str, value: object) -> Value:
    """The value as JSON keeps it: ids and codes as text, flags and counts as they are."""
    if isinstance(value, bool | int | str) and not isinstance(value, Enum):
        return value
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | frozenset | set) and all(
            isinstance(item, str) for item in value):
        return sorted(value) if isinstance(value, frozenset | set) else list(value)
    raise ValueError(f"domain event data {key!r}: {type(value).__name__} is not an id, code, "
                     "flag or list of names")
