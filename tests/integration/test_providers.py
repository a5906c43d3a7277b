"""The provider adapters, each through its real client against a real local server.

SMS: the real ``twilio`` client talks HTTP to a fake Twilio API on 127.0.0.1
(``tests.fakes.twilio``). Email: smtplib talks to a real aiosmtpd server started here, with
STARTTLS on a self-signed certificate made for the test. A guard refuses every name lookup
except loopback, so a test that tried to reach api.twilio.com (or anything else) would fail.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from integrations import twilio_sms
from integrations.dev_outbox import DevOutboxSender
from integrations.ports import (
    OPTED_OUT,
    Accepted,
    DeliveryStatus,
    Email,
    FateUnknownError,
    PermanentError,
    RetryableError,
    Sms,
    StatusEvent,
)
from integrations.providers import email_sender, sms_sender
from integrations.smtp_email import SmtpEmailSender
from integrations.twilio_sms import TwilioSmsSender
from referral_service import config as app_config
from tests.fakes.smtp import Mailbox, StartServer, closed_port, smtp_servers
from tests.fakes.twilio import FakeTwilio, fake_twilio  # noqa: F401 - the fixture
from tests.tls_certificates import self_signed

TO = "+447700900123"
BODY = "Your housing referral REF-1234 has been received. Reply STOP to opt out."
CALLBACK = "https://referrals.example.gov.uk/webhooks/twilio/status"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


# --- the network guard --------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host name a test tried to resolve; any but loopback is refused."""
    seen: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        seen.append(name)
        if name not in LOOPBACK:
            raise socket.gaierror(socket.EAI_NONAME, f"test guard: no lookups of {name}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    return seen


def sms(**overrides: Any) -> Sms:
    fields: dict[str, Any] = {"to": TO, "body": BODY,
                              "reference": "3f1d0c2e-0000-4000-8000-000000000001",
                              "status_callback": CALLBACK, "validity_seconds": 14400}
    return Sms(**{**fields, **overrides})


@pytest.fixture
def twilio_sender(fake_twilio: FakeTwilio) -> Iterator[TwilioSmsSender]:  # noqa: F811
    sender = TwilioSmsSender(fake_twilio.account_sid, fake_twilio.auth_token,
                             from_number="+447700900001", api_base_url=fake_twilio.url)
    yield sender
    sender.close()


# --- Twilio ---------------------------------------------------------------------------------------
def test_sms_reaches_the_fake_with_every_field_as_sent(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSmsSender, lookups: list[str],  # noqa: F811
) -> None:
    accepted = twilio_sender.send_sms(sms())

    assert re.fullmatch(r"SM[0-9a-f]{32}", accepted.provider_id)
    assert accepted == Accepted(accepted.provider_id, "queued")
    [message] = fake_twilio.messages
    assert message == {"To": TO, "From": "+447700900001", "Body": BODY,
                       "StatusCallback": CALLBACK + "?message=3f1d0c2e-0000-4000-8000-000000000001",
                       "ValidityPeriod": "14400",
                       "sid": accepted.provider_id}
    [request] = fake_twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert request.authorised
    assert set(lookups) <= LOOPBACK


def test_messaging_service_is_used_instead_of_a_from_number_and_optional_fields_are_left_out(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    sender = TwilioSmsSender(fake_twilio.account_sid, fake_twilio.auth_token,
                             messaging_service_sid="MG" + "0" * 32, api_base_url=fake_twilio.url)
    try:
        sender.send_sms(sms(status_callback=None, validity_seconds=None))
    finally:
        sender.close()

    [message] = fake_twilio.messages
    assert message["MessagingServiceSid"] == "MG" + "0" * 32
    assert {"From", "StatusCallback", "ValidityPeriod"}.isdisjoint(message)


def test_without_a_base_url_the_client_aims_at_twilio_itself(
    lookups: list[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The override is what keeps tests local: without it the same call goes to api.twilio.com
    (here refused by the guard, so it is a retryable connection error)."""
    for proxy in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)  # requests would resolve the proxy instead
    sender = TwilioSmsSender("AC" + "1" * 32, "token", from_number="+447700900001")
    try:
        assert sender.api_base_url == "https://api.twilio.com"
        with pytest.raises(RetryableError):
            sender.send_sms(sms())
    finally:
        sender.close()
    assert lookups == ["api.twilio.com"]


@pytest.mark.parametrize("code", [21211, 21610, 21614, 21408, 21612])
def test_twilio_refusals_for_the_recipient_are_permanent_with_the_code(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSmsSender, code: int,  # noqa: F811
) -> None:
    fake_twilio.fail_next(400, code)

    with pytest.raises(PermanentError) as raised:
        twilio_sender.send_sms(sms())

    assert raised.value.code == code
    # Only an unsubscribed recipient is one of our kinds: the service remembers the opt-out.
    assert raised.value.kind == (OPTED_OUT if code == 21610 else None)
    assert fake_twilio.messages == []
    # The next request is not affected.
    assert twilio_sender.send_sms(sms()).status == "queued"


def test_other_4xx_answers_are_permanent(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSmsSender,  # noqa: F811
) -> None:
    fake_twilio.fail_next(400, 21617)  # body too long
    with pytest.raises(PermanentError) as raised:
        twilio_sender.send_sms(sms())
    assert raised.value.code == 21617


@pytest.mark.parametrize(("status", "code"), [(500, None), (503, None), (429, 20429)])
def test_server_errors_and_rate_limits_are_retryable(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSmsSender,  # noqa: F811
    status: int, code: int | None,
) -> None:
    fake_twilio.fail_next(status, code, times=2)

    for _ in range(2):
        with pytest.raises(RetryableError):
            twilio_sender.send_sms(sms())

    assert twilio_sender.send_sms(sms()).status == "queued"
    assert len(fake_twilio.requests) == 3
    assert len(fake_twilio.messages) == 1


def test_a_closed_port_is_retryable() -> None:
    sender = TwilioSmsSender("AC" + "1" * 32, "token", from_number="+447700900001",
                             api_base_url=f"http://127.0.0.1:{closed_port()}")
    try:
        with pytest.raises(RetryableError):
            sender.send_sms(sms())
    finally:
        sender.close()


@pytest.mark.parametrize(("trouble", "accepted"), [
    ("answer_late_next", 1),  # Twilio took it; its answer comes after the client's timeout
    ("drop_next", 1),         # Twilio took it; the connection closed before the answer
    ("hang_next", 0),         # the request went and nothing came back
])
def test_no_answer_after_the_request_went_leaves_its_fate_unknown(
    fake_twilio: FakeTwilio, trouble: str, accepted: int,  # noqa: F811
) -> None:
    """Not retryable: Twilio may have the message, and sending again could text the person
    twice. The reconciler asks Twilio's message list instead (test_batches.py)."""
    sender = TwilioSmsSender(fake_twilio.account_sid, fake_twilio.auth_token,
                             from_number="+447700900001", api_base_url=fake_twilio.url,
                             timeout=0.3)
    getattr(fake_twilio, trouble)()
    try:
        with pytest.raises(FateUnknownError) as raised:
            sender.send_sms(sms())
    finally:
        sender.close()
    assert raised.value.provider_id is None  # Twilio names its messages itself
    assert len(fake_twilio.messages) == accepted
    assert len(fake_twilio.requests) == 1


def test_bad_credentials_are_permanent(fake_twilio: FakeTwilio) -> None:  # noqa: F811
    # Permanent, by decision: a wrong SID or token does not heal by waiting, so retrying every
    # message only hammers Twilio's auth; failing at once makes the fallback run and a person
    # find out now. The code (20003) says it is our configuration, not the recipient.
    sender = TwilioSmsSender(fake_twilio.account_sid, "not-the-token",
                             from_number="+447700900001", api_base_url=fake_twilio.url)
    try:
        with pytest.raises(PermanentError) as raised:
            sender.send_sms(sms())
    finally:
        sender.close()
    assert raised.value.code == 20003
    [request] = fake_twilio.requests
    assert not request.authorised


def test_errors_and_logs_never_carry_the_number_or_the_body(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSmsSender,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    twilio_sender.send_sms(sms())
    fake_twilio.fail_next(400, 21211)
    with pytest.raises(PermanentError) as raised:
        twilio_sender.send_sms(sms())

    for text in (str(raised.value), caplog.text):
        assert TO not in text and TO[1:] not in text
        assert "REF-1234" not in text
    # Twilio's own exception (whose message can quote the number) is not chained for tracebacks.
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_sender_needs_a_from_number_or_a_messaging_service() -> None:
    with pytest.raises(ValueError, match="from_number or messaging_service_sid"):
        TwilioSmsSender("AC" + "1" * 32, "token")


# --- Twilio: looking up what was sent (find_sent) ----------------------------------------------
def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_find_sent_finds_our_message_in_twilios_list(
        twilio_sender: TwilioSmsSender, fake_twilio: FakeTwilio) -> None:  # noqa: F811
    since = _now()
    sent = twilio_sender.send_sms(sms())
    twilio_sender.send_sms(sms(body="Another message to the same number"))
    twilio_sender.send_sms(sms(to="+447700900456"))
    assert twilio_sender.find_sent(TO, BODY, since) == [
        twilio_sms.status_event(sent.provider_id, "queued", None)]
    [lookup] = [r for r in fake_twilio.requests if r.method == "GET"]
    assert lookup.authorised and lookup.form == {"To": TO, "From": "+447700900001",
                                                 "PageSize": "100"}


def test_find_sent_carries_twilios_error_code_for_a_failed_message(
        twilio_sender: TwilioSmsSender, fake_twilio: FakeTwilio) -> None:  # noqa: F811
    since = _now()
    sent = twilio_sender.send_sms(sms())
    fake_twilio.set_status(sent.provider_id, "failed", error_code=21610)
    assert twilio_sender.find_sent(TO, BODY, since) == [
        StatusEvent(sent.provider_id, "failed", DeliveryStatus.FAILED, error_code="21610",
                    failure_kind=OPTED_OUT)]


def test_find_sent_says_none_was_sent_when_twilio_has_none(
        twilio_sender: TwilioSmsSender) -> None:
    twilio_sender.send_sms(sms(body="Something else"))
    assert twilio_sender.find_sent(TO, BODY, _now()) == []


def test_find_sent_ignores_messages_from_before_the_claim(
        twilio_sender: TwilioSmsSender) -> None:
    twilio_sender.send_sms(sms())
    later = _now() + twilio_sms.CLOCK_SKEW + dt.timedelta(minutes=1)
    assert twilio_sender.find_sent(TO, BODY, later) == []


def test_find_sent_matches_a_body_twilio_re_encoded(twilio_sender: TwilioSmsSender) -> None:
    since = _now()
    sent = twilio_sender.send_sms(sms(body="Your officer's name is Sam \u2013 call  us."))
    found = twilio_sender.find_sent(TO, "Your officer\u2019s name is Sam - call us.", since)
    assert found == [
        twilio_sms.status_event(sent.provider_id, "queued", None)]


def test_find_sent_follows_the_pages_and_says_when_it_cannot_tell(
        twilio_sender: TwilioSmsSender, monkeypatch: pytest.MonkeyPatch) -> None:
    since = _now()
    wanted = twilio_sender.send_sms(sms())
    for n in range(2):
        twilio_sender.send_sms(sms(body=f"Later message {n}"))
    monkeypatch.setattr(twilio_sms, "LOOKUP_PAGE_SIZE", 1)
    monkeypatch.setattr(twilio_sms, "LOOKUP_MAX_PAGES", 3)
    assert twilio_sender.find_sent(TO, BODY, since) == [
        twilio_sms.status_event(wanted.provider_id, "queued", None)]
    monkeypatch.setattr(twilio_sms, "LOOKUP_MAX_PAGES", 2)
    assert twilio_sender.find_sent(TO, BODY, since) is None  # the oldest page was never read


@pytest.mark.parametrize("failure", ["closed port", "refused credentials"])
def test_a_lookup_that_cannot_reach_twilio_is_retryable(
        failure: str, fake_twilio: FakeTwilio) -> None:  # noqa: F811
    base_url = f"http://127.0.0.1:{closed_port()}" if failure == "closed port" else fake_twilio.url
    sender = TwilioSmsSender(fake_twilio.account_sid,
                             "wrong-token" if failure == "refused credentials" else "x",
                             from_number="+447700900001", api_base_url=base_url)
    try:
        with pytest.raises(RetryableError, match="Twilio lookup failed"):
            sender.find_sent(TO, BODY, _now())
    finally:
        sender.close()


# --- SMTP: a real aiosmtpd server ----------------------------------------------------------------
@pytest.fixture
def smtp_server() -> Iterator[StartServer]:
    """Start a real aiosmtpd server on a free loopback port; returns the port."""
    yield from smtp_servers()

@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and its key), made for this run."""
    return self_signed(tmp_path_factory.mktemp("tls"), "127.0.0.1", ["localhost"],
                       ("127.0.0.1",))

def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def client_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def check_login(server: Any, session: Any, envelope: Any, mechanism: str,
                auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword)
          and (auth_data.login, auth_data.password) == (b"mailer", b"s3cret"))
    # handled=False: aiosmtpd then answers a failure with its own 535 (True means "I replied").
    return AuthResult(success=ok, handled=False, auth_data="mailer" if ok else None)


def mail(**overrides: Any) -> Email:
    fields: dict[str, Any] = {
        "to": "applicant@example.org", "subject": "Your housing referral",
        "text": "Your referral has been received.",
        "html": "<p>Your referral has been <strong>received</strong>.</p>",
        "reference": "9b2e6a40-1111-4000-8000-000000000002"}
    return Email(**{**fields, **overrides})


def plain_sender(port: int, **overrides: Any) -> SmtpEmailSender:
    options: dict[str, Any] = {"starttls": False,
                               "mail_from": "Housing Options <referrals@council.example.gov.uk>",
                               "timeout": 5}
    return SmtpEmailSender("127.0.0.1", port, **{**options, **overrides})


def test_email_arrives_with_text_and_html_and_our_reference_in_the_message_id(
    smtp_server: StartServer,
) -> None:
    mailbox = Mailbox()
    port = smtp_server(mailbox)

    accepted = plain_sender(port).send_email(mail())

    [received] = mailbox.received
    message = received["message"]
    assert received["mail_from"] == "referrals@council.example.gov.uk"
    assert received["rcpt_tos"] == ["applicant@example.org"]
    assert message["Subject"] == "Your housing referral"
    assert message["To"] == "applicant@example.org"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().strip() == "Your referral has been received."
    assert "<strong>received</strong>" in message.get_body(("html",)).get_content()
    assert message["Message-ID"] == (
        "<9b2e6a40-1111-4000-8000-000000000002@council.example.gov.uk>")
    assert accepted == Accepted("9b2e6a40-1111-4000-8000-000000000002@council.example.gov.uk",
                                "sent")
    assert len(accepted.provider_id) <= 64  # OutboxMessage.provider_id is String(64)


def test_email_without_html_is_plain_text(smtp_server: StartServer) -> None:
    mailbox = Mailbox()
    plain_sender(smtp_server(mailbox)).send_email(mail(html=None))
    assert mailbox.received[0]["message"].get_content_type() == "text/plain"


@pytest.mark.parametrize("stage", ["rcpt_reply", "data_reply"])
def test_a_550_is_permanent_with_the_code(smtp_server: StartServer, stage: str) -> None:
    port = smtp_server(Mailbox(**{stage: "550 5.1.1 Mailbox unavailable"}))
    with pytest.raises(PermanentError) as raised:
        plain_sender(port).send_email(mail())
    assert raised.value.code == 550


@pytest.mark.parametrize("stage", ["rcpt_reply", "data_reply"])
def test_a_451_is_retryable_with_the_code(smtp_server: StartServer, stage: str) -> None:
    port = smtp_server(Mailbox(**{stage: "451 4.3.0 Try again later"}))
    with pytest.raises(RetryableError) as raised:
        plain_sender(port).send_email(mail())
    assert raised.value.code == 451


def test_a_closed_smtp_port_is_retryable() -> None:
    with pytest.raises(RetryableError):
        plain_sender(closed_port()).send_email(mail())


def test_starttls_then_login_then_the_email(
    smtp_server: StartServer, certificate: tuple[Path, Path],
) -> None:
    mailbox = Mailbox()
    port = smtp_server(mailbox, tls_context=server_tls(certificate), require_starttls=True,
                       authenticator=check_login, auth_required=True)
    sender = SmtpEmailSender("127.0.0.1", port, username="mailer", password="s3cret",
                             starttls=True, mail_from="referrals@council.example.gov.uk",
                             timeout=5, tls_context=client_tls(certificate))

    assert sender.send_email(mail()).status == "sent"
    [received] = mailbox.received
    assert received["tls"] and received["login"]


def test_a_wrong_smtp_password_is_permanent(
    smtp_server: StartServer, certificate: tuple[Path, Path],
) -> None:
    port = smtp_server(Mailbox(), tls_context=server_tls(certificate), require_starttls=True,
                       authenticator=check_login, auth_required=True)
    sender = SmtpEmailSender("127.0.0.1", port, username="mailer", password="wrong",
                             mail_from="referrals@council.example.gov.uk", timeout=5,
                             tls_context=client_tls(certificate))
    with pytest.raises(PermanentError) as raised:
        sender.send_email(mail())
    assert raised.value.code == 535


def test_an_untrusted_certificate_is_a_retryable_transport_failure(
    smtp_server: StartServer, certificate: tuple[Path, Path],
) -> None:
    """With the system's CAs the self-signed certificate is refused before anything is sent."""
    mailbox = Mailbox()
    port = smtp_server(mailbox, tls_context=server_tls(certificate), require_starttls=True)
    sender = SmtpEmailSender("127.0.0.1", port, mail_from="referrals@council.example.gov.uk",
                             timeout=5)
    with pytest.raises(RetryableError, match="SSLCertVerificationError"):
        sender.send_email(mail())
    assert mailbox.received == []


def test_starttls_asked_but_not_offered_is_permanent_and_names_the_setting(
    smtp_server: StartServer,
) -> None:
    mailbox = Mailbox()
    port = smtp_server(mailbox)  # no tls_context: STARTTLS is not advertised
    with pytest.raises(PermanentError, match=r"does not offer STARTTLS.*SMTP_STARTTLS"):
        plain_sender(port, starttls=True).send_email(mail())
    assert mailbox.received == []


@pytest.mark.parametrize("after_data", ["drop", "late"])
def test_no_answer_after_the_message_data_leaves_the_emails_fate_unknown(
    smtp_server: StartServer, after_data: str,
) -> None:
    """The server has the whole message; the connection closes (or the answer comes after the
    client's timeout). Sending again would very likely be a second email: fate unknown, with
    the Message-ID the server knows it by."""
    mailbox = Mailbox(after_data=after_data)
    port = smtp_server(mailbox)
    with pytest.raises(FateUnknownError) as raised:
        plain_sender(port, timeout=0.5).send_email(mail())
    assert raised.value.provider_id == (
        "9b2e6a40-1111-4000-8000-000000000002@council.example.gov.uk")
    assert len(mailbox.received) == 1


def test_a_server_that_answers_data_slowly_but_in_time_is_a_normal_send(
    smtp_server: StartServer,
) -> None:
    mailbox = Mailbox(after_data="late", late_seconds=0.1)
    port = smtp_server(mailbox)
    assert plain_sender(port, timeout=5).send_email(mail()).status == "sent"
    assert len(mailbox.received) == 1


def test_without_starttls_a_server_that_requires_it_refuses_permanently(
    smtp_server: StartServer, certificate: tuple[Path, Path],
) -> None:
    port = smtp_server(Mailbox(), tls_context=server_tls(certificate), require_starttls=True)
    with pytest.raises(PermanentError) as raised:
        plain_sender(port).send_email(mail())
    assert raised.value.code == 530


def test_credentials_are_never_sent_without_starttls() -> None:
    with pytest.raises(ValueError, match="STARTTLS"):
        SmtpEmailSender("127.0.0.1", 25, username="u", password="p", starttls=False,
                        mail_from="referrals@council.example.gov.uk")


def test_a_header_with_a_line_break_is_permanent_and_nothing_is_sent(
    smtp_server: StartServer,
) -> None:
    mailbox = Mailbox()
    port = smtp_server(mailbox)
    with pytest.raises(PermanentError):
        plain_sender(port).send_email(mail(subject="Hello\r\nBcc: someone@example.org"))
    with pytest.raises(PermanentError):
        plain_sender(port).send_email(mail(to="a@example.org, b@example.org"))
    assert mailbox.received == []


# --- the development outbox -----------------------------------------------------------------------
def test_dev_outbox_sends_nothing_and_says_delivered() -> None:
    outbox = DevOutboxSender()
    assert outbox.send_sms(sms(reference="abc")) == Accepted("dev-abc", "delivered")
    assert outbox.send_email(mail(reference="def")) == Accepted("dev-def", "delivered")


# --- choosing the providers from the config ---------------------------------------------------
def load_config(tmp_path: Path, **environ: str) -> dict[str, object]:
    """The real Flask config mapping, built by config.py from these variables alone."""
    return app_config.load(tmp_path, environ=environ)


def test_no_provider_settings_mean_the_dev_outbox_when_switched_on(tmp_path: Path) -> None:
    config = load_config(tmp_path, DEV_OUTBOX="on")
    assert isinstance(sms_sender(config), DevOutboxSender)
    assert isinstance(email_sender(config), DevOutboxSender)


def test_no_provider_settings_and_no_dev_outbox_refuse_to_start(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    with pytest.raises(RuntimeError, match=r"SMS is not configured \(DEV_OUTBOX not on"):
        sms_sender(config)
    with pytest.raises(RuntimeError, match=r"Email is not configured \(DEV_OUTBOX not on"):
        email_sender(config)


def test_partial_twilio_settings_fall_back_to_the_dev_outbox_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    config = load_config(tmp_path, TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN="t",
                         DEV_OUTBOX="on")
    assert isinstance(sms_sender(config), DevOutboxSender)
    assert "TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID" in caplog.text


def test_twilio_settings_choose_twilio_at_the_configured_base_url(
    tmp_path: Path, fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    config = load_config(tmp_path, TWILIO_ACCOUNT_SID=fake_twilio.account_sid,
                         TWILIO_AUTH_TOKEN=fake_twilio.auth_token,
                         TWILIO_MESSAGING_SERVICE_SID="MG" + "2" * 32,
                         TWILIO_API_BASE_URL=fake_twilio.url)
    sender = sms_sender(config)
    assert isinstance(sender, TwilioSmsSender)
    try:
        sender.send_sms(sms())
    finally:
        sender.close()
    assert fake_twilio.messages[0]["MessagingServiceSid"] == "MG" + "2" * 32


def test_smtp_settings_choose_smtp(tmp_path: Path, smtp_server: StartServer) -> None:
    mailbox = Mailbox()
    port = smtp_server(mailbox)
    config = load_config(tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port),
                         SMTP_STARTTLS="false", MAIL_FROM="referrals@council.example.gov.uk")
    sender = email_sender(config)
    assert isinstance(sender, SmtpEmailSender)
    assert (sender.port, sender.starttls) == (port, False)
    sender.send_email(mail())
    assert len(mailbox.received) == 1


def test_provider_timeouts_come_from_the_settings(tmp_path: Path) -> None:
    settings = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t",
                "TWILIO_FROM": "+447700900001", "SMTP_HOST": "smtp.example.org",
                "MAIL_FROM": "referrals@council.example.gov.uk"}
    defaults = load_config(tmp_path, **settings)
    chosen = load_config(tmp_path, **settings, TWILIO_TIMEOUT_SECONDS="2.5",
                         SMTP_TIMEOUT_SECONDS="4")
    for config, expected in ((defaults, (10.0, 10.0)), (chosen, (2.5, 4.0))):
        sms_provider, email_provider = sms_sender(config), email_sender(config)
        assert isinstance(sms_provider, TwilioSmsSender)
        assert isinstance(email_provider, SmtpEmailSender)
        sms_provider.close()
        assert (sms_provider.timeout, email_provider.timeout) == expected


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_a_timeout_that_is_not_a_positive_number_stops_start_up(
    tmp_path: Path, value: str,
) -> None:
    with pytest.raises(RuntimeError, match="SMTP_TIMEOUT_SECONDS must be a positive number"):
        load_config(tmp_path, SMTP_TIMEOUT_SECONDS=value)


def test_smtp_starttls_is_on_unless_turned_off(tmp_path: Path) -> None:
    config = load_config(tmp_path, SMTP_HOST="smtp.example.org",
                         MAIL_FROM="referrals@council.example.gov.uk")
    sender = email_sender(config)
    assert isinstance(sender, SmtpEmailSender)
    assert (sender.port, sender.starttls) == (587, True)


def test_production_without_providers_refuses_to_start(tmp_path: Path) -> None:
    config = load_config(tmp_path, APP_ENV="production", SECRET_KEY="k",
                         TWILIO_ACCOUNT_SID="AC" + "1" * 32)
    with pytest.raises(RuntimeError, match=r"SMS is not configured.*TWILIO_AUTH_TOKEN"):
        sms_sender(config)
    with pytest.raises(RuntimeError, match=r"Email is not configured.*SMTP_HOST, MAIL_FROM"):
        email_sender(config)


def test_production_with_providers_uses_them(tmp_path: Path) -> None:
    config = load_config(tmp_path, APP_ENV="production", SECRET_KEY="k",
                         TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN="t",
                         TWILIO_FROM="+447700900001", SMTP_HOST="smtp.example.org",
                         SMTP_USERNAME="u", SMTP_PASSWORD="p",
                         MAIL_FROM="referrals@council.example.gov.uk")
    sender = sms_sender(config)
    assert isinstance(sender, TwilioSmsSender)
    sender.close()
    assert isinstance(email_sender(config), SmtpEmailSender)
