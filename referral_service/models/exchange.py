"""What partners and the council exchange about a referral: notes both ways, and the
idempotency record that makes a retried submission return the original referral."""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_service import clock
from referral_service.extensions import Model
from referral_service.models.referral import Referral
from referral_service.models.types import UTCDateTime, new_uuid


class ReferralMessage(Model):
    """A note between the referrer and the council about one referral (not the person)."""

    __tablename__ = "referral_messages"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"))
    # "referrer" or "council": who wrote it, as the other side sees it.
    author_side: Mapped[str] = mapped_column(sa.String(10))
    author_name: Mapped[str] = mapped_column(sa.String(200))
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    author_client_id: Mapped[str | None] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    referral: Mapped[Referral] = relationship()

    __table_args__ = (
        sa.CheckConstraint("author_side IN ('referrer', 'council')", name="author_side"),
        sa.Index("ix_referral_messages_referral_created", "referral_id", "created_at"),
    )


class ReferralRead(Model):
    """When a user last viewed a referral's notes: notes from the other side written after it
    are unread (a marker on lists and on the notes until the referral is viewed again)."""

    __tablename__ = "referral_reads"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                               primary_key=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True)
    last_read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class IdempotencyKey(Model):
    """One row per (client, key): the unique constraint, not a read-then-write, is what makes
    twenty concurrent retries create one referral."""

    __tablename__ = "idempotency_keys"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    client_id: Mapped[str] = mapped_column(sa.String(64))
    key: Mapped[str] = mapped_column(sa.String(255))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    referral_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("referrals.id"))
    # Indexed for the scheduler's purge of records past their retention.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)

    __table_args__ = (sa.UniqueConstraint("client_id", "key"),)
