"""The scheduler's housekeeping: delete rows that have outlived their use.

Each tick deletes, in bounded batches (``PURGE_BATCH_SIZE`` rows per table per tick, the oldest
first, by an indexed predicate), and each table in a transaction of its own so that a backlog
in one never holds locks on another:

- access tokens ``OAUTH_TOKEN_RETENTION_DAYS`` after they expired or were revoked (an expired
  token is refused whether its row exists or not; the row is kept a while for investigations);
- the ``jti``s of used ``private_key_jwt`` assertions once past their expiry (an assertion that
  old is refused for its ``exp``, so the replay check no longer needs its ``jti``);
- ``Idempotency-Key`` records ``IDEMPOTENCY_KEY_RETENTION_DAYS`` after the request;
- web-form drafts unchanged for ``domain.drafts.RETENTION`` (their referrers no longer see them).

Only counts are reported (in the tick's counts and its log line): no personal data.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, cast, func, or_

from referral_service.domain import audit, drafts, pruning
from referral_service.extensions import db
from referral_service.models import IdempotencyKey, OAuthToken, UsedClientAssertion

log = logging.getLogger(__name__)


def batches(now: datetime, config: Mapping[str, Any]) -> dict[str, Callable[[], int]]:
    """One bounded delete per table, by the name its count is reported under. None commits:
    the scheduler runs each as a job of its own (one transaction each), so a backlog or a
    failure in one table never holds or undoes another's."""
    limit = int(config["PURGE_BATCH_SIZE"])
    tokens_before = now - timedelta(days=int(config["OAUTH_TOKEN_RETENTION_DAYS"]))
    keys_before = now - timedelta(days=int(config["IDEMPOTENCY_KEY_RETENTION_DAYS"]))
    return {
        "tokens_purged": lambda: pruning.delete_oldest(
            OAuthToken, _token_finished_before(tokens_before), OAuthToken.issued_at, limit),
        "assertions_purged": lambda: pruning.delete_oldest(
            UsedClientAssertion, UsedClientAssertion.expires_at < now,
            UsedClientAssertion.expires_at, limit),
        "idempotency_keys_purged": lambda: pruning.delete_oldest(
            IdempotencyKey, IdempotencyKey.created_at < keys_before, IdempotencyKey.created_at,
            limit),
        "drafts_purged": lambda: drafts.purge_stale(audit.Actor.system("scheduler"),
                                                    limit=limit, now=now),
    }


def report(counts: dict[str, int]) -> None:
    """One log line of what was deleted (counts only), if anything was."""
    if any(counts.values()):
        log.info("purged expired rows: %s", counts)


def _token_finished_before(cutoff: datetime) -> ColumnElement[bool]:
    """Revoked before ``cutoff``, or expired before it. Either implies ``issued_at < cutoff``,
    which keeps the batch on the ``issued_at`` index; the exact expiry (``issued_at +
    expires_in``, in whole seconds) and the revocation are then checked on those rows only."""
    expiry = _epoch_seconds(OAuthToken.issued_at) + OAuthToken.expires_in
    return and_(OAuthToken.issued_at < cutoff,
                or_(OAuthToken.revoked_at < cutoff, expiry < int(cutoff.timestamp())))


def _epoch_seconds(column: Any) -> ColumnElement[int]:
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", column)), Integer)
    return cast(func.strftime("%s", column), Integer)  # SQLite keeps naive UTC text
