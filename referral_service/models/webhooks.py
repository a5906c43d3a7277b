"""Partner webhook subscriptions and their deliveries (API.md §2, issue 14.2).

A subscription belongs to one partner organisation and is told of that organisation's own
referrals only. Its signing secret is stored *sealed* (AES-GCM, ``referral_service.sealing``):
HMAC needs the clear secret at each delivery, so a one-way digest would not do.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_service import clock
from referral_service.extensions import Model
from referral_service.models.org import Organisation
from referral_service.models.types import UTCDateTime, enum_column_type, json_type, new_uuid


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    FAILING = "failing"  # a delivery kept failing for 24 hours: no new deliveries are made


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after 24 hours of retries


class WebhookSubscription(Model):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"),
                                                       index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    sealed_secret: Mapped[str] = mapped_column(sa.String(200))
    event_types: Mapped[list[str]] = mapped_column(json_type(), default=list)
    # Told when deliveries fail for 24 hours (else the organisation's partner accounts).
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    status: Mapped[SubscriptionStatus] = mapped_column(
        enum_column_type(SubscriptionStatus, "webhook_subscription_status"),
        default=SubscriptionStatus.ACTIVE)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_client_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    organisation: Mapped[Organisation] = relationship()


class WebhookDelivery(Model):
    """One event for one subscription. The body is made once, so every retry sends the same
    bytes under the same ``webhook-id`` (the event's id) and the partner can deduplicate."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("domain_events.id"))
    event_type: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column_type(DeliveryStatus, "webhook_delivery_status"),
        default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_response_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(sa.String(300))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    subscription: Mapped[WebhookSubscription] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_delivery_event"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_subscription_created", "subscription_id", "created_at"),
    )
