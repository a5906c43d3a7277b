"""Each council's own service, never GOV.UK (issue 15.6): no crown, no GOV.UK logotype or icons,
no "GOV.UK" in a title; the council's name and footer links for its own staff, the operator's
for everyone else; and a front page with nothing but a start and sign-in until one signs in.

The page walk at the end opens every page in each role's navigation (and the pages everyone
reaches) and checks each one for GOV.UK's branding.
"""
from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from referral_service import config
from referral_service.domain import admin, branding
from tests import factories as f
from tests import panel_factories as pf
from tests.web_helpers import Team, cheap_password_hashing, make_team, sign_in

SERVICE = "Duty to Refer referrals"
WELHAT = "Welwyn Hatfield Borough Council"
OPERATOR = config.DEFAULT_OPERATOR_NAME
WELHAT_LINKS = {"accessibility_url": "https://www.welhat.example/accessibility",
                "privacy_url": "https://www.welhat.example/privacy",
                "contact_url": "https://www.welhat.example/contact"}
# What GOV.UK's branding leaves in a page: the GOV.UK header and its logo (the crown and
# logotype), the footer's crown and Crown copyright, and GOV.UK's icons and crest.
GOVUK_MARKS = ("govuk-header__", "govuk-logo", "govuk-footer__crown", "Crown copyright",
               "govuk-footer__copyright-logo", "govuk-icon", "govuk-crest", "/assets/images/",
               "/assets/manifest.json")


@pytest.fixture(autouse=True)
def _cheap_hashing() -> Any:
    with cheap_password_hashing():
        yield


def title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found, "no <title>"
    return " ".join(found.group(1).split())


def header_name(html: str) -> str:
    found = re.search(r'class="govuk-generic-header__homepage-link">\s*(.*?)\s*</a>', html, re.S)
    assert found, "no Generic header"
    return found.group(1)


def footer(html: str) -> str:
    return html[html.index('<footer class="govuk-template__footer">'):]


def footer_links(html: str) -> list[tuple[str, str]]:
    return [(href, " ".join(text.split())) for href, text in re.findall(
        r'<a class="govuk-footer__link" href="([^"]+)">(.*?)</a>', footer(html), re.S)]


def assert_not_govuk(html: str, where: str) -> None:
    found = [mark for mark in GOVUK_MARKS if mark in html]
    assert found == [], f"{where} shows GOV.UK's branding: {found}"
    assert "GOV.UK" not in title(html), f"{where}: {title(html)}"


def brand(code: str = "E07000241", **settings: str) -> None:
    branding.set_authority_branding(code=code, actor=f.ACTOR, **settings)


@pytest.fixture
def branded(db_session: Any) -> Team:
    """make_team()'s councils: Welwyn Hatfield branded in full, Broxbourne not at all."""
    team = make_team()
    brand(display_name=WELHAT, **WELHAT_LINKS)
    f.db.session.commit()
    return team


def not_of_a_council() -> tuple[Any, Any]:
    """A MARAC panel lead and an administrator of the whole deployment (no authority)."""
    marac = f.organisation(name="Hertfordshire MARAC", type="marac")
    lead = pf.panel_lead(marac, password=f.PASSWORD)
    deployment_admin = admin.create_user(email="admin@shared.example", name="Dee Admin",
                                         role="admin", password=f.PASSWORD,
                                         actor=f.ACTOR).record
    return lead, deployment_admin


def page_as(client: Any, person: Any, path: str) -> str:
    sign_in(client, person)
    return client.get(path).get_data(as_text=True)


# --- the front page ---------------------------------------------------------------------------

def test_the_front_page_signed_out_is_a_start_and_sign_in_only(client: Any) -> None:
    team = make_team()
    f.db.session.commit()
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    main = html[html.index("<main"):html.index("</main>")]
    links = re.findall(r'href="([^"]+)"', main)
    assert links == ["/referrer/new", "/sign-in"]
    assert "Start a referral" in main and "Sign in" in main
    # Nothing about the authorities, their referrals or the deployment.
    for told in (team.authority.name, team.other_authority.name, "govuk-table", "healthz"):
        assert told not in html
    assert title(html) == f"{SERVICE} – {OPERATOR}"
    assert header_name(html) == OPERATOR
    assert_not_govuk(html, "the front page")


def test_start_a_referral_leads_a_signed_out_referrer_to_sign_in_then_the_journey(
        client: Any) -> None:
    org = f.organisation()
    referrer = f.partner_user(org, password=f.PASSWORD)
    f.db.session.commit()
    start = client.get("/referrer/new")
    assert start.status_code == 302 and start.headers["Location"] == "/sign-in?next=/referrer/new"
    signed_in = client.post("/sign-in?next=/referrer/new", data={
        "email": referrer.email, "password": f.PASSWORD,
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                client.get("/sign-in").get_data(as_text=True)).group(1)})
    assert signed_in.headers["Location"] == "/referrer/new"


def test_the_front_page_signed_in_is_the_role_home(client: Any) -> None:
    team = make_team()
    f.db.session.commit()
    sign_in(client, team.officer)
    page = client.get("/")
    assert page.status_code == 302 and page.headers["Location"] == "/casework/my-referrals"


# --- whose name, links and title --------------------------------------------------------------

def test_a_councils_staff_see_its_display_name_links_and_title(client: Any,
                                                                branded: Team) -> None:
    html = page_as(client, branded.officer, "/casework/my-referrals")
    assert header_name(html) == WELHAT
    assert title(html) == f"My referrals – {SERVICE} – {WELHAT}"
    assert footer_links(html) == [
        (WELHAT_LINKS["accessibility_url"], "Accessibility statement"),
        (WELHAT_LINKS["privacy_url"], "Privacy notice"),
        (WELHAT_LINKS["contact_url"], "Contact")]
    assert f"{SERVICE} is run by {WELHAT}." in footer(html)
    assert OPERATOR not in html
    assert_not_govuk(html, "an officer's page")


def test_the_other_councils_staff_see_their_own_council_not_this_one(client: Any,
                                                                     branded: Team) -> None:
    html = page_as(client, branded.other_officer, "/casework/my-referrals")
    # Broxbourne set nothing: its own name, no footer links, nothing of Welwyn Hatfield's.
    assert header_name(html) == "Broxbourne"
    assert title(html) == f"My referrals – {SERVICE} – Broxbourne"
    assert footer_links(html) == []
    assert "Welwyn Hatfield" not in html and "welhat" not in html


def test_team_leaders_and_an_authoritys_administrator_see_the_council(app: Flask,
                                                                      branded: Team) -> None:
    council_admin = admin.create_user(email="admin@welhat.example", name="Ada Admin",
                                      role="admin", authority_code=branded.authority.code,
                                      password=f.PASSWORD, actor=f.ACTOR).record
    f.db.session.commit()
    for person, path in ((branded.leader, "/team"), (council_admin, "/dashboard")):
        with app.test_client() as own:
            html = page_as(own, person, path)
            assert header_name(html) == WELHAT, person.role
            assert title(html).endswith(f" – {SERVICE} – {WELHAT}")


def test_referrers_panel_leads_and_a_deployment_admin_see_the_operator(
        app: Flask, branded: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "SERVICE_OPERATOR_NAME", "Hertfordshire Shared Services")
    monkeypatch.setitem(app.config, "SERVICE_OPERATOR_PRIVACY_URL",
                        "https://www.hertsshared.example/privacy")
    lead, deployment_admin = not_of_a_council()
    f.db.session.commit()
    for person in (branded.referrer, lead, deployment_admin, None):
        with app.test_client() as own:
            if person is not None:
                sign_in(own, person)
            response = own.get("/account" if person is not None else "/sign-in")
            html = response.get_data(as_text=True)
            who = person.role if person is not None else "signed out"
            assert header_name(html) == "Hertfordshire Shared Services", who
            assert title(html).endswith(f"{SERVICE} – Hertfordshire Shared Services"), who
            assert footer_links(html) == [("https://www.hertsshared.example/privacy",
                                           "Privacy notice")], who
            assert WELHAT not in html, who


def test_referrer_pages_have_their_own_page_titles(client: Any) -> None:
    team = make_team()
    f.db.session.commit()
    sign_in(client, team.referrer)
    html = client.get("/referrer/new").get_data(as_text=True)
    assert title(html) == f"Make a referral under the duty to refer – {SERVICE} – {OPERATOR}"


def test_a_404_page_names_the_operator(client: Any) -> None:
    html = client.get("/no-such-page").get_data(as_text=True)
    assert title(html) == f"Not Found – {SERVICE} – {OPERATOR}"
    assert_not_govuk(html, "the 404 page")


def test_govuks_images_and_icons_are_not_served_but_the_fonts_and_ours_are(client: Any) -> None:
    for path in ("/assets/images/favicon.ico", "/assets/images/govuk-icon-180.png",
                 "/assets/images/govuk-crest.svg", "/assets/manifest.json"):
        assert client.get(path).status_code == 404, path
    with client.get("/assets/fonts/bold-b542beb274-v2.woff2") as font:
        assert font.status_code == 200
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


# --- the operator's settings ------------------------------------------------------------------

def test_operator_settings_are_read_and_checked_at_start(tmp_path: Any) -> None:
    loaded = config.load(tmp_path, {"SERVICE_OPERATOR_NAME": "  Herts   Shared Services ",
                                    "SERVICE_OPERATOR_CONTACT_URL": "https://herts.example/c"})
    assert loaded["SERVICE_OPERATOR_NAME"] == "Herts Shared Services"
    assert loaded["SERVICE_OPERATOR_CONTACT_URL"] == "https://herts.example/c"
    assert loaded["SERVICE_OPERATOR_PRIVACY_URL"] is None
    assert config.load(tmp_path, {})["SERVICE_OPERATOR_NAME"] == OPERATOR
    for name, value in (("SERVICE_OPERATOR_PRIVACY_URL", "http://herts.example/privacy"),
                        ("SERVICE_OPERATOR_ACCESSIBILITY_URL", "javascript:alert(1)"),
                        ("SERVICE_OPERATOR_CONTACT_URL", "https://herts.example/\x00"),
                        ("SERVICE_OPERATOR_NAME", "Herts\x00")):
        with pytest.raises(RuntimeError, match=name):
            config.load(tmp_path, {name: value})


# --- every page, as each role -----------------------------------------------------------------

def _walk(app: Flask, person: Any) -> list[str]:
    """The pages in this person's navigation, their home and their account: each checked."""
    seen = []
    with app.test_client() as own:
        sign_in(own, person)
        home = own.get("/")
        paths = {home.headers["Location"], "/account"}
        html = own.get("/account").get_data(as_text=True)
        nav = html[html.index('class="govuk-service-navigation"'):html.index("</section>")]
        paths |= set(re.findall(r'class="govuk-service-navigation__link" href="([^"]+)"', nav))
        for path in sorted(paths):
            response = own.get(path)
            assert response.status_code == 200, (person.role, path, response.status_code)
            assert_not_govuk(response.get_data(as_text=True), f"{person.role} {path}")
            seen.append(path)
    return seen


def test_no_page_shows_govuk_branding_for_any_role(client: Any, app: Flask,
                                                    branded: Team) -> None:
    lead, deployment_admin = not_of_a_council()
    f.db.session.commit()
    team = branded
    walked = {person.role: _walk(app, person) for person in
              (team.officer, team.leader, team.referrer, lead, deployment_admin)}
    # The walk went through each role's pages, not only the account page.
    assert all(len(paths) >= 2 for paths in walked.values()), walked
    assert "/casework/queue" in walked["officer"] and "/team" in walked["team_leader"]
    for path in ("/", "/sign-in", "/password-reset", "/signed-out", "/referrer/new",
                 "/no-such-page"):
        html = client.get(path, follow_redirects=True).get_data(as_text=True)
        assert_not_govuk(html, f"signed out {path}")
    sign_in(client, team.officer)
    referral = client.get(f"/casework/referrals/{team.named.id}")
    assert referral.status_code == 200
    assert_not_govuk(referral.get_data(as_text=True), "an officer's referral page")
