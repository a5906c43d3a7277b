"""Twilio webhooks: signed with twilio's own RequestValidator logic; bad signatures change
nothing; status callbacks move delivery on; STOP/START opt out and in; replies reach the officer."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from referral_service.models import (
    Audience,
    AuditEvent,
    Channel,
    InboundSms,
    MessageStatus,
    OutboxMessage,
    SmsOptOut,
)
from tests import factories as f

TOKEN = "test-auth-token-0123456789abcdef"
BASE = "https://referrals.example.gov.uk"


@pytest.fixture
def signed_app(app, db_session, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    return app


def post(app, path: str, form: dict[str, str], *, signature: str | None = None,  # type: ignore[no-untyped-def]
         query: str = ""):
    url = BASE + path + (f"?{query}" if query else "")
    if signature is None:
        signature = RequestValidator(TOKEN).compute_signature(url, form)
    return app.test_client().post(path + (f"?{query}" if query else ""), data=form,
                                  headers={"X-Twilio-Signature": signature})


@pytest.fixture
def sent_sms(signed_app):  # type: ignore[no-untyped-def]
    authority = f.authority()
    f.officer(authority)
    referral = f.referral(f.organisation(), person=f.unique_person(email="person@example.org"))
    message = f.db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.audience == Audience.APPLICANT, OutboxMessage.channel == Channel.SMS))
    message.status = MessageStatus.SENT
    message.provider_id = "SM" + "a" * 32
    f.db.session.commit()
    return referral, message


def counts() -> tuple[int, int, int]:
    return (f.db.session.scalar(select(func.count(InboundSms.id))),
            f.db.session.scalar(select(func.count(SmsOptOut.phone))),
            f.db.session.scalar(select(func.count(AuditEvent.id))))


@pytest.mark.parametrize("path", ["/webhooks/twilio/status", "/webhooks/twilio/inbound"])
@pytest.mark.parametrize("signature", ["", "not-a-signature", "wrong-url"])
def test_bad_or_missing_signature_is_403_and_changes_nothing(sent_sms, signed_app, path,  # type: ignore[no-untyped-def]
                                                             signature) -> None:
    _, message = sent_sms
    form = {"MessageSid": message.provider_id, "MessageStatus": "delivered",
            "From": "+447700900123", "Body": "STOP"}
    if signature == "wrong-url":
        signature = RequestValidator(TOKEN).compute_signature("http://localhost" + path, form)
    before = counts()
    response = post(signed_app, path, form, signature=signature)
    assert response.status_code == 403
    f.db.session.refresh(message)
    assert message.status is MessageStatus.SENT and counts() == before


def test_no_auth_token_configured_refuses_everything(app, db_session) -> None:  # type: ignore[no-untyped-def]
    form = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    signature = RequestValidator(TOKEN).compute_signature("http://localhost/webhooks/twilio/status",
                                                          form)
    response = app.test_client().post("/webhooks/twilio/status", data=form,
                                      headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_signature_covers_the_query_string(sent_sms, signed_app) -> None:  # type: ignore[no-untyped-def]
    _, message = sent_sms
    form = {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
    good = post(signed_app, "/webhooks/twilio/status", form, query="attempt=1")
    assert good.status_code == 204
    forged = RequestValidator(TOKEN).compute_signature(BASE + "/webhooks/twilio/status", form)
    replayed = post(signed_app, "/webhooks/twilio/status", form, signature=forged,
                    query="attempt=2")
    assert replayed.status_code == 403


def test_status_callbacks_move_forward_only(sent_sms, signed_app) -> None:  # type: ignore[no-untyped-def]
    _, message = sent_sms
    assert post(signed_app, "/webhooks/twilio/status",
                {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
                ).status_code == 204
    f.db.session.refresh(message)
    assert message.status is MessageStatus.DELIVERED
    # A late "sent" callback must not move a delivered message backwards.
    post(signed_app, "/webhooks/twilio/status",
         {"MessageSid": message.provider_id, "MessageStatus": "sent"})
    f.db.session.refresh(message)
    assert message.status is MessageStatus.DELIVERED and message.provider_status == "sent"


def test_undelivered_sms_falls_back_to_safe_email(sent_sms, signed_app) -> None:  # type: ignore[no-untyped-def]
    referral, message = sent_sms
    post(signed_app, "/webhooks/twilio/status", {"MessageSid": message.provider_id,
                                                 "MessageStatus": "undelivered",
                                                 "ErrorCode": "30003"})
    f.db.session.refresh(message)
    assert message.status is MessageStatus.FAILED and "30003" in (message.status_reason or "")
    emails = f.db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.audience == Audience.APPLICANT, OutboxMessage.channel == Channel.EMAIL)
    ).all()
    assert [e.to_address for e in emails] == [referral.person_email]


def test_unknown_message_is_accepted_and_ignored(signed_app, db_session) -> None:  # type: ignore[no-untyped-def]
    response = post(signed_app, "/webhooks/twilio/status",
                    {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered"})
    assert response.status_code == 204


def test_missing_fields_are_400(signed_app, db_session) -> None:  # type: ignore[no-untyped-def]
    response = post(signed_app, "/webhooks/twilio/status", {"MessageStatus": "delivered"})
    assert response.status_code == 400 and "MessageSid" in response.json["errors"]


@pytest.mark.parametrize("word", ["STOP", "stop", " Stop. ", "UNSUBSCRIBE", "stop all"])
def test_stop_opts_out_and_start_opts_back_in(signed_app, db_session, word: str) -> None:  # type: ignore[no-untyped-def]
    phone = "+447700900555"
    response = post(signed_app, "/webhooks/twilio/inbound",
                    {"MessageSid": "SM" + "1" * 32, "From": phone, "Body": word})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert f.db.session.get(SmsOptOut, phone) is not None
    post(signed_app, "/webhooks/twilio/inbound",
         {"MessageSid": "SM" + "2" * 32, "From": phone, "Body": "START"})
    assert f.db.session.get(SmsOptOut, phone) is None


def test_opted_out_applicant_gets_no_sms(signed_app, db_session) -> None:  # type: ignore[no-untyped-def]
    post(signed_app, "/webhooks/twilio/inbound",
         {"MessageSid": "SM" + "3" * 32, "From": "+447700900777", "Body": "STOP"})
    f.authority()
    f.referral(f.organisation(), person=f.unique_person(phone="07700 900777"))
    sms = f.db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.audience == Audience.APPLICANT, OutboxMessage.channel == Channel.SMS))
    assert sms.status is MessageStatus.SUPPRESSED and "STOP" in (sms.status_reason or "")


def test_a_reply_lands_on_the_referral_and_the_officer_is_told(sent_sms, signed_app) -> None:  # type: ignore[no-untyped-def]
    referral, _ = sent_sms
    form = {"MessageSid": "SM" + "4" * 32, "From": referral.person_phone,
            "Body": "Yes please call me after 3"}
    assert post(signed_app, "/webhooks/twilio/inbound", form).status_code == 200
    reply = f.db.session.scalar(select(InboundSms))
    assert reply.referral_id == referral.id and reply.kind == "reply"
    told = f.db.session.scalar(select(OutboxMessage).where(OutboxMessage.event == "reply_received"))
    assert told.to_address == referral.named_officer.email
    assert "after 3" not in told.body  # the text stays in the service, not in email
    # Twilio retries a webhook it thinks failed: the same text is recorded once.
    post(signed_app, "/webhooks/twilio/inbound", form)
    assert f.db.session.scalar(select(func.count(InboundSms.id))) == 1


def test_stop_withdraws_consent_to_texts_and_start_lifts_it(sent_sms, signed_app) -> None:  # type: ignore[no-untyped-def]
    from referral_service.domain import timeline
    from referral_service.models import ConsentScope, WithdrawnBy

    referral, _ = sent_sms
    post(signed_app, "/webhooks/twilio/inbound",
         {"MessageSid": "SM" + "5" * 32, "From": referral.person_phone, "Body": "STOP"})
    f.db.session.expire_all()
    [withdrawal] = referral.consent_withdrawals
    assert (withdrawal.scope, withdrawal.withdrawn_by) == (ConsentScope.TEXTS,
                                                           WithdrawnBy.PERSON)
    assert referral.status.is_open
    assert any(e.type == "consent_withdrawn" and "by the person" in e.description
               for e in timeline.for_staff(referral))
    post(signed_app, "/webhooks/twilio/inbound",
         {"MessageSid": "SM" + "6" * 32, "From": referral.person_phone, "Body": "START"})
    f.db.session.expire_all()
    assert referral.consent_withdrawals[0].lifted_at is not None
