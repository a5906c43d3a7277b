"""The release planner in a real browser: a team leader opens "Upcoming releases" from the
navigation and axe-core finds no accessibility violations."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from referral_service import clock
from tests import factories
from tests.browser.axe import assert_accessible
from tests.browser.steps import at, press


def test_team_leader_plans_the_release_panel(live_server, page, shots):  # type: ignore[no-untyped-def]
    with live_server.data():
        council = factories.authority()
        factories.officer(council, name="Jo Smith")
        leader = factories.team_leader(council, name="Lee Leader", password=factories.PASSWORD)
        prison = factories.organisation(name="HMP Bedford – resettlement", type="prison")
        day = clock.today_in_london() + timedelta(days=9)
        made = factories.referral(prison, release_or_discharge_date=day.isoformat(),
                                  person=factories.unique_person(first_name="Ciaran",
                                                                 last_name="Walsh"))
        reference, email = made.reference, leader.email
    page.goto(live_server.url + "/team")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    press(page, "Sign in")
    at(page, "/team")
    page.get_by_role("link", name="Upcoming releases").click()
    at(page, "/team/releases")
    expect(page.locator("h1")).to_have_text("Upcoming releases and discharges")
    table = page.locator("table", has_text="HMP Bedford")
    expect(table).to_contain_text("Ciaran Walsh")
    expect(table).to_contain_text(reference)
    expect(table).to_contain_text("Jo Smith")
    expect(table).to_contain_text("Not yet")
    shots("releases")
    assert_accessible(page)


def test_referrer_changes_the_release_date(live_server, page, shots):  # type: ignore[no-untyped-def]
    with live_server.data():
        factories.authority()
        prison = factories.organisation(name="HMP Bedford – resettlement", type="prison")
        referrer = factories.partner_user(prison, password=factories.PASSWORD)
        made = factories.referral(prison, release_or_discharge_date="2027-06-30")
        path, email = f"/referrer/referrals/{made.id}", referrer.email
    page.goto(live_server.url + path)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    press(page, "Sign in")
    at(page, path)
    page.get_by_role("link", name="Change release or discharge date").click()
    at(page, path + "/change")
    page.get_by_label("Day").fill("31")
    page.get_by_label("Month").fill("2")
    press(page, "Save changes")
    expect(page.locator(".govuk-error-summary")).to_contain_text("must be a real date")
    shots("referrer-change-error")
    assert_accessible(page)
    page.get_by_label("Day").fill("1")
    page.get_by_label("Month").fill("7")
    press(page, "Save changes")
    at(page, path)
    expect(page.locator(".govuk-summary-list").first).to_contain_text("1 July 2027")
    shots("referrer-changed")
    assert_accessible(page)
