"""Partner webhooks, the writing side: the expansion consumer that turns a domain event into
delivery rows (``on_event``). Nothing is sent here: ``notifications.webhook_delivery`` sends.

Only the organisation that made the referral is told, and only by its active subscriptions
that asked for the event's type. The body carries no more than the partner's own API read of
the referral gives (less: the event type, when, the referral's id, reference, status and
outcome, and ids of what changed), and private notes never leave.
"""
from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from referral_service import clock
from referral_service.extensions import db
from referral_service.models import (
    DomainEvent,
    EventType,
    Referral,
    SubscriptionStatus,
    WebhookDelivery,
    WebhookSubscription,
)

# What partners may subscribe to: every change of status or outcome a partner can read, and
# notes (not private ones). ``referral.changed`` is the partner's own change: not sent back.
DELIVERED: tuple[str, ...] = tuple(t.value for t in (
    EventType.RECEIVED, EventType.QUEUED, EventType.ASSIGNED, EventType.ACCEPTED,
    EventType.CONTACT_ATTEMPTED, EventType.CONTACT_MADE, EventType.CLOSED,
    EventType.WITHDRAWN, EventType.TRANSFERRED, EventType.NOTE_ADDED))

# The referral's status the event leaves it in (a note leaves it as it is).
STATUS_AFTER = {
    EventType.RECEIVED: None, EventType.QUEUED: "unassigned", EventType.ASSIGNED: "assigned",
    EventType.ACCEPTED: "accepted", EventType.CONTACT_ATTEMPTED: "contact_attempted",
    EventType.CONTACT_MADE: "contacted", EventType.CLOSED: "closed",
    EventType.WITHDRAWN: "withdrawn", EventType.TRANSFERRED: "transferred",
}
# Event data passed on: codes and ids only.
PASSED_ON = ("outcome", "to_authority", "note_id", "side", "channel")

# Delivery ids written in this transaction: handed to the worker when it commits
# (notifications.webhook_delivery's listener).
PENDING_KEY = "notifications.partner_webhooks.pending"


def body_of(event: DomainEvent, referral: Referral) -> str:
    status = STATUS_AFTER.get(EventType(event.type)) or referral.status.value
    data: dict[str, object] = {"referral_id": str(referral.id), "reference": referral.reference,
                               "status": status}
    data.update({key: event.data[key] for key in PASSED_ON if key in event.data})
    if event.type == EventType.CLOSED:
        data.setdefault("outcome", referral.outcome.value if referral.outcome else None)
    return json.dumps({"type": event.type, "timestamp": event.occurred_at.isoformat(),
                       "data": data}, separators=(",", ":"), sort_keys=True)


def on_event(event: DomainEvent) -> None:
    """Write a pending delivery for each active subscription of the referring organisation that
    asked for this event's type. In the caller's transaction; never commits, never sends."""
    if event.type not in DELIVERED or event.referral_id is None:
        return
    if event.type == EventType.NOTE_ADDED and event.data.get("private"):
        return  # officers' private notes never leave the service
    referral = db.session.get(Referral, event.referral_id)
    if referral is None or referral.referring_organisation_id is None:
        return
    subscriptions = db.session.scalars(select(WebhookSubscription).where(
        WebhookSubscription.organisation_id == referral.referring_organisation_id,
        WebhookSubscription.status == SubscriptionStatus.ACTIVE))
    wanted = [s for s in subscriptions if event.type in (s.event_types or DELIVERED)]
    if not wanted:
        return
    already = set(db.session.scalars(select(WebhookDelivery.subscription_id).where(
        WebhookDelivery.event_id == event.id)))
    body = body_of(event, referral)
    now = clock.now()
    for subscription in wanted:
        if subscription.id in already:
            continue  # a replay: the delivery is there
        delivery = WebhookDelivery(id=uuid.uuid4(), subscription_id=subscription.id,
                                   event_id=event.id, event_type=event.type, body=body,
                                   next_attempt_at=now, created_at=now)
        db.session.add(delivery)
        db.session.info.setdefault(PENDING_KEY, []).append(delivery.id)
