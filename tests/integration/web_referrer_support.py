"""Shared set-up for the referrer page tests: a council, a referring organisation, a referrer
signed in on the test client, and answers for every question page that the schema accepts."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient

from referral_service import clock
from referral_service.models import Authority, Organisation, User
from tests import factories as f
from tests.web_helpers import csrf_token

# A page's answers as a browser posts them (one valid referral, the API.md example's person).
GOOD_ANSWERS: dict[str, dict[str, Any]] = {
    "consent": {"consent-given": "yes", "consent-notes": "Agreed in supervision"},
    "authority": {"authority-code": "E07000241"},
    "name": {"person-first-name": "Aoife", "person-last-name": "O'Neill"},
    "identity": {"person-date-of-birth-day": "1", "person-date-of-birth-month": "4",
                 "person-date-of-birth-year": "1990", "person-nhs-number": "943 476 5919"},
    "contact": {"person-phone": "07700 900123", "person-email": "aoife@example.org"},
    "address": {"person-address-line1": "Flat 2", "person-address-line2": "1 High Street",
                "person-address-town": "Welwyn", "person-address-postcode": "al8 6ab"},
    "contact-method": {"person-preferred-contact-method": "sms"},
    "safe-contact": {"person-safe-contact": ["sms", "email"],
                     "person-safe-contact-instructions": "Do not leave messages with partner"},
    "language": {"person-language": "", "person-interpreter-needed": ""},
    "housing": {"housing-situation": "threatened_with_homelessness",
                "current-location": "Private rented flat, section 21 notice served"},
    "rough-sleeping": {"at-risk-of-rough-sleeping-tonight": "no"},
    "dates": {"homelessness-date-day": "18", "homelessness-date-month": "12",
              "homelessness-date-year": "2026"},
    "reason": {"reason": "Section 21 notice expires 18 December; no savings for a deposit."},
    "support-needs": {"support-needs": ["mental_health", "domestic_abuse"]},
    "risk": {"risk-marac": "no", "risk-mappa-level": "", "risk-to-staff": "no"},
    "household": {"household-0-relationship": "child", "household-0-age": "4"},
    "referrer": {"referrer-name": "Sam Patel", "referrer-email": "sam.patel@probation.example",
                 "referrer-job-title": "Probation Officer", "referrer-team": "Kent PDU",
                 "referrer-phone": "01632 960 001", "agency-reference": "PRB-55121"},
}


@dataclass
class World:
    authority: Authority
    officer: User
    organisation: Organisation
    referrer: User
    other_organisation: Organisation
    other_referrer: User


@pytest.fixture(name="world")
def world_fixture(db_session) -> World:  # type: ignore[no-untyped-def]
    authority = f.authority(team_phone="01632 960100", team_email="housing@welhat.example")
    f.authority(code="E07000242", name="East Herts")
    officer = f.officer(authority, name="Jo Smith")
    organisation = f.organisation()
    other = f.organisation(name="Jobcentre Plus – Welwyn", type="jobcentre")
    made = World(authority, officer, organisation, f.partner_user(organisation),
                 other, f.partner_user(other))
    db_session.commit()
    return made


def sign_in(client: FlaskClient, user: User) -> FlaskClient:
    """The session a real sign-in leaves (tests/web_helpers.py signs in through the page; here
    the argon2 check per test would be most of the run), and the CSRF token its forms carry."""
    with client.session_transaction() as session:
        session.clear()
        session["user_id"] = str(user.id)
        session["session_version"] = user.session_version
        session["signed_in_at"] = clock.now().isoformat()
    # Any page has the token once signed in (the layout's Sign out form carries it). Flask-WTF
    # keeps the token it made in ``g``, which the test's app context keeps across requests: drop
    # it, or this client would be handed another client's token and none in its own session.
    if has_app_context():
        g.pop("csrf_token", None)
    client.csrf = csrf_token(client, "/account")  # type: ignore[attr-defined]
    return client


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None,
         **query: str) -> Any:
    """POST a form as the browser would: with the session's CSRF token."""
    token = getattr(client, "csrf", None) or csrf_token(client, "/sign-in")
    return client.post(path, data={**(data or {}), "csrf_token": token}, query_string=query)


def answer(client: FlaskClient, slug: str, answers: dict[str, Any] | None = None,
           **query: str) -> Any:
    data = GOOD_ANSWERS[slug] if answers is None else answers
    return post(client, f"/referrer/new/{slug}", data, **query)


def answer_all(client: FlaskClient, **replace: dict[str, Any]) -> None:
    """Answer every page in order, each accepted (a 302 to the next)."""
    for slug, answers in GOOD_ANSWERS.items():
        response = answer(client, slug, replace.get(slug, answers))
        assert response.status_code == 302, (slug, error_messages(response))


def error_messages(response: Any) -> list[str]:
    """The error summary's messages, as a person reads them."""
    html = response.get_data(as_text=True)
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    if not summary:
        return []
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip().replace("&#39;", "'")
            for item in re.findall(r"<li>(.*?)</li>", summary.group(1), re.S)]


def summary_links(response: Any) -> list[str]:
    html = response.get_data(as_text=True)
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    return re.findall(r'href="([^"]+)"', summary.group(1)) if summary else []
