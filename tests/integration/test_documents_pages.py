"""Documents on the referrer's and the officers' referral pages: upload with the GOV.UK file
upload (CSRF-protected), list, download (audited); officers see the virus scan's status."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from referral_service.extensions import db
from referral_service.models import AuditEvent, ReferralDocument
from tests import document_samples as samples
from tests import factories as f
from tests import panel_factories as pf
from tests.integration.documents_support import documents_held, post_file
from tests.integration.web_referrer_support import sign_in
from tests.web_helpers import make_team


@pytest.fixture
def team(db_session):  # type: ignore[no-untyped-def]
    made = make_team()
    db_session.commit()
    return made


def send(client, path: str, data: bytes, name: str, token: str | None = None):  # type: ignore[no-untyped-def]
    form = {"csrf_token": token if token is not None else client.csrf}
    return post_file(client, path, "document", data, name, form=form)


def referrer_page(team: Any) -> str:
    return f"/referrer/referrals/{team.named.id}"


def officer_page(team: Any) -> str:
    return f"/casework/referrals/{team.named.id}"


def test_the_referrer_uploads_and_the_officer_sees_and_downloads_it(client, app, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.referrer)
    response = send(client, f"{referrer_page(team)}/documents", samples.pdf(), "eviction.pdf")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{referrer_page(team)}#documents")
    page = client.get(referrer_page(team)).get_data(as_text=True)
    assert "eviction.pdf" in page
    [document] = db.session.scalars(select(ReferralDocument)).all()
    assert document.uploaded_by_user_id == team.referrer.id
    assert document.uploaded_by_side == "referrer"

    officer = app.test_client()
    sign_in(officer, team.officer)
    page = officer.get(officer_page(team)).get_data(as_text=True)
    assert "eviction.pdf" in page and "Not scanned" in page  # no CLAMD_SOCKET here
    link = f"{officer_page(team)}/documents/{document.id}"
    assert link in page
    download = officer.get(link)
    assert download.status_code == 200 and download.data == samples.pdf()
    assert download.headers["Content-Disposition"].startswith("attachment")
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.downloaded")).all()
    assert event.actor_user_id == team.officer.id and event.subject_id == str(document.id)


def test_the_officer_uploads_and_the_referrer_downloads(client, app, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.officer)
    response = send(client, f"{officer_page(team)}/documents", samples.png(), "letter.png")
    assert response.status_code == 302
    [document] = db.session.scalars(select(ReferralDocument)).all()
    assert document.uploaded_by_side == "council"
    referrer = app.test_client()
    sign_in(referrer, team.referrer)
    page = referrer.get(referrer_page(team)).get_data(as_text=True)
    assert "letter.png" in page and "Council" in page
    download = referrer.get(f"{referrer_page(team)}/documents/{document.id}")
    assert download.status_code == 200 and download.data == samples.png()


@pytest.mark.parametrize("who", ["referrer", "officer"])
def test_a_refused_file_is_shown_on_the_form_and_nothing_kept(client, team, who) -> None:  # type: ignore[no-untyped-def]
    user, page = ((team.referrer, referrer_page(team)) if who == "referrer"
                  else (team.officer, officer_page(team)))
    sign_in(client, user)
    response = send(client, f"{page}/documents", samples.windows_executable(), "form.pdf")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "govuk-error-summary" in html and 'href="#document"' in html
    assert "The file must be a PDF" in html
    assert documents_held() == 0


def test_an_upload_without_the_csrf_token_is_refused(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.referrer)
    response = send(client, f"{referrer_page(team)}/documents", samples.pdf(), "a.pdf",
                    token="")
    assert response.status_code == 400
    assert documents_held() == 0


def test_other_councils_other_organisations_and_panels_cannot_reach_documents(  # type: ignore[no-untyped-def]
        client, app, team) -> None:
    case = pf.marac_case(team.organisation)
    panel = pf.panel("marac")
    lead = pf.panel_lead(panel)
    pf.share(case, team.officer, panel)
    db.session.commit()
    sign_in(client, team.referrer)
    send(client, f"/referrer/referrals/{case.id}/documents", samples.pdf(), "safety-plan.pdf")
    [document] = db.session.scalars(select(ReferralDocument)).all()
    other_organisation = f.partner_user(f.organisation(name="Elsewhere YOT",
                                                             type="youth_offending_team"))
    db.session.commit()
    for user in (team.other_officer, lead, other_organisation):
        other = app.test_client()
        sign_in(other, user)
        for path in (f"/casework/referrals/{case.id}/documents/{document.id}",
                     f"/referrer/referrals/{case.id}/documents/{document.id}"):
            assert other.get(path).status_code in {403, 404}, (user.email, path)
    viewer = app.test_client()
    sign_in(viewer, lead)
    shared = viewer.get(f"/panel/cases/{case.id}")
    assert shared.status_code == 200
    html = shared.get_data(as_text=True)
    assert "safety-plan" not in html and str(document.id) not in html
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.downloaded")).all() == []


def test_the_officer_sees_when_the_scanner_did_not_answer(client, app, team, tmp_path,  # type: ignore[no-untyped-def]
                                                         monkeypatch) -> None:
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", str(tmp_path / "no-clamd.sock"))
    sign_in(client, team.officer)
    assert send(client, f"{officer_page(team)}/documents", samples.pdf(),
                "a.pdf").status_code == 302
    page = client.get(officer_page(team)).get_data(as_text=True)
    assert "Not scanned: the scanner did not answer" in page
