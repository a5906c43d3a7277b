"""Officers see delivery on the referral's timeline: sent, delivered, failed, suppressed (why)."""
from __future__ import annotations

from sqlalchemy import select

from referral_service.domain import admin, casework, timeline
from referral_service.models import (
    Audience,
    ContactAttemptResult,
    ContactChannel,
    MessageStatus,
    OutboxMessage,
)
from tests import factories as f
from tests.web_helpers import sign_in


def test_staff_timeline_shows_messages_with_status_and_private_notes(db_session) -> None:  # type: ignore[no-untyped-def]
    authority = f.authority()
    officer = f.officer(authority)
    referral = f.referral(f.organisation(), person=f.unique_person(
        phone="01632 960123", preferred_contact_method="phone"))
    casework.accept(referral, officer)
    casework.record_contact_attempt(referral, officer, channel=ContactChannel.PHONE,
                                    result=ContactAttemptResult.NO_ANSWER,
                                    notes="PRIVATE: try after 5pm")
    acknowledgement = f.db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.audience == Audience.REFERRER))
    acknowledgement.status = MessageStatus.DELIVERED
    entries = timeline.for_staff(referral)
    texts = [(e.type, e.description) for e in entries]
    assert ("message_delivered", "EMAIL to the referrer: delivered") in texts
    # A landline cannot be texted: the officer sees that the applicant message did not go, and why.
    suppressed = [d for t, d in texts if t == "message_suppressed"]
    assert suppressed and all("applicant" in d and "No mobile number" in d for d in suppressed)
    assert any(e.detail == "PRIVATE: try after 5pm" for e in entries)
    # ...and none of that reaches the referrer's timeline.
    referrer_view = " ".join(e.description for e in timeline.for_referrer(referral))
    assert "PRIVATE" not in referrer_view and "suppressed" not in referrer_view
    assert [e.at for e in entries] == sorted(e.at for e in entries)


def test_dev_outbox_lists_messages(client, db_session) -> None:  # type: ignore[no-untyped-def]
    f.authority()
    referral = f.referral(f.organisation())
    administrator = admin.create_user(email="admin@council.example", name="Ada Admin",
                                      role="admin", password=f.PASSWORD, actor=f.ACTOR).record
    f.db.session.commit()
    sign_in(client, administrator)
    page = client.get("/dev/outbox")
    assert page.status_code == 200
    assert referral.reference in page.get_data(as_text=True)


def test_dev_outbox_does_not_exist_in_production() -> None:
    from referral_service.app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 40,
                      "APP_ENV": "production", "DEV_OUTBOX_ENABLED": False,
                      "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t",
                      "TWILIO_FROM": "+447700900000", "SMTP_HOST": "127.0.0.1",
                      "MAIL_FROM": "noreply@example.org"})
    assert app.test_client().get("/dev/outbox").status_code == 404
