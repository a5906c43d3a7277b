"""Steps the browser journeys share (officer, team leader and referrer journeys join up here)."""
from __future__ import annotations

from typing import Any

from tests import factories
from tests.browser.axe import assert_accessible


def check(page: Any, shots: Any, name: str) -> None:
    """Every page a journey visits: a screenshot kept, and axe-core finds nothing."""
    shots(name)
    assert_accessible(page)


def sign_in(page: Any, base_url: str, email: str, password: str = factories.PASSWORD) -> None:
    page.goto(base_url + "/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    assert "/sign-in" not in page.url, page.locator("main").inner_text()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    assert page.locator("h1").inner_text() == "You have signed out"


def success_banner(page: Any) -> str:
    return str(page.locator(".govuk-notification-banner--success").inner_text())
