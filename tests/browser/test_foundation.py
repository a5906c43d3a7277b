"""The page layout in a real browser: GOV.UK Frontend loads and runs under the strict CSP, pages
pass axe-core, and a person signs in and out."""
from __future__ import annotations

from tests import factories
from tests.browser.axe import assert_accessible


def test_front_page_is_styled_accessible_and_runs_govuk_frontend(live_server, page, shots):  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "Duty to Refer referrals"
    # The stylesheet and fonts arrived (GOV.UK's typeface), and the ES module ran initAll.
    font = page.evaluate("() => getComputedStyle(document.querySelector('h1')).fontFamily")
    assert "GDS Transport" in font
    assert page.evaluate("() => document.body.classList.contains('govuk-frontend-supported')")
    shots("front-page")
    assert_accessible(page)


def test_sign_in_and_out(live_server, page, shots):  # type: ignore[no-untyped-def]
    with live_server.data():
        council = factories.authority()
        officer = factories.officer(council, name="Jo Smith", password=factories.PASSWORD)
        email = officer.email
    page.goto(live_server.url + "/account")
    assert page.url.endswith("/sign-in?next=/account")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill("wrong password entirely")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary")
    assert "Enter a correct email address and password" in summary.inner_text()
    # GOV.UK Frontend's script moves focus to the error summary.
    assert page.evaluate("() => document.activeElement.classList.contains('govuk-error-summary')")
    shots("sign-in-error")
    assert_accessible(page)

    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith("/account")
    assert "Signed in as Jo Smith" in page.locator(".app-user-bar").inner_text()
    shots("account")
    assert_accessible(page)

    # A page for another role: the 403 page, in the same layout, also accessible.
    response = page.goto(live_server.url + "/team")
    assert response.status == 403 and page.locator("h1").inner_text() == "Forbidden"
    shots("forbidden")
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()
    assert page.locator("h1").inner_text() == "You have signed out"
    page.goto(live_server.url + "/account")
    assert "/sign-in" in page.url
