"""Consent as a record (issue 15.1): made at intake, withdrawn by the referrer (API), by an
officer, or by the person's STOP; what a withdrawal stops at once."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from referral_service.domain import audit, consent, sharing, timeline
from referral_service.domain.errors import Conflict, PermissionDenied
from referral_service.extensions import db
from referral_service.models import (
    Audience,
    Channel,
    Consent,
    ConsentScope,
    MessageStatus,
    OutboxMessage,
    Outcome,
    ReferralStatus,
    WithdrawalReason,
    WithdrawnBy,
)
from tests import factories as f


def _applicant_messages(referral: Any) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.referral_id == referral.id,
        OutboxMessage.audience == Audience.APPLICANT)))


@pytest.fixture
def welwyn(db_session):  # type: ignore[no-untyped-def]
    return f.authority()


@pytest.fixture
def org(welwyn):  # type: ignore[no-untyped-def]
    return f.organisation()


def test_intake_records_who_to_whom_when_and_for_what(org, welwyn) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(org, person=f.unique_person(email="p1@example.org"),
                          consent={"scopes": {"texts": False, "email": True,
                                                   "panels": ["marac"]}})
    record = db.session.scalar(select(Consent).where(Consent.referral_id == referral.id))
    assert record is not None and not record.backfilled
    assert record.given_by_name == f"{referral.person_first_name} {referral.person_last_name}"
    assert record.recorded_by_name == "Sam Patel" and record.recorded_by_organisation_id == org.id
    assert record.authority_id == welwyn.id
    assert record.given_at.isoformat().startswith("2026-11-20T10:15")
    assert (record.texts, record.email, record.panels) == (False, True, ["marac"])
    # No consent to texts: the acknowledgement went by email, not SMS.
    assert [m.channel for m in _applicant_messages(referral)
            if m.status is not MessageStatus.SUPPRESSED] == [Channel.EMAIL]


def test_texts_withdrawn_suppresses_queued_texts_and_keeps_the_referral_open(org) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(org, person=f.unique_person(email="p2@example.org"))
    queued = [m for m in _applicant_messages(referral) if m.status is MessageStatus.QUEUED]
    assert queued and queued[0].channel is Channel.SMS
    consent.withdraw_by_referrer(referral, organisation=org, actor=audit.Actor.for_client("t"),
                                 scope=ConsentScope.TEXTS,
                                 reason=WithdrawalReason.PERSON_WITHDREW)
    db.session.flush()
    db.session.expire_all()
    for message in _applicant_messages(referral):
        if message.channel is Channel.SMS:
            assert message.status is MessageStatus.SUPPRESSED
            assert "consent to text messages" in (message.status_reason or "")
    assert referral.status.is_open
    # A new applicant message goes by email, the route still agreed.
    from notifications import outbox, templates
    sent = outbox.to_applicant(referral, event="t", template="t",
                               text=templates.Text("Hello", "Your council has your referral."))
    assert sent.channel is Channel.EMAIL and sent.status is MessageStatus.QUEUED


def test_email_and_texts_withdrawn_leave_no_route(org) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(org, person=f.unique_person(email="p3@example.org"))
    for scope in (ConsentScope.TEXTS, ConsentScope.EMAIL):
        consent.withdraw_by_referrer(referral, organisation=org,
                                     actor=audit.Actor.for_client("t"), scope=scope,
                                     reason=WithdrawalReason.PERSON_WITHDREW)
    from notifications import outbox, templates
    sent = outbox.to_applicant(referral, event="t", template="t",
                               text=templates.Text("Hello", "Your council has your referral."))
    assert sent.status is MessageStatus.SUPPRESSED and "consent" in (sent.status_reason or "")
    assert referral.status.is_open


def test_officer_records_the_person_withdrew_consent_to_the_referral(org, welwyn) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(welwyn)
    referral = f.referral(org)
    withdrawal = consent.withdraw_by_officer(referral, by=officer, scope=ConsentScope.REFERRAL,
                                             reason=WithdrawalReason.PERSON_WITHDREW,
                                             notes="Told me on the phone.")
    assert withdrawal.withdrawn_by is WithdrawnBy.OFFICER
    assert (referral.status, referral.outcome) == (ReferralStatus.CLOSED,
                                                    Outcome.CONSENT_WITHDRAWN)
    db.session.expire_all()
    assert all(m.status is MessageStatus.SUPPRESSED or m.status is not MessageStatus.QUEUED
               for m in _applicant_messages(referral))
    assert any(e.type == "consent_withdrawn" and "by the council" in e.description
               for e in timeline.for_referrer(referral))
    assert any(e.type == "consent_withdrawn" for e in timeline.for_staff(referral))
    with pytest.raises(Conflict):
        consent.withdraw_by_officer(referral, by=officer, scope=ConsentScope.TEXTS,
                                    reason=WithdrawalReason.PERSON_WITHDREW)


def test_another_authoritys_officer_and_another_organisation_are_refused(org, welwyn) -> None:  # type: ignore[no-untyped-def]
    other = f.officer(f.authority(code="E07000242", name="Elsewhere"))
    referral = f.referral(org)
    with pytest.raises(PermissionDenied):
        consent.withdraw_by_officer(referral, by=other, scope=ConsentScope.REFERRAL,
                                    reason=WithdrawalReason.PERSON_WITHDREW)
    with pytest.raises(PermissionDenied):
        consent.withdraw_by_referrer(referral, organisation=f.organisation(
            name="Jobcentre", type="jobcentre"), actor=audit.Actor.for_client("t"),
            scope=ConsentScope.REFERRAL, reason=WithdrawalReason.PERSON_WITHDREW)
    assert referral.status.is_open and referral.consent_withdrawals == []


def test_the_same_scope_twice_is_a_conflict(org) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(org)
    args = dict(organisation=org, actor=audit.Actor.for_client("t"), scope=ConsentScope.EMAIL,
                reason=WithdrawalReason.PERSON_WITHDREW)
    consent.withdraw_by_referrer(referral, **args)  # type: ignore[arg-type]
    with pytest.raises(Conflict):
        consent.withdraw_by_referrer(referral, **args)  # type: ignore[arg-type]


def test_sharing_withdrawn_refuses_new_shares(org, welwyn) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(welwyn)
    referral = f.referral(org)
    consent.withdraw_by_officer(referral, by=officer, scope=ConsentScope.PANEL_SHARING,
                                reason=WithdrawalReason.PERSON_WITHDREW)
    with pytest.raises(Conflict, match="withdrew consent to sharing"):
        sharing.share(referral, by=officer, panel_id=None, lawful_basis=None, purpose="x",
                      next_meeting_on=None)
    assert referral.status.is_open
