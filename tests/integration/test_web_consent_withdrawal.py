"""Withdrawing consent on the referrer's referral page and on the officer's (issue 15.1): the
form, the domain's refusals shown as the page's error, and who may use it."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from referral_service.domain import audit, consent
from referral_service.extensions import db
from referral_service.models import (
    ConsentScope,
    ConsentWithdrawal,
    Outcome,
    ReferralStatus,
    WithdrawalReason,
    WithdrawnBy,
)
from tests import factories as f
from tests.integration.web_referrer_support import (  # noqa: F401  (fixtures)
    World,
    error_messages,
    post,
    sign_in,
    world_fixture,
)
from tests.web_helpers import make_team, post_form
from tests.web_helpers import sign_in as sign_in_with_password


def _withdrawals(referral) -> list[ConsentWithdrawal]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(select(ConsentWithdrawal).where(
        ConsentWithdrawal.referral_id == referral.id)))


# --- The referrer's page -------------------------------------------------------------------------


def test_referrer_withdraws_consent_to_texts_and_sees_it_on_the_page(client, world: World) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(world.organisation)
    db.session.commit()
    sign_in(client, world.referrer)
    page = client.get(f"/referrer/referrals/{referral.id}").get_data(as_text=True)
    assert f"/referrer/referrals/{referral.id}/consent-withdrawal" in page
    assert "Given by" in page and "Nothing withdrawn" in page
    form = client.get(f"/referrer/referrals/{referral.id}/consent-withdrawal")
    assert form.status_code == 200
    text = html.unescape(form.get_data(as_text=True))
    assert "closes it" in text and 'value="texts"' in text and 'value="texted_stop"' not in text
    done = post(client, f"/referrer/referrals/{referral.id}/consent-withdrawal",
                data={"scope": "texts", "reason": "person_withdrew", "notes": "Said so today"})
    assert done.status_code == 302, done.get_data(as_text=True)[:400]
    [made] = _withdrawals(referral)
    assert (made.scope, made.withdrawn_by, made.reason, made.notes) == (
        ConsentScope.TEXTS, WithdrawnBy.REFERRER, WithdrawalReason.PERSON_WITHDREW,
        "Said so today")
    assert made.by_user_id == world.referrer.id
    db.session.refresh(referral)
    assert referral.status.is_open
    shown = html.unescape(client.get(done.headers["Location"]).get_data(as_text=True))
    assert "govuk-notification-banner--success" in shown
    assert "Consent to text messages was withdrawn." in shown
    assert "Text messages: withdrawn by the referrer" in shown
    # Texts are no longer offered; the rest still are.
    again = html.unescape(client.get(
        f"/referrer/referrals/{referral.id}/consent-withdrawal").get_data(as_text=True))
    assert 'value="texts"' not in again and 'value="email"' in again


def test_referrer_withdrawing_the_referral_closes_it(client, world: World) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(world.organisation)
    db.session.commit()
    sign_in(client, world.referrer)
    done = post(client, f"/referrer/referrals/{referral.id}/consent-withdrawal",
                data={"scope": "referral", "reason": "made_in_error"})
    assert done.status_code == 302
    db.session.refresh(referral)
    assert referral.status is ReferralStatus.CLOSED
    assert referral.outcome is Outcome.CONSENT_WITHDRAWN
    page = html.unescape(client.get(f"/referrer/referrals/{referral.id}").get_data(as_text=True))
    assert "The referral is closed" in page
    assert f"/referrer/referrals/{referral.id}/consent-withdrawal" not in page


@pytest.mark.parametrize(("data", "messages"), [
    ({}, ["Select what the person withdraws consent to.", "Select why consent is withdrawn."]),
    ({"scope": "everything", "reason": "person_withdrew"},
     ["Select what the person withdraws consent to."]),
    ({"scope": "texts", "reason": "texted_stop"}, ["Select why consent is withdrawn."]),
    ({"scope": "email", "reason": "other", "notes": "x" * 1001},
     ["Keep the notes to 1000 characters or fewer."]),
])
def test_referrer_bad_input_shows_the_error_summary_and_changes_nothing(  # type: ignore[no-untyped-def]
        client, world: World, data, messages) -> None:
    referral = f.referral(world.organisation)
    db.session.commit()
    sign_in(client, world.referrer)
    refused = post(client, f"/referrer/referrals/{referral.id}/consent-withdrawal", data=data)
    assert refused.status_code == 400
    assert error_messages(refused) == messages
    assert _withdrawals(referral) == []


def test_referrer_a_scope_already_withdrawn_or_a_closed_referral_is_a_conflict(  # type: ignore[no-untyped-def]
        client, world: World) -> None:
    referral = f.referral(world.organisation)
    consent.withdraw_by_referrer(referral, organisation=world.organisation,
                                 actor=audit.Actor.for_client("t"), scope=ConsentScope.EMAIL,
                                 reason=WithdrawalReason.PERSON_WITHDREW)
    db.session.commit()
    sign_in(client, world.referrer)
    path = f"/referrer/referrals/{referral.id}/consent-withdrawal"
    refused = post(client, path, data={"scope": "email", "reason": "person_withdrew"})
    assert refused.status_code == 409
    assert error_messages(refused) == ["Consent to email is already withdrawn."]
    assert len(_withdrawals(referral)) == 1
    post(client, path, data={"scope": "referral", "reason": "person_withdrew"})
    closed = post(client, path, data={"scope": "texts", "reason": "person_withdrew"})
    assert closed.status_code == 409
    assert error_messages(closed) == [
        "This referral is already closed: its consent can no longer be withdrawn here."]
    assert "can no longer be withdrawn here" in client.get(path).get_data(as_text=True)
    assert len(_withdrawals(referral)) == 2


def test_referrer_page_is_not_for_others(client, world: World) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(world.organisation)
    db.session.commit()
    path = f"/referrer/referrals/{referral.id}/consent-withdrawal"
    sign_in(client, world.other_referrer)  # another organisation: not confirmed to exist
    assert client.get(path).status_code == 404
    assert post(client, path, data={"scope": "texts", "reason": "other"}).status_code == 404
    sign_in(client, world.officer)  # not a referrer
    assert client.get(path).status_code == 403
    assert post(client, path, data={"scope": "texts", "reason": "other"}).status_code == 403
    assert _withdrawals(referral) == []


# --- The officer's page --------------------------------------------------------------------------


@pytest.fixture
def team(db_session):  # type: ignore[no-untyped-def]
    made = make_team()
    db_session.commit()
    return made


def test_officer_records_the_person_withdrew_consent_to_the_referral(client, team) -> None:  # type: ignore[no-untyped-def]
    referral = team.named
    sign_in_with_password(client, team.officer)
    page = client.get(f"/casework/referrals/{referral.id}").get_data(as_text=True)
    assert f"/casework/referrals/{referral.id}/consent-withdrawal" in page and "Given by" in page
    form = client.get(f"/casework/referrals/{referral.id}/consent-withdrawal")
    assert form.status_code == 200
    assert "The person told us they withdraw consent" in html.unescape(form.get_data(as_text=True))
    done = post_form(client, f"/casework/referrals/{referral.id}/consent-withdrawal",
                     {"scope": "referral", "reason": "person_withdrew", "notes": "By phone"})
    assert done.status_code == 302
    [made] = _withdrawals(referral)
    assert (made.scope, made.withdrawn_by, made.by_user_id) == (
        ConsentScope.REFERRAL, WithdrawnBy.OFFICER, team.officer.id)
    db.session.refresh(referral)
    assert referral.status is ReferralStatus.CLOSED
    shown = html.unescape(client.get(done.headers["Location"]).get_data(as_text=True))
    assert "Consent to the referral was withdrawn. The referral is closed." in shown
    assert "The referral itself: withdrawn by the council" in shown


def test_team_leader_may_record_it_too(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in_with_password(client, team.leader)
    done = post_form(client, f"/casework/referrals/{team.named.id}/consent-withdrawal",
                     {"scope": "email", "reason": "no_capacity"})
    assert done.status_code == 302
    assert [w.scope for w in _withdrawals(team.named)] == [ConsentScope.EMAIL]


def test_officer_bad_input_and_conflict(client, team) -> None:  # type: ignore[no-untyped-def]
    path = f"/casework/referrals/{team.named.id}/consent-withdrawal"
    sign_in_with_password(client, team.officer)
    bad = post_form(client, path, {"scope": "texts"})
    assert bad.status_code == 400
    assert error_messages(bad) == ["Select why consent is withdrawn."]
    assert _withdrawals(team.named) == []
    assert post_form(client, path, {"scope": "texts", "reason": "other"}).status_code == 302
    again = post_form(client, path, {"scope": "texts", "reason": "other"}, token_from=(
        f"/casework/referrals/{team.named.id}"))
    assert again.status_code == 409
    assert error_messages(again) == ["Consent to text messages is already withdrawn."]
    assert len(_withdrawals(team.named)) == 1


def test_officer_page_is_only_for_the_named_officer_or_a_team_leader(client, team) -> None:  # type: ignore[no-untyped-def]
    path = f"/casework/referrals/{team.named.id}/consent-withdrawal"
    data = {"scope": "texts", "reason": "other"}
    sign_in_with_password(client, team.second_officer)  # same council, not named
    assert client.get(path).status_code == 403
    assert post_form(client, path, data, token_from="/account").status_code == 403
    assert "consent-withdrawal" not in client.get(
        f"/casework/referrals/{team.named.id}").get_data(as_text=True)
    sign_in(client, team.other_officer)  # another council: not shown to exist
    assert client.get(path).status_code == 404
    sign_in(client, team.referrer)
    assert client.get(path).status_code == 403
    assert _withdrawals(team.named) == []
