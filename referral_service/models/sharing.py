"""MARAC and MAPPA sharing: a case shared with a panel, the panel's actions on it, and the record
of every access a panel made (or was refused).

The referral's own flags (``risk_marac``, ``risk_mappa_level``, ``risk_mappa_category``, from the
API payload's ``risk``) say which panel a case belongs to; nothing here repeats them.

Shares change only once, when revoked; actions and access records never change: the listeners
at the end refuse anything else, so the history a team leader exports is the history that was.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_service import clock
from referral_service.extensions import Model
from referral_service.models.enums import ActorType
from referral_service.models.org import Organisation
from referral_service.models.people import User
from referral_service.models.referral import Referral
from referral_service.models.types import UTCDateTime, enum_column_type, json_type, new_uuid


class AccessAction(StrEnum):
    """What a panel (or a team leader exporting the log) did with shared case data."""

    LIST = "list"
    VIEW = "view"
    EXPORT = "export"
    REFUSED = "refused"


class CaseShare(Model):
    """One case shared with one panel for a purpose, on a lawful basis, until it expires."""

    __tablename__ = "case_shares"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"))
    panel_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    # A code from ``domain/panels.py`` LAWFUL_BASES for the panel's type.
    lawful_basis: Mapped[str] = mapped_column(sa.String(60))
    purpose: Mapped[str] = mapped_column(sa.String(1000))
    next_meeting_on: Mapped[date] = mapped_column(sa.Date)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    shared_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    revocation_reason: Mapped[str | None] = mapped_column(sa.String(500))

    referral: Mapped[Referral] = relationship()
    panel: Mapped[Organisation] = relationship()
    shared_by: Mapped[User] = relationship(foreign_keys=[shared_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    __table_args__ = (
        sa.CheckConstraint("expires_at > shared_at", name="expires_after_shared"),
        sa.CheckConstraint("(revoked_at IS NULL) = (revoked_by_id IS NULL)",
                           name="revoked_by_whom"),
        # A panel's live cases: its list page and the API list.
        sa.Index("ix_case_shares_panel_expires", "panel_organisation_id", "expires_at"),
        # A case's shares: the officer's sharing page, and reading one case for a panel.
        sa.Index("ix_case_shares_referral_panel", "referral_id", "panel_organisation_id"),
    )

    def is_live(self, at: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (at or clock.now())

    @property
    def state(self) -> str:
        """``live``, ``revoked`` or ``expired``, as officers and the access log say it."""
        if self.revoked_at is not None:
            return "revoked"
        return "live" if self.is_live() else "expired"


class PanelAction(Model):
    """An action or note a panel lead added to a shared case; the housing officer sees it."""

    __tablename__ = "panel_actions"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    share_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("case_shares.id"))
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    share: Mapped[CaseShare] = relationship()
    author: Mapped[User] = relationship()


class CaseAccessRecord(Model):
    """One list, view, export or refused read of shared case data: who, what, when, from where.

    ``referral_id`` is the case read (or refused); a list names no single case and keeps the
    ids it showed in ``listed_referral_ids``; a refused read of an id that is no case keeps the
    id asked for in ``requested_id``.
    """

    __tablename__ = "case_access_records"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    actor_type: Mapped[ActorType] = mapped_column(enum_column_type(ActorType, "actor_type"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    client_id: Mapped[str | None] = mapped_column(sa.String(64))
    actor_label: Mapped[str] = mapped_column(sa.String(254))
    # The panel that read (or the organisation of whoever exported); none for council staff.
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id"))
    action: Mapped[AccessAction] = mapped_column(enum_column_type(AccessAction, "access_action"))
    # Why a read was refused: not_found, not_shared, other_panel, expired, revoked.
    refusal: Mapped[str | None] = mapped_column(sa.String(20))
    channel: Mapped[str] = mapped_column(sa.String(10))  # web or api
    referral_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("referrals.id"))
    share_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("case_shares.id"))
    requested_id: Mapped[str | None] = mapped_column(sa.String(64))
    listed_referral_ids: Mapped[list[str]] = mapped_column(json_type(), default=list)
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))

    user: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()

    __table_args__ = (
        sa.Index("ix_case_access_records_referral_occurred", "referral_id", "occurred_at"),
        sa.Index("ix_case_access_records_org_occurred", "organisation_id", "occurred_at"),
    )


# Revocation is the only change a share may ever have, and only once.
_REVOCATION_COLUMNS = {"revoked_at", "revoked_by_id", "revocation_reason"}


@event.listens_for(CaseShare, "before_update")
def _share_changes_only_by_revocation(mapper: Any, connection: Any, target: CaseShare) -> None:
    state = inspect(target)
    for attr in mapper.column_attrs:
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        if attr.key not in _REVOCATION_COLUMNS or any(v is not None for v in history.deleted):
            raise RuntimeError("A case share cannot be changed, only revoked (once).")


def _append_only(model: type[Model], what: str) -> None:
    def refuse(mapper: Any, connection: Any, target: Any) -> None:
        raise RuntimeError(f"{what} are append-only: they cannot be changed or deleted.")

    event.listen(model, "before_update", refuse)
    event.listen(model, "before_delete", refuse)


_append_only(PanelAction, "Panel actions")
_append_only(CaseAccessRecord, "Case access records")


@event.listens_for(CaseShare, "before_delete")
def _share_not_deleted(mapper: Any, connection: Any, target: CaseShare) -> None:
    raise RuntimeError("A case share cannot be deleted: revoke it.")
