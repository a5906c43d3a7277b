"""Receiving a referral: stored with every field, deadlined, routed, duplicates linked."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from referral_service.domain import audit, intake
from referral_service.domain.errors import DomainError, ValidationFailed
from referral_service.models import (
    AuditEvent,
    DuplicateDecision,
    PossibleDuplicate,
    Referral,
    ReferralStatus,
)
from referral_service.schemas.referral import ReferralSubmissionSchema
from tests import factories as f

# Monday 23 November 2026, 10:00 GMT.
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def setting(db_session):  # type: ignore[no-untyped-def]
    authority = f.authority()
    org = f.organisation()
    return authority, org


def test_every_submitted_field_is_stored(setting) -> None:  # type: ignore[no-untyped-def]
    authority, org = setting
    made = f.referral(org, person={})
    assert made.reference.startswith("DTR-") and len(made.reference) == 10
    assert made.authority is authority
    assert made.referring_organisation is org
    assert made.referrer_name == "Sam Patel"
    assert made.referrer_phone == "+441632960001"
    assert made.consent_given is True
    assert made.consent_recorded_at == datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
    assert (made.person_first_name, made.person_last_name) == ("Aoife", "O'Neill")
    assert made.person_nhs_number == "9434765919"
    assert made.person_phone == "+447700900123"
    assert made.address_postcode == "AL8 6AB"
    assert (made.safe_sms, made.safe_voicemail, made.safe_email, made.safe_letter) == (
        True, False, True, False)
    assert made.safe_contact_instructions == "Do not leave messages with partner"
    assert made.household == [{"relationship": "child", "age": 4}]
    assert made.support_needs == ["mental_health", "domestic_abuse"]
    assert made.agency_reference == "PRB-55121"
    assert made.risk_details is None


@time_machine.travel(MONDAY_10AM, tick=False)
def test_deadline_uses_the_authoritys_policy(db_session) -> None:  # type: ignore[no-untyped-def]
    f.authority(contact_working_days=5)
    org = f.organisation()
    made = f.referral(org)
    # Monday + 5 working days = the following Monday, 17:00 GMT.
    assert made.contact_due_by == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert made.urgent is False


@time_machine.travel(MONDAY_10AM, tick=False)
def test_rough_sleeping_tonight_is_due_the_same_day(setting) -> None:  # type: ignore[no-untyped-def]
    _, org = setting
    made = f.referral(org, at_risk_of_rough_sleeping_tonight=True)
    assert made.urgent is True
    assert made.contact_due_by == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


@time_machine.travel(MONDAY_10AM, tick=False)
def test_release_within_two_days_is_due_the_same_day(setting) -> None:  # type: ignore[no-untyped-def]
    _, org = setting
    soon = f.referral(org, release_or_discharge_date="2026-11-25")
    later = f.referral(org, release_or_discharge_date="2026-11-26")
    assert soon.urgent and soon.contact_due_by == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    # Not urgent, but five working days before Thursday had passed: due the same day too.
    assert not later.urgent and later.contact_due_by == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


@time_machine.travel(MONDAY_10AM, tick=False)
def test_release_date_brings_contact_forward_by_authority_days(setting, db_session) -> None:  # type: ignore[no-untyped-def]
    authority, org = setting
    authority.contact_working_days = 10
    authority.release_days_before = 3
    db_session.commit()
    made = f.referral(org, release_or_discharge_date="2026-12-04")
    far = f.referral(org, release_or_discharge_date="2027-03-01")
    # Three working days before Friday 4 December: Tuesday 1 December, 17:00 GMT.
    assert not made.urgent and made.contact_due_by == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    # Far away: the authority's usual ten working days.
    assert far.contact_due_by == datetime(2026, 12, 7, 17, 0, tzinfo=UTC)


def test_unknown_or_non_participating_authority_is_a_field_error(setting) -> None:  # type: ignore[no-untyped-def]
    _, org = setting
    f.authority(code="E07000243", name="Stevenage", participating=False)
    for code in ("E07000999", "E07000243"):
        with pytest.raises(ValidationFailed) as refused:
            f.referral(org, authority_code=code)
        assert "authority_code" in refused.value.errors
    assert f.db.session.scalar(select(Referral.id)) is None


def test_panels_cannot_refer(setting) -> None:  # type: ignore[no-untyped-def]
    panel = f.organisation(name="Kent MARAC", type="marac")
    with pytest.raises(DomainError, match="panels"):
        f.referral(panel)


def test_receipt_and_routing_are_audited(setting) -> None:  # type: ignore[no-untyped-def]
    authority, org = setting
    officer = f.officer(authority)
    made = f.referral(org)
    events = f.db.session.scalars(
        select(AuditEvent).where(AuditEvent.referral_id == made.id).order_by(AuditEvent.occurred_at)
    ).all()
    assert [e.action for e in events] == ["referral.received", "referral.transition"]
    assert events[0].actor_label == "client:tests"
    assert events[1].to_status == "assigned"
    assert events[1].details["officer_id"] == str(officer.id)
    assert "caseload 0/25" in events[1].details["reason"]


def test_references_are_unique_and_unambiguous(setting) -> None:  # type: ignore[no-untyped-def]
    _, org = setting
    references = {f.referral(org).reference for _ in range(30)}
    assert len(references) == 30
    for reference in references:
        assert not set(reference[4:]) & set("01OI")


class TestPossibleDuplicates:
    def test_same_nhs_number_is_linked(self, setting) -> None:  # type: ignore[no-untyped-def]
        _, org = setting
        first = f.referral(org, person=f.unique_person(nhs_number="9434765919"))
        second = f.referral(org, person=f.unique_person(nhs_number="943 476 5919"))
        link = f.db.session.scalar(select(PossibleDuplicate))
        assert (link.referral_id, link.existing_referral_id) == (second.id, first.id)
        assert link.matched_on == ["nhs_number"]
        assert link.decision is DuplicateDecision.PENDING
        # Never merged: both referrals stay, each with its own reference.
        assert first.reference != second.reference and second.status is not ReferralStatus.CLOSED

    def test_name_and_date_of_birth_match_whatever_the_case_and_punctuation(self, setting) -> None:  # type: ignore[no-untyped-def]
        _, org = setting
        f.referral(org, person=f.unique_person(first_name="Aoife", last_name="O'Neill",
                                               date_of_birth="1990-04-01"))
        f.referral(org, person=f.unique_person(first_name="AOIFE", last_name="ONeill",
                                               date_of_birth="1990-04-01"))
        link = f.db.session.scalar(select(PossibleDuplicate))
        assert link is not None and link.matched_on == ["name_and_date_of_birth"]

    def test_same_phone_is_linked(self, setting) -> None:  # type: ignore[no-untyped-def]
        _, org = setting
        f.referral(org, person=f.unique_person(phone="07700 900999"))
        f.referral(org, person=f.unique_person(phone="+44 7700 900999"))
        link = f.db.session.scalar(select(PossibleDuplicate))
        assert link is not None and link.matched_on == ["phone"]

    def test_same_name_different_birthday_is_not_linked(self, setting) -> None:  # type: ignore[no-untyped-def]
        _, org = setting
        f.referral(org, person=f.unique_person(first_name="Jo", last_name="Bloggs",
                                               date_of_birth="1990-04-01"))
        f.referral(org, person=f.unique_person(first_name="Jo", last_name="Bloggs",
                                               date_of_birth="1990-04-02"))
        assert f.db.session.scalar(select(PossibleDuplicate)) is None

    def test_other_authoritys_referral_is_not_linked(self, setting) -> None:  # type: ignore[no-untyped-def]
        _, org = setting
        f.authority(code="E07000242", name="East Hertfordshire")
        f.referral(org, person=f.unique_person(nhs_number="9434765919"))
        f.referral(org, authority_code="E07000242",
                   person=f.unique_person(nhs_number="9434765919"))
        assert f.db.session.scalar(select(PossibleDuplicate)) is None

    def test_closed_referral_is_not_linked(self, setting) -> None:  # type: ignore[no-untyped-def]
        _, org = setting
        first = f.referral(org, person=f.unique_person(nhs_number="9434765919"))
        from referral_service.domain import casework
        casework.withdraw(first, organisation=org, actor=audit.Actor.for_client("tests"))
        f.referral(org, person=f.unique_person(nhs_number="9434765919"))
        assert f.db.session.scalar(select(PossibleDuplicate)) is None

    def test_link_is_audited(self, setting) -> None:  # type: ignore[no-untyped-def]
        _, org = setting
        first = f.referral(org, person=f.unique_person(nhs_number="9434765919"))
        second = f.referral(org, person=f.unique_person(nhs_number="9434765919"))
        event = f.db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "referral.possible_duplicate_linked"))
        assert event.referral_id == second.id
        assert event.details == {"existing_referral": first.reference, "matched_on": ["nhs_number"]}


def test_schema_output_round_trips_through_intake(setting) -> None:  # type: ignore[no-untyped-def]
    _, org = setting
    data = ReferralSubmissionSchema().load(f.payload(person=f.unique_person()))
    made = intake.receive_referral(data, organisation=org, actor=f.ACTOR)
    assert made.person_first_name == data["person"]["first_name"]
