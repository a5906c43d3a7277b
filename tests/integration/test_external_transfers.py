"""A transfer to a council not on this service (issue 15.3): the officer names it and its secure
address; it is emailed a one-time link (only a placeholder in the outbox, only a digest stored)
to a page, reachable without signing in and never indexed or cached, where it reads the referral
(without private notes, nothing of any other referral) and marks it received; every view is
audited; expired, used and unknown links show a page that names nothing; a new link kills the
old one; the referrer and the sending officer see when it was opened and received."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from notifications import one_time_links
from referral_service import clock
from referral_service.domain import casework, external_transfers
from referral_service.domain.errors import ValidationFailed
from referral_service.models import (
    AuditEvent,
    ContactAttemptResult,
    ContactChannel,
    ExternalTransfer,
    OutboxMessage,
    ReferralStatus,
)
from tests import factories as f
from tests.web_helpers import csrf_token, make_team, post_form, sign_in

LUTON = {"authority": "elsewhere", "council_name": "Luton Borough Council",
         "council_code": "e06000032", "council_email": "housing.options@luton.gov.uk",
         "reason": "Moved to Luton to live with her sister", "person_agreed": "yes"}


@pytest.fixture
def team(db_session):  # type: ignore[no-untyped-def]
    made = make_team()
    db_session.commit()
    return made


def _link_message() -> OutboxMessage:
    return f.db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.event == "transfer_link").order_by(OutboxMessage.created_at.desc())).first()


def _link_path(message: OutboxMessage) -> str:
    sent = one_time_links.for_sending(message.template, message.body)
    found = re.search(r"https?://[^/\s]+(/transfer-link/[A-Za-z0-9_-]+)", sent)
    assert found, sent
    return found.group(1)


def _transfer_by_form(client, team) -> str:  # type: ignore[no-untyped-def]
    casework.accept(team.named, team.officer)
    casework.record_contact_attempt(team.named, team.officer, channel=ContactChannel.PHONE,
                                    result=ContactAttemptResult.NO_ANSWER,
                                    notes="PRIVATE: sleeps in his car behind the station")
    f.db.session.commit()
    sign_in(client, team.officer)
    response = post_form(client, f"/casework/referrals/{team.named.id}/transfer", LUTON)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/casework/referrals")})
    return _link_path(_link_message())


def test_the_officer_transfers_to_a_council_not_on_the_service(client, team) -> None:  # type: ignore[no-untyped-def]
    _transfer_by_form(client, team)
    f.db.session.refresh(team.named)
    assert team.named.status is ReferralStatus.TRANSFERRED
    moved = f.db.session.scalars(select(ExternalTransfer)).one()
    assert (moved.council_name, moved.council_code, moved.email) == (
        "Luton Borough Council", "E06000032", "housing.options@luton.gov.uk")
    assert moved.referral_id == team.named.id and moved.sent_by_id == team.officer.id
    message = _link_message()
    assert message.to_address == "housing.options@luton.gov.uk"
    # The row holds a placeholder, never a working link; no personal data in the email.
    assert "/transfer-link/" not in message.body and "[[transfer-link:" in message.body
    assert team.named.person_last_name not in message.body
    assert one_time_links.for_showing(message.body).count("never shown") == 1
    ended = f.db.session.scalars(select(AuditEvent).where(
        AuditEvent.referral_id == team.named.id, AuditEvent.to_status == "transferred")).one()
    assert ended.details["to_council"] == "Luton Borough Council"
    assert ended.details["person_agreed"] is True
    told = f.db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.referral_id == team.named.id,
        OutboxMessage.event == "referrer_transferred")).one()
    assert "Luton Borough Council" in told.body


@pytest.mark.parametrize(("change", "field"), [
    ({"council_name": ""}, "council_name"),
    ({"council_email": ""}, "council_email"),
    ({"council_email": "housing@gmail.com"}, "council_email"),
    ({"council_code": "LUTON"}, "council_code"),
    ({"council_code": "E07000242"}, "council_code"),  # Broxbourne takes referrals here
    ({"person_agreed": ""}, "person_agreed"),
])
def test_a_bad_destination_is_refused_and_changes_nothing(client, team, change, field) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.officer)
    refused = post_form(client, f"/casework/referrals/{team.named.id}/transfer",
                        {**LUTON, **change})
    assert refused.status_code == 400
    assert f'href="#{field}"' in refused.get_data(as_text=True)
    f.db.session.refresh(team.named)
    assert team.named.status is not ReferralStatus.TRANSFERRED
    assert f.db.session.scalar(select(func.count()).select_from(ExternalTransfer)) == 0
    assert _link_message() is None


def test_the_link_page_shows_this_referral_only_and_audits_every_view(client, team) -> None:  # type: ignore[no-untyped-def]
    path = _transfer_by_form(client, team)
    first = client.get(path)
    assert first.status_code == 200
    assert "noindex" in first.headers["X-Robots-Tag"]
    assert first.headers["Cache-Control"] == "no-store"
    assert first.headers["Referrer-Policy"] == "no-referrer"
    page = first.get_data(as_text=True)
    assert '<meta name="robots" content="noindex' in page
    assert f"Referral {team.named.reference}" in page and "Aoife" in page
    assert team.named.reason in page
    assert "Phone: no answer" in page and "PRIVATE" not in page
    for other in (team.queued, team.foreign):
        assert other.reference not in page and other.person_last_name not in page
    assert client.get(path).status_code == 200
    viewed = list(f.db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "referral.transfer_link_viewed").order_by(AuditEvent.occurred_at)))
    assert len(viewed) == 2 and all(v.referral_id == team.named.id for v in viewed)
    assert sorted(v.details["first"] for v in viewed) == [False, True]
    moved = f.db.session.scalars(select(ExternalTransfer)).one()
    f.db.session.refresh(moved)
    assert moved.first_opened_at is not None


def test_marking_received_uses_the_link_up(client, team) -> None:  # type: ignore[no-untyped-def]
    path = _transfer_by_form(client, team)
    nameless = post_form(client, path, {"received_by": " "})
    assert nameless.status_code == 400 and 'href="#received_by"' in nameless.get_data(
        as_text=True)
    done = post_form(client, path, {"received_by": "Ravi Shah"})
    assert done.status_code == 200 and "Referral received" in done.get_data(as_text=True)
    moved = f.db.session.scalars(select(ExternalTransfer)).one()
    f.db.session.refresh(moved)
    assert moved.received_by_name == "Ravi Shah" and moved.received_at is not None
    used = client.get(path)
    assert used.status_code == 410
    body = used.get_data(as_text=True)
    assert "This link does not work" in body
    assert team.named.reference not in body and "Luton" not in body and "Aoife" not in body
    assert "noindex" in used.headers["X-Robots-Tag"]
    # The referrer and the sending officer see both moments.
    sign_in(client, team.referrer)
    mine = client.get(f"/referrer/referrals/{team.named.id}").get_data(as_text=True)
    assert "Luton Borough Council" in mine and "First opened" in mine
    assert "Marked received" in mine and "Ravi Shah" in mine
    assert "Luton Borough Council opened the secure link." in mine
    assert "Luton Borough Council marked the referral received (Ravi Shah)." in mine


def test_unknown_and_expired_links_reveal_nothing(client, team) -> None:  # type: ignore[no-untyped-def]
    unknown = client.get("/transfer-link/" + "A" * 43)
    assert unknown.status_code == 404 and "This link does not work" in unknown.get_data(
        as_text=True)
    path = _transfer_by_form(client, team)
    moved = f.db.session.scalars(select(ExternalTransfer)).one()
    assert clock.as_utc(moved.link_expires_at) - clock.as_utc(moved.link_sent_at) == timedelta(
        days=14)
    moved.link_expires_at = clock.now() - timedelta(seconds=1)
    f.db.session.commit()
    expired = client.get(path)
    assert expired.status_code == 410
    assert team.named.reference not in expired.get_data(as_text=True)
    assert f.db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "referral.transfer_link_viewed")) == 0


def test_a_new_link_kills_the_old_one(client, team) -> None:  # type: ignore[no-untyped-def]
    old = _transfer_by_form(client, team)
    sign_in(client, team.officer)
    page = f"/casework/referrals/{team.named.id}"
    assert "Not opened yet" in client.get(page).get_data(as_text=True)
    resent = post_form(client, f"{page}/transfer-link", {}, token_from=page)
    assert resent.status_code == 302
    new = _link_path(_link_message())
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert "First opened" in client.get(page).get_data(as_text=True)
    moved = f.db.session.scalars(select(ExternalTransfer)).one()
    f.db.session.refresh(moved)
    assert moved.links_sent == 2


def test_only_the_named_officer_or_a_team_leader_sends_a_new_link(team) -> None:  # type: ignore[no-untyped-def]
    luton = external_transfers.destination("Luton", "", "housing@luton.gov.uk")
    external_transfers.transfer(team.named, luton, team.officer, reason="Moved",
                                person_agreed=True)
    from referral_service.domain.errors import PermissionDenied
    with pytest.raises(PermissionDenied):
        external_transfers.send_new_link(team.named, team.second_officer)
    assert external_transfers.send_new_link(team.named, team.leader).links_sent == 2
    with pytest.raises(ValidationFailed):
        external_transfers.send_new_link(team.queued, team.leader)
