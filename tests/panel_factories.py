"""Factories for MARAC/MAPPA sharing tests: panels, their leads, flagged cases and shares.

Kept apart from ``factories.py`` (shared by every feature) so the sharing work merges cleanly.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from referral_service import clock
from referral_service.domain import admin, panels, sharing
from referral_service.extensions import db
from referral_service.models import Authority, CaseShare, Organisation, Referral, User
from tests import factories as f

_counter = itertools.count(1)


def panel(type: str = "marac", name: str | None = None) -> Organisation:
    return f.organisation(name=name or f"Test {type.upper()} {next(_counter)}", type=type)


def panel_lead(org: Organisation, password: str | None = None) -> User:
    n = next(_counter)
    return admin.create_user(email=f"lead{n}@panel.example", name=f"Panel Lead {n}",
                             role="panel_lead", organisation_name=org.name, password=password,
                             actor=f.ACTOR).record


def marac_case(org: Organisation, **overrides: Any) -> Referral:
    risk = {"marac": True, "details": "Ex-partner knows the current address.",
            **overrides.pop("risk", {})}
    return f.referral(org, risk=risk, **overrides)


def mappa_case(org: Organisation, **overrides: Any) -> Referral:
    risk = {"mappa_level": 2, "mappa_category": 1, "details": "Risk to lone female staff.",
            **overrides.pop("risk", {})}
    return f.referral(org, risk=risk, **overrides)


def share(referral: Referral, by: User, with_panel: Organisation, **overrides: Any) -> CaseShare:
    fields: dict[str, Any] = {
        "lawful_basis": panels.bases_for(with_panel.type)[0].code,
        "purpose": "Discussion at the next panel meeting.",
        "next_meeting_on": clock.today_in_london() + timedelta(days=7),
    }
    fields.update(overrides)
    made = sharing.share(referral, by=by, panel_id=with_panel.id, **fields)
    db.session.flush()
    return made


@dataclass
class World:
    """One authority with an officer and a team leader, a referrer, and both kinds of panel."""

    authority: Authority
    officer: User
    leader: User
    referrer: Organisation
    marac: Organisation
    mappa: Organisation
    marac_lead: User
    mappa_lead: User


def world(passwords: bool = False) -> World:
    """``passwords=True`` for page tests that sign people in (argon2 is slow: only then)."""
    password = f.PASSWORD if passwords else None
    authority = f.authority()
    officer = f.officer(authority, password=password)
    leader = f.team_leader(authority, password=password)
    marac, mappa = panel("marac"), panel("mappa")
    return World(authority, officer, leader, f.organisation(), marac, mappa,
                 panel_lead(marac, password), panel_lead(mappa, password))
