"""Control characters in what a partner's system sends (issue 12): refused field by field.

A NUL byte in any text was a 500 on PostgreSQL (its text type cannot hold one); the other C0
controls were stored. Every text field of the referral body, the note and withdrawal bodies, the
query string and the Idempotency-Key header are checked here, on SQLite and PostgreSQL alike.
Tab, LF and CR are fine in free text (reason, notes, details) and refused in one-line fields.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from marshmallow import Schema, fields
from sqlalchemy import func, select

from referral_service.api.schemas import MessageInSchema, WithdrawSchema
from referral_service.extensions import db
from referral_service.models import AuditEvent, CaseAccessRecord, Referral, ReferralMessage
from referral_service.schemas.fields import Text
from referral_service.schemas.referral import ReferralSubmissionSchema
from tests import factories as f
from tests import panel_factories as pf

REFERRALS = "/api/v1/referrals"
PROBLEM = "application/problem+json"

# (dotted field, whether it is free text that may run over several lines)
TEXT_FIELDS: list[tuple[str, bool]] = [
    ("authority_code", False),
    ("referrer.name", False),
    ("referrer.job_title", False),
    ("referrer.team", False),
    ("referrer.email", False),
    ("referrer.phone", False),
    ("consent.recorded_at", False),
    ("consent.notes", True),
    ("person.first_name", False),
    ("person.last_name", False),
    ("person.date_of_birth", False),
    ("person.nhs_number", False),
    ("person.phone", False),
    ("person.email", False),
    ("person.address.line1", False),
    ("person.address.line2", False),
    ("person.address.town", False),
    ("person.address.postcode", False),
    ("person.preferred_contact_method", False),
    ("person.safe_contact.instructions", True),
    ("person.language", False),
    ("household.0.relationship", False),
    ("housing_situation", False),
    ("homelessness_date", False),
    ("current_location", True),
    ("reason", True),
    ("support_needs.0", False),
    ("risk.details", True),
    ("agency_reference", False),
]
ALWAYS_REFUSED = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f"]
LINE_BREAKS = ["\t", "\n", "\r"]


@pytest.fixture(autouse=True)
def fresh_rate_limits(app: Flask) -> None:
    for limiter in app.extensions.get("limiter", ()):
        limiter.reset()


@pytest.fixture
def headers(client, db_session) -> dict[str, str]:  # type: ignore[no-untyped-def]
    f.authority()
    org = f.organisation()
    return f.bearer_headers(client, f.api_client(org))


def stored() -> tuple[int, int, int]:
    """Referrals, audit events and notes held: a refused request must change none of them."""
    return tuple(db.session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[return-value]
                 for model in (Referral, AuditEvent, ReferralMessage))


def with_text(path: str, insert: str) -> dict[str, Any]:
    """The example payload with ``insert`` put into the middle of one (dotted) field's text."""
    data = f.payload(person=f.unique_person())
    data["person"]["date_of_birth"] = "1980-01-01"
    data["person"]["nhs_number"] = "9434765919"
    node: Any = data
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    text = str(node[key] or "some text")
    node[key] = text[: len(text) // 2] + insert + text[len(text) // 2:]
    return data


def assert_refused(response: Any, field: str) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    messages = response.json["errors"][field]
    assert any("control character" in message for message in messages), messages


def _loaded_strings(schema: Schema, path: str = "") -> Iterator[tuple[str, fields.Field]]:
    for name, field in schema.load_fields.items():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            yield from _loaded_strings(inner.schema, f"{path}{name}.")
        elif isinstance(inner, fields.String):
            yield f"{path}{name}", inner


@pytest.mark.parametrize("schema", [ReferralSubmissionSchema(), WithdrawSchema(),
                                    MessageInSchema()], ids=type)
def test_every_text_a_partner_sends_is_a_field_that_refuses_control_characters(
        schema: Schema) -> None:
    """A new plain String field in a body would let NUL through again: use schemas' Text."""
    assert [name for name, field in _loaded_strings(schema) if not isinstance(field, Text)] == []


@pytest.mark.parametrize("character", ALWAYS_REFUSED, ids=repr)
@pytest.mark.parametrize("field", [name for name, _ in TEXT_FIELDS])
def test_a_control_character_in_any_text_field_is_refused_against_that_field(
        client, headers, field: str, character: str) -> None:  # type: ignore[no-untyped-def]
    before = stored()
    response = client.post(REFERRALS, json=with_text(field, character), headers=headers)
    assert_refused(response, field)
    assert stored() == before


@pytest.mark.parametrize("character", LINE_BREAKS, ids=repr)
@pytest.mark.parametrize("field", [name for name, free in TEXT_FIELDS if not free])
def test_a_line_break_or_tab_in_a_one_line_field_is_refused(
        client, headers, field: str, character: str) -> None:  # type: ignore[no-untyped-def]
    before = stored()
    response = client.post(REFERRALS, json=with_text(field, character), headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    # Refused against the field; phones, dates and the like may say so in their own words.
    assert field in response.json["errors"]
    assert stored() == before


@pytest.mark.parametrize("field", [name for name, free in TEXT_FIELDS if free])
def test_free_text_keeps_its_line_breaks_and_tabs(client, headers, field: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post(REFERRALS, json=with_text(field, "\r\n\tand then\n"), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    node: Any = response.json
    for part in field.split("."):
        node = node[part]
    assert "\r\n\tand then\n" in node


@pytest.mark.parametrize("character", ["\x00", "\x1b"], ids=repr)
def test_a_control_character_in_a_note_or_a_withdrawal_reason_is_refused(
        client, headers, character: str) -> None:  # type: ignore[no-untyped-def]
    made = client.post(REFERRALS, json=f.payload(person=f.unique_person()), headers=headers)
    assert made.status_code == 201, made.get_data(as_text=True)
    path = f"{REFERRALS}/{made.json['id']}"
    before = stored()

    note = client.post(f"{path}/messages", json={"body": f"Called{character} today"},
                       headers=headers)
    withdrawal = client.post(f"{path}/withdraw", json={"reason": f"Moved{character} away"},
                             headers=headers)

    assert_refused(note, "body")
    assert_refused(withdrawal, "reason")
    assert stored() == before
    assert client.get(path, headers=headers).json["status"] != "withdrawn"


def test_notes_and_reasons_keep_their_line_breaks(client, headers) -> None:  # type: ignore[no-untyped-def]
    made = client.post(REFERRALS, json=f.payload(person=f.unique_person()), headers=headers)
    path = f"{REFERRALS}/{made.json['id']}"
    note = client.post(f"{path}/messages", json={"body": "Called today.\r\n\tNo answer."},
                       headers=headers)
    withdrawal = client.post(f"{path}/withdraw", json={"reason": "Moved away.\nFound a flat."},
                             headers=headers)
    assert note.status_code == 201 and note.json["body"] == "Called today.\r\n\tNo answer."
    assert withdrawal.status_code == 200 and withdrawal.json["status"] == "withdrawn"


@pytest.mark.parametrize("query", ["status=%00", "status=assigned%00", "updated_since=%00",
                                   "updated_since=2026-11-20T10:15:00Z%00", "cursor=%00",
                                   "cursor=abc%01def", "limit=%00", "%00=1", "unknown=%00"])
def test_a_control_character_in_the_query_string_is_refused_not_a_500(
        client, headers, query: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"{REFERRALS}?{query}", headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert response.json["errors"]


def test_a_control_character_in_the_idempotency_key_is_refused(client, headers) -> None:  # type: ignore[no-untyped-def]
    before = stored()
    response = client.post(REFERRALS, json=f.payload(person=f.unique_person()),
                           headers={**headers, "Idempotency-Key": "retry\x00-1"})
    assert_refused(response, "Idempotency-Key")
    assert stored() == before


@pytest.mark.parametrize("value", ["true", "True", 1, 0, "1", "yes", "on"], ids=repr)
@pytest.mark.parametrize("field", [
    "consent.given", "person.no_fixed_abode", "person.safe_contact.sms",
    "person.safe_contact.voicemail", "person.safe_contact.email", "person.safe_contact.letter",
    "person.interpreter_needed", "at_risk_of_rough_sleeping_tonight", "risk.marac",
    "risk.risk_to_staff"])
def test_booleans_must_be_json_true_or_false(client, headers, field: str, value: Any) -> None:  # type: ignore[no-untyped-def]
    data = f.payload(person=f.unique_person())
    node: Any = data
    *parents, last = field.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    before = stored()
    response = client.post(REFERRALS, json=data, headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "JSON boolean" in " ".join(response.json["errors"][field])
    assert stored() == before


@pytest.mark.parametrize("client_id", ["abc\x00def", "\x00"], ids=repr)
def test_a_client_id_with_nul_in_basic_auth_is_an_invalid_client(client, db_session,
                                                                 client_id: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(client_id, "secret"))
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.json["error"] == "invalid_client"


def test_a_client_id_with_nul_in_the_form_is_an_invalid_request(client, db_session) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": "abc\x00", "client_secret": "x"})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["error"] == "invalid_request"


def test_a_user_agent_with_nul_does_not_stop_a_panel_reading_a_shared_case(
        client, db_session) -> None:  # type: ignore[no-untyped-def]
    """Every read of a shared case is recorded with the caller's User-Agent."""
    w = pf.world()
    case = pf.mappa_case(w.referrer, risk={"marac": True})
    pf.share(case, w.officer, w.marac)
    db.session.commit()
    headers = f.bearer_headers(client, f.api_client(w.marac, scopes=("cases:shared",)))
    response = client.get(f"/api/v1/shared-cases/{case.id}",
                          headers={**headers, "User-Agent": "panel\x00system/1.0"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert db.session.scalar(select(CaseAccessRecord.user_agent)) == "panelsystem/1.0"
