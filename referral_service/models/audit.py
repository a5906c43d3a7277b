"""Audit events: who did what to which record, when and from where. Append-only."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_service import clock
from referral_service.extensions import Model
from referral_service.models.enums import ActorType
from referral_service.models.referral import Referral
from referral_service.models.types import UTCDateTime, enum_column_type, json_type, new_uuid


class AuditEvent(Model):
    __tablename__ = "audit_events"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    actor_type: Mapped[ActorType] = mapped_column(enum_column_type(ActorType, "actor_type"))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_client_id: Mapped[str | None] = mapped_column(sa.String(64))
    # A label that survives the user being deactivated: "system:routing", a client id, an email.
    actor_label: Mapped[str] = mapped_column(sa.String(254))
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    # Dotted verb, e.g. "referral.transition", "referral.routed", "user.created".
    action: Mapped[str] = mapped_column(sa.String(64))
    subject_type: Mapped[str] = mapped_column(sa.String(40))
    subject_id: Mapped[str] = mapped_column(sa.String(64))
    referral_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("referrals.id"))
    from_status: Mapped[str | None] = mapped_column(sa.String(40))
    to_status: Mapped[str | None] = mapped_column(sa.String(40))
    # Structured, never free text about the person: ids, codes, reasons.
    details: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)

    # Lets the unit of work write a new referral before the events about it in one flush.
    referral: Mapped[Referral | None] = relationship()

    __table_args__ = (
        sa.Index("ix_audit_events_referral_occurred", "referral_id", "occurred_at"),
        sa.Index("ix_audit_events_subject", "subject_type", "subject_id"),
    )


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise RuntimeError("Audit events are append-only: they cannot be changed.")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise RuntimeError("Audit events are append-only: they cannot be deleted.")
