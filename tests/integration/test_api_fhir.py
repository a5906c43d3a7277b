"""FHIR R4 intake for NHS systems (docs/fhir.md): a ServiceRequest or a transaction Bundle makes
the same referral as POST /api/v1/referrals, under the same rules; the Task follows it; every
error is an OperationOutcome naming the FHIR path. Real tokens, real database."""
from __future__ import annotations

import copy
import json
import uuid
from datetime import timedelta
from typing import Any

import hypothesis
import pytest
from flask import Flask
from hypothesis import strategies as st
from sqlalchemy import func, select

from referral_service import clock
from referral_service.domain import casework
from referral_service.extensions import db
from referral_service.models import AuditEvent, Referral, User
from tests import factories as f
from tests import fhir_examples as fx
from tests.integration.test_openapi import _string_slots

FHIR = "application/fhir+json"
SERVICE_REQUEST = "/api/fhir/ServiceRequest"


@pytest.fixture(autouse=True)
def fresh_rate_limits(app: Flask) -> None:
    for limiter in app.extensions.get("limiter", ()):
        limiter.reset()


class Caller:
    def __init__(self, http: Any, issued: Any, scope: str | None = None) -> None:
        self.http = http
        self.headers = f.bearer_headers(http, issued, scope)

    def post(self, path: str, document: Any, content_type: str = FHIR,
             **headers: str) -> Any:
        data = document if isinstance(document, str | bytes) else json.dumps(document)
        return self.http.post(path, data=data, content_type=content_type,
                              headers={**self.headers, **headers})

    def get(self, path: str) -> Any:
        return self.http.get(path, headers=self.headers)


@pytest.fixture
def welwyn(db_session):  # type: ignore[no-untyped-def]
    return f.authority()


@pytest.fixture
def nhs_trust(client, welwyn) -> Caller:  # type: ignore[no-untyped-def]
    org = f.organisation(name="Lister Hospital", type="hospital_inpatient")
    return Caller(client, f.api_client(org))


def stored() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Referral)) or 0,
            db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def issues(response: Any, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == FHIR
    body = response.json
    assert body["resourceType"] == "OperationOutcome" and body["issue"]
    assert all(issue["severity"] == "error" for issue in body["issue"])
    return body["issue"]  # type: ignore[no-any-return]


def expressions(response: Any, status: int) -> set[str]:
    return {path for issue in issues(response, status) for path in issue.get("expression", [])}


# --- Making a referral -----------------------------------------------------------------------


def test_a_service_request_makes_the_same_referral_as_the_json_api(nhs_trust, client,
                                                                   welwyn) -> None:  # type: ignore[no-untyped-def]
    document = fx.service_request()
    person = fx.contained(document, "Patient")

    response = nhs_trust.post(SERVICE_REQUEST, document)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.mimetype == FHIR
    made = response.json
    assert made["resourceType"] == "ServiceRequest" and made["status"] == "active"
    assert response.headers["Location"] == f"{SERVICE_REQUEST}/{made['id']}"
    assert response.headers["Link"] == f'</api/fhir/Task/{made["id"]}>; rel="related"'
    referral = db.session.get(Referral, uuid.UUID(made["id"]))
    assert referral is not None
    assert {"system": "https://duty-to-refer.example/fhir/Id/referral-reference",
            "value": referral.reference} in made["identifier"]

    # The same referral through the JSON API (another organisation, so no duplicate link):
    # what was received is field for field the same.
    other = f.organisation(name="Lister Hospital ED", type="hospital_emergency_department")
    json_client = f.api_client(other)
    payload = f.payload(
        referrer={"email": "sam.patel@probation.example"},
        person={"first_name": person["name"][0]["given"][0], "last_name": "Testcase",
                "date_of_birth": person["birthDate"], "phone": person["telecom"][0]["value"]})
    via_json = client.post("/api/v1/referrals", json=payload,
                           headers=f.bearer_headers(client, json_client))
    assert via_json.status_code == 201, via_json.get_data(as_text=True)
    via_fhir = nhs_trust.get(f"/api/v1/referrals/{made['id']}").json
    ignored = {"id", "reference", "referring_organisation", "received_at", "updated_at",
               "contact_due_by", "named_officer", "status"}
    assert {k: v for k, v in via_fhir.items() if k not in ignored} == {
        k: v for k, v in via_json.json.items() if k not in ignored}


def test_a_transaction_bundle_makes_the_referral_and_answers_each_entry(nhs_trust) -> None:  # type: ignore[no-untyped-def]
    bundle = fx.transaction()

    response = nhs_trust.post("/api/fhir", bundle)

    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.json
    assert answer["resourceType"] == "Bundle" and answer["type"] == "transaction-response"
    assert len(answer["entry"]) == len(bundle["entry"])
    made = answer["entry"][0]
    assert made["response"] == {"status": "201 Created",
                                "location": f"ServiceRequest/{made['resource']['id']}"}
    assert all(entry["response"]["status"] == "200 OK" for entry in answer["entry"][1:])
    read = nhs_trust.get(f"/api/v1/referrals/{made['resource']['id']}").json
    assert read["consent"]["notes"] == "agreed in supervision"
    assert read["referrer"] == {"name": "Sam Patel", "job_title": "Probation Officer",
                                "team": "Kent PDU", "email": "sam.patel@probation.example",
                                "phone": "+441632960001"}
    assert read["household"] == [{"relationship": "child", "age": 4}]
    assert read["support_needs"] == ["mental_health", "domestic_abuse"]


def test_the_task_follows_the_referral_status(nhs_trust, welwyn) -> None:  # type: ignore[no-untyped-def]
    made = nhs_trust.post(SERVICE_REQUEST, fx.service_request()).json
    task = nhs_trust.get(f"/api/fhir/Task/{made['id']}")
    assert task.status_code == 200 and task.mimetype == FHIR
    body = task.json
    assert body["resourceType"] == "Task" and body["id"] == made["id"]
    assert body["status"] == "requested"  # no officer yet: in the team queue
    assert body["businessStatus"]["coding"][0]["code"] == "unassigned"
    assert body["focus"] == {"reference": f"ServiceRequest/{made['id']}"}
    assert body["owner"]["identifier"] == {"system": fx.GSS, "value": "E07000241"}

    withdrawn = nhs_trust.http.post(f"/api/v1/referrals/{made['id']}/withdraw",
                                    json={"reason": "Moved away"}, headers=nhs_trust.headers)
    assert withdrawn.status_code == 200
    assert nhs_trust.get(f"/api/fhir/Task/{made['id']}").json["status"] == "cancelled"
    assert nhs_trust.get(f"{SERVICE_REQUEST}/{made['id']}").json["status"] == "revoked"


def test_an_assigned_then_accepted_referral_is_received_then_accepted(nhs_trust, welwyn) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(welwyn, name="Jo Smith")
    f.db.session.commit()
    made = nhs_trust.post(SERVICE_REQUEST, fx.service_request()).json
    task = nhs_trust.get(f"/api/fhir/Task/{made['id']}").json
    assert task["status"] == "received"
    assert task["extension"][0]["valueString"] == "Jo Smith"
    referral = db.session.get(Referral, uuid.UUID(made["id"]))
    casework.accept(referral, by=db.session.get(User, officer.id))
    db.session.commit()
    assert nhs_trust.get(f"/api/fhir/Task/{made['id']}").json["status"] == "accepted"


def test_another_organisations_task_is_not_found(nhs_trust, client, welwyn) -> None:  # type: ignore[no-untyped-def]
    made = nhs_trust.post(SERVICE_REQUEST, fx.service_request()).json
    stranger = Caller(client, f.api_client(f.organisation(name="Jobcentre", type="jobcentre")))
    for path in (f"/api/fhir/Task/{made['id']}", f"{SERVICE_REQUEST}/{made['id']}",
                 "/api/fhir/Task/not-a-uuid"):
        assert issues(stranger.get(path), 404)[0]["code"] == "not-found"


# --- Every rule of the JSON intake, named by FHIR path ----------------------------------------


@pytest.mark.parametrize(("change", "expression"), [
    (lambda d: fx.contained(d, "Consent").update(status="rejected"),
     "ServiceRequest.contained[1].status"),
    (lambda d: fx.contained(d, "Consent").update(provision={"type": "deny"}),
     "ServiceRequest.contained[1].status"),
    (lambda d: d.pop("supportingInfo"), "ServiceRequest.supportingInfo"),
    (lambda d: fx.contained(d, "Patient")["identifier"][0].update(value="9434765918"),
     "ServiceRequest.contained[0].identifier[0].value"),
    (lambda d: d["performer"][0]["identifier"].update(value="E09999999"),
     "ServiceRequest.performer[0].identifier.value"),
    (lambda d: d.update(reasonCode=[{"text": "Needs\x00a home"}]),
     "ServiceRequest.reasonCode[0].text"),
    (lambda d: d.pop("reasonCode"), "ServiceRequest.reasonCode"),
    (lambda d: fx.contained(d, "Patient").update(birthDate="2099-01-01"),
     "ServiceRequest.contained[0].birthDate"),
    (lambda d: fx.contained(d, "Patient")["telecom"][0].update(value="12345"),
     "ServiceRequest.contained[0].telecom[0].value"),
    (lambda d: d["extension"][0].update(valueCode="sofa_surfing"),
     "ServiceRequest.extension[0].value"),
    (lambda d: d["extension"][6]["extension"][1].update(valueInteger=130),
     "ServiceRequest.extension[6].extension[1].value"),
    (lambda d: fx.contained(d, "Patient").update(telecom=[], address=[], extension=[]),
     "ServiceRequest.contained[0]"),
])
def test_the_json_rules_refuse_with_the_fhir_path(nhs_trust, change, expression) -> None:  # type: ignore[no-untyped-def]
    document = fx.service_request()
    change(document)
    before = stored()
    assert expression in expressions(nhs_trust.post(SERVICE_REQUEST, document), 422)
    assert stored() == before


@pytest.mark.parametrize(("document", "expression"), [
    (fx.service_request(subject={"reference": "#nobody"}), "ServiceRequest.subject.reference"),
    (fx.service_request(subject={"reference": "#consent"}), "ServiceRequest.subject.reference"),
    (fx.service_request(status="draft"), "ServiceRequest.status"),
    (fx.service_request(intent="plan"), "ServiceRequest.intent"),
    (fx.service_request(modifierExtension=[fx.ext("x", valueBoolean=True)]),
     "ServiceRequest.modifierExtension"),
    (fx.service_request(extension=[fx.ext("housing-situaton", valueCode="homeless")]),
     "ServiceRequest.extension[0].url"),
    (fx.service_request(authoredOn="yesterday"), "ServiceRequest.authoredOn"),
    (fx.service_request(favouriteColour="blue"), "ServiceRequest.favouriteColour"),
    (fx.transaction(), "resourceType"),
    ([1, 2], "resourceType"),
])
def test_documents_that_are_not_a_readable_service_request_are_400(nhs_trust, document,
                                                                     expression) -> None:  # type: ignore[no-untyped-def]
    before = stored()
    assert expression in expressions(nhs_trust.post(SERVICE_REQUEST, document), 400)
    assert stored() == before


def test_a_transaction_must_be_one_referral_of_known_resources(nhs_trust) -> None:  # type: ignore[no-untyped-def]
    bundle = fx.transaction()
    bundle["type"] = "batch"
    bundle["entry"].append({"resource": {"resourceType": "Observation", "status": "final",
                                         "code": {"text": "x"}},
                            "request": {"method": "POST", "url": "Observation"}})
    found = expressions(nhs_trust.post("/api/fhir", bundle), 400)
    assert {"Bundle.type", f"Bundle.entry[{len(bundle['entry']) - 1}].resource"} <= found
    assert "resourceType" in expressions(nhs_trust.post("/api/fhir", fx.service_request()), 400)


# --- Transport errors are OperationOutcomes too ----------------------------------------------


def test_http_errors_are_operation_outcomes(nhs_trust, client, app) -> None:  # type: ignore[no-untyped-def]
    document = fx.service_request()
    anonymous = client.post(SERVICE_REQUEST, data=json.dumps(document), content_type=FHIR)
    assert issues(anonymous, 401)[0]["code"] == "login"
    assert 'error="invalid_token"' in anonymous.headers["WWW-Authenticate"]
    assert issues(nhs_trust.post(SERVICE_REQUEST, "<ServiceRequest/>",
                                 content_type="application/fhir+xml"), 415)
    assert issues(nhs_trust.post(SERVICE_REQUEST, '{"resourceType": "Servi'), 400)
    assert issues(nhs_trust.post(SERVICE_REQUEST, '{"a": "\\ud800"}'), 400)
    assert issues(nhs_trust.post(SERVICE_REQUEST, "[" * 100_000 + "]" * 100_000), 413)
    assert issues(nhs_trust.post(SERVICE_REQUEST, "[" * 30_000 + "]" * 30_000), 400)
    assert issues(client.delete(SERVICE_REQUEST, headers=nhs_trust.headers), 405)
    # plain application/json is read too
    plain = nhs_trust.post(SERVICE_REQUEST, fx.service_request(), content_type="application/json")
    assert plain.status_code == 201, plain.get_data(as_text=True)


def test_the_scopes_are_those_of_the_json_api(client, welwyn) -> None:  # type: ignore[no-untyped-def]
    issued = f.api_client(f.organisation())
    reader = Caller(client, issued, scope="referrals:read")
    assert issues(reader.post(SERVICE_REQUEST, fx.service_request()), 403)[0]["code"] == "forbidden"
    writer = Caller(client, issued, scope="referrals:write")
    made = writer.post(SERVICE_REQUEST, fx.service_request())
    assert made.status_code == 201
    assert issues(writer.get(f"/api/fhir/Task/{made.json['id']}"), 403)


def test_idempotency_key_works_as_on_the_json_api(nhs_trust) -> None:  # type: ignore[no-untyped-def]
    document = fx.service_request()
    first = nhs_trust.post(SERVICE_REQUEST, document, **{"Idempotency-Key": "nhs-1"})
    again = nhs_trust.post(SERVICE_REQUEST, document, **{"Idempotency-Key": "nhs-1"})
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = fx.service_request()
    assert issues(nhs_trust.post(SERVICE_REQUEST, other, **{"Idempotency-Key": "nhs-1"}), 409)
    assert issues(nhs_trust.post(SERVICE_REQUEST, other, **{"Idempotency-Key": "bad\x01key"}),
                  400)


def test_openapi_documents_the_fhir_endpoints(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").json
    assert {"/api/fhir", "/api/fhir/ServiceRequest", "/api/fhir/Task/{referral_id}",
            "/api/fhir/ServiceRequest/{referral_id}", "/api/fhir/metadata"} <= set(spec["paths"])
    create = spec["paths"]["/api/fhir/ServiceRequest"]["post"]
    assert create["security"] == [{"partnerOAuth": ["referrals:write"]}]
    assert FHIR in create["requestBody"]["content"]
    assert set(create["responses"]["default"]["content"]) == {FHIR}


# --- Junk never makes a 500 ------------------------------------------------------------------

JUNK = st.one_of(st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\u2028", "\ud7ff", " ",
                                  "#patient", "E07000241\x00"]),
                 st.text(max_size=20), st.integers(-(2 ** 40), 2 ** 40), st.booleans(),
                 st.none(), st.just([]), st.just({}), st.floats(allow_nan=False))


def test_junk_and_control_characters_in_any_fhir_field_never_fail(nhs_trust) -> None:  # type: ignore[no-untyped-def]
    """Fuzz every string in both forms with control characters (PostgreSQL refuses NUL) and
    values of the wrong type: a 201/200 or an OperationOutcome, never a 5xx."""
    forms = [(SERVICE_REQUEST, fx.service_request()), ("/api/fhir", fx.transaction())]

    @hypothesis.given(data=st.data())
    @hypothesis.settings(max_examples=60, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    def run(data: st.DataObject) -> None:
        path, base = data.draw(st.sampled_from(forms), label="form")
        document = copy.deepcopy(base)
        slot = data.draw(st.sampled_from(_string_slots(document)), label="slot")
        parent = document
        for key in slot[:-1]:
            parent = parent[key]
        old = parent[slot[-1]]
        if data.draw(st.booleans(), label="insert"):
            at = data.draw(st.integers(0, len(old)), label="at")
            parent[slot[-1]] = old[:at] + data.draw(st.sampled_from(
                "\x00\x01\x08\x0b\x1b\x1f\x7f\x85\u2028"), label="char") + old[at:]
        else:
            parent[slot[-1]] = data.draw(JUNK, label="junk")
        response = nhs_trust.post(path, document)
        assert response.status_code < 500, response.get_data(as_text=True)
        assert response.mimetype == FHIR
        if response.status_code >= 400:
            assert response.json["resourceType"] == "OperationOutcome"

    run()


def test_a_refused_referral_leaves_its_idempotency_key_free(nhs_trust) -> None:  # type: ignore[no-untyped-def]
    refused = fx.service_request()
    refused["performer"][0]["identifier"]["value"] = "E09999999"
    assert issues(nhs_trust.post(SERVICE_REQUEST, refused, **{"Idempotency-Key": "nhs-2"}), 422)
    accepted = nhs_trust.post(SERVICE_REQUEST, fx.service_request(), **{"Idempotency-Key": "nhs-2"})
    assert accepted.status_code == 201, accepted.get_data(as_text=True)


def test_a_discharge_date_within_two_days_makes_the_referral_urgent(nhs_trust) -> None:  # type: ignore[no-untyped-def]
    tomorrow = (clock.today_in_london() + timedelta(days=1)).isoformat()
    document = fx.service_request()
    document["extension"].append(fx.ext("release-or-discharge-date", valueDate=tomorrow))
    made = nhs_trust.post(SERVICE_REQUEST, document)
    assert made.status_code == 201, made.get_data(as_text=True)
    read = nhs_trust.get(f"/api/v1/referrals/{made.json['id']}").json
    assert read["release_or_discharge_date"] == tomorrow and read["urgent"] is True
    later = fx.service_request()
    later["extension"].append(fx.ext("release-or-discharge-date", valueDate="2099-01-01"))
    made = nhs_trust.post(SERVICE_REQUEST, later).json
    assert nhs_trust.get(f"/api/v1/referrals/{made['id']}").json["urgent"] is False


def test_the_requester_may_be_a_practitioner_but_needs_a_name(nhs_trust) -> None:  # type: ignore[no-untyped-def]
    document = fx.service_request(requester={"reference": "#referrer"})
    made = nhs_trust.post(SERVICE_REQUEST, document)
    assert made.status_code == 201, made.get_data(as_text=True)
    read = nhs_trust.get(f"/api/v1/referrals/{made.json['id']}").json
    assert read["referrer"] == {"name": "Sam Patel", "job_title": None, "team": None,
                                "email": "sam.patel@probation.example", "phone": None}
    nameless = fx.service_request(requester={"reference": "#team"})
    found = expressions(nhs_trust.post(SERVICE_REQUEST, nameless), 422)
    assert {"ServiceRequest.contained[3].name", "ServiceRequest.contained[3].telecom"} <= found


def test_the_capability_statement_says_what_the_endpoints_do(nhs_trust, client) -> None:  # type: ignore[no-untyped-def]
    answer = nhs_trust.get("/api/fhir/metadata")
    assert answer.status_code == 200 and answer.mimetype == FHIR
    statement = answer.json
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    kinds = {r["type"]: {i["code"] for i in r["interaction"]}
             for r in statement["rest"][0]["resource"]}
    assert kinds == {"ServiceRequest": {"create", "read"}, "Task": {"read"}}
    # Public, as FHIR expects: it says how to get a token, so it cannot need one.
    anonymous = client.get("/api/fhir/metadata")
    assert anonymous.status_code == 200 and anonymous.json == statement
