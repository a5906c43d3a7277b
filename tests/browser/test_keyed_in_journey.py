"""A duty officer in a real browser keys in a referral that came in by phone (issue 15.4): how
it arrived and who made it (a prison not on the service), a mistake on that page shown in the
error summary, then the referrer's own question pages, check your answers and save; the
referral page shows the source and the timeline says who keyed it in. Every page passes
axe-core and is kept as a screenshot."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from referral_service.extensions import db
from referral_service.models import Referral, ReferralSource
from tests import factories
from tests.browser.steps import check, follow, press, sign_in, success_banner


def test_an_officer_keys_in_a_phone_referral(live_server, page, shots):  # type: ignore[no-untyped-def]
    with live_server.data():
        council = factories.authority(team_phone="01632 960100",
                                      team_email="housing@welhat.example")
        factories.organisation()
        officer = factories.officer(council, name="Jo Smith", password=factories.PASSWORD)
        email, council_id = officer.email, council.id

    def seen(name: str) -> None:
        check(page, shots, name)

    def heading() -> str:
        return page.locator("h1").first.inner_text().strip()

    def go_on() -> None:
        press(page, "Continue")

    sign_in(page, live_server.url, email)
    follow(page, page.get_by_role("link", name="Key in a referral").first)
    assert heading() == "Key in a referral that arrived by email or phone"
    seen("start")
    press(page, "Start now")

    # Nothing chosen: both mistakes in the error summary, nothing kept.
    assert heading() == "How did the referral arrive?"
    seen("source")
    go_on()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(page).to_have_title(re.compile("^Error:"))
    expect(summary).to_contain_text("Choose how the referral arrived.")
    expect(summary).to_contain_text("Choose the public body that made the referral")
    seen("source-error")
    page.get_by_label("Phone call").check()
    page.get_by_label("Name of a public body not on the service (optional)").fill("HMP Nowhere")
    page.get_by_label("What kind of public body is it?").select_option("prison")
    go_on()

    assert heading() == "Has the person agreed to this referral?"
    seen("consent")
    page.get_by_label("Yes").check()
    page.get_by_label("How did they agree? (optional)").fill("Agreed on the phone call")
    go_on()

    seen("name")
    page.get_by_label("First name").fill("Callum")
    page.get_by_label("Last name").fill("Reid")
    go_on()
    seen("identity")
    go_on()
    seen("contact")
    page.get_by_label("Phone number (optional)").fill("07700 900216")
    go_on()
    seen("address")
    page.get_by_label("They have no fixed abode").check()
    go_on()
    seen("contact-method")
    page.get_by_label("Text message").check()
    go_on()
    seen("safe-contact")
    page.get_by_label("Text message").check()
    go_on()
    seen("language")
    go_on()
    seen("housing")
    page.get_by_label("Homeless now").check()
    go_on()
    seen("rough-sleeping")
    page.get_by_label("No").check()
    go_on()
    seen("dates")
    go_on()
    seen("reason")
    page.get_by_label("Why are you referring the person?").fill(
        "Released today with no address; phoned in by the resettlement team.")
    go_on()
    seen("support-needs")
    go_on()
    seen("risk")
    go_on()
    seen("household")
    go_on()

    # The referrer gave no email on the phone: allowed, and nobody is acknowledged.
    assert heading() == "The referrer's details"
    seen("referrer")
    page.get_by_label("Their name").fill("Pat Green")
    page.get_by_label("Phone number (optional)").fill("01632 960 002")
    go_on()

    assert heading() == "Check your answers before sending the referral"
    main = page.locator("main")
    expect(main).to_contain_text("Phone call")
    expect(main).to_contain_text("HMP Nowhere")
    seen("check-answers")
    press(page, "Save referral")

    success_banner(page, "keyed in")
    expect(main).to_contain_text("Phone call, keyed in by Jo Smith")
    expect(main).to_contain_text("by phone from HMP Nowhere; keyed in by Jo Smith")
    expect(main).to_contain_text("No email address was given for the referrer")
    seen("referral")

    with live_server.data():
        referral = db.session.scalars(select(Referral)).one()
        assert referral.source is ReferralSource.PHONE
        assert referral.referrer_email is None
        assert referral.authority_id == council_id
