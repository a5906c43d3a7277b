"""Steps the browser journeys share (officer, team leader and referrer journeys join up here).

On a loaded machine a page read straight after a click can still see the page being left, so a
click that loads a page goes through ``follow`` (it returns once the new page has loaded), and
reads use Playwright's retrying ``expect`` assertions or auto-waiting locators.
"""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests import factories
from tests.browser.axe import assert_accessible


def follow(page: Any, target: Any) -> None:
    """Click ``target`` (a link or button that loads a page) and wait until the new page has
    loaded: the page being left is marked, and its mark must be gone."""
    page.locator("html").evaluate("html => { html.dataset.leaving = 'yes'; }")
    target.click()
    expect(page.locator("html[data-leaving]")).to_have_count(0)
    page.wait_for_load_state()


def press(page: Any, button: str) -> None:
    follow(page, page.get_by_role("button", name=button))


def check(page: Any, shots: Any, name: str) -> None:
    """Every page a journey visits: a screenshot kept, and axe-core finds nothing."""
    page.wait_for_load_state()
    shots(name)
    assert_accessible(page)


def at(page: Any, path: str) -> None:
    """The browser is on ``path`` (the end of the URL, query included)."""
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def sign_in(page: Any, base_url: str, email: str, password: str = factories.PASSWORD) -> None:
    page.goto(base_url + "/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    press(page, "Sign in")
    assert "/sign-in" not in page.url, page.locator("main").inner_text()


def sign_out(page: Any) -> None:
    press(page, "Sign out")
    expect(page.locator("h1")).to_have_text("You have signed out")


def success_banner(page: Any, text: str) -> None:
    """The success banner says ``text`` (waiting for it, as the page may still be loading)."""
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(text)
