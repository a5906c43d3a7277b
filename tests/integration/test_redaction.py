"""Redaction per panel, field by field: each panel type sees exactly its listed keys, with values
read from the case, and nothing else about the person ever appears."""
from __future__ import annotations

import json

import pytest

from referral_service.domain import redaction
from referral_service.models import OrganisationType
from tests import factories as f
from tests import panel_factories as pf

MARAC_KEYS = {
    "reference", "person_name", "date_of_birth", "status", "authority", "named_officer",
    "housing_situation", "homelessness_date", "at_risk_of_rough_sleeping_tonight", "household",
    "support_needs", "risk_to_staff", "risk_details", "safe_contact",
}
MAPPA_KEYS = {
    "reference", "person_name", "date_of_birth", "status", "authority", "named_officer",
    "housing_situation", "homelessness_date", "at_risk_of_rough_sleeping_tonight", "household",
    "support_needs", "risk_to_staff", "risk_details", "current_address", "no_fixed_abode",
    "current_location", "release_or_discharge_date", "mappa",
}
# What no panel ever sees: values taken from the API.md example payload the factory uses.
NEVER = ["9434765919", "Sam Patel", "sam.patel@probation.example", "01632 960 001",
         "agreed in supervision", "Section 21 notice expires", "PRB-55121", "mental_health",
         "Kent PDU", "Probation Officer"]


def _case(db_session, **overrides):  # type: ignore[no-untyped-def]
    w = pf.world()
    referral = pf.mappa_case(w.referrer, risk={"marac": True}, support_needs=[
        "mental_health", "physical_health", "domestic_abuse", "offending_history",
        "drug_dependency", "learning_disability", "old_age", "young_parent"], **overrides)
    return w, referral


def test_marac_sees_exactly_its_fields(db_session) -> None:  # type: ignore[no-untyped-def]
    w, referral = _case(db_session)
    seen = redaction.redact(referral, OrganisationType.MARAC)
    assert set(seen) == MARAC_KEYS
    assert seen["reference"] == referral.reference
    assert seen["person_name"] == f"{referral.person_first_name} {referral.person_last_name}"
    assert seen["named_officer"]["name"] == w.officer.name
    assert seen["status"] == referral.status.value
    assert seen["support_needs"] == ["domestic_abuse", "young_parent"]
    assert seen["risk_details"] == "Risk to lone female staff."
    # The safe route, and the number only because texts are marked safe (factory: sms true).
    assert seen["safe_contact"]["instructions"] == "Do not leave messages with partner"
    assert seen["safe_contact"]["sms"] is True and seen["safe_contact"]["voicemail"] is False
    assert seen["safe_contact"]["phone"] == referral.person_phone
    assert seen["household"] == [{"relationship": "child", "age": 4}]
    # Never for MARAC: where the person lives, their release date, the MAPPA details.
    for key in ("current_address", "current_location", "release_or_discharge_date", "mappa",
                "no_fixed_abode"):
        assert key not in seen


def test_mappa_sees_exactly_its_fields(db_session) -> None:  # type: ignore[no-untyped-def]
    w, referral = _case(db_session, release_or_discharge_date="2026-12-20")
    seen = redaction.redact(referral, OrganisationType.MAPPA)
    assert set(seen) == MAPPA_KEYS
    assert seen["current_address"] == {"line1": "Flat 2", "line2": "1 High Street",
                                       "town": "Welwyn", "postcode": "AL8 6AB"}
    assert seen["current_location"] == "Private rented flat, section 21 notice served"
    assert str(seen["release_or_discharge_date"]) == "2026-12-20"
    assert seen["mappa"] == {"level": 2, "category": 1}
    assert seen["support_needs"] == ["offending_history", "drug_dependency"]
    assert seen["named_officer"]["team_phone"] == w.authority.team_phone
    # Never for MAPPA: the safe-contact route and the person's phone and email.
    assert "safe_contact" not in seen
    text = json.dumps(seen, default=str)
    assert referral.person_phone not in text and "aoife@example.org" not in text


@pytest.mark.parametrize("panel", [OrganisationType.MARAC, OrganisationType.MAPPA])
def test_no_panel_sees_health_referrer_or_free_text_it_does_not_need(db_session, panel) -> None:  # type: ignore[no-untyped-def]
    _, referral = _case(db_session)
    text = json.dumps(redaction.redact(referral, panel), default=str)
    for value in NEVER:
        assert value not in text, value
    for need in ("physical_health", "learning_disability", "old_age"):
        assert need not in text


def test_safe_contact_gives_no_number_or_email_unless_that_route_is_safe(db_session) -> None:  # type: ignore[no-untyped-def]
    _, referral = _case(db_session, person=f.unique_person(
        email="someone@example.org", preferred_contact_method="letter",
        safe_contact={"sms": False, "voicemail": False, "email": False, "letter": True}))
    safe = redaction.redact(referral, OrganisationType.MARAC)["safe_contact"]
    assert safe["phone"] is None and safe["email_address"] is None and safe["letter"] is True
    _, by_email = _case(db_session, person=f.unique_person(
        email="someone@example.org", preferred_contact_method="email",
        safe_contact={"sms": False, "email": True}))
    assert redaction.redact(by_email, OrganisationType.MARAC)["safe_contact"][
        "email_address"] == "someone@example.org"


def test_list_fields_are_a_subset_and_only_those(db_session) -> None:  # type: ignore[no-untyped-def]
    _, referral = _case(db_session)
    for panel in (OrganisationType.MARAC, OrganisationType.MAPPA):
        assert set(redaction.redact(referral, panel, only=redaction.LIST_FIELDS)) == {
            "reference", "person_name", "date_of_birth", "status"}
    # ``only`` can never widen a panel's set.
    assert "current_address" not in redaction.redact(
        referral, OrganisationType.MARAC, only=("reference", "current_address"))


def test_a_referring_body_is_not_a_panel_and_sees_nothing(db_session) -> None:  # type: ignore[no-untyped-def]
    _, referral = _case(db_session)
    with pytest.raises(ValueError, match="not a panel"):
        redaction.redact(referral, OrganisationType.PROBATION)


@pytest.mark.parametrize("panel,keys", [(OrganisationType.MARAC, MARAC_KEYS),
                                        (OrganisationType.MAPPA, MAPPA_KEYS)])
def test_api_schema_is_generated_from_the_same_field_set(panel, keys) -> None:  # type: ignore[no-untyped-def]
    schema = redaction.schema_for(panel)()
    assert set(schema.fields) == keys
    assert all(field.required for field in schema.fields.values())


@pytest.mark.parametrize("panel", [OrganisationType.MARAC, OrganisationType.MAPPA])
def test_the_h_clic_needs_added_in_15_7_are_shown_to_no_panel(db_session, panel) -> None:  # type: ignore[no-untyped-def]
    added = ["young_person_18_25", "care_leaver_18_20", "care_leaver_21_24",
             "care_leaver_25_plus", "non_domestic_abuse", "modern_slavery",
             "education_employment_training"]
    w = pf.world()
    referral = pf.mappa_case(w.referrer, risk={"marac": True},
                             support_needs=["domestic_abuse", "offending_history", *added])
    seen = redaction.redact(referral, panel)
    kept = "domestic_abuse" if panel is OrganisationType.MARAC else "offending_history"
    assert seen["support_needs"] == [kept]
    assert not any(need in json.dumps(seen, default=str) for need in added)
