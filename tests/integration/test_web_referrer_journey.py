"""Making a referral on the web form: consent first, one question per page, the API's own
schema and messages, check your answers, and the referral made as the API would make it."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from referral_service.extensions import db
from referral_service.models import AuditEvent, Referral, ReferralDraft
from tests.integration.web_referrer_support import (  # noqa: F401  (fixtures)
    GOOD_ANSWERS,
    World,
    answer,
    answer_all,
    error_messages,
    post,
    sign_in,
    summary_links,
    world_fixture,
)


def referrals_stored() -> int:
    return db.session.scalar(select(func.count(Referral.id))) or 0


def test_a_referrer_makes_a_referral_page_by_page(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    assert client.get("/referrer/new").status_code == 200
    answer_all(client)
    check = client.get("/referrer/new/check")
    assert check.status_code == 200, error_messages(check)
    page = check.get_data(as_text=True)
    for shown in ("Aoife", "O&#39;Neill", "Welwyn Hatfield", "1 April 1990", "Text message",
                  "Child, aged 4", "Mental health", "18 December 2026"):
        assert shown in page

    sent = post(client, "/referrer/new/check")
    assert sent.status_code == 302
    referral = db.session.scalars(select(Referral)).one()
    assert sent.headers["Location"].endswith(f"/referrer/referrals/{referral.id}/sent")
    assert referral.referring_organisation_id == world.organisation.id
    assert referral.submitted_by_user_id == world.referrer.id
    assert referral.person_phone == "+447700900123"
    assert referral.address_postcode == "AL8 6AB"
    assert referral.person_nhs_number == "9434765919"
    assert referral.safe_sms and referral.safe_email and not referral.safe_letter
    assert referral.household == [{"relationship": "child", "age": 4}]
    assert referral.consent_given and referral.consent_recorded_at is not None
    assert referral.named_officer_id == world.officer.id
    received = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "referral.received")).one()
    assert received.actor_user_id == world.referrer.id
    assert db.session.scalar(select(func.count(ReferralDraft.id))) == 0

    confirmation = client.get(sent.headers["Location"])
    assert referral.reference in confirmation.get_data(as_text=True)
    assert "govuk-panel" in confirmation.get_data(as_text=True)


def test_no_consent_stops_the_referral_and_keeps_nothing(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    response = answer(client, "consent", {"consent-given": "no", "consent-notes": "Refused"})
    assert response.headers["Location"].endswith("/referrer/new/no-consent")
    assert "Section 213B" in client.get("/referrer/new/no-consent").get_data(as_text=True)
    assert db.session.scalar(select(func.count(ReferralDraft.id))) == 0
    # and a question page cannot be reached without it
    assert client.get("/referrer/new/name").headers["Location"].endswith("/new/consent")


def test_consent_unanswered_is_the_apis_consent_message(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    response = answer(client, "consent", {"consent-given": ""})
    assert response.status_code == 400
    assert error_messages(response) == [
        "Referral needs the person's consent (Housing Act 1996 s.213B). Ask them first."]
    assert summary_links(response) == ["#consent-given"]
    assert db.session.scalar(select(func.count(ReferralDraft.id))) == 0


def test_a_bad_phone_number_is_shown_on_its_page_then_fixed(client, world: World) -> None:  # type: ignore[no-untyped-def]
    from marshmallow import ValidationError

    from referral_service.schemas.errors import flatten_errors
    from referral_service.schemas.referral import ReferralSubmissionSchema
    from tests import factories as f

    try:
        ReferralSubmissionSchema().load(f.payload(person={"phone": "12345"}))
    except ValidationError as error:
        api_words = flatten_errors(error.messages)["person.phone"]
    sign_in(client, world.referrer)
    answer_all(client)
    wrong = answer(client, "contact", {"person-phone": "12345", "person-email": ""})
    assert wrong.status_code == 400
    assert error_messages(wrong) == api_words
    assert summary_links(wrong) == ["#person-phone"]
    html = wrong.get_data(as_text=True)
    assert 'id="person-phone-error"' in html and 'value="12345"' in html
    fixed = answer(client, "contact", {"person-phone": "07700 900123", "person-email": ""})
    assert fixed.status_code == 302


def test_a_missing_reason_is_the_apis_message(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    answer_all(client)
    response = answer(client, "reason", {"reason": "  "})
    assert response.status_code == 400
    assert error_messages(response) == ["Enter the reason for the referral."]


def test_a_rule_across_pages_is_shown_where_it_can_be_fixed(client, world: World) -> None:  # type: ignore[no-untyped-def]
    """Texts as the preferred way need texts marked safe: the safe-contact page says so."""
    sign_in(client, world.referrer)
    answer_all(client)
    response = answer(client, "safe-contact", {"person-safe-contact": ["email"]})
    assert response.status_code == 400
    assert error_messages(response) == [
        "Text messages must be marked safe for this person before they can be the preferred "
        "way to contact them."]
    assert summary_links(response) == ["#person-safe-contact"]


def test_no_way_to_reach_the_person_is_shown_on_the_contact_page(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    answer_all(client, **{"contact-method": {"person-preferred-contact-method": "phone"}})
    answer(client, "address", {"person-address-line1": ""})
    response = answer(client, "contact", {"person-phone": "", "person-email": ""})
    assert response.status_code == 400
    # One message per box (the GOV.UK pattern): the whole-person rule, which says what to do.
    assert error_messages(response) == [
        "Give at least one way to reach the person: phone, email, address, or contact via the "
        "referrer."]
    assert summary_links(response) == ["#person-phone"]


def test_a_date_that_is_not_real_is_refused_in_form_words(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    answer_all(client)
    response = answer(client, "identity", {"person-date-of-birth-day": "31",
                                           "person-date-of-birth-month": "2",
                                           "person-date-of-birth-year": "1990"})
    assert response.status_code == 400
    assert error_messages(response) == ["Enter a real date, for example 27 3 1990."]
    assert summary_links(response) == ["#person-date-of-birth-day"]
    too_big = answer(client, "identity", {"person-date-of-birth-day": "9" * 20,
                                          "person-date-of-birth-month": "2",
                                          "person-date-of-birth-year": "1990"})
    assert too_big.status_code == 400
    assert error_messages(too_big) == ["Enter a real date, for example 27 3 1990."]
    future = answer(client, "identity", {"person-date-of-birth-day": "1",
                                         "person-date-of-birth-month": "1",
                                         "person-date-of-birth-year": "2999"})
    assert error_messages(future) == ["Date of birth must be in the past."]


def test_a_household_row_error_points_at_its_box(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    answer_all(client)
    response = answer(client, "household", {"household-0-relationship": "child",
                                            "household-0-age": "4",
                                            "household-1-relationship": "partner",
                                            "household-1-age": "four"})
    assert response.status_code == 400
    assert error_messages(response) == ["Enter a whole number."]
    assert summary_links(response) == ["#household-1-age"]


def test_an_authority_that_does_not_take_referrals_is_refused(client, world: World) -> None:  # type: ignore[no-untyped-def]
    from tests import factories as f

    f.authority(code="E07000099", name="Elsewhere", participating=False)
    db.session.commit()
    sign_in(client, world.referrer)
    answer(client, "consent")
    page = client.get("/referrer/new/authority").get_data(as_text=True)
    assert "Welwyn Hatfield" in page and "East Herts" in page and "Elsewhere" not in page
    response = answer(client, "authority", {"authority-code": "E07000099"})
    assert response.status_code == 400
    assert error_messages(response) == [
        "That housing authority no longer takes referrals here: choose another."]


def test_check_your_answers_links_each_problem_to_its_page(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    answer_all(client)
    # The referrer empties their own name (prefilled from their account) and goes on.
    referrer_page = dict(GOOD_ANSWERS["referrer"], **{"referrer-name": ""})
    assert answer(client, "referrer", referrer_page).status_code == 400
    check = client.get("/referrer/new/check")
    assert error_messages(check) == ["Enter the referrer's name."]
    assert summary_links(check) == ["/referrer/new/referrer?change=1#referrer-name"]
    assert post(client, "/referrer/new/check").status_code == 400
    assert referrals_stored() == 0
    # The change link shows the problem on its page; fixing it returns to check your answers.
    change = client.get("/referrer/new/referrer?change=1")
    assert error_messages(change) == ["Enter the referrer's name."]
    fixed = answer(client, "referrer", GOOD_ANSWERS["referrer"], change="1")
    assert fixed.headers["Location"].endswith("/referrer/new/check")
    assert post(client, "/referrer/new/check").status_code == 302
    assert referrals_stored() == 1


def test_check_your_answers_sends_you_to_the_first_unanswered_page(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    answer(client, "consent")
    answer(client, "authority")
    assert client.get("/referrer/new/check").headers["Location"].endswith("/referrer/new/name")


def test_the_referrers_own_details_are_filled_in_from_their_account(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    answer(client, "consent")
    page = client.get("/referrer/new/referrer").get_data(as_text=True)
    assert f'value="{world.referrer.name}"' in page
    assert f'value="{world.referrer.email}"' in page
    assert 'autocomplete="email"' in page and 'autocomplete="name"' in page


def test_a_second_click_on_send_makes_no_second_referral(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    answer_all(client)
    assert post(client, "/referrer/new/check").status_code == 302
    again = post(client, "/referrer/new/check")
    assert again.headers["Location"].endswith("/referrer/new")
    assert referrals_stored() == 1


def test_answers_survive_signing_in_again(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    answer(client, "consent")
    answer(client, "authority")
    answer(client, "name")
    later = app.test_client()  # a new browser session: the old one timed out
    sign_in(later, world.referrer)
    assert "Continue your referral" in later.get("/referrer/new").get_data(as_text=True)
    assert 'value="Aoife"' in later.get("/referrer/new/name").get_data(as_text=True)


def test_a_draft_is_the_referrers_own(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    answer(client, "consent")
    answer(client, "name")
    sign_in(client, world.other_referrer)
    assert client.get("/referrer/new/name").headers["Location"].endswith("/new/consent")


def test_starting_again_deletes_the_draft(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    answer(client, "consent")
    assert post(client, "/referrer/new/discard").status_code == 302
    assert db.session.scalar(select(func.count(ReferralDraft.id))) == 0


def test_no_personal_data_in_urls_or_logs(client, world: World, caplog: Any) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    locations = []
    for slug, answers in GOOD_ANSWERS.items():
        locations.append(answer(client, slug, answers).headers["Location"])
    locations.append(post(client, "/referrer/new/check").headers["Location"])
    for text in locations + [record.getMessage() for record in caplog.records]:
        assert "Aoife" not in text and "07700" not in text and "AL8" not in text


def test_an_unknown_question_page_is_404(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.referrer)
    answer(client, "consent")
    assert client.get("/referrer/new/favourite-colour").status_code == 404


def test_the_form_makes_the_referral_the_api_would_make_from_the_same_answers(client, world: World) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    """The API.md example, typed into the pages, is stored exactly as the API stores it."""
    from referral_service.domain import intake
    from referral_service.schemas.referral import ReferralSubmissionSchema
    from tests import factories as f

    sign_in(client, world.referrer)
    answer_all(client)
    assert post(client, "/referrer/new/check").status_code == 302
    made = db.session.scalars(select(Referral)).one()
    stored = intake.submission_of(made)
    # The pages do not ask for consent's scopes: the defaults the API would record apply.
    api = ReferralSubmissionSchema().load(f.payload(consent={
        "notes": "Agreed in supervision", "recorded_at": made.consent_recorded_at.isoformat(),
        "scopes": {"texts": True, "email": True, "panels": []}}))
    assert stored["consent"].pop("withdrawals") == []  # what the record adds: none yet
    assert stored == api
