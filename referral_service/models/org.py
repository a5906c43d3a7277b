"""Housing authorities (who receive referrals) and partner organisations (who make them)."""
from __future__ import annotations

import uuid
from datetime import datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from referral_service import clock
from referral_service.extensions import Model
from referral_service.models.enums import OrganisationType
from referral_service.models.types import UTCDateTime, enum_column_type, new_uuid


class Authority(Model):
    """A housing authority (council). A deployment may serve several; each case has one."""

    __tablename__ = "authorities"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    # ONS/GSS code, e.g. E07000241: what partners send as ``authority_code``.
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    team_phone: Mapped[str | None] = mapped_column(sa.String(20))
    team_email: Mapped[str | None] = mapped_column(sa.String(254))
    # A known council that does not (yet) take referrals here: a transfer may still name it.
    participating: Mapped[bool] = mapped_column(default=True)
    # Contact-deadline policy: first contact attempt within N working days, due by a local time.
    contact_working_days: Mapped[int] = mapped_column(default=2)
    contact_due_time: Mapped[time] = mapped_column(sa.Time, default=time(17, 0))
    # With a release or discharge date: contact due this many working days before it.
    release_days_before: Mapped[int] = mapped_column(default=5, server_default="5")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # How the council's own staff see the service (not GOV.UK: no crown): the name in the
    # header and titles (``name`` when unset) and its footer links, each an https address.
    display_name: Mapped[str | None] = mapped_column(sa.String(200))
    accessibility_url: Mapped[str | None] = mapped_column(sa.String(2000))
    privacy_url: Mapped[str | None] = mapped_column(sa.String(2000))
    contact_url: Mapped[str | None] = mapped_column(sa.String(2000))

    __table_args__ = (
        sa.CheckConstraint(
            "contact_working_days >= 0 AND contact_working_days <= 20", name="contact_working_days"
        ),
        sa.CheckConstraint(
            "release_days_before >= 0 AND release_days_before <= 20", name="release_days_before"
        ),
    )

    def __repr__(self) -> str:
        return f"<Authority {self.code}>"


class Organisation(Model):
    """A referring public body, or a MARAC/MAPPA panel that receives shared cases."""

    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    type: Mapped[OrganisationType] = mapped_column(
        enum_column_type(OrganisationType, "organisation_type")
    )
    # NHS Organisation Data Service code, where the body has one.
    ods_code: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    def __repr__(self) -> str:
        return f"<Organisation {self.type.value}>"
