"""Providers speak our words (issue 13.4): Twilio's status words, error codes and opt-out
keywords are mapped to ours in ``integrations/`` and named nowhere else."""
from __future__ import annotations

import re
from pathlib import Path

from twilio.request_validator import RequestValidator

from integrations import twilio_sms
from integrations.ports import OPTED_OUT, DeliveryStatus, TextKind

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE_INTEGRATIONS = [ROOT / "referral_service", ROOT / "notifications"]
# Twilio's status words that are not also ours ("accepted" is a referral's status, "sent" a
# message's), its keywords and form fields, as string literals; and its error codes, as strings
# or numbers (21610 is as much Twilio's as "21610").
TWILIO_WORDS = re.compile(
    r"""["'](undelivered|canceled|scheduled|STOP|STOPALL|UNSUBSCRIBE|UNSTOP|START|OPTOUT|"""
    r"""OPTIN|MessageSid|ErrorCode|X-Twilio-Signature)["']|\b(2\d{4}|30\d{3})\b""")


def twilio_words_in(directories: list[Path]) -> list[str]:
    found = []
    for directory in directories:
        for path in sorted(directory.rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if TWILIO_WORDS.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_nothing_outside_integrations_names_a_twilio_word_or_code() -> None:
    assert twilio_words_in(OUTSIDE_INTEGRATIONS) == []


def test_the_check_finds_a_twilio_word_where_one_is(tmp_path: Path) -> None:
    (tmp_path / "leak.py").write_text('if status == "undelivered" or code == 21610:\n    pass\n')
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert len(twilio_words_in([tmp_path])) == 1
    finally:
        ROOT = saved


def test_twilio_statuses_codes_and_keywords_become_ours() -> None:
    failed = twilio_sms.status_event("SM1", "undelivered", "21610", "ref")
    assert (failed.status, failed.failure_kind, failed.error_code, failed.reference) == (
        DeliveryStatus.FAILED, OPTED_OUT, "21610", "ref")
    other = twilio_sms.status_event("SM1", "failed", "30003")
    assert (other.status, other.failure_kind) == (DeliveryStatus.FAILED, None)
    assert twilio_sms.status_event("SM1", "accepted", None).status is DeliveryStatus.ON_ITS_WAY
    assert twilio_sms.status_event("SM1", "read", None).status is DeliveryStatus.DELIVERED
    assert twilio_sms.status_event("SM1", "something new", None).status is (
        DeliveryStatus.ON_ITS_WAY)
    webhooks = twilio_sms.TwilioWebhooks("token")
    stop = webhooks.parse_inbound({"MessageSid": "SM2", "From": "+447700900123",
                                   "Body": " stop all. "})
    assert stop is not None and (stop.kind, stop.keyword) == (TextKind.OPT_OUT, "STOP ALL")
    start = webhooks.parse_inbound({"MessageSid": "SM3", "From": "+447700900123",
                                    "Body": "Unstop"})
    assert start is not None and start.kind is TextKind.OPT_IN
    reply = webhooks.parse_inbound({"MessageSid": "SM4", "From": "+447700900123",
                                    "Body": "Stop by tomorrow?"})
    assert reply is not None and reply.kind is TextKind.REPLY
    assert webhooks.parse_inbound({"MessageSid": "SM5", "Body": "hi"}) is None
    assert webhooks.parse_status_callback({"MessageSid": "SM1"}, {}) is None


def test_a_signature_is_checked_against_the_url_and_form() -> None:
    url, form = "https://example.org/webhooks/twilio/status?message=x", {"MessageSid": "SM1"}
    signature = RequestValidator("token").compute_signature(url, form)
    webhooks = twilio_sms.TwilioWebhooks("token")
    assert webhooks.verify_signature(url, form, signature)
    assert not webhooks.verify_signature(url + "y", form, signature)
    assert not webhooks.verify_signature(url, {"MessageSid": "SM2"}, signature)
    assert not twilio_sms.TwilioWebhooks(None).verify_signature(url, form, signature)
    assert not webhooks.verify_signature(url, form, "")
