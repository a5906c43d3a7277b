"""Consent as a record (s.213B(3), Code of Guidance 4.16): who gave it, who recorded it, to
whom, when and for what; and each withdrawal of it, by whom, when, of what and why.

One ``Consent`` per referral. Its scopes are what the person agreed to: this referral to this
council (always), texts, email, and sharing with the named panels. A ``ConsentWithdrawal`` takes
one scope back; withdrawing the referral itself takes everything back (``domain/consent.py``).
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
from referral_service.models.types import UTCDateTime, enum_column_type, json_type, new_uuid


class ConsentScope(StrEnum):
    REFERRAL = "referral"  # this referral to this council: without it there is no referral
    TEXTS = "texts"
    EMAIL = "email"
    PANEL_SHARING = "panel_sharing"


class ConsentRecorder(StrEnum):
    REFERRER = "referrer"  # a referrer at the referring organisation (web or API)
    OFFICER = "officer"


class WithdrawnBy(StrEnum):
    REFERRER = "referrer"
    OFFICER = "officer"  # an officer, on what the person told them
    PERSON = "person"  # the person themselves (a STOP text)


class WithdrawalReason(StrEnum):
    PERSON_WITHDREW = "person_withdrew"  # the person said they no longer agree
    TEXTED_STOP = "texted_stop"
    MADE_IN_ERROR = "made_in_error"  # consent was recorded wrongly
    NO_CAPACITY = "no_capacity"  # the person could not give informed consent after all
    OTHER = "other"


class Consent(Model):
    __tablename__ = "consents"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), unique=True)
    # Who gave it: the person referred, by name as it was at the time.
    given_by_name: Mapped[str] = mapped_column(sa.String(200))
    # Who recorded it: a referrer (user or API client of an organisation) or an officer.
    recorded_by: Mapped[ConsentRecorder] = mapped_column(
        enum_column_type(ConsentRecorder, "consent_recorder"))
    recorded_by_name: Mapped[str] = mapped_column(sa.String(200))
    recorded_by_organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("organisations.id"))
    recorded_by_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_by_client_id: Mapped[str | None] = mapped_column(sa.String(64))
    # To whom: the housing authority the person chose.
    authority_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("authorities.id"))
    # When the person gave it (required; for referrals made before the record, their receipt).
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    backfilled: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    # For what: the referral always; texts, email; and the panels named (organisation types).
    texts: Mapped[bool] = mapped_column(default=True)
    email: Mapped[bool] = mapped_column(default=True)
    panels: Mapped[list[str]] = mapped_column(json_type(), default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    # The referral (models/referral.py imports this module: named, not imported, here).
    referral: Mapped[Any] = relationship("Referral", back_populates="consent")

    def given_scopes(self) -> set[ConsentScope]:
        scopes = {ConsentScope.REFERRAL}
        if self.texts:
            scopes.add(ConsentScope.TEXTS)
        if self.email:
            scopes.add(ConsentScope.EMAIL)
        if self.panels:
            scopes.add(ConsentScope.PANEL_SHARING)
        return scopes


class ConsentWithdrawal(Model):
    __tablename__ = "consent_withdrawals"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    scope: Mapped[ConsentScope] = mapped_column(enum_column_type(ConsentScope, "consent_scope"))
    withdrawn_by: Mapped[WithdrawnBy] = mapped_column(
        enum_column_type(WithdrawnBy, "consent_withdrawn_by"))
    by_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    by_client_id: Mapped[str | None] = mapped_column(sa.String(64))
    by_organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("organisations.id"))
    reason: Mapped[WithdrawalReason] = mapped_column(
        enum_column_type(WithdrawalReason, "consent_withdrawal_reason"))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    withdrawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # A STOP undone by START: texts are agreed again from this moment (the row stays).
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    referral: Mapped[Any] = relationship("Referral", back_populates="consent_withdrawals")

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


def withdrawn_scopes(withdrawals: list[ConsentWithdrawal]) -> set[ConsentScope]:
    """The scopes taken back and not given again; the referral's withdrawal takes all."""
    scopes = {w.scope for w in withdrawals if w.is_active}
    if ConsentScope.REFERRAL in scopes:
        return set(ConsentScope)
    return scopes


def consented_to(referral: Any, scope: ConsentScope) -> bool:
    """Whether the person agreed to ``scope`` and has not taken it back. A referral with no
    record (only while it is being received, before the record is written) is the
    referral's own consent: every scope but panels."""
    consent = referral.consent
    given = consent.given_scopes() if consent is not None else {
        ConsentScope.REFERRAL, ConsentScope.TEXTS, ConsentScope.EMAIL}
    return scope in given and scope not in withdrawn_scopes(referral.consent_withdrawals)


REFUSALS = {
    ConsentScope.TEXTS: "The person has not consented to texts (or withdrew it).",
    ConsentScope.EMAIL: "The person has not consented to email (or withdrew it).",
    ConsentScope.REFERRAL: "The person withdrew consent to the referral.",
}
