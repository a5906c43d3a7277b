"""The sharing journey in a real browser: an officer flags a case and shares it with the MARAC,
the MARAC lead sees the redacted case marked OFFICIAL-SENSITIVE and adds an action, the officer
sees the action and revokes the share, and the lead can no longer open the case (404).

Every page is checked with axe-core and kept as a screenshot.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from referral_service.domain import clock
from referral_service.extensions import db
from referral_service.models import AccessAction, CaseAccessRecord
from tests import factories as f
from tests import panel_factories as pf
from tests.browser.axe import assert_accessible


def _sign_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _sign_out(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Sign out").click()
    assert page.locator("h1").inner_text() == "You have signed out"


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
    _sign_in(page, base, emails[0])
    page.goto(f"{base}/casework/referrals/{case_id}")
    page.get_by_role("link", name="Sharing with MARAC and MAPPA").click()
    assert "Flag the case for MARAC or MAPPA" in page.locator("main").inner_text()
    shots("officer-sharing-unflagged")
    assert_accessible(page)
    page.get_by_role("link", name="Change panel flags").click()
    page.get_by_label("This is a high-risk domestic abuse case for the MARAC").check()
    shots("officer-flags")
    assert_accessible(page)
    page.get_by_role("button", name="Save flags").click()
    assert "Flags saved." in page.locator(".govuk-notification-banner").inner_text()
    page.get_by_role("button", name="Share with a panel").click()
    page.get_by_role("button", name="Continue").click()  # nothing chosen: an error
    assert "Choose the MARAC or MAPPA panel" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)
    page.get_by_label("Hertfordshire MARAC").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Crime and Disorder Act 1998, section 115").check()
    page.get_by_role("button", name="Share the case").click()  # no purpose or meeting yet
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Say why the panel needs this case" in summary and "next panel meeting" in summary
    shots("officer-share-errors")
    assert_accessible(page)
    page.get_by_label("Purpose").fill("High-risk domestic abuse: housing options at MARAC.")
    group = page.get_by_role("group", name="Date of the next panel meeting")
    group.get_by_label("Day").fill(str(meeting.day))
    group.get_by_label("Month").fill(str(meeting.month))
    group.get_by_label("Year").fill(str(meeting.year))
    page.get_by_role("button", name="Share the case").click()
    assert f"{reference} is shared with Hertfordshire MARAC" in page.locator(
        ".govuk-notification-banner").inner_text()
    assert "Live" in page.locator("#shares").inner_text()
    shots("officer-shared")
    assert_accessible(page)
    _sign_out(page)

    # The MARAC lead lands on the panel's cases and opens the redacted case.
    _sign_in(page, base, emails[1])
    assert page.url.endswith("/panel/cases")
    shots("lead-cases")
    assert_accessible(page)
    page.get_by_role("link", name=reference).click()
    assert page.locator("#marking-top").inner_text().startswith("OFFICIAL-SENSITIVE")
    assert page.locator("#marking-bottom").is_visible()
    text = page.locator("main").inner_text()
    assert "Do not leave messages with partner" in text  # the safe-contact instructions
    for hidden in ("AL8 6AB", "9434765919", "Mental health", "Section 21 notice expires"):
        assert hidden not in text, hidden
    shots("lead-case")
    assert_accessible(page)
    page.get_by_label("Add an action or note for the housing officer").fill(
        "IDVA to make contact by the safe number only.")
    page.get_by_role("button", name="Add action").click()
    assert "Action added" in page.locator(".govuk-notification-banner").inner_text()
    assert "IDVA to make contact" in page.locator("#panel-actions").inner_text()
    shots("lead-action-added")
    assert_accessible(page)
    _sign_out(page)

    # The officer sees the action on the case's timeline, who looked, and revokes the share.
    _sign_in(page, base, emails[0])
    page.goto(f"{base}/casework/referrals/{case_id}")
    timeline = page.locator(".app-timeline").inner_text()
    assert "Action from Hertfordshire MARAC" in timeline
    assert "IDVA to make contact by the safe number only." in timeline
    assert "Shared now with Hertfordshire MARAC" in page.locator("#sharing-summary").inner_text()
    shots("officer-referral-timeline")
    assert_accessible(page)
    page.get_by_role("link", name="Sharing with MARAC and MAPPA").click()
    assert "IDVA to make contact by the safe number only." in page.locator(
        "#panel-actions").inner_text()
    assert "Opened the case" in page.locator("#access-log").inner_text()
    shots("officer-sees-action")
    assert_accessible(page)
    page.get_by_role("link", name="Revoke the share with Hertfordshire MARAC").click()
    page.get_by_label("Reason (optional)").fill("Discussed at MARAC; no further action.")
    shots("officer-revoke")
    assert_accessible(page)
    page.get_by_role("button", name="Revoke the share").click()
    assert "Revoked" in page.locator("#shares").inner_text()
    _sign_out(page)

    # The lead can no longer see or open the case.
    _sign_in(page, base, emails[1])
    assert "No case is shared with your panel" in page.locator("main").inner_text()
    response = page.goto(f"{base}/panel/cases/{case_id}")
    assert response is not None and response.status == 404
    assert reference not in page.locator("main").inner_text()
    shots("lead-refused")
    assert_accessible(page)

    with live_server.app.app_context():
        actions = [(r.action, r.refusal) for r in db.session.scalars(
            select(CaseAccessRecord).where(CaseAccessRecord.referral_id == case_id)
            .order_by(CaseAccessRecord.occurred_at))]
        db.session.remove()
    assert actions[-1] == (AccessAction.REFUSED, "revoked")
    assert actions.count((AccessAction.VIEW, None)) == 2  # opened, then redrawn after the action
