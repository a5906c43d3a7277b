"""Control characters in what people type into the pages (issue 12).

A NUL byte in any form field or query was a 500 on PostgreSQL; now the request is refused before
any view reads it (a GOV.UK error page naming the fields, status 400) and nothing changes. Free
text keeps its line breaks. The tests run on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from referral_service.extensions import db
from referral_service.models import AuditEvent, ReferralMessage, ReferralStatus
from tests import factories as f
from tests.web_helpers import csrf_token, make_team, post_form, sign_in


@pytest.fixture
def team(db_session):  # type: ignore[no-untyped-def]
    made = make_team()
    db_session.commit()
    return made


def changes() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(ReferralMessage)) or 0,
            db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def assert_refused(response: Any, *fields: str) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)[:2000]
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and "null byte" in html
    for name in fields:
        assert f"<li>{name}</li>" in html


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x7f"], ids=repr)
def test_sign_in_with_a_control_character_in_the_email_is_refused(
        client, team, character: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/sign-in", data={
        "email": f"{team.officer.email}{character}", "password": f.PASSWORD,
        "csrf_token": csrf_token(client)})
    assert_refused(response, "email")
    assert client.get("/account").status_code == 302  # not signed in


def test_a_password_reset_for_an_email_with_nul_is_refused(client, team) -> None:  # type: ignore[no-untyped-def]
    response = post_form(client, "/password-reset", {"email": f"{team.officer.email}\x00"})
    assert_refused(response, "email")


def test_a_reset_link_with_nul_in_its_token_is_not_found(client, team) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/password-reset/abc%00def").status_code == 404


@pytest.mark.parametrize("path, form", [
    ("reply", {"reply": "Called\x00 today"}),
    ("contact-attempt", {"notes": "No answer\x00", "channel": "phone"}),
])
def test_an_officers_note_with_nul_is_refused_and_nothing_changes(
        client, team, path: str, form: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.officer)
    before, status = changes(), team.named.status
    response = post_form(client, f"/casework/referrals/{team.named.id}/{path}", form,
                         token_from=f"/casework/referrals/{team.named.id}")
    assert_refused(response, *form.keys() - {"channel"})
    db.session.expire_all()
    assert changes() == before and team.named.status == status


def test_an_officers_note_keeps_its_line_breaks(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.officer)
    response = post_form(client, f"/casework/referrals/{team.named.id}/reply",
                         {"reply": "Called today.\r\n\tNo answer."},
                         token_from=f"/casework/referrals/{team.named.id}")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert db.session.scalar(select(ReferralMessage.body).where(
        ReferralMessage.referral_id == team.named.id)) == "Called today.\r\n\tNo answer."


def test_a_referrers_note_or_withdrawal_with_nul_is_refused(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.referrer)
    page = f"/referrer/referrals/{team.named.id}"
    before = changes()
    note = post_form(client, f"{page}/notes", {"body": "Moved\x00 away"}, token_from=page)
    withdrawal = post_form(client, f"{page}/withdraw", {"reason": "Moved\x00 away"})
    assert_refused(note, "body")
    assert_refused(withdrawal, "reason")
    db.session.expire_all()
    assert changes() == before and team.named.status is not ReferralStatus.WITHDRAWN


def test_a_referral_answer_with_nul_is_refused(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.referrer)
    response = post_form(client, "/referrer/new/name", {"person-first-name": "Ao\x00ife"},
                         token_from="/account")
    assert_refused(response, "person-first-name")


@pytest.mark.parametrize("query", ["?status=%00", "?page=%00", "?%00=1"])
def test_a_query_with_nul_is_refused(client, team, query: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.referrer)
    response = client.get(f"/referrer/referrals{query}")
    assert response.status_code == 400, response.get_data(as_text=True)[:2000]


def test_the_dashboard_filters_with_nul_are_refused(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.leader)
    response = client.get("/dashboard?authority=%00&agency_type=x%00")
    assert_refused(response, "authority", "agency_type")
