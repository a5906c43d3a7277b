"""The officers' and team leader's journey in Chromium (issue 5): the named officer sees the
referral first in "My referrals", accepts it, records a failed attempt and then contact, and
closes it with an outcome; a second officer claims from the team queue; a team leader
reassigns. axe-core checks every page on the way; screenshots are kept."""
from __future__ import annotations

import re

from tests.browser.steps import check, sign_in, sign_out, success_banner
from tests.web_helpers import make_team


def test_officer_and_team_leader_journey(live_server, page, shots) -> None:  # type: ignore[no-untyped-def]
    with live_server.data():
        team = make_team()
        emails = team.emails()
        named, queued = team.named.reference, team.queued.reference
    base = live_server.url

    # The named officer: the referral is first in "My referrals".
    sign_in(page, base, emails["officer"])
    assert page.url.endswith("/casework/my-referrals")
    first_row = page.locator("tbody tr").first
    assert named in first_row.inner_text()
    check(page, shots, "officer-my-referrals")

    page.get_by_role("link", name=named).click()
    assert page.get_by_role("heading", name="Safe contact and risk").is_visible()
    assert "Do not leave messages with partner" in page.locator(".app-risk-panel").inner_text()
    check(page, shots, "officer-referral-new")

    page.get_by_role("button", name="Accept referral").click()
    assert "You accepted" in success_banner(page)
    check(page, shots, "officer-referral-accepted")

    # A failed attempt, after first sending the form empty (the error summary pattern).
    page.get_by_role("button", name="Record contact attempt").click()
    page.get_by_role("button", name="Record attempt").click()
    assert "There is a problem" in page.locator(".govuk-error-summary").inner_text()
    assert page.title().startswith("Error:")
    check(page, shots, "officer-attempt-errors")
    page.get_by_role("link", name="Select how you tried to contact them.").click()
    page.get_by_label("Phone call").check()
    page.get_by_label("No answer").check()
    page.get_by_label("Notes (optional)").fill("Rang at 10am, no answer, no voicemail left.")
    page.get_by_role("button", name="Record attempt").click()
    assert "The contact attempt was recorded" in success_banner(page)
    assert "Phone: no answer" in page.locator(".app-timeline").inner_text()
    check(page, shots, "officer-attempt-recorded")

    page.get_by_role("button", name="Record contact made").click()
    check(page, shots, "officer-contact-form")
    page.get_by_label("Phone call").check()
    page.get_by_role("button", name="Record contact").click()
    assert "Contact with the person was recorded" in success_banner(page)

    page.get_by_role("button", name="Close with outcome").click()
    check(page, shots, "officer-close-form")
    page.get_by_label("Prevention duty owed").check()
    page.get_by_role("button", name="Close referral").click()
    assert "was closed" in success_banner(page)
    assert "Closed" in page.locator("main").inner_text()
    assert "Prevention duty owed" in page.locator("main").inner_text()
    check(page, shots, "officer-referral-closed")
    page.get_by_role("link", name="My referrals", exact=True).click()
    assert named not in page.locator("main").inner_text()
    sign_out(page)

    # A second officer claims from the team queue.
    sign_in(page, base, emails["second_officer"])
    page.get_by_role("link", name="Team queue", exact=True).click()
    assert queued in page.locator("tbody").inner_text()
    check(page, shots, "second-officer-queue")
    page.get_by_role("button", name=re.compile(f"Claim {queued}")).click()
    assert "You claimed" in success_banner(page)
    check(page, shots, "second-officer-claimed")
    sign_out(page)

    # The team leader sees the caseloads and reassigns the claimed referral to the first officer.
    sign_in(page, base, emails["leader"])
    assert page.url.endswith("/team")
    assert "Caseload and capacity" in page.locator("main").inner_text()
    check(page, shots, "leader-overview")
    page.get_by_role("link", name="Team queue", exact=True).click()
    assert queued not in page.locator("main").inner_text()  # claimed: no longer queued
    page.goto(f"{base}/casework/referrals/{_id_of(live_server, queued)}")
    assert "Sam Lee" in page.locator("main").inner_text()
    page.get_by_role("button", name="Reassign").click()
    page.get_by_label("Officer").select_option(label=_option(page, "Jo Smith"))
    page.get_by_label("Why is it being reassigned?").fill("Sam is at capacity this week")
    check(page, shots, "leader-reassign-form")
    page.get_by_role("button", name="Reassign referral").click()
    assert "was reassigned to Jo Smith" in success_banner(page)
    check(page, shots, "leader-reassigned")
    page.get_by_role("link", name="Absences", exact=True).click()
    check(page, shots, "leader-absences")
    assert len(shots.taken) >= 14


def _id_of(live_server, reference: str) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from referral_service.extensions import db
    from referral_service.models import Referral

    with live_server.data():
        return str(db.session.scalar(select(Referral.id).where(Referral.reference == reference)))


def _option(page, name: str) -> str:  # type: ignore[no-untyped-def]
    """The full text of the officer option (it carries their caseload)."""
    labels = page.locator("#officer option").all_inner_texts()
    return next(label for label in labels if label.startswith(name))
