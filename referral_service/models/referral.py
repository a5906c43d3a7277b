"""A referral under s.213B, the contact attempts made on it, and links to possible duplicates."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_service import clock
from referral_service.extensions import Model
from referral_service.models.consent import Consent, ConsentWithdrawal
from referral_service.models.enums import (
    ContactAttemptResult,
    ContactChannel,
    DuplicateDecision,
    DuplicateMatch,
    HousingSituation,
    Outcome,
    ReferralSource,
    ReferralStatus,
)
from referral_service.models.org import Authority, Organisation
from referral_service.models.people import User
from referral_service.models.types import UTCDateTime, enum_column_type, json_type, new_uuid

# What the scrutiny figures read about each referral of the cohort (see the index below).
REPORT_COLUMNS = [
    "id", "reference", "referring_organisation_id", "housing_situation", "urgent", "status",
    "outcome", "contact_due_by", "first_contact_attempt_at", "contacted_at", "closed_at",
    "person_nhs_number", "person_name_key", "person_date_of_birth", "source",
]


class Referral(Model):
    __tablename__ = "referrals"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    # What people quote on the phone: DTR- and six characters without 0/O or 1/I.
    reference: Mapped[str] = mapped_column(sa.String(12), unique=True)
    status: Mapped[ReferralStatus] = mapped_column(
        enum_column_type(ReferralStatus, "referral_status"), default=ReferralStatus.RECEIVED
    )
    outcome: Mapped[Outcome | None] = mapped_column(enum_column_type(Outcome, "outcome"))
    # Optimistic locking: two officers claiming one case cannot both win.
    version: Mapped[int] = mapped_column(default=1)

    authority_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("authorities.id"))
    referring_organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id")
    )
    named_officer_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    # Who submitted it: a signed-in referrer (web) or a partner's API client.
    submitted_by_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    submitted_by_client_id: Mapped[str | None] = mapped_column(sa.String(64))
    transferred_to_authority_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("authorities.id")
    )
    # A referral made by transfer from another authority points at the one it came from; the
    # earlier one finds it back through ``transferred_to`` (a case is transferred at most once,
    # so a unique index: the chain of custody has no forks).
    transferred_from_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("referrals.id"))
    # How it arrived (issue 15.4): ``api``/``web``/``transfer``, or keyed in by an officer of
    # the council from an email, phone call, letter or visit (then who keyed it in, and when).
    source: Mapped[ReferralSource] = mapped_column(
        enum_column_type(ReferralSource, "referral_source"), default=ReferralSource.WEB,
        server_default=ReferralSource.WEB.value)
    keyed_in_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    keyed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The referrer (a person at the referring organisation).
    referrer_name: Mapped[str] = mapped_column(sa.String(200))
    referrer_job_title: Mapped[str | None] = mapped_column(sa.String(200))
    referrer_team: Mapped[str | None] = mapped_column(sa.String(200))
    # None only for a referral keyed in by an officer from a phone call, letter or visit.
    referrer_email: Mapped[str | None] = mapped_column(sa.String(254))
    referrer_phone: Mapped[str | None] = mapped_column(sa.String(20))

    # Consent (s.213B(3)): recorded by the referrer; a referral without it is refused. The
    # record (who, to whom, when, for what, withdrawals) is ``consent`` (models/consent.py);
    # these columns keep what the referrer submitted, as it was submitted.
    consent_given: Mapped[bool] = mapped_column()
    consent_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_notes: Mapped[str | None] = mapped_column(sa.Text)

    # The person referred.
    person_first_name: Mapped[str] = mapped_column(sa.String(100))
    person_last_name: Mapped[str] = mapped_column(sa.String(100))
    # Case- and punctuation-folded "first last", for duplicate matching with date of birth.
    person_name_key: Mapped[str] = mapped_column(sa.String(200))
    person_date_of_birth: Mapped[date | None] = mapped_column(sa.Date)
    person_nhs_number: Mapped[str | None] = mapped_column(sa.String(10))
    person_phone: Mapped[str | None] = mapped_column(sa.String(20))
    person_email: Mapped[str | None] = mapped_column(sa.String(254))
    address_line1: Mapped[str | None] = mapped_column(sa.String(200))
    address_line2: Mapped[str | None] = mapped_column(sa.String(200))
    address_town: Mapped[str | None] = mapped_column(sa.String(100))
    address_postcode: Mapped[str | None] = mapped_column(sa.String(10))
    no_fixed_abode: Mapped[bool] = mapped_column(default=False)
    preferred_contact_method: Mapped[str | None] = mapped_column(sa.String(20))
    # Safe contact routes, as marked by the referrer: nothing goes to the person by any other.
    safe_sms: Mapped[bool] = mapped_column(default=False)
    safe_voicemail: Mapped[bool] = mapped_column(default=False)
    safe_email: Mapped[bool] = mapped_column(default=False)
    safe_letter: Mapped[bool] = mapped_column(default=False)
    safe_contact_instructions: Mapped[str | None] = mapped_column(sa.String(500))
    language: Mapped[str] = mapped_column(sa.String(35), default="en")
    interpreter_needed: Mapped[bool] = mapped_column(default=False)
    household: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)

    # The housing situation.
    housing_situation: Mapped[HousingSituation] = mapped_column(
        enum_column_type(HousingSituation, "housing_situation")
    )
    at_risk_of_rough_sleeping_tonight: Mapped[bool] = mapped_column(default=False)
    homelessness_date: Mapped[date | None] = mapped_column(sa.Date)
    release_or_discharge_date: Mapped[date | None] = mapped_column(sa.Date)
    current_location: Mapped[str | None] = mapped_column(sa.String(500))
    reason: Mapped[str] = mapped_column(sa.Text)
    support_needs: Mapped[list[str]] = mapped_column(json_type(), default=list)
    risk_marac: Mapped[bool] = mapped_column(default=False)
    risk_mappa_level: Mapped[int | None] = mapped_column()
    risk_mappa_category: Mapped[int | None] = mapped_column()
    risk_to_staff: Mapped[bool] = mapped_column(default=False)
    risk_details: Mapped[str | None] = mapped_column(sa.Text)
    agency_reference: Mapped[str | None] = mapped_column(sa.String(100))

    # Progress, in the order it happens.
    urgent: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact_due_by: Mapped[datetime] = mapped_column(UTCDateTime)
    first_contact_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closure_reason: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    authority: Mapped[Authority] = relationship(foreign_keys=[authority_id])
    referring_organisation: Mapped[Organisation] = relationship()
    named_officer: Mapped[User | None] = relationship(foreign_keys=[named_officer_id])
    keyed_in_by: Mapped[User | None] = relationship(foreign_keys=[keyed_in_by_id])
    transferred_to_authority: Mapped[Authority | None] = relationship(
        foreign_keys=[transferred_to_authority_id]
    )
    # Both ends of a transfer: the referral it came from, and the one made at the receiving
    # authority (None when that authority does not take referrals here).
    transferred_from: Mapped[Referral | None] = relationship(
        remote_side=[id], foreign_keys=[transferred_from_id], back_populates="transferred_to")
    transferred_to: Mapped[Referral | None] = relationship(
        foreign_keys=[transferred_from_id], back_populates="transferred_from", uselist=False)
    contact_attempts: Mapped[list[ContactAttempt]] = relationship(
        back_populates="referral", order_by="ContactAttempt.attempted_at"
    )
    # A transfer to a council not on this service: where it went, and its one-time link.
    external_transfer: Mapped[ExternalTransfer | None] = relationship(
        back_populates="referral", uselist=False)
    # The consent record and its withdrawals (models/consent.py).
    consent: Mapped[Consent | None] = relationship(back_populates="referral", uselist=False)
    consent_withdrawals: Mapped[list[ConsentWithdrawal]] = relationship(
        back_populates="referral", order_by="ConsentWithdrawal.withdrawn_at")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint("consent_given", name="consent_given"),
        sa.CheckConstraint(
            "risk_mappa_level IS NULL OR risk_mappa_level BETWEEN 1 AND 3", name="mappa_level"
        ),
        sa.CheckConstraint(
            "risk_mappa_category IS NULL OR risk_mappa_category BETWEEN 1 AND 4",
            name="mappa_category",
        ),
        sa.CheckConstraint(
            "(status IN ('closed', 'withdrawn', 'transferred')) = (closed_at IS NOT NULL)",
            name="closed_at_iff_terminal",
        ),
        # "My referrals" by deadline, the team queue, and routing's caseload counts.
        sa.Index("ix_referrals_officer_status_due", "named_officer_id", "status", "contact_due_by"),
        sa.Index("ix_referrals_authority_status_due", "authority_id", "status", "contact_due_by"),
        # Scrutiny figures (domain/reports): one authority's referrals received in a period,
        # read from the index alone on PostgreSQL (index-only scan): the columns the figures
        # count are carried in it, so a year of an authority never touches the wide rows.
        sa.Index("ix_referrals_authority_received", "authority_id", "received_at",
                 postgresql_include=REPORT_COLUMNS),
        # Open referrals past their deadline (/metrics).
        sa.Index("ix_referrals_status_due", "status", "contact_due_by"),
        # A partner's own referrals, newest changes first (API list with updated_since).
        sa.Index("ix_referrals_org_updated", "referring_organisation_id", "updated_at"),
        # Possible-duplicate look-ups within one authority; received_at last so that the
        # reports' "repeat referral within 365 days" check is answered from the index too.
        sa.Index("ix_referrals_authority_nhs", "authority_id", "person_nhs_number",
                 "received_at"),
        sa.Index("ix_referrals_authority_phone", "authority_id", "person_phone"),
        sa.Index("ix_referrals_transferred_from_id", "transferred_from_id", unique=True),
        sa.Index(
            "ix_referrals_authority_name_dob",
            "authority_id",
            "person_name_key",
            "person_date_of_birth",
            "received_at",
        ),
    )

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    def __repr__(self) -> str:
        return f"<Referral {self.reference} {self.status.value}>"


class ContactAttempt(Model):
    """One try to reach the person: by what channel, what happened, and the officer's note."""

    __tablename__ = "contact_attempts"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    officer_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    channel: Mapped[ContactChannel] = mapped_column(
        enum_column_type(ContactChannel, "contact_channel")
    )
    successful: Mapped[bool] = mapped_column(default=False)
    result: Mapped[ContactAttemptResult | None] = mapped_column(
        enum_column_type(ContactAttemptResult, "contact_attempt_result")
    )
    # Officers' private notes: never shown to the referrer.
    notes: Mapped[str | None] = mapped_column(sa.Text)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    referral: Mapped[Referral] = relationship(back_populates="contact_attempts")


class PossibleDuplicate(Model):
    """A new referral that looks like one already open for the same person (Code 4.17).

    Never merged silently: an officer confirms or rejects the link.
    """

    __tablename__ = "possible_duplicates"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    existing_referral_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("referrals.id"), index=True
    )
    matched_on: Mapped[list[str]] = mapped_column(json_type(), default=list)
    decision: Mapped[DuplicateDecision] = mapped_column(
        enum_column_type(DuplicateDecision, "duplicate_decision"),
        default=DuplicateDecision.PENDING,
    )
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    referral: Mapped[Referral] = relationship(foreign_keys=[referral_id])
    existing_referral: Mapped[Referral] = relationship(foreign_keys=[existing_referral_id])

    __table_args__ = (
        sa.UniqueConstraint("referral_id", "existing_referral_id"),
        sa.CheckConstraint("referral_id <> existing_referral_id", name="not_self"),
    )

    @property
    def matches(self) -> list[DuplicateMatch]:
        return [DuplicateMatch(value) for value in self.matched_on]


class ExternalTransfer(Model):
    """A transfer to a council that does not take referrals through this service: its name,
    code (when known) and housing options team's secure email, and the one-time link it was
    sent. Only the current link's secret digest is kept (sending a new link replaces it, so
    the old one stops working); the secret itself is made at send time
    (``notifications.one_time_links``)."""

    __tablename__ = "external_transfers"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), unique=True)
    council_name: Mapped[str] = mapped_column(sa.String(200))
    council_code: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str] = mapped_column(sa.String(254))
    secret_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    link_sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    link_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    links_sent: Mapped[int] = mapped_column(default=1)
    sent_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    first_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_by_name: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    referral: Mapped[Referral] = relationship(back_populates="external_transfer")
    sent_by: Mapped[User] = relationship()
