"""Twilio webhooks carrying control characters (issue 12): a text someone sent with a NUL in it
was a 500 on PostgreSQL (and Twilio retried it). A person's text cannot be refused, so the
characters are removed after the signature is checked, and the text is acknowledged and kept."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from referral_service.models import InboundSms, SmsOptOut
from tests import factories as f

TOKEN = "test-auth-token-0123456789abcdef"
BASE = "https://referrals.example.gov.uk"
SID = "SM" + "5" * 32


@pytest.fixture
def signed_app(app, db_session, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    return app


def post(app, path: str, form: dict[str, str]):  # type: ignore[no-untyped-def]
    signature = RequestValidator(TOKEN).compute_signature(BASE + path, form)
    return app.test_client().post(path, data=form, headers={"X-Twilio-Signature": signature})


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x7f"], ids=repr)
def test_an_inbound_text_with_control_characters_is_kept_without_them(
        signed_app, character: str) -> None:  # type: ignore[no-untyped-def]
    response = post(signed_app, "/webhooks/twilio/inbound", {
        "MessageSid": SID, "From": "+447700900555",
        "Body": f"Call me{character} after 3\nthanks"})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert f.db.session.scalar(select(InboundSms.body)) == "Call me after 3\nthanks"


def test_stop_with_a_nul_still_opts_out(signed_app) -> None:  # type: ignore[no-untyped-def]
    response = post(signed_app, "/webhooks/twilio/inbound",
                    {"MessageSid": SID, "From": "+447700900555\x00", "Body": "STOP\x00"})
    assert response.status_code == 200
    assert f.db.session.get(SmsOptOut, "+447700900555") is not None


def test_a_status_callback_with_a_nul_in_the_sid_changes_nothing(signed_app) -> None:  # type: ignore[no-untyped-def]
    response = post(signed_app, "/webhooks/twilio/status",
                    {"MessageSid": f"SM{'6' * 16}\x00{'6' * 16}", "MessageStatus": "delivered\x00",
                     "ErrorCode": "\x00"})
    assert response.status_code == 204  # acknowledged: not one of ours, nothing to record
    assert f.db.session.scalar(select(func.count(InboundSms.id))) == 0
