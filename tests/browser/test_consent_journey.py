"""Consent withdrawn in Chromium (issue 15.1): the referrer withdraws consent to texts on their
referral page (a wrong form first shows the error summary); the named officer then records that
the person withdrew consent to the referral, which closes it. axe-core checks every page."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.steps import check, follow, press, sign_in, sign_out, success_banner
from tests.web_helpers import make_team


def test_referrer_withdraws_texts_then_the_officer_the_referral(live_server, page, shots) -> None:  # type: ignore[no-untyped-def]
    with live_server.data():
        team = make_team()
        emails = team.emails()
        named_id = team.named.id
    base = live_server.url

    sign_in(page, base, emails["referrer"])
    page.goto(f"{base}/referrer/referrals/{named_id}")
    expect(page.locator("#consent")).to_have_text("Consent")
    check(page, shots, "referrer-consent-record")
    follow(page, page.get_by_role("link", name=re.compile("^Withdraw consent")))
    expect(page.locator(".govuk-warning-text")).to_contain_text("closes it")
    check(page, shots, "referrer-withdraw-consent")
    press(page, "Withdraw consent")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select what the person withdraws consent to.")
    expect(page).to_have_title(re.compile("^Error:"))
    check(page, shots, "referrer-withdraw-consent-errors")
    page.get_by_label("Text messages", exact=True).check()
    page.get_by_label("The person told us they withdraw consent", exact=True).check()
    press(page, "Withdraw consent")
    success_banner(page, "Consent to text messages was withdrawn.")
    expect(page.locator("main")).to_contain_text("Text messages: withdrawn by the referrer")
    check(page, shots, "referrer-consent-withdrawn")
    sign_out(page)

    sign_in(page, base, emails["officer"])
    page.goto(f"{base}/casework/referrals/{named_id}")
    expect(page.locator("main")).to_contain_text("Text messages: withdrawn by the referrer")
    press(page, "Withdraw consent")
    expect(page.locator("h1")).to_have_text("The person told us they withdraw consent")
    expect(page.get_by_label("Text messages", exact=True)).to_have_count(0)
    check(page, shots, "officer-withdraw-consent")
    page.get_by_label("The referral itself", exact=True).check()
    page.get_by_label("The person told us they withdraw consent", exact=True).check()
    page.get_by_label("Notes (optional)").fill("Phoned to say she has found a place.")
    press(page, "Record withdrawal")
    success_banner(page, "Consent to the referral was withdrawn. The referral is closed.")
    expect(page.locator("main")).to_contain_text("The referral itself: withdrawn by the council")
    expect(page.get_by_role("button", name="Withdraw consent")).to_have_count(0)
    check(page, shots, "officer-consent-withdrawn")
