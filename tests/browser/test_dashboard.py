"""The scrutiny dashboard in a real browser: a team leader filters it, the SVG charts render
under the strict CSP, and axe-core finds no accessibility violations."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests import factories
from tests.browser.axe import assert_accessible
from tests.browser.steps import at, press


def test_team_leader_reads_the_dashboard(live_server, page, shots):  # type: ignore[no-untyped-def]
    with live_server.data():
        council = factories.authority()
        factories.officer(council, name="Jo Smith")
        leader = factories.team_leader(council, name="Lee Leader", password=factories.PASSWORD)
        probation = factories.organisation()
        hospital = factories.organisation(name="Lister Hospital ED",
                                          type="hospital_emergency_department")
        for org in (probation, probation, hospital):
            factories.referral(org)
        email = leader.email
    page.goto(live_server.url + "/dashboard")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    press(page, "Sign in")
    at(page, "/dashboard")
    expect(page.locator("h1")).to_have_text("Scrutiny figures")
    expect(page.locator("h2").first).to_contain_text("3 referrals received")
    # Each chart is an image with a name; its numbers are in the table that follows it.
    chart = page.get_by_role("img", name="Referrals by referring agency")
    expect(chart).to_be_visible()
    expect(chart.locator("rect")).to_have_count(2)
    table = page.locator("table", has_text="Referrals received by referring agency type")
    expect(table).to_contain_text("Probation")
    expect(table).to_contain_text("2")
    shots("dashboard")
    assert_accessible(page)

    page.get_by_label("Referring agency type").select_option("probation")
    press(page, "Show figures")
    expect(page).to_have_url(re.compile("agency_type=probation"))
    expect(page.locator("h2").first).to_contain_text("2 referrals received")
    shots("dashboard-probation")
    assert_accessible(page)

    page.locator("#start-day").fill("31")
    page.locator("#start-month").fill("2")
    press(page, "Show figures")
    expect(page.locator(".govuk-error-summary")).to_contain_text("There is a problem")
    shots("dashboard-error")
    assert_accessible(page)
