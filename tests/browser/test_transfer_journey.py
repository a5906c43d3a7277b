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


def test_a_transfer_to_a_council_not_on_the_service(live_server, page, shots) -> None:  # type: ignore[no-untyped-def]
    """The officer sends it to Luton; Luton opens its emailed link without signing in and marks
    it received; the referrer and the officer see both moments."""
    from notifications import one_time_links
    from referral_service.models import OutboxMessage

    with live_server.data():
        team = make_team()
        emails = team.emails()
        named_id, named = team.named.id, team.named.reference
    base = live_server.url

    sign_in(page, base, emails["officer"])
    page.goto(f"{base}/casework/referrals/{named_id}")
    press(page, "Accept referral")
    press(page, "Transfer to another authority")
    page.get_by_label("Housing authority").select_option(label="A council not on this service")
    page.get_by_label("Council name").fill("Luton Borough Council")
    page.get_by_label("Local authority code (optional)").fill("E06000032")
    page.get_by_label("Secure email address of its housing options team").fill(
        "housing.options@luton.gov.uk")
    page.get_by_label("Why is it being transferred?").fill("Moved in with her sister in Luton.")
    page.get_by_label("The person agreed to be referred to the new council").check()
    press(page, "Transfer referral")
    success_banner(page, f"{named} was transferred to Luton Borough Council")
    expect(page.locator("main")).to_contain_text("Not opened yet")
    check(page, shots, "external-transfer-sent")
    sign_out(page)

    with live_server.data():
        message = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.event == "transfer_link")).one()
        sent = one_time_links.for_sending(message.template, message.body)
    found = re.search(r"(/transfer-link/[A-Za-z0-9_-]+)", sent)
    assert found
    link = base + found.group(1)

    # Luton, not signed in: the referral, and a form to mark it received.
    page.goto(link)
    expect(page.locator("h1")).to_have_text(f"Referral {named}")
    expect(page.locator("meta[name=robots]")).to_have_attribute(
        "content", re.compile("noindex"))
    check(page, shots, "external-transfer-link-page")
    press(page, "Mark as received")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your name.")
    check(page, shots, "external-transfer-link-errors")
    page.get_by_label("Your name").fill("Ravi Shah")
    press(page, "Mark as received")
    expect(page.locator(".govuk-panel")).to_contain_text("Referral received")
    check(page, shots, "external-transfer-received")
    page.goto(link)
    expect(page.locator("h1")).to_have_text("This link does not work")
    check(page, shots, "external-transfer-link-used")

    sign_in(page, base, emails["referrer"])
    page.goto(f"{base}/referrer/referrals/{named_id}")
    expect(page.locator("main")).to_contain_text("Luton Borough Council opened the secure link.")
    expect(page.locator("main")).to_contain_text(
        "Luton Borough Council marked the referral received (Ravi Shah).")
    check(page, shots, "referrer-external-transfer")
    sign_out(page)

    sign_in(page, base, emails["officer"])
    page.goto(f"{base}/casework/referrals/{named_id}")
    expect(page.locator("main")).to_contain_text("Marked received")
    check(page, shots, "officer-external-transfer-received")
