"""The sharing journey in a real browser: an officer flags a case and shares it with the MARAC,
the MARAC lead sees the redacted case marked OFFICIAL-SENSITIVE and adds an action, the officer
sees the action and revokes the share, and the lead can no longer open the case (404).

Every page is checked with axe-core and kept as a screenshot.
"""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from referral_service import clock
from referral_service.extensions import db
from referral_service.models import AccessAction, CaseAccessRecord
from tests import factories as f
from tests import panel_factories as pf
from tests.browser.axe import assert_accessible
from tests.browser.steps import at, follow, press
from tests.browser.steps import sign_in as _sign_in
from tests.browser.steps import sign_out as _sign_out


def test_officer_shares_with_marac_lead_acts_officer_revokes(live_server, page, shots):  # type: ignore[no-untyped-def]
    with live_server.data():
        council = f.authority()
        officer = f.officer(council, name="Priya Shah", password=f.PASSWORD)
        marac = pf.panel("marac", name="Hertfordshire MARAC")
        lead = pf.panel_lead(marac, password=f.PASSWORD)
        case = f.referral(f.organisation(name="Hertfordshire Adult Care Services",
                                         type="adult_social_care"),
                          support_needs=["domestic_abuse", "mental_health"],
                          risk={"details": "Ex-partner knows the current address."})
        emails, case_id, reference = (officer.email, lead.email), case.id, case.reference
    base = live_server.url
    meeting = clock.today_in_london() + timedelta(days=7)

    # The officer flags the case for MARAC and shares it.
    _sign_in(page, base, emails[0], f.PASSWORD)
    page.goto(f"{base}/casework/referrals/{case_id}")
    follow(page, page.get_by_role("link", name="Sharing with MARAC and MAPPA"))
    expect(page.locator("main")).to_contain_text("Flag the case for MARAC or MAPPA")
    shots("officer-sharing-unflagged")
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Change panel flags"))
    page.get_by_label("This is a high-risk domestic abuse case for the MARAC").check()
    shots("officer-flags")
    assert_accessible(page)
    press(page, "Save flags")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Flags saved.")
    press(page, "Share with a panel")
    press(page, "Continue")  # nothing chosen: an error
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Choose the MARAC or MAPPA panel")
    assert_accessible(page)
    page.get_by_label("Hertfordshire MARAC").check()
    press(page, "Continue")
    page.get_by_label("Crime and Disorder Act 1998, section 115").check()
    press(page, "Share the case")  # no purpose or meeting yet
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Say why the panel needs this case")
    expect(summary).to_contain_text("next panel meeting")
    shots("officer-share-errors")
    assert_accessible(page)
    page.get_by_label("Purpose").fill("High-risk domestic abuse: housing options at MARAC.")
    group = page.get_by_role("group", name="Date of the next panel meeting")
    group.get_by_label("Day").fill(str(meeting.day))
    group.get_by_label("Month").fill(str(meeting.month))
    group.get_by_label("Year").fill(str(meeting.year))
    press(page, "Share the case")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"{reference} is shared with Hertfordshire MARAC")
    expect(page.locator("#shares")).to_contain_text("Live")
    shots("officer-shared")
    assert_accessible(page)
    _sign_out(page)

    # The MARAC lead lands on the panel's cases and opens the redacted case.
    _sign_in(page, base, emails[1], f.PASSWORD)
    at(page, "/panel/cases")
    shots("lead-cases")
    assert_accessible(page)
    follow(page, page.get_by_role("link", name=reference))
    expect(page.locator("#marking-top")).to_have_text(re.compile("^OFFICIAL-SENSITIVE"))
    expect(page.locator("#marking-bottom")).to_be_visible()
    text = page.locator("main").inner_text()
    assert "Do not leave messages with partner" in text  # the safe-contact instructions
    for hidden in ("AL8 6AB", "9434765919", "Mental health", "Section 21 notice expires"):
        assert hidden not in text, hidden
    shots("lead-case")
    assert_accessible(page)
    page.get_by_label("Add an action or note for the housing officer").fill(
        "IDVA to make contact by the safe number only.")
    press(page, "Add action")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Action added")
    expect(page.locator("#panel-actions")).to_contain_text("IDVA to make contact")
    shots("lead-action-added")
    assert_accessible(page)
    _sign_out(page)

    # The officer sees the action on the case's timeline, who looked, and revokes the share.
    _sign_in(page, base, emails[0], f.PASSWORD)
    page.goto(f"{base}/casework/referrals/{case_id}")
    timeline = page.locator(".app-timeline").inner_text()
    assert "Action from Hertfordshire MARAC" in timeline
    assert "IDVA to make contact by the safe number only." in timeline
    assert "Shared now with Hertfordshire MARAC" in page.locator("#sharing-summary").inner_text()
    shots("officer-referral-timeline")
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Sharing with MARAC and MAPPA"))
    expect(page.locator("#panel-actions")).to_contain_text(
        "IDVA to make contact by the safe number only.")
    expect(page.locator("#access-log")).to_contain_text("Opened the case")
    shots("officer-sees-action")
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Revoke the share with Hertfordshire MARAC"))
    page.get_by_label("Reason (optional)").fill("Discussed at MARAC; no further action.")
    shots("officer-revoke")
    assert_accessible(page)
    press(page, "Revoke the share")
    expect(page.locator("#shares")).to_contain_text("Revoked")
    _sign_out(page)

    # The lead can no longer see or open the case.
    _sign_in(page, base, emails[1], f.PASSWORD)
    expect(page.locator("main")).to_contain_text("No case is shared with your panel")
    response = page.goto(f"{base}/panel/cases/{case_id}")
    assert response is not None and response.status == 404
    expect(page.locator("main")).not_to_contain_text(reference)
    shots("lead-refused")
    assert_accessible(page)

    with live_server.app.app_context():
        actions = [(r.action, r.refusal) for r in db.session.scalars(
            select(CaseAccessRecord).where(CaseAccessRecord.referral_id == case_id)
            .order_by(CaseAccessRecord.occurred_at))]
        db.session.remove()
    assert actions[-1] == (AccessAction.REFUSED, "revoked")
    assert actions.count((AccessAction.VIEW, None)) == 2  # opened, then redrawn after the action
