"""The domain event stream: one row per change of a referral that others react to.

A state change writes the referral, its audit events and its ``DomainEvent`` in one
transaction. After commit the worker *expands* each event for each consumer (applicant and
staff messages, reminders, partner webhooks, metrics); ``EventExpansion`` records that a
consumer has done so, under a unique key, so a crash mid-expansion or a replay never expands
an event twice for the same consumer.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_service import clock
from referral_service.extensions import Model
from referral_service.models.referral import Referral
from referral_service.models.types import UTCDateTime, json_type, new_uuid


class EventType(StrEnum):
    """What happened to a referral. Partners' webhooks carry these names (API.md §2)."""

    RECEIVED = "referral.received"
    QUEUED = "referral.queued"  # landed in the team queue: no officer could be named
    ASSIGNED = "referral.assigned"  # an officer is named (routing, claim, reassignment)
    ACCEPTED = "referral.accepted"
    CONTACT_ATTEMPTED = "referral.contact_attempted"
    CONTACT_MADE = "referral.contact_made"
    CLOSED = "referral.closed"
    WITHDRAWN = "referral.withdrawn"
    TRANSFERRED = "referral.transferred"
    NOTE_ADDED = "referral.note_added"
    CONSENT_WITHDRAWN = "referral.consent_withdrawn"  # consent to the referral or a route
    TRANSFER_LINK_SENT = "referral.transfer_link_sent"  # a council not on the service: its link
    CHANGED = "referral.changed"  # the referrer changed the date or contact details


class DomainEvent(Model):
    __tablename__ = "domain_events"

    # Order of the stream (expansion and webhooks go in this order per referral). The key is
    # the sequence because SQLite numbers only an INTEGER PRIMARY KEY by itself.
    sequence: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True)
    # The event's name outside (the webhook-id partners deduplicate on).
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, default=new_uuid)
    type: Mapped[str] = mapped_column(sa.String(64))
    referral_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("referrals.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Ids, codes and reasons the consumers need; never free text about the person.
    data: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    # Set when every consumer has expanded the event; the sweep looks for the rows without it
    # (a partial index holds only those, so it stays small however long the stream grows).
    expanded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    referral: Mapped[Referral | None] = relationship()

    __table_args__ = (
        sa.Index("ix_domain_events_referral_sequence", "referral_id", "sequence"),
        sa.Index("ix_domain_events_unexpanded", "sequence",
                 postgresql_where=sa.text("expanded_at IS NULL"),
                 sqlite_where=sa.text("expanded_at IS NULL")),
    )


class EventExpansion(Model):
    """That ``consumer`` has expanded the event: written in the same transaction as what
    the expansion wrote, so the pair commits together or not at all."""

    __tablename__ = "event_expansions"

    event_sequence: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey("domain_events.sequence", ondelete="CASCADE"), primary_key=True)
    consumer: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    expanded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
