"""The referrer's organisation's referrals: list, timeline and outcome, notes, withdrawal, and
who may open each page."""
from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from referral_service.domain import casework, notes
from referral_service.domain.audit import Actor
from referral_service.extensions import db
from referral_service.models import (
    Authority,
    ContactAttemptResult,
    ContactChannel,
    Outcome,
    Referral,
    ReferralMessage,
    ReferralStatus,
)
from tests import factories as f
from tests.integration.web_referrer_support import (  # noqa: F401  (fixtures)
    World,
    error_messages,
    post,
    sign_in,
    world_fixture,
)


def references(response) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(r"DTR-[A-Z0-9]{6}", response.get_data(as_text=True))


def closed_with_outcome(world: World) -> Referral:
    """A referral the named officer accepted, tried, reached and closed."""
    referral = f.referral(world.organisation)
    officer = world.officer
    casework.accept(referral, officer)
    casework.record_contact_attempt(referral, officer, channel=ContactChannel.PHONE,
                                    result=ContactAttemptResult.NO_ANSWER,
                                    notes="PRIVATE: neighbour says he sleeps in the park")
    casework.record_contact_made(referral, officer, channel=ContactChannel.PHONE,
                                 notes="PRIVATE: spoke about his debts")
    casework.close(referral, officer, outcome=Outcome.PREVENTION_DUTY,
                   notes="PRIVATE: closure note")
    db.session.commit()
    return referral


# --- The list -----------------------------------------------------------------------------------


def made_in_turn(world: World, count: int, apart: timedelta) -> list[Referral]:
    """``count`` referrals of the organisation, received ``apart`` from each other, oldest first."""
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    made = []
    for n in range(count):
        with time_machine.travel(start + n * apart, tick=False):
            made.append(f.referral(world.organisation))
    return made


def test_the_list_shows_the_organisations_referrals_newest_first(client, world: World) -> None:  # type: ignore[no-untyped-def]
    made = made_in_turn(world, 3, timedelta(days=1))
    theirs = f.referral(world.other_organisation)
    # Someone else at the same organisation made one too: the list is the organisation's.
    colleague = f.partner_user(world.organisation)
    db.session.commit()
    sign_in(client, colleague)
    response = client.get("/referrer/referrals")
    assert response.status_code == 200
    assert references(response) == [r.reference for r in reversed(made)]
    assert theirs.reference not in response.get_data(as_text=True)


def test_the_list_filters_by_status(client, world: World) -> None:  # type: ignore[no-untyped-def]
    kept = f.referral(world.organisation)
    gone = f.referral(world.organisation)
    casework.withdraw(gone, organisation=world.organisation, actor=Actor.system("tests"))
    db.session.commit()
    sign_in(client, world.referrer)
    assert references(client.get("/referrer/referrals?status=withdrawn")) == [gone.reference]
    assert references(client.get("/referrer/referrals?status=assigned")) == [kept.reference]
    assert set(references(client.get("/referrer/referrals?status=nonsense"))) == {
        kept.reference, gone.reference}


def test_the_list_is_paginated(client, world: World) -> None:  # type: ignore[no-untyped-def]
    made = made_in_turn(world, 23, timedelta(minutes=1))
    db.session.commit()
    sign_in(client, world.referrer)
    first = client.get("/referrer/referrals")
    assert references(first) == [r.reference for r in reversed(made)][:20]
    assert 'href="/referrer/referrals?page=2"' in first.get_data(as_text=True)
    second = client.get("/referrer/referrals?page=2")
    assert references(second) == [r.reference for r in reversed(made)][20:]
    assert references(client.get("/referrer/referrals?page=99")) == references(second)


# --- One referral -------------------------------------------------------------------------------


def test_a_referral_shows_its_timeline_and_outcome_without_private_notes(client, world: World) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    referral = closed_with_outcome(world)
    sign_in(client, world.referrer)
    response = client.get(f"/referrer/referrals/{referral.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for shown in ("Received by Welwyn Hatfield.", "Named officer: Jo Smith.",
                  "The named officer accepted the referral.",
                  "The council tried to contact the person.",
                  "The council made contact with the person.",
                  "Closed. Outcome: prevention duty.", "Prevention duty owed", "Jo Smith",
                  "01632 960100"):
        assert shown in page
    assert "PRIVATE" not in page
    assert "Withdraw referral" not in page


def test_a_transferred_referral_shows_both_references_both_ways(client, world: World) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(world.organisation)
    east_herts = db.session.scalars(select(Authority).where(Authority.code == "E07000242")).one()
    made = casework.transfer(referral, east_herts, world.officer, reason="Local connection",
                             person_agreed=True)
    db.session.commit()
    assert made is not None
    sign_in(client, world.referrer)
    earlier = client.get(f"/referrer/referrals/{referral.id}").get_data(as_text=True)
    later = client.get(f"/referrer/referrals/{made.id}").get_data(as_text=True)
    # The earlier page: where it went, the new reference (a link to it), and when.
    assert f"Transferred to East Herts (new reference {made.reference})." in earlier
    assert f'href="/referrer/referrals/{made.id}">{made.reference}</a>' in earlier
    assert "Transferred to" in earlier and "Transferred from" not in earlier
    # The new page: where it came from, with the earlier reference.
    assert (f"Received by East Herts by transfer from {world.authority.name} "
            f"(earlier reference {referral.reference}).") in html.unescape(later)
    assert f'href="/referrer/referrals/{referral.id}">{referral.reference}</a>' in later
    assert "Transferred from" in later


def test_a_transfer_to_a_council_not_on_the_service_is_named(client, world: World) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(world.organisation)
    stevenage = f.authority(code="E07000243", name="Stevenage", participating=False)
    casework.transfer(referral, stevenage, world.officer, reason="Chose Stevenage",
                      person_agreed=True)
    db.session.commit()
    sign_in(client, world.referrer)
    page = client.get(f"/referrer/referrals/{referral.id}").get_data(as_text=True)
    assert "Transferred to Stevenage, which does not take referrals through this service." in page


def test_a_referral_shows_what_the_organisation_sent(client, world: World) -> None:  # type: ignore[no-untyped-def]
    """The referrer sent it, so they see it: the same summary lists as the officer's page."""
    referral = f.referral(world.organisation, person=f.unique_person(phone="07700 900456"),
                          risk={"details": "Ex-partner knows the current address."})
    db.session.commit()
    sign_in(client, world.referrer)
    page = client.get(f"/referrer/referrals/{referral.id}").get_data(as_text=True)
    assert "What your organisation sent" in page
    for shown in (referral.person_first_name, "07700 900456", referral.reason,
                  referral.referrer_name, "Ex-partner knows the current address.",
                  "Contacting them safely", "Housing situation"):
        assert html.escape(shown, quote=True) in page, shown


def test_notes_are_read_and_added(client, world: World) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(world.organisation)
    notes.post(referral, side="council", author_name="Jo Smith",
                  body="Is the person still at the hostel?", actor=Actor.system("tests"))
    db.session.commit()
    sign_in(client, world.referrer)
    assert "Is the person still at the hostel?" in client.get(
        f"/referrer/referrals/{referral.id}").get_data(as_text=True)
    sent = post(client, f"/referrer/referrals/{referral.id}/notes",
                       data={"body": "Yes, until Friday."})
    assert sent.status_code == 302
    note = db.session.scalars(select(ReferralMessage).where(
        ReferralMessage.author_side == "referrer")).one()
    assert (note.body, note.author_user_id) == ("Yes, until Friday.", world.referrer.id)
    page = client.get(f"/referrer/referrals/{referral.id}").get_data(as_text=True)
    assert "Yes, until Friday." in page and "You sent a note." in page


def test_an_empty_note_is_refused_with_the_domains_message(client, world: World) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(world.organisation)
    db.session.commit()
    sign_in(client, world.referrer)
    response = post(client, f"/referrer/referrals/{referral.id}/notes", data={"body": "   "})
    assert response.status_code == 400
    assert error_messages(response) == ["Write the note."]
    assert db.session.scalars(select(ReferralMessage)).all() == []


def test_withdrawing_asks_first_then_withdraws(client, world: World) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(world.organisation)
    db.session.commit()
    sign_in(client, world.referrer)
    confirm = client.get(f"/referrer/referrals/{referral.id}/withdraw")
    assert confirm.status_code == 200 and "You cannot undo this" in confirm.get_data(
        as_text=True)
    assert referral.status is ReferralStatus.ASSIGNED
    done = post(client, f"/referrer/referrals/{referral.id}/withdraw",
                       data={"reason": "Moved to another area"})
    assert done.status_code == 302
    db.session.refresh(referral)
    assert referral.status is ReferralStatus.WITHDRAWN
    assert referral.closure_reason == "Moved to another area"
    assert "The referral was withdrawn" in client.get(
        f"/referrer/referrals/{referral.id}").get_data(as_text=True)


def test_a_closed_referral_cannot_be_withdrawn(client, world: World) -> None:  # type: ignore[no-untyped-def]
    referral = closed_with_outcome(world)
    sign_in(client, world.referrer)
    page = client.get(f"/referrer/referrals/{referral.id}/withdraw")
    assert "can no longer be withdrawn" in page.get_data(as_text=True)
    assert "You cannot undo this" not in page.get_data(as_text=True)
    refused = post(client, f"/referrer/referrals/{referral.id}/withdraw", data={})
    assert refused.status_code == 409
    assert error_messages(refused) == [
        "This referral is already closed, so it can no longer be withdrawn. Send the council "
        "a note if something has changed."]
    db.session.refresh(referral)
    assert referral.status is ReferralStatus.CLOSED
    assert referral.closure_reason == "PRIVATE: closure note"


# --- Who may open each page ---------------------------------------------------------------------

PAGES = [
    ("GET", "/referrer/"), ("GET", "/referrer/referrals"), ("GET", "/referrer/new"),
    ("POST", "/referrer/new/discard"), ("GET", "/referrer/new/no-consent"),
    ("GET", "/referrer/new/consent"), ("POST", "/referrer/new/consent"),
    ("GET", "/referrer/new/check"), ("POST", "/referrer/new/check"),
    ("GET", "/referrer/referrals/{id}"), ("GET", "/referrer/referrals/{id}/sent"),
    ("POST", "/referrer/referrals/{id}/notes"), ("GET", "/referrer/referrals/{id}/withdraw"),
    ("POST", "/referrer/referrals/{id}/withdraw"),
]
REFERRAL_PAGES = [page for page in PAGES if "{id}" in page[1]]


def _open(client, method: str, path: str, referral_id: object):  # type: ignore[no-untyped-def]
    url = path.format(id=referral_id)
    return client.get(url) if method == "GET" else post(client, url, data={"body": "x"})


@pytest.mark.parametrize(("method", "path"), PAGES)
def test_anonymous_people_are_sent_to_sign_in(client, world: World, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(world.organisation)
    response = _open(client, method, path, referral.id)
    assert response.status_code == 302
    assert "sign-in" in response.headers["Location"]
    assert referral.status is ReferralStatus.ASSIGNED


def _user_with_role(world: World, role: str):  # type: ignore[no-untyped-def]
    from referral_service.domain import admin

    if role == "officer":
        return world.officer
    if role == "team_leader":
        return f.team_leader(world.authority)
    if role == "panel_lead":
        panel = f.organisation(name="Welwyn MARAC", type="marac")
        return admin.create_user(email="lead@marac.example", name="Panel Lead", role=role,
                                 organisation_name=panel.name, actor=f.ACTOR).record
    return admin.create_user(email="admin@welhat.example", name="Admin", role=role,
                             actor=f.ACTOR).record


@pytest.mark.parametrize("role", ["officer", "team_leader", "panel_lead", "admin"])
@pytest.mark.parametrize(("method", "path"), PAGES)
def test_other_roles_are_refused(client, world: World, method: str, path: str, role: str) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(world.organisation)
    user = _user_with_role(world, role)
    db.session.commit()
    sign_in(client, user)
    assert _open(client, method, path, referral.id).status_code == 403


@pytest.mark.parametrize(("method", "path"), REFERRAL_PAGES)
def test_another_organisations_referral_is_not_found(client, world: World, method: str, path: str) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    theirs = f.referral(world.other_organisation)
    db.session.commit()
    sign_in(client, world.referrer)
    assert _open(client, method, path, theirs.id).status_code == 404
    assert _open(client, method, path, uuid.uuid4()).status_code == 404
    db.session.refresh(theirs)
    assert theirs.status is ReferralStatus.ASSIGNED
    assert db.session.scalars(select(ReferralMessage)).all() == []


@pytest.mark.parametrize(("method", "path"), [page for page in PAGES if page[0] == "POST"])
def test_every_form_refuses_a_missing_csrf_token(client, world: World, method: str, path: str) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    from referral_service.models import ReferralDraft

    referral = f.referral(world.organisation)
    db.session.commit()
    sign_in(client, world.referrer)
    post(client, "/referrer/new/consent", {"consent-given": "yes"})
    before = db.session.scalars(select(ReferralDraft)).one().answers
    data = {"body": "A note", "reason": "Mistake", "consent-given": "no"}
    response = client.post(path.format(id=referral.id), data=data)
    assert response.status_code == 400
    db.session.refresh(referral)
    assert referral.status is ReferralStatus.ASSIGNED
    assert db.session.scalars(select(ReferralMessage)).all() == []
    assert db.session.scalars(select(ReferralDraft)).one().answers == before
