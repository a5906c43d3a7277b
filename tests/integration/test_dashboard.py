"""The dashboard pages and their CSV: who may open them, what they show, what the files hold."""
from __future__ import annotations

import csv
import io

import pytest
import time_machine
from argon2 import PasswordHasher

from referral_service.domain.reports import export
from referral_service.extensions import db
from referral_service.models import Organisation, OrganisationType, Role, User
from tests import factories
from tests.integration import reports_fixture
from tests.integration.reports_fixture import NOW
from tests.statements import statements
from tests.web_helpers import sign_in

QUERY = ("start-day=5&start-month=1&start-year=2026&end-day=18&end-month=1&end-year=2026")
CSV_KEYS = ["referrals", "by_agency", "by_source", "by_housing_situation", "repeats_and_duplicates",
            "time_to_contact", "time_to_contact_distribution", "contact_deadline", "outcomes",
            "caseload", "messages", "partners", "weekly"]
PAGES = ["/dashboard", "/dashboard/by_agency.csv", "/dashboard/referrals.csv"]


@pytest.fixture
def fx(db_session):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        built = reports_fixture.build()
        hashed = PasswordHasher().hash(factories.PASSWORD)
        for user in db.session.scalars(db.select(User)):
            user.password_hash = hashed
        db.session.commit()
        yield built


def _user(email: str) -> User:
    found = db.session.scalar(db.select(User).where(User.email == email))
    assert found is not None
    return found


@pytest.fixture
def as_leader(client, fx):  # type: ignore[no-untyped-def]
    sign_in(client, fx.leader_a)
    return client


def _rows(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize("path", PAGES)
def test_not_signed_in_goes_to_sign_in(client, fx, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 302
    assert "/sign-in?next=" in response.headers["Location"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("who", ["officer", "partner", "panel_lead"])
def test_other_roles_are_refused(client, fx, path: str, who: str) -> None:  # type: ignore[no-untyped-def]
    if who == "officer":
        user = _user("ada@a.example")
    else:
        org = factories.organisation(name=f"{who} org",
                                     type="marac" if who == "panel_lead" else "probation")
        user = factories.partner_user(org, password=factories.PASSWORD) if who == "partner" \
            else _panel_lead(org)
        db.session.commit()
    sign_in(client, user)
    assert client.get(f"{path}?{QUERY}").status_code == 403


def _panel_lead(org: Organisation) -> User:
    from referral_service.domain import admin

    return admin.create_user(email="panel@marac.example", name="Pat Panel", role="panel_lead",
                             organisation_name=org.name, password=factories.PASSWORD,
                             actor=factories.ACTOR).record


def test_team_leader_sees_their_authority(as_leader) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        page = as_leader.get(f"/dashboard?{QUERY}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "6 referrals received from 5 January 2026 to 18 January 2026" in html
    # The headline share: 2 of the 4 due (reports_fixture) were attempted by the deadline.
    assert "50% (2 of 4)" in html
    # Charts are images with a title and description, each followed by its table.
    assert html.count('<svg role="img" aria-labelledby="chart-') == 4
    assert '<title id="chart-agency-title">Referrals by referring agency</title>' in html
    assert '<th scope="row" class="govuk-table__header">Hospital emergency department</th>' in html
    assert "Ada Officer" in html and "Cai Officer" not in html
    assert 'href="/dashboard/referrals.csv?start-day=5' in html
    # No authority choice for a team leader: theirs is the only one.
    assert 'name="authority"' not in html


def test_team_leader_cannot_ask_for_another_authority(as_leader) -> None:  # type: ignore[no-untyped-def]
    assert as_leader.get(f"/dashboard?{QUERY}&authority=E07000242").status_code == 403
    assert as_leader.get(f"/dashboard/referrals.csv?{QUERY}&authority=E07000242"
                         ).status_code == 403


def test_administrator_chooses_any_or_all(client, fx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, fx.admin)
    with time_machine.travel(NOW, tick=False):
        everyone = client.get(f"/dashboard?{QUERY}").get_data(as_text=True)
        just_b = client.get(f"/dashboard?{QUERY}&authority=E07000242").get_data(as_text=True)
    # Seven referrals across both authorities; authority B has RB only.
    assert "7 referrals received" in everyone and "Cai Officer" in everyone
    assert '<option value="E07000242" selected>' in just_b
    assert "1 referrals received" in just_b


def test_bad_filters_show_the_form_with_errors(as_leader) -> None:  # type: ignore[no-untyped-def]
    page = as_leader.get("/dashboard?start-day=31&start-month=2&start-year=2026"
                         "&agency_type=astrology")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "There is a problem" in html
    assert "The start of the period must be a real date" in html
    too_big = as_leader.get("/dashboard?start-day=1&start-month=1&start-year=99999999999"
                            "&end-day=18&end-month=1&end-year=2026")
    assert too_big.status_code == 400
    assert "The start of the period must be a real date" in too_big.get_data(as_text=True)
    bad_agency = as_leader.get(f"/dashboard?{QUERY}&agency_type=astrology")
    assert bad_agency.status_code == 400
    assert "Choose a referring agency type from the list." in bad_agency.get_data(as_text=True)
    assert as_leader.get(f"/dashboard/by_agency.csv?{QUERY}&agency_type=astrology"
                         ).status_code == 400
    assert as_leader.get(f"/dashboard/no_such_figure.csv?{QUERY}").status_code == 404


@pytest.mark.parametrize("key", CSV_KEYS)
def test_every_figure_downloads_as_csv(as_leader, key: str) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        response = as_leader.get(f"/dashboard/{key}.csv?{QUERY}")
    assert response.status_code == 200
    assert response.is_streamed  # written as it is read, never built whole in memory
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="referrals_{key}_E07000241_2026-01-05_2026-01-18.csv"')
    assert len(_rows(response)) > 1


def test_figure_csv_holds_the_figure(as_leader) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(as_leader.get(f"/dashboard/by_agency.csv?{QUERY}"))
    assert rows == [["agency_type", "referrals"], ["probation", "3"],
                    ["hospital_emergency_department", "2"], ["jobcentre", "1"]]


def test_referral_level_csv_has_no_free_text(as_leader, fx) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        rows = _rows(as_leader.get(f"/dashboard/referrals.csv?{QUERY}"))
    header, body = rows[0], rows[1:]
    assert tuple(header) == export.REFERRAL_COLUMNS
    assert [row[1] for row in body] == [fx.referrals[k].reference
                                        for k in ("R1", "R2", "R3", "R4", "R5", "R6")]
    text = "\n".join(",".join(row) for row in rows)
    for private in ("Aoife", "O'Neill", "Person", "Fixture reason", "sam.patel", "Sam Patel"):
        assert private not in text
    r1 = dict(zip(header, body[0], strict=True))
    # R1: 1 working hour to the attempt, 8 to contact, on time; R5 (a repeat) was never due.
    assert (r1["working_hours_to_first_attempt"], r1["working_hours_to_contact"],
            r1["attempted_by_deadline"], r1["outcome"]) == ("1.0", "8.0", "yes",
                                                            "prevention_duty")
    r5 = dict(zip(header, body[4], strict=True))
    assert (r5["repeat"], r5["attempted_by_deadline"], r5["status"]) == ("yes", "", "withdrawn")
    r6 = dict(zip(header, body[5], strict=True))
    assert r6["possible_duplicate"] == "yes"


def test_cells_that_look_like_formulas_are_neutralised(as_leader, fx) -> None:  # type: ignore[no-untyped-def]
    org = db.session.scalar(db.select(Organisation).where(
        Organisation.type == OrganisationType.JOBCENTRE))
    org.name = '=HYPERLINK("http://evil.example","click")'
    db.session.commit()
    rows = _rows(as_leader.get(f"/dashboard/partners.csv?{QUERY}"))
    assert rows[3][0] == "'" + '=HYPERLINK("http://evil.example","click")'
    for value in ("+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert export.safe_cell(value) == "'" + value
    assert export.safe_cell(-1) == -1  # a number is not text a spreadsheet would run


def test_filenames_are_safe_whatever_the_label(fx) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from referral_service.domain.reports.scope import Scope

    scope = Scope(start=date(2026, 1, 5), end=date(2026, 1, 18),
                  authority_code='E07"/../x;\r\n')
    assert export.filename(scope, "by_agency") == (
        "referrals_by_agency_E07..x_2026-01-05_2026-01-18.csv")


def test_navigation_shows_figures_to_leaders_only(client, fx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, fx.leader_a)
    assert 'href="/dashboard"' in client.get("/account").get_data(as_text=True)
    client.post("/sign-out", data={"csrf_token": _token(client)})
    sign_in(client, _user("ada@a.example"))
    assert 'href="/dashboard"' not in client.get("/account").get_data(as_text=True)
    assert Role.OFFICER  # the officer's navigation has no Figures item


def _token(client) -> str:  # type: ignore[no-untyped-def]
    from tests.web_helpers import csrf_token

    return csrf_token(client, "/account")


def test_the_page_tunes_its_transaction_once_not_once_per_figure(as_leader, fx) -> None:  # type: ignore[no-untyped-def]
    """SET LOCAL lasts the transaction: one jit and one work_mem for the whole page (on
    PostgreSQL; SQLite has no such settings), and a single figure's CSV is tuned once too."""
    settings = 2 if db.session.get_bind().dialect.name == "postgresql" else 0
    for path in (f"/dashboard?{QUERY}", f"/dashboard/weekly.csv?{QUERY}"):
        with statements() as seen:
            assert as_leader.get(path).status_code == 200
        assert len([s for s in seen if s.startswith("SET LOCAL")]) == settings, path
