"""A council's own service in a real browser (issue 15.6): signed out, the front page is a start
and sign-in under the operator's name; signed in, a council's officer sees the council's name
and footer links. No crown, GOV.UK logotype or GOV.UK icon anywhere; axe finds nothing."""
from __future__ import annotations

from playwright.sync_api import expect

from referral_service.config import DEFAULT_OPERATOR_NAME
from referral_service.domain import branding
from tests import factories
from tests.browser.axe import assert_accessible
from tests.browser.steps import at, follow, press

SERVICE = "Duty to Refer referrals"


def assert_no_govuk_branding(page) -> None:  # type: ignore[no-untyped-def]
    for selector in (".govuk-header", ".govuk-logo", ".govuk-header__logotype",
                     ".govuk-footer__crown", ".govuk-footer__copyright-logo",
                     "link[rel='mask-icon']", "link[rel='apple-touch-icon']",
                     "link[rel='manifest']"):
        expect(page.locator(selector)).to_have_count(0)
    assert "GOV.UK" not in page.title()
    expect(page.locator("footer")).not_to_contain_text("Crown copyright")


def test_signed_out_front_page_then_a_councils_officer(live_server, page, shots):  # type: ignore[no-untyped-def]
    with live_server.data():
        council = factories.authority()
        branding.set_authority_branding(
            code=council.code, actor=factories.ACTOR,
            display_name="Welwyn Hatfield Borough Council",
            accessibility_url="https://www.welhat.example/accessibility",
            privacy_url="https://www.welhat.example/privacy")
        officer = factories.officer(council, name="Jo Smith", password=factories.PASSWORD)
        email = officer.email

    page.goto(live_server.url + "/")
    expect(page.locator(".govuk-generic-header")).to_contain_text(DEFAULT_OPERATOR_NAME)
    assert page.title() == f"{SERVICE} – {DEFAULT_OPERATOR_NAME}"
    main = page.locator("main")
    expect(main.locator("a")).to_have_count(2)  # the start button is a link drawn as a button
    expect(main.get_by_role("button", name="Start a referral")).to_be_visible()
    assert_no_govuk_branding(page)
    # Our own icon, which the browser fetched (a failed fetch fails the test: conftest.py).
    icon = page.locator("link[rel='icon']")
    expect(icon).to_have_count(1)
    assert icon.get_attribute("href") == "/static/favicon.svg"
    shots("front-page-signed-out")
    assert_accessible(page)

    follow(page, main.get_by_role("link", name="Sign in"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    press(page, "Sign in")
    at(page, "/casework/my-referrals")
    header = page.locator(".govuk-generic-header")
    expect(header).to_have_text("Welwyn Hatfield Borough Council")
    assert page.title() == f"My referrals – {SERVICE} – Welwyn Hatfield Borough Council"
    footer = page.locator("footer")
    expect(footer.get_by_role("link", name="Accessibility statement")).to_have_attribute(
        "href", "https://www.welhat.example/accessibility")
    expect(footer.get_by_role("link", name="Privacy notice")).to_be_visible()
    assert_no_govuk_branding(page)
    shots("council-officer")
    assert_accessible(page)

    # The front page is now the officer's own home.
    follow(page, header.get_by_role("link"))
    at(page, "/casework/my-referrals")
