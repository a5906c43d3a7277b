"""The partner API for referrals (API.md §2): what a partner's system sees over HTTP.

Every request goes through the real token endpoint, the real error handler and the real
database; time is moved with time-machine, never slept. Idempotency is in test_api_idempotency.
"""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral_service.app import create_app
from referral_service.clock import LONDON
from referral_service.domain import casework
from referral_service.extensions import db
from referral_service.models import (
    AuditEvent,
    ContactChannel,
    Outcome,
    PossibleDuplicate,
    Referral,
    User,
)
from tests import factories as f

REFERRALS = "/api/v1/referrals"
PROBLEM = "application/problem+json"
REFERENCE = re.compile(r"^DTR-[2-9A-HJ-NP-Z]{6}$")  # no 0/O, no 1/I
TEAM_PHONE = "01632 960 100"
TEAM_EMAIL = "housing@welwynhatfield.example"
PRIVATE = "PRIVATE NOTE xyz"


class Partner:
    """One partner organisation's API client, calling over HTTP with its own bearer token."""

    def __init__(self, http: FlaskClient, org: Any, issued: Any) -> None:
        self.http, self.org, self.issued = http, org, issued
        self.headers = f.bearer_headers(http, issued)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if body is not None:
            kwargs["json"] = body
        return self.http.post(path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.http.get(path, headers=headers, **kwargs)

    def refer(self, **overrides: Any) -> dict[str, Any]:
        """Make a referral (a person no other referral matches) and return what came back."""
        overrides.setdefault("person", f.unique_person())
        response = self.post(REFERRALS, f.payload(**overrides))
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def fresh_rate_limits(app: Flask) -> None:
    """The session's one app counts every test's token requests from 127.0.0.1 (60 a minute,
    and time-machine moves the windows): each test starts with no requests counted."""
    for limiter in app.extensions.get("limiter", ()):
        limiter.reset()


@pytest.fixture
def welwyn(db_session):  # type: ignore[no-untyped-def]
    return f.authority(team_phone=TEAM_PHONE, team_email=TEAM_EMAIL)


@pytest.fixture
def probation(client, welwyn) -> Partner:  # type: ignore[no-untyped-def]
    org = f.organisation()
    return Partner(client, org, f.api_client(org))


@pytest.fixture
def jobcentre(client, welwyn) -> Partner:  # type: ignore[no-untyped-def]
    org = f.organisation(name="Jobcentre Plus – Stevenage", type="jobcentre")
    return Partner(client, org, f.api_client(org))


def stored() -> tuple[int, int]:
    """How many referrals and audit events exist: a refused request must change neither."""
    return (db.session.scalar(select(func.count()).select_from(Referral)) or 0,
            db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["status"] == status and body["title"] and body["type"]
    return body  # type: ignore[no-any-return]


def without(path: str) -> dict[str, Any]:
    """The example payload with one (dotted) field left out."""
    data = f.payload(person=f.unique_person())
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    del node[last]
    return data


# --- Creating a referral ---------------------------------------------------------------------


def test_post_creates_the_referral_as_the_contract_describes(probation, welwyn) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(welwyn, name="Jo Smith")
    f.db.session.commit()
    submitted = f.payload(
        referrer={"phone": "01632960001"},
        person={"phone": "+44 (0)7700 900123", "nhs_number": "943 476 5919",
                "address": {"line1": "Flat 2", "line2": "1 High Street", "town": "Welwyn",
                            "postcode": "al86ab"}})

    response = probation.post(REFERRALS, submitted)

    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.json
    assert str(uuid.UUID(body["id"])) == body["id"]
    assert response.headers["Location"].endswith(f"{REFERRALS}/{body['id']}")
    assert REFERENCE.fullmatch(body["reference"])
    assert body["status"] == "assigned"
    assert body["authority"] == {"code": "E07000241", "name": "Welwyn Hatfield"}
    assert body["referring_organisation"] == {"id": str(probation.org.id),
                                              "name": "Probation Service – Kent",
                                              "type": "probation"}
    assert body["named_officer"] == {"name": officer.name, "team_phone": "+441632960100",
                                     "team_email": TEAM_EMAIL}
    received = datetime.fromisoformat(body["received_at"])
    assert received.tzinfo is not None and abs(datetime.now(UTC) - received) < timedelta(minutes=1)
    assert datetime.fromisoformat(body["contact_due_by"]) > received
    assert body["acknowledged_at"] is None and body["contacted_at"] is None
    assert body["closed_at"] is None and body["outcome"] is None
    # Every submitted field comes back, normalised.
    assert body["referrer"] == {"name": "Sam Patel", "job_title": "Probation Officer",
                                "team": "Kent PDU", "email": "sam.patel@probation.example",
                                "phone": "+441632960001"}
    assert body["consent"]["given"] is True
    assert datetime.fromisoformat(body["consent"]["recorded_at"]) == datetime(
        2026, 11, 20, 10, 15, tzinfo=UTC)
    assert body["consent"]["notes"] == "agreed in supervision"
    person = body["person"]
    assert (person["first_name"], person["last_name"]) == ("Aoife", "O'Neill")
    assert person["date_of_birth"] == "1990-04-01"
    assert person["nhs_number"] == "9434765919"
    assert person["phone"] == "+447700900123"
    assert person["email"] == "aoife@example.org"
    assert person["address"] == {"line1": "Flat 2", "line2": "1 High Street", "town": "Welwyn",
                                 "postcode": "AL8 6AB"}
    assert person["preferred_contact_method"] == "sms"
    assert person["safe_contact"] == {"sms": True, "voicemail": False, "email": True,
                                      "letter": False,
                                      "instructions": "Do not leave messages with partner"}
    assert (person["language"], person["interpreter_needed"], person["no_fixed_abode"]) == (
        "en", False, False)
    assert body["household"] == [{"relationship": "child", "age": 4}]
    assert body["housing_situation"] == "threatened_with_homelessness"
    assert body["at_risk_of_rough_sleeping_tonight"] is False and body["urgent"] is False
    assert body["homelessness_date"] == "2026-12-18"
    assert body["release_or_discharge_date"] is None
    assert body["current_location"] == submitted["current_location"]
    assert body["reason"] == submitted["reason"]
    assert body["support_needs"] == ["mental_health", "domestic_abuse"]
    assert body["risk"]["marac"] is False and body["risk"]["mappa_level"] is None
    assert body["agency_reference"] == "PRB-55121"
    # What came back is what is stored, and what GET returns.
    made = db.session.get(Referral, uuid.UUID(body["id"]))
    assert made is not None and made.referring_organisation_id == probation.org.id
    assert made.named_officer_id == officer.id
    again = probation.get(response.headers["Location"])
    assert again.status_code == 200 and again.json == body


def test_post_without_an_available_officer_is_unassigned(probation) -> None:  # type: ignore[no-untyped-def]
    body = probation.refer()
    assert body["status"] == "unassigned"
    assert body["named_officer"] is None


@pytest.mark.parametrize("field", [
    {"referring_organisation": {"id": str(uuid.UUID(int=1)), "name": "Someone else",
                                "type": "hospital_inpatient"}},
    {"organisation_type": "hospital_inpatient"},
    {"type": "hospital_inpatient"},
])
def test_the_organisation_cannot_be_set_in_the_payload(probation, field) -> None:  # type: ignore[no-untyped-def]
    before = stored()
    response = probation.post(REFERRALS, {**f.payload(person=f.unique_person()), **field})
    body = assert_problem(response, 400)
    assert list(body["errors"]) == list(field)
    assert stored() == before


# --- Every rule of "Creating a referral", refused field by field --------------------------------

NO_ROUTE = {"phone": None, "email": None, "address": None, "preferred_contact_method": None}

REFUSALS: dict[str, tuple[dict[str, Any] | None, str, str | None]] = {
    # id: (payload overrides, or None for `without(field)`; the error key; a word of the message)
    "consent_false": ({"consent": {"given": False}}, "consent.given", "consent"),
    "consent_missing": (None, "consent", "consent"),
    "unknown_authority": ({"authority_code": "E07000999"}, "authority_code", "E07000999"),
    "non_participating_authority": ({"authority_code": "E07000243"}, "authority_code", None),
    "authority_code_missing": (None, "authority_code", None),
    "first_name_missing": (None, "person.first_name", "first name"),
    "last_name_missing": (None, "person.last_name", "last name"),
    "reason_missing": (None, "reason", "reason"),
    "housing_situation_missing": (None, "housing_situation", "housing situation"),
    "referrer_name_missing": (None, "referrer.name", "name"),
    "referrer_email_missing": (None, "referrer.email", "email"),
    "blank_first_name": ({"person": {"first_name": "   "}}, "person.first_name", "first name"),
    "null_reason": ({"reason": None}, "reason", "reason"),
    "no_route_to_the_person": ({"person": NO_ROUTE}, "person", "at least one way"),
    "bad_person_phone": ({"person": {"phone": "07700 90012"}}, "person.phone", None),
    "foreign_person_phone": ({"person": {"phone": "+1 202 555 0143"}}, "person.phone", None),
    "bad_referrer_phone": ({"referrer": {"phone": "phone me"}}, "referrer.phone", None),
    "bad_person_email": ({"person": {"email": "aoife.example.org"}}, "person.email", None),
    "bad_referrer_email": ({"referrer": {"email": "sam@"}}, "referrer.email", None),
    "bad_postcode": ({"person": {"address": {"line1": "Flat 2", "postcode": "AL8 6ABX"}}},
                     "person.address.postcode", None),
    "nhs_number_fails_mod_11": ({"person": {"nhs_number": "9434765918"}},
                                "person.nhs_number", None),
    "dob_in_the_future": ({"person": {"date_of_birth": "2099-01-01"}},
                          "person.date_of_birth", "past"),
    "dob_not_a_date": ({"person": {"date_of_birth": "01/04/1990"}},
                       "person.date_of_birth", None),
    "bad_housing_situation": ({"housing_situation": "sofa_surfing"}, "housing_situation",
                              "homeless"),
    "bad_support_need": ({"support_needs": ["mental_health", "astrology"]},
                         "support_needs.1", "astrology"),
    "unknown_top_level_field": ({"nickname": "Aoife"}, "nickname", "Not a recognised field"),
    "unknown_person_field": ({"person": {"nickname": "Aoife"}}, "person.nickname",
                             "Not a recognised field"),
    "unknown_address_field": ({"person": {"address": {"line1": "Flat 2", "county": "Herts"}}},
                              "person.address.county", "Not a recognised field"),
    "consent_not_an_object": ({"consent": True}, "consent", None),
    "household_age_not_a_number": ({"household": [{"relationship": "child", "age": "four"}]},
                                   "household.0.age", None),
}
MISSING = {
    "consent_missing": "consent", "authority_code_missing": "authority_code",
    "first_name_missing": "person.first_name", "last_name_missing": "person.last_name",
    "reason_missing": "reason", "housing_situation_missing": "housing_situation",
    "referrer_name_missing": "referrer.name", "referrer_email_missing": "referrer.email",
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_rule_is_a_field_level_problem_and_stores_nothing(probation, case) -> None:  # type: ignore[no-untyped-def]
    f.authority(code="E07000243", name="Stevenage", participating=False)
    db.session.commit()
    overrides, key, words = REFUSALS[case]
    if overrides is None:
        data = without(MISSING[case])
    else:
        overrides = dict(overrides)
        person = {**f.unique_person(), **overrides.pop("person", {})}
        data = f.payload(person=person, **overrides)
    before = stored()

    response = probation.post(REFERRALS, data)

    body = assert_problem(response, 400)
    assert key in body["errors"], body
    assert all(isinstance(message, str) and message for message in body["errors"][key])
    if words:
        assert words.lower() in " ".join(body["errors"][key]).lower()
    assert body["detail"]
    assert stored() == before


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_consent_time_with_no_utc_equivalent_is_a_field_error(probation, moment) -> None:  # type: ignore[no-untyped-def]
    data = f.payload(person=f.unique_person(), consent={"recorded_at": moment})
    body = assert_problem(probation.post(REFERRALS, data), 400)
    assert "consent.recorded_at" in body["errors"]


def test_several_mistakes_are_reported_together(probation) -> None:  # type: ignore[no-untyped-def]
    data = f.payload(person={**f.unique_person(), "phone": "123", "email": "no"},
                     housing_situation="sofa")
    body = assert_problem(probation.post(REFERRALS, data), 400)
    assert {"person.phone", "person.email", "housing_situation"} <= set(body["errors"])


def test_a_body_over_64_kib_is_413(probation) -> None:  # type: ignore[no-untyped-def]
    before = stored()
    data = f.payload(person=f.unique_person(), reason="x" * (65 * 1024))
    assert_problem(probation.post(REFERRALS, data), 413)
    assert stored() == before


@pytest.mark.parametrize(("content", "content_type"), [
    ("authority_code=E07000241&reason=x", "application/x-www-form-urlencoded"),
    (json.dumps({"authority_code": "E07000241"}), "text/plain"),
    ("<referral/>", "application/xml"),
])
def test_a_body_that_is_not_json_is_415(probation, content, content_type) -> None:  # type: ignore[no-untyped-def]
    before = stored()
    response = probation.post(REFERRALS, data=content, content_type=content_type)
    assert_problem(response, 415)
    assert stored() == before


def test_a_multipart_form_is_415(probation) -> None:  # type: ignore[no-untyped-def]
    response = probation.post(REFERRALS, data={"authority_code": "E07000241"})
    assert_problem(response, 415)


@pytest.mark.parametrize("text", ['{"authority_code": ', "{'single': 'quotes'}", "\x00\xff"])
def test_malformed_json_is_a_400_problem(probation, text) -> None:  # type: ignore[no-untyped-def]
    before = stored()
    response = probation.post(REFERRALS, data=text, content_type="application/json")
    assert_problem(response, 400)
    assert stored() == before


@pytest.mark.parametrize("body", ["", "{}"])
def test_an_empty_body_is_400_naming_the_required_fields(probation, body) -> None:  # type: ignore[no-untyped-def]
    before = stored()
    response = probation.post(REFERRALS, data=body, content_type="application/json")
    problem = assert_problem(response, 400)
    assert {"authority_code", "referrer", "consent", "person", "housing_situation",
            "reason"} <= set(problem["errors"])
    assert stored() == before


@pytest.mark.parametrize("text", [
    "[" * 5000 + "]" * 5000,  # deeper than the parser can go
    '{"reason": ' + "[" * 30000 + "]" * 30000 + "}",
    json.dumps(f.payload(reason="Section 21 \ud800 notice")),  # a lone surrogate: not text
    json.dumps(f.payload(person={"first_name": "\udcff"})),
])
def test_json_that_cannot_be_text_or_is_too_deep_is_a_400_problem(probation, text) -> None:  # type: ignore[no-untyped-def]
    before = stored()
    response = probation.post(REFERRALS, data=text, content_type="application/json")
    assert_problem(response, 400)
    assert stored() == before


@pytest.mark.parametrize("body", ["[]", '"a referral"', "null", "42"])
def test_json_that_is_not_an_object_is_a_400_problem(probation, body) -> None:  # type: ignore[no-untyped-def]
    before = stored()
    response = probation.post(REFERRALS, data=body, content_type="application/json")
    assert_problem(response, 400)
    assert stored() == before


def test_get_on_withdraw_is_405_with_allow(probation) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    response = probation.get(f"{REFERRALS}/{made['id']}/withdraw")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/referrals/x/y/z",
                                  "/api/v2/referrals"])
def test_an_unknown_api_path_is_a_404_problem(probation, path) -> None:  # type: ignore[no-untyped-def]
    assert_problem(probation.get(path), 404)


def test_a_missing_token_is_401_problem(client, probation) -> None:  # type: ignore[no-untyped-def]
    before = stored()
    response = client.post(REFERRALS, json=f.payload(person=f.unique_person()))
    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert stored() == before


def test_a_read_only_token_cannot_make_a_referral(client, probation) -> None:  # type: ignore[no-untyped-def]
    reader = Partner(client, probation.org, f.api_client(probation.org, ("referrals:read",)))
    before = stored()
    response = reader.post(REFERRALS, f.payload(person=f.unique_person()))
    assert_problem(response, 403)
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert stored() == before


def test_a_panel_cannot_make_or_read_referrals(client, probation) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    panel_org = f.organisation(name="Kent MARAC", type="marac")
    panel = Partner(client, panel_org, f.api_client(panel_org, ("cases:shared",)))
    before = stored()
    assert_problem(panel.post(REFERRALS, f.payload(person=f.unique_person())), 403)
    assert_problem(panel.get(f"{REFERRALS}/{made['id']}"), 403)
    assert_problem(panel.get(REFERRALS), 403)
    assert stored() == before


# --- Deadlines and duplicates through the API ---------------------------------------------------

# Wednesday 16 June 2027, 09:00 in London (BST, so 08:00 UTC): the offset matters.
WEDNESDAY_9AM_BST = datetime(2027, 6, 16, 8, 0, tzinfo=UTC)


def test_rough_sleeping_tonight_is_due_by_five_the_same_day(client, welwyn) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(WEDNESDAY_9AM_BST, tick=False):
        org = f.organisation()
        partner = Partner(client, org, f.api_client(org))
        urgent = partner.refer(at_risk_of_rough_sleeping_tonight=True)
        usual = partner.refer()

    assert urgent["urgent"] is True
    assert datetime.fromisoformat(urgent["contact_due_by"]) == datetime(
        2027, 6, 16, 17, 0, tzinfo=LONDON)
    assert datetime.fromisoformat(urgent["received_at"]) == WEDNESDAY_9AM_BST
    # The authority's default policy otherwise: two working days, Friday 17:00.
    assert usual["urgent"] is False
    assert datetime.fromisoformat(usual["contact_due_by"]) == datetime(
        2027, 6, 18, 17, 0, tzinfo=LONDON)


def test_release_tomorrow_is_due_the_same_day(client, welwyn) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(WEDNESDAY_9AM_BST, tick=False):
        org = f.organisation()
        partner = Partner(client, org, f.api_client(org))
        made = partner.refer(release_or_discharge_date="2027-06-17")
    assert made["urgent"] is True
    assert datetime.fromisoformat(made["contact_due_by"]) == datetime(
        2027, 6, 16, 17, 0, tzinfo=LONDON)


def test_a_second_referral_for_the_same_nhs_number_is_linked_not_merged(probation) -> None:  # type: ignore[no-untyped-def]
    first = probation.refer(person=f.unique_person(nhs_number="9434765919"))
    response = probation.post(REFERRALS, f.payload(
        person=f.unique_person(nhs_number="943 476 5919")))

    assert response.status_code == 201, response.get_data(as_text=True)
    second = response.json
    assert second["id"] != first["id"] and second["reference"] != first["reference"]
    links = db.session.scalars(select(PossibleDuplicate)).all()
    assert [(link.referral_id, link.existing_referral_id) for link in links] == [
        (uuid.UUID(second["id"]), uuid.UUID(first["id"]))]
    assert links[0].matched_on == ["nhs_number"]
    # Both stay open, each readable on its own.
    for made in (first, second):
        assert probation.get(f"{REFERRALS}/{made['id']}").json["status"] == "unassigned"


# --- Reading: only your own organisation's referrals --------------------------------------------


def test_another_organisations_referral_is_404_not_403(probation, jobcentre) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    for path in ("", "/timeline", "/messages"):
        response = jobcentre.get(f"{REFERRALS}/{made['id']}{path}")
        body = assert_problem(response, 404)
        assert "Aoife" not in response.get_data(as_text=True)
        assert made["reference"] not in json.dumps(body)
    assert probation.get(f"{REFERRALS}/{made['id']}").status_code == 200


@pytest.mark.parametrize("ident", ["123", "DTR-7K3M9Q", "not-a-uuid", str(uuid.uuid4())])
def test_an_unknown_or_malformed_id_is_404(probation, ident) -> None:  # type: ignore[no-untyped-def]
    assert_problem(probation.get(f"{REFERRALS}/{ident}"), 404)


def test_the_list_shows_only_your_own_organisations_referrals(probation, jobcentre) -> None:  # type: ignore[no-untyped-def]
    mine = {probation.refer()["id"] for _ in range(3)}
    theirs = jobcentre.refer()["id"]

    page = probation.get(REFERRALS)

    assert page.status_code == 200
    assert {item["id"] for item in page.json["items"]} == mine
    assert page.json["next_cursor"] is None
    assert [item["id"] for item in jobcentre.get(REFERRALS).json["items"]] == [theirs]


def test_filter_by_status(probation) -> None:  # type: ignore[no-untyped-def]
    kept = probation.refer()
    gone = probation.refer()
    assert probation.post(f"{REFERRALS}/{gone['id']}/withdraw").status_code == 200

    withdrawn = probation.get(REFERRALS, query_string={"status": "withdrawn"}).json
    unassigned = probation.get(REFERRALS, query_string={"status": "unassigned"}).json

    assert [item["id"] for item in withdrawn["items"]] == [gone["id"]]
    assert [item["id"] for item in unassigned["items"]] == [kept["id"]]
    assert probation.get(REFERRALS, query_string={"status": "closed"}).json["items"] == []


def test_filter_by_updated_since(client, welwyn) -> None:  # type: ignore[no-untyped-def]
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        org = f.organisation()
        partner = Partner(client, org, f.api_client(org))
        old = partner.refer()
        traveller.shift(timedelta(minutes=10))
        new = partner.refer()
        traveller.shift(timedelta(minutes=10))
        # A change brings an old referral back into view.
        assert partner.post(f"{REFERRALS}/{old['id']}/withdraw").status_code == 200
        traveller.shift(timedelta(minutes=1))

        def ids_since(moment: str) -> list[str]:
            response = partner.get(REFERRALS, query_string={"updated_since": moment})
            assert response.status_code == 200, response.get_data(as_text=True)
            return [item["id"] for item in response.json["items"]]

        assert ids_since("2026-11-23T09:00:00Z") == [new["id"], old["id"]]
        assert ids_since("2026-11-23T10:10:00Z") == [new["id"], old["id"]]
        assert ids_since("2026-11-23T10:10:00.000001+00:00") == [old["id"]]
        # The offset is honoured: 11:20 at +01:00 is 10:20 UTC, when the withdrawal happened.
        assert ids_since("2026-11-23T11:20:00+01:00") == [old["id"]]
        assert ids_since("2026-11-23T10:20:01Z") == []


@pytest.mark.parametrize(("params", "key"), [
    ({"status": "pending"}, "status"),
    ({"status": "WITHDRAWN"}, "status"),
    ({"updated_since": "yesterday"}, "updated_since"),
    ({"updated_since": "2026-11-23T10:00:00"}, "updated_since"),  # no time zone: ambiguous
    ({"updated_since": "2026-13-45T10:00:00Z"}, "updated_since"),
    ({"updated_since": "0001-01-01T00:00:00+01:00"}, "updated_since"),  # before year 1 in UTC
    ({"updated_since": "9999-12-31T23:59:59-01:00"}, "updated_since"),  # after 9999 in UTC
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "ten"}, "limit"),
])
def test_bad_filters_are_400_with_field_errors(probation, params, key) -> None:  # type: ignore[no-untyped-def]
    body = assert_problem(probation.get(REFERRALS, query_string=params), 400)
    assert key in body["errors"], body


def walk(partner: Partner, **params: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    for _ in range(20):
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = partner.get(REFERRALS, query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)
        pages.append([item["id"] for item in response.json["items"]])
        cursor = response.json["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("the cursor never ended")


@pytest.mark.parametrize("same_instant", [False, True], ids=["apart", "same_instant"])
def test_cursor_pagination_visits_every_referral_exactly_once(client, welwyn, same_instant) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), tick=False) as traveller:
        org = f.organisation()
        partner = Partner(client, org, f.api_client(org))
        made = []
        for _ in range(5):
            made.append(partner.refer()["id"])
            if not same_instant:
                traveller.shift(timedelta(seconds=30))
        pages = walk(partner)

    assert [len(page) for page in pages] == [2, 2, 1]
    seen = [ident for page in pages for ident in page]
    assert sorted(seen) == sorted(made) and len(set(seen)) == 5
    if not same_instant:
        assert seen == made  # oldest change first


def test_exactly_a_full_last_page_ends_with_a_null_cursor(probation) -> None:  # type: ignore[no-untyped-def]
    made = {probation.refer()["id"] for _ in range(4)}
    pages = walk(probation)
    assert [len(page) for page in pages] == [2, 2]
    assert {ident for page in pages for ident in page} == made


def test_cursor_pages_keep_the_filter(probation) -> None:  # type: ignore[no-untyped-def]
    made = [probation.refer()["id"] for _ in range(5)]
    for ident in made[:3]:
        assert probation.post(f"{REFERRALS}/{ident}/withdraw").status_code == 200
    pages = walk(probation, status="withdrawn")
    assert sorted(ident for page in pages for ident in page) == sorted(made[:3])


def test_another_organisations_cursor_shows_nothing_of_theirs(probation, jobcentre) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        jobcentre.refer()
    cursor = jobcentre.get(REFERRALS, query_string={"limit": 1}).json["next_cursor"]
    assert cursor
    page = probation.get(REFERRALS, query_string={"cursor": cursor})
    assert page.status_code == 200 and page.json["items"] == []


@pytest.mark.parametrize("cursor", [
    "garbage", "!!!", "e30", "WyJ4IiwieSJd",  # {} and ["x","y"], base64
    "WyIyMDI2LTExLTIzVDEwOjAwOjAwIiwgIjEyMyJd",  # a naive time and a bad id
    "NDI", "bnVsbA", "eyJhIjogMSwgImIiOiAyfQ",  # 42, null, {"a": 1, "b": 2}
    "WyIyMDI2LTExLTIzVDEwOjAwOjAwKzAwOjAwIiwgNV0",  # [a good time, 5]
    "WyIyMDI2LTExLTIzVDEwOjAwOjAwKzAwOjAwIiwgIngiLCAzXQ",  # three parts
    # ["0001-01-01T00:00:00+01:00", a good id]: before year 1 in UTC
    "WyIwMDAxLTAxLTAxVDAwOjAwOjAwKzAxOjAwIiwgIjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJd",
    "x" * 201,
])
def test_a_garbage_cursor_is_400(probation, cursor) -> None:  # type: ignore[no-untyped-def]
    probation.refer()
    body = assert_problem(probation.get(REFERRALS, query_string={"cursor": cursor}), 400)
    assert "cursor" in body["errors"]


# --- Timeline -----------------------------------------------------------------------------------


def test_the_timeline_shows_what_a_referrer_may_see_and_never_private_notes(client, welwyn) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), tick=False) as traveller:
        officer = f.officer(welwyn, name="Jo Smith")
        org = f.organisation()
        partner = Partner(client, org, f.api_client(org))
        made = partner.refer()
        assert made["status"] == "assigned"
        referral = db.session.get(Referral, uuid.UUID(made["id"]))
        named = db.session.get(User, officer.id)
        for step in (
            lambda: casework.accept(referral, named),
            lambda: casework.record_contact_made(referral, named, channel=ContactChannel.PHONE,
                                                 notes=PRIVATE),
            lambda: casework.close(referral, named, outcome=Outcome.PREVENTION_DUTY,
                                   notes=f"{PRIVATE} closing"),
        ):
            traveller.shift(timedelta(minutes=10))
            step()
            db.session.commit()
        response = partner.get(f"{REFERRALS}/{made['id']}/timeline")
        read = partner.get(f"{REFERRALS}/{made['id']}")

    assert response.status_code == 200, response.get_data(as_text=True)
    timeline = response.json
    assert timeline["reference"] == made["reference"] and timeline["status"] == "closed"
    entries = timeline["entries"]
    assert [entry["type"] for entry in entries] == [
        "received", "officer_named", "accepted", "contact_made", "closed"]
    assert "Welwyn Hatfield" in entries[0]["description"]
    assert "Jo Smith" in entries[1]["description"]
    assert "prevention duty" in entries[4]["description"]
    assert [datetime.fromisoformat(entry["at"]) for entry in entries] == [
        datetime(2026, 11, 23, 10, m, tzinfo=UTC) for m in (0, 0, 10, 20, 30)]
    for text in (response.get_data(as_text=True), read.get_data(as_text=True)):
        assert "PRIVATE NOTE" not in text and "xyz" not in text
    assert read.json["status"] == "closed" and read.json["outcome"] == "prevention_duty"
    assert read.json["closed_at"] is not None and read.json["contacted_at"] is not None


def test_the_timeline_of_a_queued_and_withdrawn_referral(probation) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    assert probation.post(f"{REFERRALS}/{made['id']}/withdraw",
                          {"reason": "The person found a room with family."}).status_code == 200
    entries = probation.get(f"{REFERRALS}/{made['id']}/timeline").json["entries"]
    assert [entry["type"] for entry in entries] == ["received", "in_team_queue", "withdrawn"]


# --- Withdraw -----------------------------------------------------------------------------------


def test_withdraw_then_again_is_409(probation) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    path = f"{REFERRALS}/{made['id']}/withdraw"

    response = probation.post(path)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["id"] == made["id"] and response.json["status"] == "withdrawn"
    assert response.json["closed_at"] is not None
    before = stored()
    again = assert_problem(probation.post(path), 409)
    assert again["detail"]
    assert stored() == before
    assert probation.get(f"{REFERRALS}/{made['id']}").json["status"] == "withdrawn"


def test_withdraw_with_a_reason_and_an_empty_object(probation) -> None:  # type: ignore[no-untyped-def]
    first, second = probation.refer(), probation.refer()
    assert probation.post(f"{REFERRALS}/{first['id']}/withdraw",
                          {"reason": "The person has found somewhere to live."}
                          ).json["status"] == "withdrawn"
    assert probation.post(f"{REFERRALS}/{second['id']}/withdraw", {}).json["status"] == "withdrawn"


def test_withdraw_a_closed_referral_is_409(probation, welwyn) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(welwyn)
    f.db.session.commit()
    made = probation.refer()
    referral = db.session.get(Referral, uuid.UUID(made["id"]))
    named = db.session.get(User, officer.id)
    casework.accept(referral, named)
    casework.record_contact_made(referral, named, channel=ContactChannel.PHONE)
    casework.close(referral, named, outcome=Outcome.ADVICE_ONLY)
    db.session.commit()
    assert_problem(probation.post(f"{REFERRALS}/{made['id']}/withdraw"), 409)
    assert probation.get(f"{REFERRALS}/{made['id']}").json["status"] == "closed"


def test_withdrawing_another_organisations_referral_is_404(probation, jobcentre) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    before = stored()
    assert_problem(jobcentre.post(f"{REFERRALS}/{made['id']}/withdraw"), 404)
    assert stored() == before
    assert probation.get(f"{REFERRALS}/{made['id']}").json["status"] == "unassigned"


@pytest.mark.parametrize(("body", "key"), [
    ({"reason": "moved away", "because": "x"}, "because"),
    ({"reason": 42}, "reason"),
    ({"reason": "x" * 1001}, "reason"),
])
def test_a_bad_withdraw_body_is_400(probation, body, key) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    problem = assert_problem(probation.post(f"{REFERRALS}/{made['id']}/withdraw", body), 400)
    assert key in problem["errors"]
    assert probation.get(f"{REFERRALS}/{made['id']}").json["status"] == "unassigned"


def test_a_read_only_token_cannot_withdraw(client, probation) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    reader = Partner(client, probation.org, f.api_client(probation.org, ("referrals:read",)))
    assert_problem(reader.post(f"{REFERRALS}/{made['id']}/withdraw"), 403)
    assert probation.get(f"{REFERRALS}/{made['id']}").json["status"] == "unassigned"


# --- Messages -----------------------------------------------------------------------------------


def test_post_and_list_messages(probation) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    path = f"{REFERRALS}/{made['id']}/messages"
    assert probation.get(path).json == {"items": []}

    response = probation.post(path, {"body": "  She now has a mobile: 07700 900456.  "})

    assert response.status_code == 201, response.get_data(as_text=True)
    note = response.json
    assert note["author"] == "referrer"
    assert note["author_name"] == "Probation Service – Kent"
    assert note["body"] == "She now has a mobile: 07700 900456."
    assert uuid.UUID(note["id"]) and datetime.fromisoformat(note["created_at"]).tzinfo
    assert probation.post(path, {"body": "Second note"}).status_code == 201
    listed = probation.get(path).json["items"]
    assert [item["body"] for item in listed] == [note["body"], "Second note"]
    assert listed[0] == note
    # The timeline says a note was sent, without its words.
    entries = probation.get(f"{REFERRALS}/{made['id']}/timeline").json["entries"]
    assert [entry["type"] for entry in entries].count("message") == 2
    assert "07700" not in json.dumps(entries)


@pytest.mark.parametrize(("data", "content_type"), [
    (None, None), ("", "application/json"), ("{}", "application/json"),
    ('{"body": ""}', "application/json"), ('{"body": "   "}', "application/json"),
    ('{"body": null}', "application/json"), ('{"text": "hello"}', "application/json"),
    (json.dumps({"body": "x" * 5001}), "application/json"),
    (json.dumps({"body": "Hello \ud800"}), "application/json"),
])
def test_an_empty_or_bad_message_is_400(probation, data, content_type) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    path = f"{REFERRALS}/{made['id']}/messages"
    before = stored()
    kwargs = {} if data is None else {"data": data, "content_type": content_type}
    problem = assert_problem(probation.post(path, **kwargs), 400)
    assert problem["errors"]
    assert stored() == before
    assert probation.get(path).json == {"items": []}


def test_messages_on_another_organisations_referral_are_404(probation, jobcentre) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    path = f"{REFERRALS}/{made['id']}/messages"
    assert_problem(jobcentre.post(path, {"body": "Is this ours?"}), 404)
    assert_problem(jobcentre.get(path), 404)
    assert probation.get(path).json == {"items": []}


def test_message_scopes(client, probation) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    path = f"{REFERRALS}/{made['id']}/messages"
    reader = Partner(client, probation.org, f.api_client(probation.org, ("referrals:read",)))
    writer = Partner(client, probation.org, f.api_client(probation.org, ("referrals:write",)))

    refused = reader.post(path, {"body": "from a read-only token"})
    assert_problem(refused, 403)
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    assert_problem(writer.get(path), 403)
    assert writer.post(path, {"body": "from a write token"}).status_code == 201
    assert [item["body"] for item in reader.get(path).json["items"]] == ["from a write token"]


# --- Authorities --------------------------------------------------------------------------------


def test_authorities_lists_participating_ones_as_a_bare_list(client, welwyn) -> None:  # type: ignore[no-untyped-def]
    f.authority(code="E07000243", name="Stevenage", participating=False)
    f.authority(code="E07000096", name="Dacorum")
    org = f.organisation()
    reader = Partner(client, org, f.api_client(org, ("referrals:read",)))

    response = reader.get("/api/v1/authorities")

    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json == [{"code": "E07000096", "name": "Dacorum"},
                             {"code": "E07000241", "name": "Welwyn Hatfield"}]
    assert_problem(client.get("/api/v1/authorities"), 401)


# --- Rate limits --------------------------------------------------------------------------------


@pytest.fixture
def limited_app(fresh_app: Flask) -> Iterator[Flask]:
    """A second app on the fresh database with a tiny API rate limit."""
    application = create_app({
        "TESTING": True, "SECRET_KEY": "test", "PUBLIC_BASE_URL": "http://localhost",
        "SQLALCHEMY_DATABASE_URI": fresh_app.config["SQLALCHEMY_DATABASE_URI"],
        "API_RATE_LIMIT": "3 per minute"})
    yield application
    with application.app_context():
        db.engine.dispose()


def test_the_rate_limit_is_per_client(limited_app: Flask) -> None:
    with limited_app.app_context():
        f.authority()
        first_org = f.organisation()
        second_org = f.organisation(name="Jobcentre Plus – Stevenage", type="jobcentre")
        # Plain values: the records are detached once the app context ends.
        issued = [SimpleNamespace(client=SimpleNamespace(client_id=one.client.client_id),
                                  client_secret=one.client_secret)
                  for one in (f.api_client(first_org), f.api_client(second_org))]
    http = limited_app.test_client()
    first, second = (f.bearer_headers(http, one) for one in issued)

    for _ in range(3):
        allowed = http.get("/api/v1/authorities", headers=first)
        assert allowed.status_code == 200
        # Only Retry-After on a refusal (API.md): writing X-RateLimit-* on every response costs
        # storage round trips per request.
        assert not [name for name, _ in allowed.headers if name.lower().startswith("x-ratel")]
    refused = http.get("/api/v1/authorities", headers=first)

    assert_problem(refused, 429)
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # Another client is counted on its own.
    assert http.get("/api/v1/authorities", headers=second).status_code == 200
    assert http.get(REFERRALS, headers=second).status_code == 200


def test_the_default_rate_limit_is_not_tiny(probation) -> None:  # type: ignore[no-untyped-def]
    for _ in range(10):
        assert probation.get("/api/v1/authorities").status_code == 200


# --- Changing the release date and contact details (PATCH) -------------------------------------


def patch(partner: Partner, referral_id: str, body: Any, **headers: str) -> Any:
    return partner.http.patch(f"{REFERRALS}/{referral_id}", json=body,
                              headers={**partner.headers, **headers})


def reminders_of(referral_id: str) -> dict[str, datetime]:
    from referral_service.models import Reminder
    rows = db.session.scalars(select(Reminder).where(
        Reminder.referral_id == uuid.UUID(referral_id), Reminder.done_at.is_(None)))
    return {row.kind: row.due_at for row in rows}


def test_a_new_release_date_plans_the_release_day_text_again_once_it_was_sent(probation) -> None:  # type: ignore[no-untyped-def]
    from notifications import due_reminders
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), tick=False) as clock_:
        made = probation.refer(release_or_discharge_date="2026-11-24")
        clock_.move_to(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
        due_reminders.process_due()
        db.session.commit()
        assert "release_day" not in reminders_of(made["id"])  # sent this morning
        response = patch(probation, made["id"], {"release_or_discharge_date": "2026-11-27"})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert reminders_of(made["id"])["release_day"] == datetime(2026, 11, 27, 8, 0,
                                                                  tzinfo=UTC)
        # A date moved to today, after 08:00, plans no text for the afternoon.
        clock_.move_to(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
        response = patch(probation, made["id"], {"release_or_discharge_date": "2026-11-25"})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert "release_day" not in reminders_of(made["id"])


@time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), tick=False)
def test_patch_release_date_moves_the_deadline_and_reminders_and_is_audited(probation) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer(release_or_discharge_date="2027-01-15")
    assert made["contact_due_by"] == "2026-11-25T17:00:00+00:00" and made["urgent"] is False
    assert reminders_of(made["id"])["release_tomorrow"] == datetime(2027, 1, 14, 9, 0,
                                                                   tzinfo=UTC)
    assert reminders_of(made["id"])["release_day"] == datetime(2027, 1, 15, 8, 0, tzinfo=UTC)

    # Moved to Wednesday, within two days: urgent, due today 17:00 (Monday 23rd).
    response = patch(probation, made["id"], {"release_or_discharge_date": "2026-11-25"})

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert body["release_or_discharge_date"] == "2026-11-25"
    assert body["contact_due_by"] == "2026-11-23T17:00:00+00:00"
    assert body["urgent"] is True
    pending = reminders_of(made["id"])
    assert pending["deadline_missed"] == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert pending["deadline_approaching"] == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    assert pending["release_tomorrow"] == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert pending["release_day"] == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "referral.details_changed")).all()
    assert event.details["fields"] == ["release_or_discharge_date"]
    assert event.details["release_or_discharge_date"] == {"from": "2027-01-15",
                                                          "to": "2026-11-25"}
    assert event.details["contact_due_by"]["to"].startswith("2026-11-23T17:00")


@time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), tick=False)
def test_patch_contact_details_validated_as_at_intake_and_values_not_audited(probation) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    response = patch(probation, made["id"], {"person": {
        "phone": "+44 (0)7700 900456", "email": "new.address@example.org",
        "safe_contact": {"sms": True, "email": True}}})
    assert response.status_code == 200, response.get_data(as_text=True)
    person = response.json["person"]
    assert person["phone"] == "+447700900456" and person["email"] == "new.address@example.org"
    assert person["first_name"] == made["person"]["first_name"]  # untouched
    assert response.json["contact_due_by"] == made["contact_due_by"]
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "referral.details_changed")).all()
    assert event.details["fields"] == ["person.phone", "person.email", "person.safe_contact"]
    assert "900456" not in json.dumps(event.details)
    assert "new.address" not in json.dumps(event.details)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"reason": "changed"}, "reason", "cannot be changed"),
        ({"person": {"first_name": "Someone"}}, "person.first_name", "cannot be changed"),
        ({"colour": "blue"}, "colour", "Not a recognised field"),
        ({"person": {"phone": "12345"}}, "person.phone", "UK phone number"),
        ({"release_or_discharge_date": "2026-02-30"}, "release_or_discharge_date", "date"),
        ({"release_or_discharge_date": "2026-11-05\x00"}, "release_or_discharge_date", ""),
        # The person's details as a whole: texts preferred but no longer marked safe.
        ({"person": {"safe_contact": {"sms": False}}}, "person.safe_contact.sms", "safe"),
        ({}, "_schema", "at least one field"),
    ],
)
def test_patch_refuses_bad_or_fixed_fields_naming_them(probation, body, field, words) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    before = stored()
    problem = assert_problem(patch(probation, made["id"], body), 400)
    assert field in problem["errors"], problem
    assert words.lower() in " ".join(problem["errors"][field]).lower()
    assert stored() == before
    again = probation.get(f"{REFERRALS}/{made['id']}").json
    assert again["person"] == made["person"]
    assert again["release_or_discharge_date"] == made["release_or_discharge_date"]


def test_patch_refused_once_withdrawn_and_for_other_organisations(probation, jobcentre) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    assert assert_problem(patch(jobcentre, made["id"], {"release_or_discharge_date": None}),
                          404)
    assert probation.post(f"{REFERRALS}/{made['id']}/withdraw").status_code == 200
    problem = assert_problem(
        patch(probation, made["id"], {"release_or_discharge_date": "2027-01-01"}), 409)
    assert "withdrawn" in problem["detail"]


def test_patch_needs_the_write_scope(client, welwyn) -> None:  # type: ignore[no-untyped-def]
    org = f.organisation()
    issued = f.api_client(org)
    writer = Partner(client, org, issued)
    made = writer.refer()
    reader_headers = f.bearer_headers(client, issued, scope="referrals:read")
    response = client.patch(f"{REFERRALS}/{made['id']}", json={"release_or_discharge_date": None},
                            headers=reader_headers)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


# --- Transfers: the chain of custody ---------------------------------------------------------


def _transfer(made: dict[str, Any], welwyn: Any, to: Any) -> Referral | None:
    referral = db.session.get(Referral, uuid.UUID(made["id"]))
    leader = f.team_leader(welwyn)
    moved = casework.transfer(referral, to, leader, reason="Local connection",
                              person_agreed=True)
    db.session.commit()
    return moved


def test_a_transfer_shows_both_references_both_ways(probation, welwyn) -> None:  # type: ignore[no-untyped-def]
    east_herts = f.authority(code="E07000242", name="East Hertfordshire")
    made = probation.refer()
    assert made["transferred_to"] is None and made["transferred_from"] is None
    moved = _transfer(made, welwyn, east_herts)
    assert moved is not None
    earlier = probation.get(f"{REFERRALS}/{made['id']}").json
    later = probation.get(f"{REFERRALS}/{moved.id}").json
    assert earlier["status"] == "transferred"
    assert earlier["transferred_to"] == {
        "code": "E07000242", "name": "East Hertfordshire", "reference": later["reference"],
        "id": later["id"], "transferred_at": earlier["closed_at"]}
    assert later["transferred_from"] == {
        "code": welwyn.code, "name": welwyn.name, "reference": made["reference"],
        "id": made["id"], "transferred_at": earlier["closed_at"]}
    assert later["transferred_to"] is None and earlier["transferred_from"] is None
    # The list shows the same links.
    listed = {item["id"]: item for item in probation.get(REFERRALS).json["items"]}
    assert listed[later["id"]]["transferred_from"]["reference"] == made["reference"]
    assert listed[made["id"]]["transferred_to"]["reference"] == later["reference"]


def test_a_transfer_to_a_council_not_on_the_service_names_it_without_a_reference(  # type: ignore[no-untyped-def]
        probation, welwyn) -> None:
    stevenage = f.authority(code="E07000243", name="Stevenage", participating=False)
    made = probation.refer()
    assert _transfer(made, welwyn, stevenage) is None
    earlier = probation.get(f"{REFERRALS}/{made['id']}").json
    assert earlier["transferred_to"] == {
        "code": "E07000243", "name": "Stevenage", "reference": None, "id": None,
        "transferred_at": earlier["closed_at"]}


def test_a_transfer_by_link_shows_when_the_council_opened_it_and_received_it(  # type: ignore[no-untyped-def]
        probation, welwyn) -> None:
    from referral_service.domain import external_transfers

    made = probation.refer()
    referral = db.session.get(Referral, uuid.UUID(made["id"]))
    leader = f.team_leader(welwyn)
    luton = external_transfers.destination("Luton", "E06000032", "housing@luton.gov.uk")
    moved = external_transfers.transfer(referral, luton, leader, reason="Moved to Luton",
                                        person_agreed=True)
    db.session.commit()
    earlier = probation.get(f"{REFERRALS}/{made['id']}").json
    assert earlier["transferred_to"] == {
        "code": "E06000032", "name": "Luton", "reference": None, "id": None,
        "transferred_at": earlier["closed_at"], "link_first_opened_at": None,
        "received_at": None}
    external_transfers.view(moved, "192.0.2.1")
    external_transfers.mark_received(moved, "Ravi Shah", "192.0.2.1")
    db.session.commit()
    later = probation.get(f"{REFERRALS}/{made['id']}").json["transferred_to"]
    assert later["link_first_opened_at"] is not None and later["received_at"] is not None


def test_consent_withdrawal_of_the_referral_closes_it(probation) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    response = probation.post(f"{REFERRALS}/{made['id']}/consent-withdrawal",
                              {"scope": "referral", "reason": "person_withdrew"})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.json
    assert body["withdrawal"]["scope"] == "referral"
    assert body["withdrawal"]["withdrawn_by"] == "referrer"
    assert (body["referral"]["status"], body["referral"]["outcome"]) == ("closed",
                                                                         "consent_withdrawn")
    assert body["referral"]["consent"]["withdrawals"][0]["reason"] == "person_withdrew"
    entries = probation.get(f"{REFERRALS}/{made['id']}/timeline").json["entries"]
    assert "consent_withdrawn" in [e["type"] for e in entries]
    again = assert_problem(probation.post(f"{REFERRALS}/{made['id']}/consent-withdrawal",
                                          {"scope": "texts", "reason": "person_withdrew"}), 409)
    assert again["detail"]


def test_partial_consent_withdrawal_keeps_the_referral_open(probation) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    response = probation.post(f"{REFERRALS}/{made['id']}/consent-withdrawal",
                              {"scope": "texts", "reason": "person_withdrew"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["referral"]["status"] != "closed"
    assert response.json["referral"]["consent"]["scopes"]["texts"] is True


@pytest.mark.parametrize("body", [{}, {"scope": "everything", "reason": "person_withdrew"},
                                  {"scope": "texts"}, {"scope": "texts", "reason": "texted_stop"},
                                  {"scope": "texts", "reason": "other", "extra": 1}])
def test_bad_consent_withdrawal_is_422_and_changes_nothing(probation, body) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    before = stored()
    response = probation.post(f"{REFERRALS}/{made['id']}/consent-withdrawal", body)
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert response.mimetype == PROBLEM and stored() == before


def test_consent_withdrawal_on_another_organisations_referral_is_404(probation, jobcentre) -> None:  # type: ignore[no-untyped-def]
    made = probation.refer()
    assert_problem(jobcentre.post(f"{REFERRALS}/{made['id']}/consent-withdrawal",
                                  {"scope": "referral", "reason": "person_withdrew"}), 404)
    assert probation.get(f"{REFERRALS}/{made['id']}").json["status"] != "closed"
