"""The scrutiny dashboard in a real browser: a team leader filters it, the SVG charts render
under the strict CSP, and axe-core finds no accessibility violations."""
from __future__ import annotations

from tests import factories
from tests.browser.axe import assert_accessible


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
    page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith("/dashboard")
    assert page.locator("h1").inner_text() == "Scrutiny figures"
    assert "3 referrals received" in page.locator("h2").first.inner_text()
    # Each chart is an image with a name; its numbers are in the table that follows it.
    chart = page.get_by_role("img", name="Referrals by referring agency")
    assert chart.is_visible()
    assert chart.locator("rect").count() == 2
    table = page.locator("table", has_text="Referrals received by referring agency type")
    assert "Probation" in table.inner_text() and "2" in table.inner_text()
    shots("dashboard")
    assert_accessible(page)

    page.get_by_label("Referring agency type").select_option("probation")
    page.get_by_role("button", name="Show figures").click()
    assert "agency_type=probation" in page.url
    assert "2 referrals received" in page.locator("h2").first.inner_text()
    shots("dashboard-probation")
    assert_accessible(page)

    page.locator("#start-day").fill("31")
    page.locator("#start-month").fill("2")
    page.get_by_role("button", name="Show figures").click()
    assert "There is a problem" in page.locator(".govuk-error-summary").inner_text()
    shots("dashboard-error")
    assert_accessible(page)
