"""A referrer in a real browser: signs in, makes a referral (fixing two mistakes the API's own
rules catch), gets the reference and finds it in their list; the named officer accepts it,
records a failed attempt and contact made, closes it and replies, on the officer pages; the
referrer then sees the outcome, the timeline and the reply, sends a note, and withdraws another
referral. Every page passes axe-core and is kept as a screenshot."""
from __future__ import annotations

from sqlalchemy import select

from referral_service.extensions import db
from referral_service.models import Referral, ReferralStatus
from tests import factories
from tests.browser.axe import assert_accessible


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
        shots(name)
        assert_accessible(page)

    def heading() -> str:
        return page.locator("h1").first.inner_text().strip()

    def go_on() -> None:
        page.get_by_role("button", name="Continue").click()

    def sign_in_as(who: str) -> None:
        if "/sign-in" not in page.url:
            page.goto(live_server.url + "/sign-in")
        page.get_by_label("Email address").fill(who)
        page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
        page.get_by_role("button", name="Sign in").click()

    # Signing in brings the referrer back to the page they asked for.
    page.goto(live_server.url + "/referrer/new")
    assert "/sign-in" in page.url
    sign_in_as(email)
    assert page.url.endswith("/referrer/new")
    seen("start")
    page.get_by_role("button", name="Start now").click()

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
    assert summary.is_visible()
    assert page.title().startswith("Error:")
    message = summary.locator("li").inner_text()
    assert "phone" in message.lower()
    assert message in page.locator("#person-phone-error").inner_text()
    # GOV.UK Frontend moves focus to the summary; its link goes to the box.
    assert page.evaluate("() => document.activeElement.classList.contains('govuk-error-summary')")
    seen("contact-error")
    summary.get_by_role("link").click()
    assert page.evaluate("() => document.activeElement.id") == "person-phone"
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
    assert "Enter the reason for the referral." in page.locator(
        ".govuk-error-summary").inner_text()
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
    assert "07700 900123" in page.locator("main").inner_text()
    page.get_by_role("button", name="Send referral").click()

    panel = page.locator(".govuk-panel")
    assert "Referral sent" in panel.inner_text()
    reference = panel.locator("strong").inner_text().strip()
    assert reference.startswith("DTR-")
    seen("sent")

    page.get_by_role("link", name="Your referrals").click()
    assert reference in page.locator(".govuk-table").inner_text()
    seen("referrals")

    # Later the named officer works the case through the officer pages, and closes it.
    page.get_by_role("button", name="Sign out").click()
    sign_in_as(officer_email)
    assert page.url.endswith("/casework/my-referrals")
    page.get_by_role("link", name=reference).click()
    seen("officer-referral")
    page.get_by_role("button", name="Accept referral").click()
    page.get_by_role("button", name="Record contact attempt").click()
    page.get_by_label("Phone call").check()
    page.get_by_label("No answer").check()
    page.get_by_label("Notes (optional)").fill("Officer's own note: no answer at 10am")
    page.get_by_role("button", name="Record attempt").click()
    page.get_by_role("button", name="Record contact made").click()
    page.get_by_label("Phone call").check()
    page.get_by_role("button", name="Record contact").click()
    page.get_by_role("button", name="Close with outcome").click()
    page.get_by_label("Prevention duty owed").check()
    page.get_by_role("button", name="Close referral").click()
    page.get_by_label("Reply to the referrer").fill("She has a prevention plan now.")
    page.get_by_role("button", name="Send note").click()
    seen("officer-closed")
    page.get_by_role("button", name="Sign out").click()

    # The referrer comes back and sees what happened.
    sign_in_as(email)
    page.get_by_role("link", name="Your referrals").click()
    assert "Closed" in page.locator(".govuk-table").inner_text()
    page.get_by_role("link", name=reference).click()
    body = page.locator("main").inner_text()
    for shown in ("Prevention duty owed", "Received by Welwyn Hatfield.",
                  "Named officer: Jo Smith.", "The council tried to contact the person.",
                  "The council made contact with the person.",
                  "Closed. Outcome: prevention duty."):
        assert shown in body
    assert "Officer's own note" not in body
    assert "She has a prevention plan now." in body
    assert page.get_by_role("button", name="Withdraw referral").count() == 0
    seen("referral-closed")

    # A note to the council: an empty one is refused, then one is sent.
    page.get_by_role("button", name="Send note").click()
    assert "Write the note." in page.locator(".govuk-error-summary").inner_text()
    seen("note-error")
    page.get_by_label("Send the council a note").fill("Thank you, she has moved in.")
    page.get_by_role("button", name="Send note").click()
    notes = page.locator("#notes ~ .govuk-inset-text").last.inner_text()
    assert "Thank you, she has moved in." in notes
    seen("note-sent")

    # Withdrawing another referral of theirs, behind a confirmation page.
    with live_server.data():
        assert db.session.scalars(select(Referral).where(
            Referral.reference == reference)).one().referring_organisation.name == (
            "Probation Service – Kent")
        other = factories.referral(db.session.get(type(probation), probation.id))
        other_id, other_reference = other.id, other.reference
    page.goto(live_server.url + f"/referrer/referrals/{other_id}")
    page.get_by_role("button", name="Withdraw referral").click()
    assert heading() == f"Withdraw referral {other_reference}?"
    seen("withdraw")
    page.get_by_label("Why are you withdrawing it? (optional)").fill("Moved out of the area")
    page.get_by_role("button", name="Withdraw referral").click()
    assert "Withdrawn" in page.locator(".govuk-summary-list").inner_text()
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
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Continue").click()
    assert "consent" in page.locator(".govuk-error-summary").inner_text()
    shots("consent-error")
    assert_accessible(page)
    page.get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()
    assert page.locator("h1").inner_text() == "You need the person's consent to refer them"
    shots("no-consent")
    assert_accessible(page)
