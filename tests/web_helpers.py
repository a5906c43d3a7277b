"""Signing in and posting forms through the real pages, for page tests without a browser."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests import factories

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def cheap_password_hashing() -> Iterator[None]:
    """argon2id at argon2-cffi's CHEAPEST parameters (made for tests) while the block runs."""
    from argon2 import PasswordHasher, profiles

    from referral_service.domain import admin

    original = admin._hasher
    admin._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    try:
        yield
    finally:
        admin._hasher = original


def csrf_token(client: Any, path: str = "/sign-in") -> str:
    """The session's CSRF token, read from a page's form the way a browser would get it."""
    html = client.get(path).get_data(as_text=True)
    found = _TOKEN.search(html)
    assert found, f"no CSRF token in the form at {path}"
    return found.group(1)


def sign_in(client: Any, user: Any, password: str = factories.PASSWORD) -> Any:
    """Sign ``user`` in through /sign-in (the user must have been made with a password)."""
    response = client.post("/sign-in", data={"email": user.email, "password": password,
                                             "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def post_form(client: Any, path: str, data: dict[str, Any] | None = None,
              token_from: str | None = None) -> Any:
    """POST a form with the CSRF token (taken from ``token_from``, default the page itself)."""
    token = csrf_token(client, token_from or path)
    return client.post(path, data={**(data or {}), "csrf_token": token})


@dataclass
class Team:
    """One council's team and its referrals, plus a second council, for page and browser tests.

    ``named`` is routed to ``officer`` (the only officer when it arrived); ``queued`` waits in
    the team queue; ``foreign`` belongs to the other council and must never be shown here.
    """

    authority: Any
    other_authority: Any
    organisation: Any
    officer: Any
    second_officer: Any
    leader: Any
    referrer: Any
    other_officer: Any
    named: Any
    queued: Any
    foreign: Any

    def emails(self) -> dict[str, str]:
        return {"officer": self.officer.email, "second_officer": self.second_officer.email,
                "leader": self.leader.email, "referrer": self.referrer.email,
                "other_officer": self.other_officer.email}


def make_team() -> Team:
    """Made through the real domain (intake routes each referral); the caller commits."""
    from referral_service.domain import casework

    council = factories.authority()
    other = factories.authority(code="E07000242", name="Broxbourne")
    org = factories.organisation()
    officer = factories.officer(council, name="Jo Smith", password=factories.PASSWORD)
    named = factories.referral(org, person=factories.unique_person(
        first_name="Aoife", last_name="Byrne"))
    second = factories.officer(council, name="Sam Lee", password=factories.PASSWORD)
    leader = factories.team_leader(council, name="Pat Okafor", password=factories.PASSWORD)
    queued = factories.referral(org, person=factories.unique_person(
        first_name="Mina", last_name="Rahman"))
    if queued.named_officer_id is not None:
        casework.return_to_queue(queued, leader, reason="set up for the test")
    other_officer = factories.officer(other, name="Lee Other", password=factories.PASSWORD)
    foreign = factories.referral(org, authority_code=other.code, person=factories.unique_person(
        first_name="Ola", last_name="Elsewhere"))
    referrer = factories.partner_user(org, name="Sam Patel", password=factories.PASSWORD)
    assert named.named_officer_id == officer.id
    return Team(council, other, org, officer, second, leader, referrer, other_officer, named,
                queued, foreign)
