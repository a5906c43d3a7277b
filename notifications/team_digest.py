"""The scheduler's team-arrival digest job (issue 15.5).

A non-urgent referral landing in the team queue writes one held row for the team mailbox
(``outbox._landed_in_team_queue``: template ``team_arrival_held``, once ever per referral,
``not_before`` the end of its digest slot). When a slot ends, this job gathers each mailbox's due
held rows into one email: the oldest row carries the digest (its words rewritten, template
``team_arrival_digest``) and is then sent as any row; the others are marked suppressed with the
reason, so each referral's timeline still says when the team was told. A referral claimed before
the digest went is left out of it. ``enqueue_due`` never hands a held row to the broker.
Never commits (the tick's ``run_job`` does).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, select

from notifications import outbox, templates
from referral_service.extensions import db
from referral_service.models import MessageStatus, OutboxMessage, ReferralStatus

BATCH = 500
IN_DIGEST = "Told in the team digest sent with the message of {reference}."
CLAIMED = "Not in the team digest: an officer was named before it went."


_Query = TypeVar("_Query", bound=Select)


def _locking(query: _Query) -> _Query:
    """Concurrent schedulers on PostgreSQL share the work (``FOR UPDATE SKIP LOCKED``)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def send_due(now: datetime) -> dict[str, int]:
    held = list(db.session.scalars(_locking(
        select(OutboxMessage)
        .where(OutboxMessage.status == MessageStatus.QUEUED,
               OutboxMessage.template == outbox.TEAM_ARRIVAL_HELD,
               OutboxMessage.not_before <= now)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(BATCH))))
    by_mailbox: dict[str, list[OutboxMessage]] = defaultdict(list)
    for row in held:
        by_mailbox[row.to_address].append(row)
    counts = {"team_digests": 0, "team_digest_referrals": 0}
    for rows in by_mailbox.values():
        waiting = [row for row in rows if row.referral is not None
                   and row.referral.status is ReferralStatus.UNASSIGNED]
        for row in rows:
            if row not in waiting:
                row.status, row.status_reason = MessageStatus.SUPPRESSED, CLAIMED
        if not waiting:
            continue
        carrier = waiting[0]
        assert carrier.referral is not None
        text = templates.team_arrival_digest(
            [(row.referral.reference, row.referral.contact_due_by)  # type: ignore[union-attr]
             for row in waiting], outbox.team_queue_link())
        carrier.template, carrier.subject, carrier.body = (
            outbox.TEAM_ARRIVAL_DIGEST, text.subject, text.body)
        for row in waiting[1:]:
            row.status = MessageStatus.SUPPRESSED
            row.status_reason = IN_DIGEST.format(reference=carrier.referral.reference)
        counts["team_digests"] += 1
        counts["team_digest_referrals"] += len(waiting)
    db.session.flush()
    return counts
