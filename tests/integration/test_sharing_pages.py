"""The sharing pages over HTTP (no browser): officers flag, share and revoke; panel leads see only
their own live cases with their panel type's fields; every page refuses the wrong role, another
authority and a missing CSRF token; every panel read leaves exactly one access record."""
from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from referral_service import clock
from referral_service.models import AccessAction, CaseAccessRecord, CaseShare
from tests import factories as f
from tests import panel_factories as pf
from tests.integration.test_redaction import MAPPA_KEYS, MARAC_KEYS, NEVER
from tests.web_helpers import csrf_token, post_form, sign_in

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def w(db_session):  # type: ignore[no-untyped-def]
    made = pf.world(passwords=True)
    f.db.session.commit()
    return made


def _records() -> list[CaseAccessRecord]:
    return list(f.db.session.scalars(select(CaseAccessRecord).order_by(
        CaseAccessRecord.occurred_at)))


def _count() -> int:
    return f.db.session.scalar(select(func.count()).select_from(CaseAccessRecord)) or 0


def _fields(html: str) -> set[str]:
    return set(re.findall(r'data-field="([a-z_]+)"', html))


def test_officer_flags_shares_and_revokes_through_the_forms(client, w, frozen) -> None:  # type: ignore[no-untyped-def]
    case = f.referral(w.referrer)
    f.db.session.commit()
    sign_in(client, w.officer)
    base = f"/casework/referrals/{case.id}/sharing"
    assert "Flag the case for MARAC or MAPPA" in client.get(base).get_data(as_text=True)
    flagged = post_form(client, f"{base}/flags", {"marac": "yes", "mappa_level": "",
                                                  "mappa_category": ""})
    assert flagged.status_code == 302 and case.risk_marac is True
    bad = post_form(client, f"{base}/flags", {"mappa_level": "2"})
    assert bad.status_code == 400 and "give both" in bad.get_data(as_text=True)
    # Step 1 offers only panels of the flagged kind.
    step1 = client.get(f"{base}/new").get_data(as_text=True)
    assert w.marac.name in step1 and w.mappa.name not in step1
    assert client.get(f"{base}/new?panel={w.mappa.id}").status_code == 400
    form = f"{base}/new?panel={w.marac.id}"
    page = client.get(form).get_data(as_text=True)
    assert "Crime and Disorder Act 1998, section 115" in page
    assert "Criminal Justice Act 2003" not in page  # MAPPA's basis is not offered for a MARAC
    missing = post_form(client, form, {"lawful_basis": "cda1998_s115", "purpose": "",
                                       "next_meeting-day": "31", "next_meeting-month": "2",
                                       "next_meeting-year": "2027"})
    text = missing.get_data(as_text=True)
    assert missing.status_code == 400 and "must be a real date" in text
    assert "There is a problem" in text
    done = post_form(client, form, {"lawful_basis": "cda1998_s115",
                                    "purpose": "December MARAC", "next_meeting-day": "10",
                                    "next_meeting-month": "12", "next_meeting-year": "2026"})
    assert done.status_code == 302
    [share] = f.db.session.scalars(select(CaseShare)).all()
    assert share.purpose == "December MARAC" and share.next_meeting_on.isoformat() == "2026-12-10"
    overview = client.get(base).get_data(as_text=True)
    assert "9 January 2027" in overview and "Live" in overview
    revoke_url = f"{base}/{share.id}/revoke"
    assert client.get(revoke_url).status_code == 200
    assert post_form(client, revoke_url, {"reason": "Closed at panel"}).status_code == 302
    assert share.revoked_by_id == w.officer.id
    assert "Revoked" in client.get(base).get_data(as_text=True)


def test_the_flags_form_says_whether_anything_changed(client, w, frozen) -> None:  # type: ignore[no-untyped-def]
    case = f.referral(w.referrer)
    f.db.session.commit()
    sign_in(client, w.officer)
    flags = f"/casework/referrals/{case.id}/sharing/flags"
    values = {"marac": "yes", "mappa_level": "", "mappa_category": ""}
    post_form(client, flags, values)
    assert "Flags saved." in client.get(flags).get_data(as_text=True)
    post_form(client, flags, values)
    assert "Nothing changed." in client.get(flags).get_data(as_text=True)


def test_a_second_live_share_is_refused_on_the_form(client, w, frozen) -> None:  # type: ignore[no-untyped-def]
    case = pf.marac_case(w.referrer)
    pf.share(case, w.officer, w.marac)
    f.db.session.commit()
    sign_in(client, w.officer)
    response = post_form(client, f"/casework/referrals/{case.id}/sharing/new?panel={w.marac.id}",
                         {"lawful_basis": "cda1998_s115", "purpose": "Again",
                          "next_meeting-day": "10", "next_meeting-month": "12",
                          "next_meeting-year": "2026"})
    assert response.status_code == 400 and "already shared" in response.get_data(as_text=True)


def test_staff_pages_refuse_other_roles_and_authorities(client, w, frozen) -> None:  # type: ignore[no-untyped-def]
    case = pf.marac_case(w.referrer)
    share = pf.share(case, w.officer, w.marac)
    east_herts = f.authority(code="E07000242", name="East Hertfordshire")
    elsewhere = f.officer(east_herts, password=f.PASSWORD)
    leader_elsewhere = f.team_leader(east_herts, password=f.PASSWORD)
    f.db.session.commit()
    base = f"/casework/referrals/{case.id}/sharing"
    pages = [base, f"{base}/flags", f"{base}/new", f"{base}/{share.id}/revoke"]
    sign_in(client, w.marac_lead)
    for path in [*pages, "/casework/sharing"]:
        assert client.get(path).status_code == 403, path
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})
    sign_in(client, elsewhere)
    for path in pages:
        assert client.get(path).status_code == 404, path
    assert case.reference not in client.get("/casework/sharing").get_data(as_text=True)
    assert client.get(f"/casework/referrals/{uuid.uuid4()}/sharing").status_code == 404
    # Only a team leader exports the log, and only their own authority's.
    assert post_form(client, f"{base}/access-log.csv", token_from="/account").status_code == 403
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})
    sign_in(client, leader_elsewhere)
    assert post_form(client, f"{base}/access-log.csv", token_from="/account").status_code == 404
    assert _count() == 0


def test_forms_refuse_a_missing_csrf_token(client, w, frozen) -> None:  # type: ignore[no-untyped-def]
    case = pf.marac_case(w.referrer)
    share = pf.share(case, w.officer, w.marac)
    f.db.session.commit()
    base = f"/casework/referrals/{case.id}/sharing"
    sign_in(client, w.leader)
    for path, data in [(f"{base}/flags", {"marac": ""}),
                       (f"{base}/new?panel={w.marac.id}", {"purpose": "x"}),
                       (f"{base}/{share.id}/revoke", {}), (f"{base}/access-log.csv", {})]:
        response = client.post(path, data=data)
        assert response.status_code == 400, path
        assert "The form could not be sent" in response.get_data(as_text=True), path
    assert share.revoked_at is None and case.risk_marac is True
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})
    sign_in(client, w.marac_lead)
    before = _count()
    response = client.post(f"/panel/cases/{case.id}/actions", data={"text": "no token"})
    assert response.status_code == 400 and _count() == before


def test_marac_lead_sees_only_marac_fields_marked_official_sensitive(client, w, frozen) -> None:  # type: ignore[no-untyped-def]
    case = pf.mappa_case(w.referrer, risk={"marac": True})
    other = pf.marac_case(w.referrer)
    pf.share(case, w.officer, w.marac)
    pf.share(case, w.officer, w.mappa)
    f.db.session.commit()
    sign_in(client, w.marac_lead)
    listing = client.get("/panel/cases").get_data(as_text=True)
    assert case.reference in listing and other.reference not in listing
    assert [r.action for r in _records()] == [AccessAction.LIST]
    response = client.get(f"/panel/cases/{case.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _fields(html) == MARAC_KEYS
    assert html.count("OFFICIAL-SENSITIVE") >= 3  # title, top and bottom markings
    assert 'id="marking-top"' in html and 'id="marking-bottom"' in html
    assert "Do not leave messages with partner" in html  # the safe-contact instructions
    # Numbers as people dial them, as on the referrer's pages (stored as E.164).
    assert case.person_phone.startswith("+44")
    assert f"Safe number: 0{case.person_phone[3:7]} {case.person_phone[7:]}" in html
    for value in [*NEVER, "AL8 6AB", "Flat 2"]:  # nor the address, for MARAC
        assert value not in html, value
    assert [r.action for r in _records()] == [AccessAction.LIST, AccessAction.VIEW]
    assert response.headers["Cache-Control"].startswith("no-store")


def test_mappa_lead_sees_only_the_mappa_fields(client, w, frozen) -> None:  # type: ignore[no-untyped-def]
    case = pf.mappa_case(w.referrer, risk={"marac": True})
    pf.share(case, w.officer, w.marac)
    pf.share(case, w.officer, w.mappa)
    f.db.session.commit()
    sign_in(client, w.mappa_lead)
    html = client.get(f"/panel/cases/{case.id}").get_data(as_text=True)
    assert _fields(html) == MAPPA_KEYS
    assert "Flat 2, 1 High Street, Welwyn, AL8 6AB" in html and "Level 2, category 1" in html
    assert "Do not leave messages with partner" not in html
    for value in NEVER:
        assert value not in html, value


def test_a_case_not_live_is_404_and_each_refusal_recorded(client, w, frozen) -> None:  # type: ignore[no-untyped-def]
    frozen.move_to(datetime(2026, 12, 1, 20, 0, tzinfo=UTC))
    case = pf.marac_case(w.referrer)
    # The meeting is tonight and the share ends at midnight (within one 8-hour session).
    share = pf.share(case, w.officer, w.marac, next_meeting_on=clock.today_in_london(),
                     expires_on=clock.today_in_london())
    f.db.session.commit()
    sign_in(client, w.mappa_lead)
    assert client.get(f"/panel/cases/{case.id}").status_code == 404  # another panel's case
    assert _records()[-1].refusal == "other_panel"
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})
    sign_in(client, w.marac_lead)
    assert client.get(f"/panel/cases/{case.id}").status_code == 200
    frozen.shift(timedelta(hours=4, minutes=1))
    response = client.get(f"/panel/cases/{case.id}")
    assert response.status_code == 404 and case.reference not in response.get_data(as_text=True)
    assert [r.refusal for r in _records()] == ["other_panel", None, "expired"]
    assert share.state == "expired"
    assert client.get(f"/panel/cases/{uuid.uuid4()}").status_code == 404
    assert _count() == 4
    # Staff and referrers never reach the panel pages.
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})
    sign_in(client, w.officer)
    assert client.get("/panel/cases").status_code == 403
    assert client.get(f"/panel/cases/{case.id}").status_code == 403


def test_panel_action_reaches_the_officer_and_the_log_exports(client, w, frozen) -> None:  # type: ignore[no-untyped-def]
    case = pf.marac_case(w.referrer)
    pf.share(case, w.officer, w.marac)
    f.db.session.commit()
    sign_in(client, w.marac_lead)
    page = f"/panel/cases/{case.id}"
    empty = post_form(client, f"{page}/actions", {"text": "  "}, token_from=page)
    assert empty.status_code == 400 and "Write the action" in empty.get_data(as_text=True)
    added = post_form(client, f"{page}/actions", {"text": "IDVA to call on the safe number."},
                      token_from=page)
    assert added.status_code == 302
    assert "IDVA to call on the safe number." in client.get(page).get_data(as_text=True)
    views = [r.action for r in _records()]
    assert views.count(AccessAction.VIEW) == 4  # each page drawn is one view, no more
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})
    sign_in(client, w.leader)
    base = f"/casework/referrals/{case.id}/sharing"
    overview = client.get(base).get_data(as_text=True)
    assert "IDVA to call on the safe number." in overview
    assert w.marac_lead.email in overview and "Opened the case" in overview
    exported = post_form(client, f"{base}/access-log.csv", token_from=base)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert f"{case.reference}-access-log.csv" in exported.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["view"] * 4
    assert _records()[-1].action is AccessAction.EXPORT
