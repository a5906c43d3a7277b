"""The referral-shaped ceiling (issue 14): bare Flask + SQLAlchemy Core writing what a received
referral must write, and nothing else.

``POST /referrals`` takes the same JSON as ``POST /api/v1/referrals`` and, in one transaction,
inserts the referral row (every column our intake fills, from the payload), its two audit rows
(received, then assigned to an officer) and one ``domain_events`` row, into the benchmark
database's own tables: the schema, indexes, constraints and triggers made by the real migrations
(the tables are reflected from the database at start, nothing is declared here). No
authentication, validation, routing rules, duplicate look-up or messages: those are what our
endpoint adds, and the ratio of the two rates says what they cost.

    gunicorn -w 2 -k sync --chdir benchmarks referral_ceiling:app     (DATABASE_URL set)
"""
from __future__ import annotations

import json
import os
import random
import secrets
import unicodedata
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, request

ALPHABET = "23456789BCDFGHJKLMNPQRSTVWXYZ"  # a reference's letters, as referral_service's
AUTHORITY_CODE = "E07000241"  # the benchmark's authority (setup_data.py)

app = Flask(__name__)
engine = sa.create_engine(os.environ["DATABASE_URL"].replace("postgresql://",
                                                             "postgresql+psycopg://", 1))
_tables: dict[str, sa.Table] = {}
_ids: dict[str, Any] = {}


def tables() -> dict[str, sa.Table]:
    """The real tables, reflected once per worker process (after gunicorn's fork)."""
    if not _tables:
        metadata = sa.MetaData()
        for name in ("referrals", "audit_events", "domain_events", "consents"):
            _tables[name] = sa.Table(name, metadata, autoload_with=engine)
        with engine.connect() as connection:
            _ids["authority"] = connection.scalar(sa.text(
                "SELECT id FROM authorities WHERE code = :code"), {"code": AUTHORITY_CODE})
            _ids["organisation"] = connection.scalar(sa.text(
                "SELECT id FROM organisations WHERE type = 'probation' ORDER BY name LIMIT 1"))
            _ids["officers"] = list(connection.scalars(sa.text(
                "SELECT id FROM users WHERE authority_id = :authority AND role = 'officer'"),
                {"authority": _ids["authority"]}))
        if _ids["authority"] is None or not _ids["officers"]:
            raise RuntimeError("run benchmarks/setup_data.py on this database first")
    return _tables


def name_key(first: str, last: str) -> str:
    """Letters only, folded (as duplicates.name_key keeps it)."""
    folded = unicodedata.normalize("NFKD", f"{first} {last}").casefold()
    return "".join(c for c in folded if c.isalpha() or c == " ").strip()


def phone_e164(phone: str | None) -> str | None:
    if not phone:
        return None
    digits = "".join(c for c in phone if c.isdigit())
    return "+44" + digits[1:] if digits.startswith("0") else "+" + digits


def referral_row(data: dict[str, Any], now: datetime, officer: uuid.UUID) -> dict[str, Any]:
    person, referrer = data["person"], data["referrer"]
    safe, address, risk = (person.get("safe_contact") or {}, person.get("address") or {},
                           data.get("risk") or {})
    born = person.get("date_of_birth")
    return {
        "id": uuid.uuid4(),
        "reference": "DTR-" + "".join(secrets.choice(ALPHABET) for _ in range(6)),
        "status": "assigned", "outcome": None, "version": 1,
        "authority_id": _ids["authority"], "referring_organisation_id": _ids["organisation"],
        "named_officer_id": officer, "submitted_by_user_id": None,
        "submitted_by_client_id": "ceiling", "transferred_to_authority_id": None,
        "transferred_from_id": None, "source": "api", "keyed_in_by_id": None,
        "keyed_in_at": None,
        "referrer_name": referrer["name"], "referrer_job_title": referrer.get("job_title"),
        "referrer_team": referrer.get("team"), "referrer_email": referrer["email"].lower(),
        "referrer_phone": referrer.get("phone"),
        "consent_given": bool(data["consent"]["given"]), "consent_recorded_at": None,
        "consent_notes": data["consent"].get("notes"),
        "person_first_name": person["first_name"], "person_last_name": person["last_name"],
        "person_name_key": name_key(person["first_name"], person["last_name"]),
        "person_date_of_birth": date.fromisoformat(born) if born else None,
        "person_nhs_number": person.get("nhs_number"),
        "person_phone": phone_e164(person.get("phone")), "person_email": person.get("email"),
        "address_line1": address.get("line1"), "address_line2": address.get("line2"),
        "address_town": address.get("town"), "address_postcode": address.get("postcode"),
        "no_fixed_abode": bool(person.get("no_fixed_abode")),
        "preferred_contact_method": person.get("preferred_contact_method"),
        "safe_sms": bool(safe.get("sms")), "safe_voicemail": bool(safe.get("voicemail")),
        "safe_email": bool(safe.get("email")), "safe_letter": bool(safe.get("letter")),
        "safe_contact_instructions": safe.get("instructions"),
        "language": person.get("language") or "en",
        "interpreter_needed": bool(person.get("interpreter_needed")),
        "household": data.get("household") or [],
        "housing_situation": data["housing_situation"],
        "at_risk_of_rough_sleeping_tonight": bool(data.get("at_risk_of_rough_sleeping_tonight")),
        "homelessness_date": None, "release_or_discharge_date": None,
        "current_location": data.get("current_location"), "reason": data["reason"],
        "support_needs": data.get("support_needs") or [],
        "risk_marac": bool(risk.get("marac")), "risk_mappa_level": risk.get("mappa_level"),
        "risk_mappa_category": risk.get("mappa_category"),
        "risk_to_staff": bool(risk.get("risk_to_staff")), "risk_details": risk.get("details"),
        "agency_reference": data.get("agency_reference"), "urgent": False,
        "received_at": now, "assigned_at": now, "acknowledged_at": None,
        "contact_due_by": now + timedelta(days=4), "first_contact_attempt_at": None,
        "contacted_at": None, "closed_at": None, "closure_reason": None, "updated_at": now,
    }


def audit_rows(referral: dict[str, Any], now: datetime, officer: uuid.UUID) -> list[dict[str, Any]]:
    """The two rows intake writes: received (by the client), then assigned (by routing)."""
    common = {"actor_user_id": None, "ip_address": None, "subject_type": "referral",
              "subject_id": str(referral["id"]), "referral_id": referral["id"],
              "occurred_at": now}
    return [
        {**common, "id": uuid.uuid4(), "actor_type": "client", "actor_client_id": "ceiling",
         "actor_label": "client:ceiling", "action": "referral.received", "from_status": None,
         "to_status": "received",
         "details": {"urgent": False, "authority": AUTHORITY_CODE, "organisation_type":
                     "probation", "transferred_from": None, "source": "api",
                     "contact_due_by": referral["contact_due_by"].isoformat()}},
        {**common, "id": uuid.uuid4(), "actor_type": "system", "actor_client_id": None,
         "actor_label": "system:routing", "action": "referral.transition",
         "from_status": "received", "to_status": "assigned",
         "details": {"officer_id": str(officer), "reason": "ceiling"}},
    ]


def consent_row(referral: dict[str, Any], data: dict[str, Any],
                now: datetime) -> dict[str, Any]:
    """The consent record intake writes beside the referral (issue 15.1)."""
    scopes = data["consent"].get("scopes") or {}
    return {"id": uuid.uuid4(), "referral_id": referral["id"],
            "given_by_name": f"{referral['person_first_name']} {referral['person_last_name']}",
            "recorded_by": "referrer", "recorded_by_name": referral["referrer_name"],
            "recorded_by_organisation_id": _ids["organisation"], "recorded_by_user_id": None,
            "recorded_by_client_id": "ceiling", "authority_id": _ids["authority"],
            "given_at": now, "backfilled": False, "notes": data["consent"].get("notes"),
            "texts": scopes.get("texts", True), "email": scopes.get("email", True),
            "panels": scopes.get("panels", []), "created_at": now}


@app.post("/referrals")
def receive() -> Response:
    t = tables()
    data = json.loads(request.get_data())
    now = datetime.now(UTC)
    officer = random.choice(_ids["officers"])  # noqa: S311  (spreads the caseload triggers)
    referral = referral_row(data, now, officer)
    with engine.begin() as connection:
        connection.execute(t["referrals"].insert(), referral)
        connection.execute(t["audit_events"].insert(), audit_rows(referral, now, officer))
        connection.execute(t["consents"].insert(), consent_row(referral, data, now))
        connection.execute(t["domain_events"].insert(), {
            "id": uuid.uuid4(), "type": "referral.assigned", "referral_id": referral["id"],
            "occurred_at": now, "data": {"officer_id": str(officer)}})
    body = json.dumps({"id": str(referral["id"]), "reference": referral["reference"],
                       "status": "assigned", "named_officer_id": str(officer)})
    return Response(body, status=201, mimetype="application/json")


@app.get("/")
def ready() -> str:
    return "ok"
