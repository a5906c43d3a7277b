"""The officers' and team leader's journey in Chromium (issue 5): the named officer sees the
referral first in "My referrals", accepts it, records a failed attempt and then contact, and
closes it with an outcome; a second officer claims from the team queue; a team leader
reassigns. axe-core checks every page on the way; screenshots are kept."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.steps import at, check, follow, press, sign_in, sign_out, success_banner
from tests.web_helpers import make_team

# The link may carry the count of referrals waiting (a tag with visually hidden words).
TEAM_QUEUE = re.compile(r"^Team queue( \d+ referrals? waiting)?$")


def test_officer_and_team_leader_journey(live_server, page, shots) -> None:  # type: ignore[no-untyped-def]
    with live_server.data():
        team = make_team()
        emails = team.emails()
        named, queued = team.named.reference, team.queued.reference
    base = live_server.url

    # The named officer: the referral is first in "My referrals".
    sign_in(page, base, emails["officer"])
    at(page, "/casework/my-referrals")
    expect(page.locator("tbody tr").first).to_contain_text(named)
    check(page, shots, "officer-my-referrals")

    follow(page, page.get_by_role("link", name=named))
    expect(page.get_by_role("heading", name="Safe contact and risk")).to_be_visible()
    expect(page.locator(".app-risk-panel")).to_contain_text("Do not leave messages with partner")
    check(page, shots, "officer-referral-new")

    press(page, "Accept referral")
    success_banner(page, "You accepted")
    check(page, shots, "officer-referral-accepted")

    # A failed attempt, after first sending the form empty (the error summary pattern).
    press(page, "Record contact attempt")
    press(page, "Record attempt")
    expect(page.locator(".govuk-error-summary")).to_contain_text("There is a problem")
    expect(page).to_have_title(re.compile("^Error:"))
    check(page, shots, "officer-attempt-errors")
    page.get_by_role("link", name="Select how you tried to contact them.").click()
    page.get_by_label("Phone call").check()
    page.get_by_label("No answer").check()
    page.get_by_label("Notes (optional)").fill("Rang at 10am, no answer, no voicemail left.")
    press(page, "Record attempt")
    success_banner(page, "The contact attempt was recorded")
    expect(page.locator(".app-timeline")).to_contain_text("Phone: no answer")
    check(page, shots, "officer-attempt-recorded")

    press(page, "Record contact made")
    check(page, shots, "officer-contact-form")
    page.get_by_label("Phone call").check()
    press(page, "Record contact")
    success_banner(page, "Contact with the person was recorded")

    press(page, "Close with outcome")
    check(page, shots, "officer-close-form")
    page.get_by_label("Prevention duty owed").check()
    press(page, "Close referral")
    success_banner(page, "was closed")
    expect(page.locator("main")).to_contain_text("Closed")
    expect(page.locator("main")).to_contain_text("Prevention duty owed")
    check(page, shots, "officer-referral-closed")
    follow(page, page.get_by_role("link", name="My referrals", exact=True))
    expect(page.locator("main")).not_to_contain_text(named)
    sign_out(page)

    # A second officer claims from the team queue.
    sign_in(page, base, emails["second_officer"])
    follow(page, page.get_by_role("link", name=TEAM_QUEUE))
    expect(page.locator("tbody")).to_contain_text(queued)
    check(page, shots, "second-officer-queue")
    follow(page, page.get_by_role("button", name=re.compile(f"Claim {queued}")))
    success_banner(page, "You claimed")
    check(page, shots, "second-officer-claimed")
    sign_out(page)

    # The team leader sees the caseloads and reassigns the claimed referral to the first officer.
    sign_in(page, base, emails["leader"])
    at(page, "/team")
    expect(page.locator("main")).to_contain_text("Caseload and capacity")
    check(page, shots, "leader-overview")
    follow(page, page.get_by_role("link", name=TEAM_QUEUE))
    expect(page.locator("main")).not_to_contain_text(queued)  # claimed: no longer queued
    page.goto(f"{base}/casework/referrals/{_id_of(live_server, queued)}")
    expect(page.locator("main")).to_contain_text("Sam Lee")
    press(page, "Reassign")
    page.get_by_label("Officer").select_option(label=_option(page, "Jo Smith"))
    page.get_by_label("Why is it being reassigned?").fill("Sam is at capacity this week")
    check(page, shots, "leader-reassign-form")
    press(page, "Reassign referral")
    success_banner(page, "was reassigned to Jo Smith")
    check(page, shots, "leader-reassigned")
    follow(page, page.get_by_role("link", name="Absences", exact=True))
    check(page, shots, "leader-absences")
    assert len(shots.taken) >= 14


def _id_of(live_server, reference: str) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from referral_service.extensions import db
    from referral_service.models import Referral

    with live_server.data():
        return str(db.session.scalar(select(Referral.id).where(Referral.reference == reference)))


def _option(page, name: str) -> str:  # type: ignore[no-untyped-def]
    """The full text of the officer option (it carries their caseload); the locator waits for
    the option to be on the page."""
    option = page.locator("#officer option").filter(has_text=re.compile("^" + re.escape(name)))
    return str(option.first.inner_text())
