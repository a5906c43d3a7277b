"""Password reset by email (the link read from a real SMTP server; the development outbox shows
administrators only that it was sent), and setting up an authenticator app, in Chromium: every
page passes axe-core and the QR code renders under the strict CSP."""
from __future__ import annotations

import re

import pyotp
from playwright.sync_api import expect

from referral_service import clock
from referral_service.domain import admin
from tests import factories
from tests.browser.steps import check, follow, press, sign_in, sign_out, success_banner
from tests.emailed import Post, post  # noqa: F401 - the fixture


def test_forgotten_password_then_authenticator_app(live_server, page, shots, post: Post) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with live_server.data():
        officer = factories.officer(factories.authority(), name="Jo Smith",
                                    password=factories.PASSWORD)
        email = officer.email
        admin.create_user(email="admin@council.example", name="Ada Admin", role="admin",
                          password=factories.PASSWORD, actor=factories.ACTOR)
    base = live_server.url
    page.goto(base + "/sign-in")
    follow(page, page.get_by_role("link", name="Forgotten your password?"))
    check(page, shots, "reset-ask")
    page.get_by_label("Email address").fill(email)
    press(page, "Send the link")
    expect(page.locator("h1")).to_have_text("Check your email")
    check(page, shots, "reset-sent")

    sign_in(page, base, "admin@council.example")
    page.goto(base + "/dev/outbox")
    expect(page.locator("main")).to_contain_text("reset link: sent in the email, never shown")
    check(page, shots, "dev-outbox")
    assert "/password-reset/" not in page.locator("main").inner_text()
    sign_out(page)

    with live_server.data():
        [sent] = post.send_queued(event="password_reset", to_address=email)
    link = re.search(r"http://127\.0\.0\.1:\d+/password-reset/\S+", sent)
    assert link, sent
    page.goto(link.group(0))
    check(page, shots, "reset-choose")
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_label("Confirm the new password").fill("a brand new passphrase")
    press(page, "Save password")
    expect(page.locator("main")).to_contain_text("Password changed")
    check(page, shots, "reset-done")

    sign_in(page, base, email, "a brand new passphrase")
    page.goto(base + "/account/second-factor")
    expect(page.locator(".app-qr svg")).to_be_visible()
    check(page, shots, "second-factor-set-up")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).at(clock.now()))
    press(page, "Confirm")
    success_banner(page, "Your authenticator app is set up")
    check(page, shots, "second-factor-on")

    # Removing the app asks for the password again; a wrong one is refused on the page.
    page.get_by_label("Your password").fill("not my password")
    press(page, "Remove the authenticator app")
    expect(page.locator(".govuk-error-summary")).to_contain_text("The password is not right")
    check(page, shots, "second-factor-remove-refused")
    page.get_by_label("Your password").fill("a brand new passphrase")
    press(page, "Remove the authenticator app")
    success_banner(page, "The second factor was removed")
