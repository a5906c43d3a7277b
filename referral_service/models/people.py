"""People who sign in: officers, team leaders, referrers, panel leads and administrators."""
from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_service import clock
from referral_service.extensions import Model
from referral_service.models.enums import Role
from referral_service.models.org import Authority, Organisation
from referral_service.models.types import UTCDateTime, enum_column_type, json_type, new_uuid


class User(Model):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(enum_column_type(Role, "role"))
    authority_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("authorities.id"), index=True
    )
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    # Officers only: routing inputs. Specialisms are support-need names (API.md) plus
    # prison_release and hospital_discharge; patches are postcode-district prefixes ("AL8", "SG").
    specialisms: Mapped[list[str]] = mapped_column(json_type(), default=list)
    patches: Mapped[list[str]] = mapped_column(json_type(), default=list)
    capacity: Mapped[int | None] = mapped_column()
    # Ties between equally loaded officers go to whoever was given a case least recently.
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Open referrals named to this officer (statuses in CASELOAD_STATUSES), kept by database
    # triggers on referrals (migration 20261201_0740). Routing reads it from the table; the
    # attribute on a loaded object is not refreshed when the triggers change the row.
    open_caseload: Mapped[int] = mapped_column(default=0, server_default="0")
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    # Web sign-in (referral_service/auth/accounts.py). Failed passwords are counted within a
    # window; enough of them lock the account for a while (audited).
    failed_sign_ins: Mapped[int] = mapped_column(default=0, server_default="0")
    failed_sign_ins_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Carried in the session cookie: raising it (sign-out, password reset) ends every session the
    # person has, because a signed cookie cannot otherwise be taken back.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Optional TOTP second factor (RFC 6238): the base32 secret, when enrolment was confirmed,
    # and the last time step used (a code is accepted once).
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Sign-in through the OpenID Connect provider (auth/oidc.py): the provider's issuer and
    # subject, bound on first use. From then on the person is found by these alone, so an email
    # address changed (or reused) at the provider cannot move the sign-in to another account.
    oidc_issuer: Mapped[str | None] = mapped_column(sa.String(255))
    oidc_subject: Mapped[str | None] = mapped_column(sa.String(255))

    authority: Mapped[Authority | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    absences: Mapped[list[OfficerAbsence]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="OfficerAbsence.starts_on"
    )

    __table_args__ = (
        # Officers and team leaders belong to an authority; referrers and panel leads to an
        # organisation; administrators may belong to either or neither.
        sa.CheckConstraint(
            "role NOT IN ('officer', 'team_leader') OR authority_id IS NOT NULL",
            name="staff_have_authority",
        ),
        sa.CheckConstraint(
            "role NOT IN ('partner', 'panel_lead') OR organisation_id IS NOT NULL",
            name="partners_have_organisation",
        ),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        # One provider identity, one account. A unique index rather than a constraint: SQLite
        # adds an index without copying the users table.
        sa.Index("ix_users_oidc_identity", "oidc_issuer", "oidc_subject", unique=True),
    )

    def is_absent_on(self, day: date) -> bool:
        return any(absence.covers(day) for absence in self.absences)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class OfficerAbsence(Model):
    """Leave or sickness: an absent officer is never routed a new case."""

    __tablename__ = "officer_absences"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)
    reason: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user: Mapped[User] = relationship(back_populates="absences")

    __table_args__ = (sa.CheckConstraint("ends_on >= starts_on", name="ends_after_start"),)

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


class PasswordResetToken(Model):
    """A one-time password reset link: only the SHA-256 digest of its secret is kept."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class AuthoritySignInPolicy(Model):
    """How an authority's staff must sign in (kept apart from Authority: a security setting)."""

    __tablename__ = "authority_sign_in_policies"

    authority_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("authorities.id", ondelete="CASCADE"), primary_key=True
    )
    # Officers and team leaders of the authority must set up and use a TOTP second factor.
    totp_required: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
