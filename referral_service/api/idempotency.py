"""``Idempotency-Key``: a retried submission returns the original referral, exactly once.

The key row is inserted before the referral is made, in the same transaction. A concurrent retry
with the same key blocks on the unique constraint (on SQLite, on the write lock) until the first
commits, then finds its row and replays it; if the first failed and rolled back, the retry goes
ahead as the first. The request's unit of work commits the key with the referral.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from referral_service import unit_of_work, validation
from referral_service.domain.errors import Conflict, ValidationFailed
from referral_service.extensions import db
from referral_service.models import IdempotencyKey, Referral

HEADER = "Idempotency-Key"
MAX_LENGTH = 255


class _Headers(Protocol):
    def get(self, key: str) -> str | None: ...


def key_from(headers: _Headers) -> str | None:
    key = headers.get(HEADER)
    if key is None:
        return None
    # A control character (NUL) in the key could not be stored on PostgreSQL: it was a 500.
    if (not key.strip() or len(key) > MAX_LENGTH
            or validation.has_control_characters(key, multiline=False)):
        raise ValidationFailed({HEADER: [f"Use a key of 1 to {MAX_LENGTH} characters, without "
                                         "control characters."]})
    return key


def once(client_id: str, key: str | None, request_hash: str,
         create: Callable[[], Referral]) -> tuple[Referral, bool]:
    """Run ``create`` once per (client, key); return (referral, replayed). The request's unit of
    work commits the referral and the key together."""
    if key is None:
        return create(), False
    # The reservation must be the first statement of its transaction: on SQLite a transaction
    # that has already read (the token lookup, or a look for the key first) cannot wait for the
    # write lock and failed at once with "database is locked" (a 500) when retries raced. So the
    # read-only transaction so far is ended (nothing is pending) and the key is inserted with no
    # read before it; a concurrent retry then waits for the lock (SQLite) or for the first
    # request's row (PostgreSQL), and finds that row once the first commits.
    unit_of_work.end_read_only_transaction()
    try:
        with db.session.begin_nested():
            record = IdempotencyKey(client_id=client_id, key=key, request_hash=request_hash)
            db.session.add(record)
    except IntegrityError:
        existing = _find(client_id, key)
        if existing is None:  # pragma: no cover - the other request rolled back just now
            raise Conflict("A request with this Idempotency-Key is still in progress; "
                           "retry shortly.") from None
        return _replay(existing, request_hash), True
    referral = create()
    record.referral_id = referral.id
    return referral, False


def _find(client_id: str, key: str) -> IdempotencyKey | None:
    return db.session.scalar(select(IdempotencyKey).where(
        IdempotencyKey.client_id == client_id, IdempotencyKey.key == key))


def _replay(record: IdempotencyKey, request_hash: str) -> Referral:
    if record.request_hash != request_hash:
        raise Conflict("This Idempotency-Key was already used with a different request body. "
                       "Use a new key for a new referral.")
    referral = db.session.get(Referral, record.referral_id) if record.referral_id else None
    if referral is None:
        raise Conflict("A request with this Idempotency-Key is still in progress; retry shortly.")
    return referral
