"""Sending a batch of outbox rows (``dispatch.deliver_batch``) and settling crashed sends from
Twilio's own records, through the real twilio client against the fake Twilio server and real
SMTP (aiosmtpd), on a database of the test's own with real commits (``fresh_app``).

The rules each test guards: send only what was claimed; a row in ``sending`` is never sent again
by the batch that gave up on it; an id is recorded by at most one row; what a provider could not
be asked about is left for the next tick, then given to an officer.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from integrations import twilio_sms
from integrations.ports import Accepted, Sms
from integrations.smtp_email import SmtpEmailSender
from notifications import actors, delivery_status, dispatch, scheduler
from referral_service import clock
from referral_service.app import create_app
from referral_service.extensions import db
from referral_service.models import Audience, Channel, MessageStatus, OutboxMessage
from tests.fakes.smtp import Mailbox, StartServer, closed_port, smtp_servers
from tests.fakes.twilio import FakeTwilio, fake_twilio  # noqa: F401 - the fixture

FROM_NUMBER = "+447700900001"


@pytest.fixture
def smtp_server() -> Iterator[StartServer]:
    yield from smtp_servers()


def app_with_twilio(fresh_app: Flask, fake_twilio: FakeTwilio,  # noqa: F811
                    **settings: Any) -> Iterator[Flask]:
    """``fresh_app``'s database with Twilio (the fake) for SMS, and ``settings``."""
    application = create_app({
        "TESTING": True, "SECRET_KEY": "test", "PUBLIC_BASE_URL": "https://dtr.example",
        "SQLALCHEMY_DATABASE_URI": fresh_app.config["SQLALCHEMY_DATABASE_URI"],
        "TWILIO_ACCOUNT_SID": fake_twilio.account_sid, "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
        "TWILIO_FROM": FROM_NUMBER, "TWILIO_API_BASE_URL": fake_twilio.url,
        "DEV_OUTBOX_ENABLED": True, **settings})
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def twilio_app(fresh_app: Flask, fake_twilio: FakeTwilio) -> Iterator[Flask]:  # noqa: F811
    yield from app_with_twilio(fresh_app, fake_twilio)


def add(app: Flask, count: int = 1, **values: Any) -> list[uuid.UUID]:
    """Queued, due SMS rows (committed); each its own number and body."""
    with app.app_context():
        messages = []
        for _ in range(count):
            tag = uuid.uuid4().hex[:6]
            fields: dict[str, Any] = {
                "channel": Channel.SMS, "audience": Audience.OFFICER, "event": "batch_test",
                "template": "batch_test", "to_address": f"+4477009{int(tag, 16) % 10**5:05d}",
                "body": f"Batch test {tag}", "not_before": clock.now() - timedelta(seconds=1)}
            messages.append(OutboxMessage(**{**fields, **values}))
        db.session.add_all(messages)
        db.session.commit()
        return [message.id for message in messages]


def row(app: Flask, message_id: uuid.UUID) -> OutboxMessage:
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert message is not None
        db.session.expunge(message)
        return message


def reconciled(now: datetime) -> dict[str, int]:
    """The reconciler's job, committed as the scheduler tick commits it (the job never does)."""
    counts = scheduler.reconcile_stuck(now)
    db.session.commit()
    return counts


def deliver(app: Flask, ids: list[uuid.UUID],
            senders: dispatch.Senders | None = None) -> dict[uuid.UUID, MessageStatus]:
    with app.app_context():
        try:
            return dispatch.deliver_batch(ids, senders or actors.thread_senders(app))
        finally:
            actors.close_thread_senders()


# --- a status callback that comes before the sid is recorded -----------------------------------

@pytest.mark.parametrize(("twilio_says", "kept"), [("delivered", MessageStatus.DELIVERED),
                                                   ("undelivered", MessageStatus.FAILED)])
def test_a_callback_before_the_sid_is_recorded_is_matched_by_the_outbox_id(
        twilio_app: Flask, fake_twilio: FakeTwilio, twilio_says: str,  # noqa: F811
        kept: MessageStatus) -> None:
    """Twilio calls the status webhook (signed, at the exact URL we gave it) before its answer
    to the send reaches the worker: the callback finds the row by the outbox id in the URL, and
    the worker's recording of "sent" afterwards does not undo it."""
    from twilio.request_validator import RequestValidator

    answers: list[int] = []

    def twilio_calls_back(message: dict[str, str]) -> None:
        url = message["StatusCallback"]
        form = {"MessageSid": message["sid"], "MessageStatus": twilio_says, "ErrorCode": "30003"}
        signature = RequestValidator(fake_twilio.auth_token).compute_signature(url, form)
        answers.append(twilio_app.test_client().post(
            url.removeprefix("https://dtr.example"), data=form,
            headers={"X-Twilio-Signature": signature}).status_code)

    [message_id] = add(twilio_app)
    fake_twilio.on_accepted = twilio_calls_back
    statuses = deliver(twilio_app, [message_id])
    [sent] = fake_twilio.messages
    assert answers == [204]
    assert statuses == {message_id: kept}
    stored = row(twilio_app, message_id)
    assert (stored.status, stored.provider_id, stored.provider_status) == (
        kept, sent["sid"], twilio_says)


def test_a_callback_naming_another_message_by_id_changes_nothing(
        twilio_app: Flask) -> None:
    """The outbox id only finds a row that has no sid yet: a signed callback cannot move a
    message Twilio knows by another sid."""
    [message_id] = add(twilio_app, status=MessageStatus.SENT, provider_id="SM" + "b" * 32)
    with twilio_app.app_context():
        assert not delivery_status.record_status(twilio_sms.status_event(
            "SM" + "c" * 32, "undelivered", None, str(message_id)))
    stored = row(twilio_app, message_id)
    assert (stored.status, stored.provider_id) == (MessageStatus.SENT, "SM" + "b" * 32)


# --- a batch sends what it claimed, and only that -----------------------------------------------

def test_a_batch_sends_only_the_rows_it_claims(twilio_app: Flask,
                                               fake_twilio: FakeTwilio) -> None:  # noqa: F811
    due = add(twilio_app, 2)
    [later] = add(twilio_app, not_before=clock.now() + timedelta(hours=1))
    [in_hand] = add(twilio_app, status=MessageStatus.SENDING, attempts=1,
                    claimed_at=clock.now())
    [done] = add(twilio_app, status=MessageStatus.SENT, attempts=1)
    statuses = deliver(twilio_app, [*due, later, in_hand, done, due[0], uuid.uuid4()])

    assert statuses == {due[0]: MessageStatus.SENT, due[1]: MessageStatus.SENT}
    sids = {message["Body"]: message["sid"] for message in fake_twilio.messages}
    assert len(fake_twilio.messages) == 2
    for message_id in due:
        sent = row(twilio_app, message_id)
        assert sent.provider_id == sids[sent.body] and sent.attempts == 1
        sent_for = next(m for m in fake_twilio.messages if m["sid"] == sent.provider_id)
        assert sent_for["StatusCallback"] == (
            f"https://dtr.example/webhooks/twilio/status?message={message_id}")
    assert row(twilio_app, later).status is MessageStatus.QUEUED
    assert row(twilio_app, in_hand).status is MessageStatus.SENDING
    assert row(twilio_app, done).status is MessageStatus.SENT


def test_a_retryable_failure_hands_the_untried_rest_back(
        twilio_app: Flask, fake_twilio: FakeTwilio) -> None:  # noqa: F811
    ids = add(twilio_app, 4)
    fake_twilio.fail_next(503)
    statuses = deliver(twilio_app, ids)
    assert set(statuses.values()) == {MessageStatus.QUEUED}
    assert len(fake_twilio.requests) == 1  # the other three were never tried
    first = row(twilio_app, ids[0])
    assert first.attempts == 1 and first.not_before > clock.now()
    for message_id in ids[1:]:
        rest = row(twilio_app, message_id)
        assert (rest.attempts, rest.claimed_at, rest.enqueued_at) == (0, None, None)
        assert rest.not_before <= clock.now()  # due: the next tick hands them over at once


class _Breaks:
    """An SMS sender that works twice, then fails in a way no adapter should (a bug)."""

    def __init__(self) -> None:
        self.calls = 0

    def send_sms(self, message: Sms) -> Accepted:
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("a bug in the middle of a batch")
        return Accepted(provider_id=f"SM-{message.reference}", status="queued")


def test_an_unexpected_error_keeps_what_was_sent_and_hands_back_what_was_not(
        twilio_app: Flask) -> None:
    ids = add(twilio_app, 5)
    breaks = _Breaks()
    with pytest.raises(RuntimeError, match="a bug"):
        deliver(twilio_app, ids, dispatch.Senders(sms=breaks, email=breaks))  # type: ignore[arg-type]
    assert [row(twilio_app, i).provider_id for i in ids[:2]] == [f"SM-{i}" for i in ids[:2]]
    assert {row(twilio_app, i).status for i in ids[:2]} == {MessageStatus.SENT}
    assert row(twilio_app, ids[2]).status is MessageStatus.SENDING  # fate unknown: reconciler
    assert {row(twilio_app, i).status for i in ids[3:]} == {MessageStatus.QUEUED}


def test_results_are_recorded_as_the_batch_goes_when_it_is_slow(
        twilio_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """With RECORD_EVERY_SECONDS passed after every send, each id is committed before the next
    send: seen here from the sender, which reads the previous row from the database."""
    monkeypatch.setattr(dispatch, "RECORD_EVERY_SECONDS", 0.0)
    ids = add(twilio_app, 3)
    seen: list[str | None] = []

    class Peeks:
        def send_sms(self, message: Sms) -> Accepted:
            position = ids.index(uuid.UUID(message.reference))
            if position:
                with twilio_app.app_context():  # another session: only committed rows
                    seen.append(db.session.get(OutboxMessage, ids[position - 1]).provider_id)  # type: ignore[union-attr]
                    db.session.remove()
            return Accepted(provider_id=f"SM-{message.reference}", status="queued")

    deliver(twilio_app, ids, dispatch.Senders(sms=Peeks(), email=Peeks()))  # type: ignore[arg-type]
    assert seen == [f"SM-{ids[0]}", f"SM-{ids[1]}"]


# --- validity period and the email's HTML part --------------------------------------------------

def test_an_expiring_text_carries_a_validity_period_no_longer_than_it_has_left(
        twilio_app: Flask, fake_twilio: FakeTwilio) -> None:  # noqa: F811
    now = clock.now()
    [day] = add(twilio_app, expires_at=now + timedelta(hours=24))
    [hour] = add(twilio_app, expires_at=now + timedelta(hours=1))
    [timeless] = add(twilio_app)
    [stale] = add(twilio_app, expires_at=now - timedelta(seconds=1))
    deliver(twilio_app, [day, hour, timeless, stale])
    sent = {message["Body"]: message for message in fake_twilio.messages}
    assert sent[row(twilio_app, day).body]["ValidityPeriod"] == str(dispatch.SMS_VALIDITY_SECONDS)
    assert 3500 <= int(sent[row(twilio_app, hour).body]["ValidityPeriod"]) <= 3600
    assert "ValidityPeriod" not in sent[row(twilio_app, timeless).body]
    out_of_date = row(twilio_app, stale)
    assert out_of_date.body not in sent and out_of_date.status is MessageStatus.FAILED
    assert out_of_date.status_reason == "Not sent: it was out of date before it could go."


def test_an_email_goes_with_a_text_and_an_html_part(
        twilio_app: Flask, smtp_server: StartServer) -> None:
    mailbox = Mailbox()
    port = smtp_server(mailbox)
    [email_id] = add(twilio_app, channel=Channel.EMAIL, to_address="officer@council.example",
                     subject="Referral R-1", body="Dear Sam,\n\nReferral R-1 <urgent> & new.\n"
                                                   "Please accept it today.")
    smtp = SmtpEmailSender("127.0.0.1", port, starttls=False, timeout=5,
                           mail_from="referrals@council.example")
    with twilio_app.app_context():
        sms = actors.thread_senders(twilio_app).sms
    deliver(twilio_app, [email_id], dispatch.Senders(sms=sms, email=smtp))
    [received] = mailbox.received
    message = received["message"]
    assert message.get_content_type() == "multipart/alternative"
    assert "Referral R-1 <urgent> & new." in message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert "<p>Dear Sam,</p>" in html
    assert "<p>Referral R-1 &lt;urgent&gt; &amp; new.<br>\nPlease accept it today.</p>" in html
    assert row(twilio_app, email_id).status is MessageStatus.SENT


# --- the reconciler asks Twilio ------------------------------------------------------------------

def stuck(app: Flask, claimed: datetime, **values: Any) -> uuid.UUID:
    [message_id] = add(app, status=MessageStatus.SENDING, attempts=1, claimed_at=claimed,
                       audience=Audience.APPLICANT, **values)
    return message_id


def send_directly(fake: FakeTwilio, to: str, body: str) -> str:
    """What a worker that then died had handed to Twilio."""
    from integrations.twilio_sms import TwilioSmsSender

    sender = TwilioSmsSender(fake.account_sid, fake.auth_token, from_number=FROM_NUMBER,
                             api_base_url=fake.url)
    try:
        return sender.send_sms(Sms(to=to, body=body, reference="x")).provider_id
    finally:
        sender.close()


def stuck_applicant_text(app: Flask, email: str) -> tuple[uuid.UUID, uuid.UUID, str, str]:
    """A referral's text to its applicant (who has this email), claimed a minute ago by a worker
    that then stopped: its id, the referral's, the number and the body."""
    from sqlalchemy import select

    from tests import factories as f

    with app.app_context():
        authority = f.authority()
        f.officer(authority)
        case = f.referral(f.organisation(), person=f.unique_person(email=email))
        text = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.referral_id == case.id, OutboxMessage.audience == Audience.APPLICANT,
            OutboxMessage.channel == Channel.SMS)).one()
        text.status, text.attempts = MessageStatus.SENDING, 1
        text.claimed_at = clock.now() - timedelta(minutes=1)
        found = (text.id, case.id, text.to_address, text.body)
        db.session.commit()
        return found


def test_two_stuck_rows_with_the_same_text_never_share_twilios_one_message(
        twilio_app: Flask, fake_twilio: FakeTwilio) -> None:  # noqa: F811
    claimed = clock.now() - timedelta(minutes=1)
    first = stuck(twilio_app, claimed, to_address="+447700900777", body="Same words")
    second = stuck(twilio_app, claimed, to_address="+447700900777", body="Same words")
    sid = send_directly(fake_twilio, "+447700900777", "Same words")
    with twilio_app.app_context():
        counts = reconciled(clock.now() + scheduler.STUCK_AFTER)
    assert (counts["stuck_sent"], counts["stuck_requeued"], counts["stuck_unknown"]) == (1, 1, 0)
    rows = [row(twilio_app, first), row(twilio_app, second)]
    assert sorted(r.status.value for r in rows) == ["queued", "sent"]
    assert [r.provider_id for r in rows if r.status is MessageStatus.SENT] == [sid]


def test_a_message_another_row_already_holds_does_not_settle_a_stuck_one(
        twilio_app: Flask, fake_twilio: FakeTwilio) -> None:  # noqa: F811
    claimed = clock.now() - timedelta(minutes=1)
    sid = send_directly(fake_twilio, "+447700900778", "Same words")
    add(twilio_app, status=MessageStatus.SENT, provider_id=sid, to_address="+447700900778",
        body="Same words")
    waiting = stuck(twilio_app, claimed, to_address="+447700900778", body="Same words")
    with twilio_app.app_context():
        assert reconciled(clock.now() + scheduler.STUCK_AFTER)[
            "stuck_requeued"] == 1
    assert row(twilio_app, waiting).status is MessageStatus.QUEUED


def test_when_twilio_cannot_be_asked_the_row_waits_then_goes_to_an_officer(
        fresh_app: Flask) -> None:
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": fresh_app.config["SQLALCHEMY_DATABASE_URI"],
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "token",
        "TWILIO_FROM": FROM_NUMBER, "TWILIO_API_BASE_URL": f"http://127.0.0.1:{closed_port()}",
        "DEV_OUTBOX_ENABLED": True})
    try:
        claimed = clock.now() - timedelta(minutes=1)
        message_id = stuck(app, claimed)
        with app.app_context():
            soon = reconciled(claimed + scheduler.STUCK_AFTER + timedelta(minutes=1))
        assert not any(soon.values())
        assert row(app, message_id).status is MessageStatus.SENDING  # asked again next tick
        with app.app_context():
            late = reconciled(claimed + scheduler.LOOKUP_GIVE_UP_AFTER
                                             + timedelta(minutes=1))
        assert late["stuck_unknown"] == 1
        given_up = row(app, message_id)
        assert given_up.status is MessageStatus.FAILED
        assert given_up.status_reason == scheduler.UNKNOWN_DELIVERY
    finally:
        with app.app_context():
            db.engine.dispose()


def test_a_stuck_text_twilio_could_not_deliver_is_failed_as_its_callback_would(
        twilio_app: Flask, fake_twilio: FakeTwilio) -> None:  # noqa: F811
    claimed = clock.now() - timedelta(minutes=1)
    message_id = stuck(twilio_app, claimed, to_address="+447700900779", body="Lost words")
    sid = send_directly(fake_twilio, "+447700900779", "Lost words")
    fake_twilio.set_status(sid, "undelivered")
    with twilio_app.app_context():
        assert reconciled(clock.now() + scheduler.STUCK_AFTER)["stuck_sent"] == 1
    failed = row(twilio_app, message_id)
    assert (failed.status, failed.provider_id, failed.provider_status) == (
        MessageStatus.FAILED, sid, "undelivered")
    assert failed.status_reason == "Not delivered (provider code none)."


def test_a_stuck_text_twilio_could_not_deliver_fails_with_its_fallback_in_one_commit(
        twilio_app: Flask, fake_twilio: FakeTwilio) -> None:  # noqa: F811
    """Settling the row and writing its fallback (here a safe email to the applicant) are one
    unit: when the fallback cannot be written (the database refuses the insert), nothing of the
    settling is kept, and the next tick does the whole of it."""
    from sqlalchemy import event, select

    message_id, referral_id, to, body = stuck_applicant_text(twilio_app, "pat@example.org")
    sid = send_directly(fake_twilio, to, body)
    fake_twilio.set_status(sid, "undelivered")

    def applicant_emails() -> list[OutboxMessage]:
        with twilio_app.app_context():
            found = list(db.session.scalars(select(OutboxMessage).where(
                OutboxMessage.referral_id == referral_id,
                OutboxMessage.audience == Audience.APPLICANT,
                OutboxMessage.channel == Channel.EMAIL)))
            db.session.expunge_all()
            return found

    class DatabaseRefused(Exception):
        pass

    def refuse_new_messages(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX_MESSAGES"):
            raise DatabaseRefused("the database went away")

    later = clock.now() + scheduler.STUCK_AFTER
    with twilio_app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", refuse_new_messages)
        try:
            with pytest.raises(DatabaseRefused):
                reconciled(later)
        finally:
            event.remove(engine, "before_cursor_execute", refuse_new_messages)
            db.session.rollback()
    halfway = row(twilio_app, message_id)
    assert (halfway.status, halfway.provider_id) == (MessageStatus.SENDING, None)
    assert applicant_emails() == []

    with twilio_app.app_context():
        assert reconciled(later)["stuck_sent"] == 1
    failed = row(twilio_app, message_id)
    assert (failed.status, failed.provider_id, failed.provider_status) == (
        MessageStatus.FAILED, sid, "undelivered")
    assert failed.status_reason == "Not delivered (provider code none)."
    [email] = applicant_emails()
    assert (email.to_address, email.body, email.status) == (
        "pat@example.org", body, MessageStatus.QUEUED)


def test_a_stuck_text_twilio_lists_as_failed_with_21610_records_the_opt_out_as_its_callback_would(
        twilio_app: Flask, fake_twilio: FakeTwilio) -> None:  # noqa: F811
    """Twilio's list says why it failed (error_code): the reason names the code, the number is
    remembered as opted out (as a status callback with ErrorCode 21610 does), and the fallback
    email is queued, all in the reconciler's one commit."""
    from sqlalchemy import select

    from referral_service.models import SmsOptOut

    message_id, referral_id, to, body = stuck_applicant_text(twilio_app, "sam@example.org")
    sid = send_directly(fake_twilio, to, body)
    fake_twilio.set_status(sid, "failed", error_code=21610)

    with twilio_app.app_context():
        assert reconciled(clock.now() + scheduler.STUCK_AFTER)["stuck_sent"] == 1
    failed = row(twilio_app, message_id)
    assert (failed.status, failed.provider_id, failed.provider_status) == (
        MessageStatus.FAILED, sid, "failed")
    assert failed.status_reason == "Not delivered (provider code 21610)."
    with twilio_app.app_context():
        opt_out = db.session.get(SmsOptOut, to)
        assert opt_out is not None and opt_out.keyword == "21610"
        [email] = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.referral_id == referral_id,
            OutboxMessage.audience == Audience.APPLICANT,
            OutboxMessage.channel == Channel.EMAIL)).all()
        assert (email.to_address, email.body, email.status) == (
            "sam@example.org", body, MessageStatus.QUEUED)


# --- no answer after the request went: fate unknown, reconciled, never resent blindly ----------

@pytest.fixture
def slow_twilio_app(fresh_app: Flask, fake_twilio: FakeTwilio) -> Iterator[Flask]:  # noqa: F811
    """``twilio_app`` whose Twilio client gives up waiting for an answer after 0.5 s."""
    yield from app_with_twilio(fresh_app, fake_twilio, TWILIO_TIMEOUT_SECONDS=0.5)


def after_stuck(message_id: uuid.UUID, app: Flask) -> datetime:
    """An instant at which the row's claim counts as stuck."""
    claimed = row(app, message_id).claimed_at
    assert claimed is not None
    return claimed + scheduler.STUCK_AFTER + timedelta(minutes=1)


@pytest.mark.parametrize("trouble", ["answer_late_next", "drop_next"])
def test_a_text_twilio_took_without_answering_in_time_is_sent_once_and_settled_from_its_list(
        slow_twilio_app: Flask, fake_twilio: FakeTwilio, trouble: str) -> None:  # noqa: F811
    app = slow_twilio_app
    ids = add(app, 2)
    getattr(fake_twilio, trouble)()
    statuses = deliver(app, ids)
    [sent] = fake_twilio.messages  # Twilio took the first; the second was never tried
    assert statuses == {ids[0]: MessageStatus.SENDING, ids[1]: MessageStatus.QUEUED}
    waiting = row(app, ids[0])
    assert (waiting.provider_id, waiting.attempts) == (None, 1)

    # Handed over again before it counts as stuck: not claimed, not sent.
    assert deliver(app, [ids[0]]) == {}
    with app.app_context():
        assert scheduler.tick(clock.now())["stuck_sent"] == 0
    assert len(fake_twilio.messages) == 1

    with app.app_context():
        counts = reconciled(after_stuck(ids[0], app))
    assert (counts["stuck_sent"], counts["stuck_requeued"]) == (1, 0)
    settled = row(app, ids[0])
    assert (settled.status, settled.provider_id) == (MessageStatus.SENT, sent["sid"])
    assert [m["Body"] for m in fake_twilio.messages] == [waiting.body]


def test_a_text_twilio_never_got_before_the_timeout_is_sent_after_its_list_shows_none(
        slow_twilio_app: Flask, fake_twilio: FakeTwilio) -> None:  # noqa: F811
    app = slow_twilio_app
    [message_id] = add(app)
    fake_twilio.hang_next(seconds=5)
    assert deliver(app, [message_id]) == {message_id: MessageStatus.SENDING}
    assert fake_twilio.messages == []

    with app.app_context():
        assert reconciled(after_stuck(message_id, app))["stuck_requeued"] == 1
    assert row(app, message_id).status is MessageStatus.QUEUED
    assert deliver(app, [message_id]) == {message_id: MessageStatus.SENT}
    [sent] = fake_twilio.messages
    stored = row(app, message_id)
    assert (stored.provider_id, stored.attempts) == (sent["sid"], 2)


def test_a_text_whose_sid_came_by_callback_while_the_answer_was_late_is_not_resent(
        slow_twilio_app: Flask, fake_twilio: FakeTwilio) -> None:  # noqa: F811
    """Twilio's "queued" callback records its sid on the row (found by the outbox id in the
    callback URL); the answer to the send never comes. The row's own sid is not "another row's"
    message: it is settled as sent, not queued again."""
    from twilio.request_validator import RequestValidator

    app = slow_twilio_app

    def twilio_calls_back(message: dict[str, str]) -> None:
        url = message["StatusCallback"]
        form = {"MessageSid": message["sid"], "MessageStatus": "queued"}
        signature = RequestValidator(fake_twilio.auth_token).compute_signature(url, form)
        assert app.test_client().post(url.removeprefix("https://dtr.example"), data=form,
                                      headers={"X-Twilio-Signature": signature}).status_code == 204

    [message_id] = add(app)
    fake_twilio.on_accepted = twilio_calls_back
    fake_twilio.answer_late_next()
    assert deliver(app, [message_id]) == {message_id: MessageStatus.SENDING}
    [sent] = fake_twilio.messages
    assert row(app, message_id).provider_id == sent["sid"]

    with app.app_context():
        counts = reconciled(after_stuck(message_id, app))
    assert (counts["stuck_sent"], counts["stuck_requeued"]) == (1, 0)
    settled = row(app, message_id)
    assert (settled.status, settled.provider_id) == (MessageStatus.SENT, sent["sid"])
    assert len(fake_twilio.messages) == 1


def applicant_email(app: Flask) -> tuple[uuid.UUID, str]:
    """A referral's email to its applicant (who prefers email), due now: its id, and the named
    officer's address."""
    from sqlalchemy import select

    from tests import factories as f

    with app.app_context():
        authority = f.authority()
        officer = f.officer(authority)
        case = f.referral(f.organisation(), person=f.unique_person(
            email="rowan@example.org", preferred_contact_method="email"))
        message = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.referral_id == case.id, OutboxMessage.audience == Audience.APPLICANT,
            OutboxMessage.channel == Channel.EMAIL)).one()
        message.not_before = clock.now() - timedelta(seconds=1)  # whatever the hour of the run
        found = (message.id, officer.email)
        db.session.commit()
        return found


@pytest.mark.parametrize("after_data", ["drop", "late"])
def test_an_email_the_server_took_without_answering_is_never_resent_and_the_officer_is_told(
        twilio_app: Flask, smtp_server: StartServer, after_data: str) -> None:
    """SMTP has no way to ask what was delivered: the row is failed as "delivery unknown",
    with the Message-ID to look for in the server's log, and the named officer decides."""
    from sqlalchemy import select

    mailbox = Mailbox(after_data=after_data)
    smtp = SmtpEmailSender("127.0.0.1", smtp_server(mailbox), starttls=False, timeout=0.5,
                           mail_from="referrals@council.example")
    senders = dispatch.Senders(sms=Unused(), email=smtp)  # type: ignore[arg-type]
    message_id, officer_email = applicant_email(twilio_app)

    assert deliver(twilio_app, [message_id], senders) == {message_id: MessageStatus.SENDING}
    waiting = row(twilio_app, message_id)
    assert waiting.provider_id == f"{message_id}@council.example"
    assert waiting.status_reason == dispatch.FATE_UNKNOWN

    with twilio_app.app_context():
        counts = reconciled(after_stuck(message_id, twilio_app))
    assert (counts["stuck_unknown"], counts["stuck_requeued"]) == (1, 0)
    settled = row(twilio_app, message_id)
    assert (settled.status, settled.status_reason) == (MessageStatus.FAILED,
                                                       scheduler.EMAIL_UNKNOWN)
    assert deliver(twilio_app, [message_id], senders) == {}
    assert len(mailbox.received) == 1
    with twilio_app.app_context():
        notice = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.event == "email_delivery_unknown")).one()
        assert notice.to_address == officer_email
        assert "will not be sent again" in notice.body


def test_an_email_refused_for_want_of_starttls_says_which_setting_to_change(
        twilio_app: Flask, smtp_server: StartServer) -> None:
    mailbox = Mailbox()
    smtp = SmtpEmailSender("127.0.0.1", smtp_server(mailbox), starttls=True, timeout=5,
                           mail_from="referrals@council.example")
    [message_id] = add(twilio_app, channel=Channel.EMAIL, to_address="officer@council.example",
                       subject="Referral R-2")
    statuses = deliver(twilio_app, [message_id],
                       dispatch.Senders(sms=Unused(), email=smtp))  # type: ignore[arg-type]
    assert statuses == {message_id: MessageStatus.FAILED}
    reason = row(twilio_app, message_id).status_reason or ""
    assert "STARTTLS" in reason and "SMTP_STARTTLS" in reason and "code None" not in reason
    assert mailbox.received == []


class Unused:
    """A sender a test's messages never reach."""

    def send_sms(self, message: Sms) -> Accepted:
        raise AssertionError("no text was expected")
