"""The page layout in a real browser: GOV.UK Frontend loads and runs under the strict CSP, pages
pass axe-core, and a person signs in and out."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests import factories
from tests.browser.axe import assert_accessible
from tests.browser.steps import at, press


def test_front_page_is_styled_accessible_and_runs_govuk_frontend(live_server, page, shots):  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/")
    expect(page.locator("h1")).to_have_text("Duty to Refer referrals")
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
    at(page, "/sign-in?next=/account")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill("wrong password entirely")
    press(page, "Sign in")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter a correct email address and password")
    # GOV.UK Frontend's script moves focus to the error summary.
    expect(summary).to_be_focused()
    shots("sign-in-error")
    assert_accessible(page)

    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    press(page, "Sign in")
    at(page, "/account")
    expect(page.locator(".app-user-bar")).to_contain_text("Signed in as Jo Smith")
    shots("account")
    assert_accessible(page)

    # A page for another role: the 403 page, in the same layout, also accessible.
    response = page.goto(live_server.url + "/team")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Forbidden")
    shots("forbidden")
    assert_accessible(page)

    press(page, "Sign out")
    expect(page.locator("h1")).to_have_text("You have signed out")
    page.goto(live_server.url + "/account")
    expect(page).to_have_url(re.compile("/sign-in"))
