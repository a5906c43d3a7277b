"""A referrer in a real browser: signs in, makes a referral (fixing two mistakes the API's own
rules catch), gets the reference and finds it in their list; the named officer accepts it,
records a failed attempt and contact made, closes it and replies, on the officer pages; the
referrer then sees the outcome, the timeline and the reply, sends a note, and withdraws another
referral. Every page passes axe-core and is kept as a screenshot."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from referral_service.extensions import db
from referral_service.models import Referral, ReferralStatus
from tests import factories
from tests.browser.axe import assert_accessible
from tests.browser.steps import at, follow, press


def test_a_referrer_makes_and_follows_a_referral(live_server, page, shots):  # type: ignore[no-untyped-def]
    with live_server.data():
        council = factories.authority(team_phone="01632 960100",
                                      team_email="housing@welhat.example")
        factories.authority(code="E07000242", name="East Herts")
        officer_email = factories.officer(council, name="Jo Smith",
                                          password=factories.PASSWORD).email
        probation = factories.organisation()
        referrer = factories.partner_user(probation, name="Sam Patel",
                                          password=factories.PASSWORD)
        email = referrer.email

    def seen(name: str) -> None:
        page.wait_for_load_state()
        shots(name)
        assert_accessible(page)

    def heading() -> str:
        return page.locator("h1").first.inner_text().strip()

    def go_on() -> None:
        press(page, "Continue")

    def sign_in_as(who: str) -> None:
        if "/sign-in" not in page.url:
            page.goto(live_server.url + "/sign-in")
        page.get_by_label("Email address").fill(who)
        page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
        press(page, "Sign in")

    # Signing in brings the referrer back to the page they asked for.
    page.goto(live_server.url + "/referrer/new")
    assert "/sign-in" in page.url
    sign_in_as(email)
    at(page, "/referrer/new")
    seen("start")
    press(page, "Start now")

    assert heading() == "Has the person agreed to this referral?"
    seen("consent")
    page.get_by_label("Yes").check()
    page.get_by_label("How did they agree? (optional)").fill("Agreed in supervision")
    go_on()

    assert heading() == "Which housing authority did the person choose?"
    seen("authority")
    page.get_by_label("Welwyn Hatfield").check()
    go_on()

    seen("name")
    page.get_by_label("First name").fill("Aoife")
    page.get_by_label("Last name").fill("O'Neill")
    go_on()

    seen("identity")
    page.get_by_label("Day").fill("1")
    page.get_by_label("Month").fill("4")
    page.get_by_label("Year").fill("1990")
    page.get_by_label("NHS number (optional)").fill("943 476 5919")
    go_on()

    # A mistake the API's schema refuses: shown in the error summary and beside the box.
    seen("contact")
    page.get_by_label("Phone number (optional)").fill("12345")
    go_on()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(page).to_have_title(re.compile("^Error:"))
    message = summary.locator("li").inner_text()
    assert "phone" in message.lower()
    expect(page.locator("#person-phone-error")).to_contain_text(message)
    # GOV.UK Frontend moves focus to the summary; its link goes to the box.
    expect(summary).to_be_focused()
    seen("contact-error")
    summary.get_by_role("link").click()
    expect(page.locator("#person-phone")).to_be_focused()
    page.get_by_label("Phone number (optional)").fill("07700 900123")
    go_on()

    seen("address")
    page.get_by_label("Address line 1").fill("Flat 2")
    page.get_by_label("Town or city (optional)").fill("Welwyn")
    page.get_by_label("Postcode (optional)").fill("al8 6ab")
    go_on()

    seen("contact-method")
    page.get_by_label("Text message").check()
    go_on()

    seen("safe-contact")
    page.get_by_label("Text message").check()
    page.get_by_label("Instructions for contacting them safely (optional)").fill(
        "Do not leave messages with partner")
    go_on()

    seen("language")
    go_on()

    seen("housing")
    page.get_by_label("Threatened with homelessness within 56 days").check()
    go_on()

    seen("rough-sleeping")
    page.get_by_label("No").check()
    go_on()

    seen("dates")
    go_on()

    # The other mistake: no reason given. The API's words, on the reason page.
    seen("reason")
    go_on()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the reason for the referral.")
    seen("reason-error")
    page.get_by_label("Why are you referring the person?").fill(
        "Section 21 notice expires 18 December; no savings for a deposit.")
    go_on()

    seen("support-needs")
    page.get_by_label("Mental health").check()
    go_on()

    seen("risk")
    go_on()

    seen("household")
    page.get_by_label("Relationship to the person").first.select_option("child")
    page.get_by_label("Age", exact=True).first.fill("4")
    go_on()

    # The referrer's own details come from their account.
    seen("your-details")
    assert page.get_by_label("Your name").input_value() == "Sam Patel"
    assert page.get_by_label("Email address").input_value() == email
    go_on()

    assert heading() == "Check your answers before sending the referral"
    seen("check-answers")
    expect(page.locator("main")).to_contain_text("07700 900123")
    press(page, "Send referral")

    panel = page.locator(".govuk-panel")
    expect(panel).to_contain_text("Referral sent")
    reference = panel.locator("strong").inner_text().strip()
    assert reference.startswith("DTR-")
    seen("sent")

    follow(page, page.get_by_role("link", name="Your referrals"))
    expect(page.locator(".govuk-table")).to_contain_text(reference)
    seen("referrals")

    # Later the named officer works the case through the officer pages, and closes it.
    press(page, "Sign out")
    sign_in_as(officer_email)
    at(page, "/casework/my-referrals")
    follow(page, page.get_by_role("link", name=reference))
    seen("officer-referral")
    press(page, "Accept referral")
    press(page, "Record contact attempt")
    page.get_by_label("Phone call").check()
    page.get_by_label("No answer").check()
    page.get_by_label("Notes (optional)").fill("Officer's own note: no answer at 10am")
    press(page, "Record attempt")
    press(page, "Record contact made")
    page.get_by_label("Phone call").check()
    press(page, "Record contact")
    press(page, "Close with outcome")
    page.get_by_label("Prevention duty owed").check()
    press(page, "Close referral")
    page.get_by_label("Reply to the referrer").fill("She has a prevention plan now.")
    press(page, "Send note")
    seen("officer-closed")
    press(page, "Sign out")

    # The referrer comes back and sees what happened.
    sign_in_as(email)
    follow(page, page.get_by_role("link", name="Your referrals"))
    expect(page.locator(".govuk-table")).to_contain_text("Closed")
    follow(page, page.get_by_role("link", name=reference))
    body = page.locator("main").inner_text()
    for shown in ("Prevention duty owed", "Received by Welwyn Hatfield.",
                  "Named officer: Jo Smith.", "The council tried to contact the person.",
                  "The council made contact with the person.",
                  "Closed. Outcome: prevention duty."):
        assert shown in body
    assert "Officer's own note" not in body
    assert "She has a prevention plan now." in body
    expect(page.get_by_role("button", name="Withdraw referral")).to_have_count(0)
    seen("referral-closed")

    # A note to the council: an empty one is refused, then one is sent.
    press(page, "Send note")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Write the note.")
    seen("note-error")
    page.get_by_label("Send the council a note").fill("Thank you, she has moved in.")
    press(page, "Send note")
    expect(page.locator("#notes ~ .govuk-inset-text").last).to_contain_text(
        "Thank you, she has moved in.")
    seen("note-sent")

    # Withdrawing another referral of theirs, behind a confirmation page.
    with live_server.data():
        assert db.session.scalars(select(Referral).where(
            Referral.reference == reference)).one().referring_organisation.name == (
            "Probation Service – Kent")
        other = factories.referral(db.session.get(type(probation), probation.id))
        other_id, other_reference = other.id, other.reference
    page.goto(live_server.url + f"/referrer/referrals/{other_id}")
    press(page, "Withdraw referral")
    assert heading() == f"Withdraw referral {other_reference}?"
    seen("withdraw")
    page.get_by_label("Why are you withdrawing it? (optional)").fill("Moved out of the area")
    press(page, "Withdraw referral")
    expect(page.locator(".govuk-summary-list").first).to_contain_text("Withdrawn")
    seen("withdrawn")
    with live_server.data():
        assert db.session.get(Referral, other_id).status is ReferralStatus.WITHDRAWN


def test_without_consent_nothing_is_kept(live_server, page, shots):  # type: ignore[no-untyped-def]
    with live_server.data():
        factories.authority(code="E07000243", name="Stevenage")
        hospital = factories.organisation(name="Lister Hospital A&E",
                                          type="hospital_emergency_department")
        referrer = factories.partner_user(hospital, password=factories.PASSWORD)
        email = referrer.email
    page.goto(live_server.url + "/sign-in?next=/referrer/new/consent")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    press(page, "Sign in")
    press(page, "Continue")
    expect(page.locator(".govuk-error-summary")).to_contain_text("consent")
    shots("consent-error")
    assert_accessible(page)
    page.get_by_label("No").check()
    press(page, "Continue")
    expect(page.locator("h1")).to_have_text("You need the person's consent to refer them")
    shots("no-consent")
    assert_accessible(page)
