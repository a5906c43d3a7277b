"""A transfer in Chromium (issue 15.3): the officer transfers a referral (the person's agreement
to the new council is asked for first); the receiving officer sees it with the earlier council's
timeline, labelled and without private notes; the referrer sees both references and follows
one to the other. axe-core checks every page on the way."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from referral_service.extensions import db
from referral_service.models import Referral
from tests.browser.steps import check, follow, press, sign_in, sign_out, success_banner
from tests.web_helpers import make_team


def test_a_transfer_seen_by_the_receiving_officer_and_the_referrer(live_server, page, shots) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    with live_server.data():
        team = make_team()
        emails = team.emails()
        named_id, named = team.named.id, team.named.reference
        council, receiving = team.authority.name, team.other_authority.name
    base = live_server.url

    # The named officer transfers it; without the person's agreement the form refuses.
    sign_in(page, base, emails["officer"])
    page.goto(f"{base}/casework/referrals/{named_id}")
    press(page, "Accept referral")
    press(page, "Transfer to another authority")
    check(page, shots, "transfer-form")
    page.get_by_label("Housing authority").select_option(label=receiving)
    page.get_by_label("Why is it being transferred?").fill("Local connection: family there.")
    press(page, "Transfer referral")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Confirm the person agreed to be referred to the new council.")
    expect(page).to_have_title(re.compile("^Error:"))
    check(page, shots, "transfer-form-errors")
    page.get_by_label("The person agreed to be referred to the new council").check()
    press(page, "Transfer referral")
    success_banner(page, f"{named} was transferred to {receiving}")
    with live_server.data():
        made = db.session.scalars(
            select(Referral).where(Referral.transferred_from_id == named_id)).one()
        made_reference = made.reference
    expect(page.locator("main")).to_contain_text(f"{receiving}, referral {made_reference}")
    check(page, shots, "transferred-at-the-first-council")
    sign_out(page)

    # The receiving officer: the new referral, and the earlier council's timeline below.
    sign_in(page, base, emails["other_officer"])
    follow(page, page.get_by_role("link", name=made_reference))
    earlier = page.locator("section[aria-labelledby=earlier-heading]")
    expect(earlier.get_by_role("heading")).to_have_text(f"Earlier timeline at {council}")
    expect(earlier).to_contain_text(f"under referral {named}")
    expect(earlier).to_contain_text("The named officer accepted the referral.")
    check(page, shots, "receiving-officer-referral")
    sign_out(page)

    # The referrer: both references, each a link to the other.
    sign_in(page, base, emails["referrer"])
    page.goto(f"{base}/referrer/referrals/{named_id}")
    expect(page.locator("main")).to_contain_text(
        f"Transferred to {receiving} (new reference {made_reference}).")
    check(page, shots, "referrer-transferred")
    follow(page, page.get_by_role("link", name=made_reference))
    expect(page.locator("h1")).to_have_text(f"Referral {made_reference}")
    expect(page.locator("main")).to_contain_text(f"by transfer from {council}")
    expect(page.get_by_role("link", name=named)).to_have_attribute(
        "href", f"/referrer/referrals/{named_id}")
    check(page, shots, "referrer-transferred-from")
