"""Partner webhooks, the sending side: one delivery row at a time, in the worker only.

:func:`deliver` claims a due pending row (a compare-and-set that also leases it for a while, so
two workers never send it at once and a worker that dies leaves it to be tried again), commits
the claim, sends outside any transaction (``integrations.webhook_http``: SSRF checks at each
send, pinned address, short timeouts, no redirects), then records the result. A failure is
tried again after 30 s, doubling (with jitter, at most an hour apart) until 24 hours after the
event; then the delivery is ``failed``, the subscription ``failing`` and its organisation's
contact emailed, once. A partner that answers after our timeout counts as failed and is sent
the same delivery again: it deduplicates on ``webhook-id`` (the event's id).
"""
from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from integrations import webhook_http
from notifications import outbox
from referral_service import clock, sealing
from referral_service.extensions import db
from referral_service.models import (
    DeliveryStatus,
    SubscriptionStatus,
    WebhookDelivery,
    WebhookSubscription,
)

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)
JITTER = 0.2
REENQUEUE_AFTER = timedelta(minutes=2)
BATCH = 500


def client_for(config: Mapping[str, Any]) -> webhook_http.WebhookClient:
    """Loopback addresses (and plain http to them) only outside production."""
    return webhook_http.WebhookClient(
        allow_loopback=config.get("APP_ENV") != "production",
        timeout=float(config.get("WEBHOOK_TIMEOUT_SECONDS") or 10.0),
        resolve=config.get("WEBHOOK_RESOLVER"), ca_file=config.get("WEBHOOK_CA_FILE"))


def backoff(attempts: int) -> timedelta:
    wait = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)
    return wait * (1 + random.uniform(-JITTER, JITTER))  # noqa: S311 (spreading, not secrecy)


def _claim(delivery_id: uuid.UUID, now: datetime, lease: timedelta) -> bool:
    result = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id,
               WebhookDelivery.status == DeliveryStatus.PENDING,
               WebhookDelivery.next_attempt_at <= now)
        .values(attempts=WebhookDelivery.attempts + 1, last_attempt_at=now,
                next_attempt_at=now + lease)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


def deliver(delivery_id: uuid.UUID, client: webhook_http.WebhookClient) -> DeliveryStatus | None:
    """Try one delivery if it is due; None when it was not (already taken, not due, gone)."""
    now = clock.now()
    if not _claim(delivery_id, now, timedelta(seconds=client.timeout * 3 + 60)):
        return None
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None:
        return None
    subscription = delivery.subscription
    try:
        secret = sealing.unseal(subscription.sealed_secret, str(subscription.id))
    except sealing.Unsealable:
        result = webhook_http.Result(False, error="The signing secret cannot be read (the "
                                                  "service's SECRET_KEY changed).")
    else:
        body = delivery.body.encode()
        timestamp = int(clock.now().timestamp())
        msg_id = str(delivery.event_id)
        db.session.commit()  # no transaction is held open while the partner answers
        result = client.post(subscription.url, body, {
            "webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": webhook_http.sign(secret, msg_id, timestamp, body)})
    status = _record(delivery_id, result)
    db.session.commit()
    return status


def _record(delivery_id: uuid.UUID, result: webhook_http.Result) -> DeliveryStatus:
    now = clock.now()
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    assert delivery is not None
    delivery.last_response_code = result.status_code
    delivery.last_error = (result.error or "")[:300] or None
    if result.delivered:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        return delivery.status
    if now - delivery.created_at >= GIVE_UP_AFTER:
        delivery.status = DeliveryStatus.FAILED
        _mark_failing(delivery.subscription, now)
        return delivery.status
    delivery.next_attempt_at = now + backoff(delivery.attempts)
    delivery.enqueued_at = None
    return delivery.status


def _mark_failing(subscription: WebhookSubscription, now: datetime) -> None:
    """Active → failing, and its contact told, once (a compare-and-set: the first gives up)."""
    changed = db.session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription.id,
               WebhookSubscription.status == SubscriptionStatus.ACTIVE)
        .values(status=SubscriptionStatus.FAILING, failing_since=now)
        .execution_options(synchronize_session=False))
    if changed.rowcount == 1:  # type: ignore[attr-defined]
        log.warning("webhook subscription %s marked failing", subscription.id)
        outbox.notify("webhook_failing", None, subscription=subscription)


def due(now: datetime) -> list[uuid.UUID]:
    """Pending deliveries due now and not handed to the broker lately; marked as handed."""
    ids = list(db.session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING,
               WebhookDelivery.next_attempt_at <= now)
        .where(or_(WebhookDelivery.enqueued_at.is_(None),
                   WebhookDelivery.enqueued_at < now - REENQUEUE_AFTER))
        .order_by(WebhookDelivery.next_attempt_at).limit(BATCH)))
    if ids:
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids))
                           .values(enqueued_at=now).execution_options(synchronize_session=False))
    return ids
