"""The demo data works in the pages: every demo officer and team leader signs in with the printed
password and opens their pages and every referral of their authority, under their council's own
name (the demo brands both councils; never GOV.UK)."""
from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from referral_service.demo import BRANDING, DEMO_PASSWORD, load_demo_data
from referral_service.extensions import db
from referral_service.models import Referral, Role, User
from tests.web_helpers import sign_in


def test_demo_staff_pages_all_render(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        load_demo_data()
        staff = [(u.email, u.role, u.authority_id, BRANDING[u.authority.code]["display_name"])
                 for u in db.session.scalars(
            select(User).where(User.role.in_([Role.OFFICER, Role.TEAM_LEADER])))]
        referrals = {authority: [r.id for r in db.session.scalars(
            select(Referral).where(Referral.authority_id == authority))]
            for _, _, authority, _ in staff}
        db.session.remove()
    opened = 0
    councils = set()
    for email, role, authority, council in staff:
        http = fresh_app.test_client()
        with fresh_app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            sign_in(http, user, DEMO_PASSWORD)
            db.session.remove()
        home = "/team" if role is Role.TEAM_LEADER else "/casework/my-referrals"
        pages = [home, "/casework/queue", "/account", "/team/releases"] + (
            ["/team/absences", "/team/sign-in-security"] if role is Role.TEAM_LEADER else [])
        if email == "morgan.hughes@welhat.example":  # the release panel has someone to plan for
            assert "Stefan Novak" in http.get("/team/releases").text
        for path in pages + [f"/casework/referrals/{rid}" for rid in referrals[authority]]:
            response = http.get(path)
            assert response.status_code == 200, (email, path, response.status_code)
            assert not re.search(r"Internal Server Error", response.text)
            assert f"– {council}</title>" in response.text, (email, path)
            opened += 1
        councils.add(council)
    assert opened > 40
    assert councils == {"Welwyn Hatfield Borough Council", "East Hertfordshire District Council"}
