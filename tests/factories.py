"""Factories that read like the journeys: safe defaults, override only what a test is about.

Phone numbers are Ofcom drama numbers, emails use example domains, and the NHS number is a
published test-valid one: no real person can be contacted from a test.
"""
from __future__ import annotations

import copy
import itertools
from datetime import date
from typing import Any

from notifications import expansion
from referral_service.domain import admin, audit, intake
from referral_service.extensions import db
from referral_service.models import Authority, Organisation, Referral, User
from referral_service.schemas.referral import ReferralSubmissionSchema

ACTOR = audit.Actor.system("tests")
# The password web tests give people (factories set none by default: argon2 hashing is slow).
PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)

BASE_PAYLOAD: dict[str, Any] = {
    "authority_code": "E07000241",
    "referrer": {"name": "Sam Patel", "job_title": "Probation Officer", "team": "Kent PDU",
                 "email": "sam.patel@probation.example", "phone": "01632 960 001"},
    "consent": {"given": True, "recorded_at": "2026-11-20T10:15:00Z",
                "notes": "agreed in supervision"},
    "person": {
        "first_name": "Aoife", "last_name": "O'Neill", "date_of_birth": "1990-04-01",
        "nhs_number": "9434765919", "phone": "07700 900123", "email": "aoife@example.org",
        "address": {"line1": "Flat 2", "line2": "1 High Street", "town": "Welwyn",
                    "postcode": "AL8 6AB"},
        "no_fixed_abode": False,
        "preferred_contact_method": "sms",
        "safe_contact": {"sms": True, "voicemail": False, "email": True, "letter": False,
                         "instructions": "Do not leave messages with partner"},
        "language": "en", "interpreter_needed": False,
    },
    "household": [{"relationship": "child", "age": 4}],
    "housing_situation": "threatened_with_homelessness",
    "at_risk_of_rough_sleeping_tonight": False,
    "homelessness_date": "2026-12-18",
    "release_or_discharge_date": None,
    "current_location": "Private rented flat, section 21 notice served",
    "reason": "Section 21 notice expires 18 December; no savings for a deposit.",
    "support_needs": ["mental_health", "domestic_abuse"],
    "risk": {"marac": False, "mappa_level": None, "risk_to_staff": False, "details": ""},
    "agency_reference": "PRB-55121",
}


def payload(**overrides: Any) -> dict[str, Any]:
    """The API.md example payload; ``person=`` and ``referrer=`` overrides merge into it."""
    data = copy.deepcopy(BASE_PAYLOAD)
    for key in ("person", "referrer", "consent", "risk"):
        if key in overrides and isinstance(overrides[key], dict):
            data[key].update(overrides.pop(key))
    data.update(overrides)
    return data


def unique_person(**person: Any) -> dict[str, Any]:
    """A person no other test referral matches (so no possible-duplicate link is made)."""
    n = next(_counter)
    return {"first_name": f"Person{n}", "last_name": "Testcase",
            "date_of_birth": date(1980, 1, 1 + n % 28).isoformat(),
            "nhs_number": None, "phone": f"07700 9{n % 100000:05d}", "email": None, **person}


def authority(code: str = "E07000241", name: str = "Welwyn Hatfield", **kwargs: Any) -> Authority:
    return admin.create_authority(code=code, name=name, actor=ACTOR, **kwargs).record


def organisation(name: str = "Probation Service – Kent", type: str = "probation",
                 **kwargs: Any) -> Organisation:
    return admin.create_organisation(name=name, type=type, actor=ACTOR, **kwargs).record


def officer(at: Authority, *, specialisms: list[str] | None = None,
            patches: list[str] | None = None, capacity: int | None = 25,
            name: str | None = None, password: str | None = None) -> User:
    n = next(_counter)
    return admin.create_user(
        email=f"officer{n}@{at.code.lower()}.example", name=name or f"Officer {n}",
        role="officer", authority_code=at.code, specialisms=specialisms or [],
        patches=patches or [], capacity=capacity, password=password, actor=ACTOR).record


def team_leader(at: Authority, *, name: str | None = None,
                password: str | None = None) -> User:
    n = next(_counter)
    return admin.create_user(email=f"leader{n}@{at.code.lower()}.example",
                             name=name or f"Leader {n}", role="team_leader",
                             authority_code=at.code, password=password, actor=ACTOR).record


def partner_user(org: Organisation, *, name: str | None = None,
                 password: str | None = None) -> User:
    n = next(_counter)
    return admin.create_user(email=f"referrer{n}@partner.example", name=name or f"Referrer {n}",
                             role="partner", organisation_name=org.name, password=password,
                             actor=ACTOR).record


def referral(org: Organisation, *, person: dict[str, Any] | None = None, expand: bool = True,
             **overrides: Any) -> Referral:
    """Receive a referral through the real intake (validation, deadline, duplicates, routing),
    and expand its event as the worker would (messages, reminders): ``expand=False`` leaves
    that to the test."""
    data = ReferralSubmissionSchema().load(
        payload(person=person if person is not None else unique_person(), **overrides))
    made = intake.receive_referral(data, organisation=org, actor=audit.Actor.for_client("tests"))
    db.session.flush()
    if expand:
        expanded()
    return made


def expanded() -> None:
    """Expand the domain events recorded so far, as the worker does after commit (here in the
    test's transaction): call it after a domain operation whose messages, reminders or webhooks
    the test looks at."""
    db.session.flush()
    expansion.expand_pending(commit=False)


def api_client(org: Organisation, scopes: tuple[str, ...] = ("referrals:write", "referrals:read"),
               **kwargs: Any) -> Any:
    """An OAuth client for ``org``; returns the IssuedSecret (client and its one-time secret)."""
    from referral_service.domain import clients

    issued = clients.create_client(organisation_name=org.name, scopes=list(scopes), actor=ACTOR,
                                   **kwargs)
    db.session.commit()
    return issued


def bearer_headers(http: Any, issued: Any, scope: str | None = None) -> dict[str, str]:
    """Get a token over the real token endpoint (client_secret_basic) and return the header."""
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    response = http.post("/oauth/token", data=form,
                         auth=(issued.client.client_id, issued.client_secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.json['access_token']}"}
