"""Keying in a referral that arrived by email or phone (issue 15.4): the referrer's question
pages driven by a council officer, after a page saying how it arrived and who made it; the
referral goes through the same intake, for the officer's council, with its source recorded."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from referral_service.extensions import db
from referral_service.models import (
    Audience,
    AuditEvent,
    MessageStatus,
    Organisation,
    OutboxMessage,
    Referral,
    ReferralDraft,
    ReferralSource,
)
from tests import factories as f
from tests.integration.web_referrer_support import (  # noqa: F401  (fixtures)
    GOOD_ANSWERS,
    World,
    error_messages,
    post,
    sign_in,
    summary_links,
    world_fixture,
)

PHONE_SOURCE = {"source-channel": "phone", "source-organisation-id": "",
                "source-organisation-name": "HMP Nowhere", "source-organisation-type": "prison"}
PHONE_REFERRER = {"referrer-name": "Pat Green", "referrer-email": "", "referrer-job-title": "",
                  "referrer-team": "", "referrer-phone": "01632 960 002",
                  "agency-reference": ""}


def key(client: Any, slug: str, answers: dict[str, Any]) -> Any:
    return post(client, f"/casework/key-in/{slug}", answers)


def key_in_all(client: Any, source: dict[str, Any], referrer: dict[str, Any]) -> None:
    assert key(client, "source", source).status_code == 302
    for slug, answers in GOOD_ANSWERS.items():
        if slug == "authority":
            continue
        response = key(client, slug, referrer if slug == "referrer" else answers)
        assert response.status_code == 302, (slug, error_messages(response))


def stored() -> int:
    return db.session.scalar(select(func.count(Referral.id))) or 0


def test_an_officer_keys_in_a_phone_referral_from_a_body_not_on_the_service(
        client, world: World) -> None:  # type: ignore[no-untyped-def]
    other_council = f.authority(code="E07000099", name="Elsewhere")
    f.officer(other_council)
    db.session.commit()
    sign_in(client, world.officer)
    assert "Key in a referral" in client.get("/casework/key-in").get_data(as_text=True)
    key_in_all(client, PHONE_SOURCE, PHONE_REFERRER)
    check = client.get("/casework/key-in/check")
    assert check.status_code == 200, error_messages(check)
    page = check.get_data(as_text=True)
    for shown in ("Phone call", "HMP Nowhere", "Prison", "Pat Green", "Save referral"):
        assert shown in page
    saved = post(client, "/casework/key-in/check")
    assert saved.status_code == 302
    referral = db.session.scalars(select(Referral)).one()
    assert saved.headers["Location"].endswith(f"/casework/referrals/{referral.id}")
    assert referral.source is ReferralSource.PHONE
    assert referral.keyed_in_by_id == world.officer.id
    assert referral.keyed_in_at == referral.received_at
    assert referral.authority_id == world.authority.id  # the officer's council, always
    assert referral.referrer_email is None and referral.referrer_name == "Pat Green"
    assert referral.submitted_by_user_id is None
    body = db.session.scalars(select(Organisation).where(
        Organisation.name == "HMP Nowhere")).one()
    assert referral.referring_organisation_id == body.id and body.type.value == "prison"
    # Same intake: routed to the officer, a contact deadline, the person told by text.
    assert referral.named_officer_id == world.officer.id and referral.contact_due_by
    messages = {(m.audience, m.status) for m in db.session.scalars(select(OutboxMessage))}
    assert (Audience.APPLICANT, MessageStatus.QUEUED) in messages
    # No email for the referrer: no acknowledgement sent, and the timeline says why.
    assert (Audience.REFERRER, MessageStatus.SUPPRESSED) in messages
    received = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "referral.received")).one()
    assert received.actor_user_id == world.officer.id
    assert received.details["source"] == "phone"
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "organisation.created",
        AuditEvent.subject_id == str(body.id))).one().actor_user_id == world.officer.id
    assert db.session.scalar(select(func.count(ReferralDraft.id))) == 0

    shown = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Phone call, keyed in" in shown
    assert "by phone from HMP Nowhere; keyed in by Jo Smith" in shown
    assert "No email address was given for the referrer" in shown
    # A second click on Save makes nothing more.
    assert post(client, "/casework/key-in/check").status_code == 302
    assert stored() == 1


def test_an_email_referral_from_a_body_on_the_service_acknowledges_the_referrer(
        client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.officer)
    source = {"source-channel": "email", "source-organisation-id": str(world.organisation.id),
              "source-organisation-name": "", "source-organisation-type": ""}
    key_in_all(client, source, GOOD_ANSWERS["referrer"])
    assert post(client, "/casework/key-in/check").status_code == 302
    referral = db.session.scalars(select(Referral)).one()
    assert referral.source is ReferralSource.EMAIL
    assert referral.referring_organisation_id == world.organisation.id
    acknowledgement = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.audience == Audience.REFERRER)).one()
    assert acknowledgement.status is MessageStatus.QUEUED
    assert acknowledgement.to_address == "sam.patel@probation.example"
    # The referring organisation's referrers see it among theirs.
    sign_in(client, world.referrer)
    assert referral.reference in client.get("/referrer/referrals").get_data(as_text=True)


@pytest.mark.parametrize(("typed", "messages", "links"), [
    ({"source-channel": "", "source-organisation-id": "", "source-organisation-name": "",
      "source-organisation-type": ""},
     ["Choose how the referral arrived.",
      "Choose the public body that made the referral, or enter its name."],
     ["#source-channel", "#source-organisation-id"]),
    ({"source-channel": "fax", "source-organisation-id": "", "source-organisation-name": "X",
      "source-organisation-type": ""},
     ["Choose how the referral arrived.", "Choose what kind of public body it is."],
     ["#source-channel", "#source-organisation-type"]),
    ({"source-channel": "phone", "source-organisation-id": "00000000-0000-4000-8000-000000000000",
      "source-organisation-name": "", "source-organisation-type": ""},
     ["Choose a public body from the list, or enter the name of one that is not listed."],
     ["#source-organisation-id"]),
    ({"source-channel": "phone", "source-organisation-id": "not-a-uuid",
      "source-organisation-name": "", "source-organisation-type": ""},
     ["Choose the public body that made the referral, or enter its name."],
     ["#source-organisation-id"]),
], ids=["blank", "bad-channel-no-type", "unknown-body", "not-a-uuid"])
def test_bad_source_answers_show_the_error_summary_and_save_nothing(
        client, world: World, typed: dict[str, str], messages: list[str],
        links: list[str]) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.officer)
    response = key(client, "source", typed)
    assert response.status_code == 400
    assert error_messages(response) == messages
    assert summary_links(response) == links
    assert "govuk-error-summary" in response.get_data(as_text=True)
    assert client.get("/casework/key-in/name").status_code == 302  # not past the source page
    assert stored() == 0


def test_bad_answers_on_the_question_pages_are_the_referrers_messages(
        client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.officer)
    key_in_all(client, PHONE_SOURCE, PHONE_REFERRER)
    wrong = key(client, "contact", {"person-phone": "12345", "person-email": ""})
    assert wrong.status_code == 400 and summary_links(wrong) == ["#person-phone"]
    no_name = key(client, "referrer", {**PHONE_REFERRER, "referrer-name": ""})
    assert error_messages(no_name) == ["Enter the referrer's name."]
    bad_email = key(client, "referrer", {**PHONE_REFERRER, "referrer-email": "nope"})
    assert summary_links(bad_email) == ["#referrer-email"]
    refused = post(client, "/casework/key-in/check")
    assert refused.status_code == 400 and "govuk-error-summary" in refused.get_data(as_text=True)
    assert stored() == 0


def test_no_consent_keeps_nothing(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.officer)
    assert key(client, "source", PHONE_SOURCE).status_code == 302
    response = key(client, "consent", {"consent-given": "no"})
    assert response.headers["Location"].endswith("/casework/key-in/no-consent")
    assert db.session.scalar(select(func.count(ReferralDraft.id))) == 0
    assert client.get("/casework/key-in/no-consent").status_code == 200


def test_a_team_leader_can_key_in_and_nobody_else_can(client, world: World) -> None:  # type: ignore[no-untyped-def]
    leader = f.team_leader(world.authority)
    admin = f.admin_user() if hasattr(f, "admin_user") else None
    db.session.commit()
    sign_in(client, leader)
    assert client.get("/casework/key-in").status_code == 200
    assert key(client, "source", PHONE_SOURCE).status_code == 302
    for outsider in [world.referrer, *([admin] if admin else [])]:
        sign_in(client, outsider)
        assert client.get("/casework/key-in").status_code == 403
        assert client.get("/casework/key-in/source").status_code == 403
        assert key(client, "source", PHONE_SOURCE).status_code == 403
        assert post(client, "/casework/key-in/check").status_code == 403
    assert stored() == 0


def test_a_form_without_its_csrf_token_is_refused(client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.officer)
    response = client.post("/casework/key-in/source", data=PHONE_SOURCE)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(ReferralDraft.id))) == 0


def test_the_api_read_of_a_keyed_in_referral_carries_its_source(
        client, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.officer)
    source = {"source-channel": "phone", "source-organisation-id": str(world.organisation.id),
              "source-organisation-name": "", "source-organisation-type": ""}
    key_in_all(client, source, PHONE_REFERRER)
    assert post(client, "/casework/key-in/check").status_code == 302
    referral = db.session.scalars(select(Referral)).one()
    issued = f.api_client(world.organisation)
    headers = f.bearer_headers(client, issued, scope="referrals:read")
    body = client.get(f"/api/v1/referrals/{referral.id}", headers=headers).json
    assert body["source"] == "phone"
    assert body["referrer"]["email"] is None and body["referrer"]["name"] == "Pat Green"
    listed = client.get("/api/v1/referrals", headers=headers).json
    assert [item["source"] for item in listed["items"]] == ["phone"]
