"""Every message the service sends: applicant texts are short, kind and reveal nothing.

Someone else may read an applicant's phone, so no applicant template may say why the person was
referred; each must fit one SMS segment with a long council name; and each names the officer by
first name only. Times are always London time, either side of a clock change.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from notifications import policy, templates
from notifications.templates import Text
from referral_service.models.enums import SUPPORT_NEEDS

# A Wednesday at 12:30 London: the longest form ``when`` prints ("Wed 25 Nov, 12:30pm").
DUE = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
REFERENCE = "DTR-HKQ7MX"
TEAM_PHONE = "+441707357000"  # as stored: admin.create_authority keeps E.164

LONG_COUNCILS = ["Welwyn Hatfield", "Basingstoke and Deane", "Newcastle-under-Lyme"]
OFFICERS = ["Jo Smith", "Christopher Hall-Jones", "Aoife O'Neill"]

# Each applicant template, called with (council, officer full name or None, team phone or None).
# ``applicant_officer_changed`` always has an officer: it is sent because one was named.
APPLICANT_TEMPLATES: dict[str, Callable[[str, str | None, str | None], Text]] = {
    "applicant_received": lambda council, officer, phone: templates.applicant_received(
        council, officer, phone, DUE, REFERENCE),
    "applicant_officer_changed": lambda council, officer, phone:
        templates.applicant_officer_changed(council, officer or "Jo Smith", phone, REFERENCE),
    "applicant_contact_failed": lambda council, officer, phone:
        templates.applicant_contact_failed(council, officer, phone, REFERENCE),
}

# Words that would hint at domestic abuse to someone reading a MARAC victim's phone, beyond the
# REVEALING list the policy itself enforces.
ABUSE_HINTS = re.compile(r"\b(safe\w*|danger\w*|harm\w*|risk\w*|police|partner|refuge|abus\w*)\b",
                         re.IGNORECASE)


def every_applicant_text() -> list[tuple[str, str, str | None, str | None]]:
    return [(name, council, officer, phone)
            for name in APPLICANT_TEMPLATES
            for council in LONG_COUNCILS
            for officer in [*OFFICERS, None]
            for phone in (TEAM_PHONE, None)]


ALL_INPUTS = pytest.mark.parametrize(("template", "council", "officer", "phone"),
                                     every_applicant_text())


# --- applicant templates ------------------------------------------------------------------


@ALL_INPUTS
def test_applicant_texts_reveal_nothing(template: str, council: str, officer: str | None,
                                        phone: str | None) -> None:
    text = APPLICANT_TEMPLATES[template](council, officer, phone)
    assert text.subject is None
    assert policy.REVEALING.search(text.body) is None, text.body
    assert ABUSE_HINTS.search(text.body) is None, text.body


@ALL_INPUTS
def test_applicant_texts_fit_one_sms_segment(template: str, council: str, officer: str | None,
                                             phone: str | None) -> None:
    body = APPLICANT_TEMPLATES[template](council, officer, phone).body
    assert len(body) <= templates.GSM_SEGMENT, (len(body), body)
    assert templates.sms_segments(body) == 1
    # Plain GSM-7: one curly quote or emoji would make it Unicode and halve the segment.
    assert body.isascii(), body


@ALL_INPUTS
def test_applicant_texts_quote_council_and_reference(template: str, council: str,
                                                     officer: str | None,
                                                     phone: str | None) -> None:
    body = APPLICANT_TEMPLATES[template](council, officer, phone).body
    assert body.startswith(f"{council} Council: ")
    assert REFERENCE in body
    assert (phone in body) if phone else ("call" not in body)


@pytest.mark.parametrize("template", list(APPLICANT_TEMPLATES))
def test_applicant_texts_name_the_officer_by_first_name_only(template: str) -> None:
    body = APPLICANT_TEMPLATES[template]("Welwyn Hatfield", "Christopher Hall-Jones", None).body
    assert "Christopher" in body
    assert "Hall" not in body and "Jones" not in body


def test_receipt_text_says_who_will_contact_and_by_when() -> None:
    named = templates.applicant_received("Welwyn Hatfield", "Jo Smith", TEAM_PHONE, DUE,
                                         REFERENCE).body
    queued = templates.applicant_received("Welwyn Hatfield", None, None, DUE, REFERENCE).body
    assert "Jo from our team will contact you by Wed 25 Nov, 12:30pm" in named
    assert "Someone from our team will contact you by Wed 25 Nov, 12:30pm" in queued


def test_the_revealing_words_include_every_support_need_and_the_panels() -> None:
    """The last check in ``policy`` is only as good as its list."""
    for need in SUPPORT_NEEDS:
        phrase = need.replace("_", " ")
        assert policy.REVEALING.search(f"About your {phrase} today"), phrase
    for words in ("domestic abuse", "MARAC", "MAPPA", "refuge", "prison", "probation",
                  "hospital", "discharged", "evicted", "homelessness", "section 21",
                  "rough sleeping", "arrears"):
        assert policy.REVEALING.search(f"Your {words} case"), words
    assert policy.REVEALING.search("Welwyn Hatfield Council: Jo will contact you") is None


# --- officer, team leader and referrer templates -----------------------------------------


@pytest.mark.parametrize("kind", ["accept_overdue", "deadline_approaching", "deadline_missed",
                                  "release_tomorrow", "sms_unreachable", "reply_received",
                                  "sms_delivery_unknown", "email_delivery_unknown"])
def test_every_officer_reminder_has_a_subject_and_the_reference(kind: str) -> None:
    text = templates.officer_reminder(kind, "Jo Smith", REFERENCE, DUE)
    assert text.subject and REFERENCE in text.subject
    assert text.body.startswith("Hello Jo,") and REFERENCE in text.body


def test_officer_assignment_marks_urgent_cases() -> None:
    urgent = templates.officer_assigned("Jo Smith", REFERENCE, DUE, urgent=True)
    routine = templates.officer_assigned("Jo Smith", REFERENCE, DUE, urgent=False)
    assert urgent.subject == f"URGENT: New referral {REFERENCE} for you"
    assert routine.subject == f"New referral {REFERENCE} for you"
    assert "Wed 25 Nov, 12:30pm" in routine.body


def test_team_leader_escalation_says_what_is_late_and_whose() -> None:
    late_accept = templates.team_leader_escalation("accept_overdue", REFERENCE, "Jo Smith", DUE)
    missed = templates.team_leader_escalation("deadline_missed", REFERENCE, None, DUE)
    assert late_accept.subject == f"Escalation: {REFERENCE} has not been accepted"
    assert "(Jo Smith)" in late_accept.body
    assert missed.subject == f"Escalation: {REFERENCE} has no contact attempt"
    assert "(the team queue)" in missed.body


def test_referrer_acknowledgement_quotes_the_reference() -> None:
    named = templates.referrer_acknowledgement("Sam Patel", REFERENCE, "Welwyn Hatfield",
                                               "Jo Smith", DUE)
    queued = templates.referrer_acknowledgement("Sam Patel", REFERENCE, "Welwyn Hatfield", None,
                                                DUE)
    assert named.subject == f"Referral received: {REFERENCE}"
    assert "Hello Sam," in named.body and "The named officer is Jo Smith." in named.body
    assert "team queue" in queued.body
    assert "Wed 25 Nov, 12:30pm" in named.body


# --- when() and sms_segments() --------------------------------------------------------------


@pytest.mark.parametrize(("moment", "expected"), [
    # Spring forward (Sunday 29 March 2026, 01:00 UTC): 17:00 London is 17:00 UTC before…
    (datetime(2026, 3, 27, 17, 0, tzinfo=UTC), "Fri 27 Mar, 5pm"),
    # …and 16:00 UTC after.
    (datetime(2026, 3, 30, 16, 0, tzinfo=UTC), "Mon 30 Mar, 5pm"),
    # Fall back (Sunday 25 October 2026, 01:00 UTC).
    (datetime(2026, 10, 23, 16, 0, tzinfo=UTC), "Fri 23 Oct, 5pm"),
    (datetime(2026, 10, 26, 17, 0, tzinfo=UTC), "Mon 26 Oct, 5pm"),
    # In summer time, 23:30 UTC is already the next day in London.
    (datetime(2026, 6, 15, 23, 30, tzinfo=UTC), "Tue 16 Jun, 12:30am"),
    (datetime(2026, 11, 23, 9, 5, tzinfo=UTC), "Mon 23 Nov, 9:05am"),
    (datetime(2026, 11, 23, 12, 0, tzinfo=UTC), "Mon 23 Nov, 12pm"),
])
def test_when_prints_london_time(moment: datetime, expected: str) -> None:
    assert templates.when(moment) == expected


@pytest.mark.parametrize(("length", "segments"), [
    (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4),
])
def test_sms_segments(length: int, segments: int) -> None:
    assert templates.sms_segments("x" * length) == segments


def test_first_name() -> None:
    assert templates.first_name("Jo Smith") == "Jo"
    assert templates.first_name("  Jo   Smith ") == "Jo"
    assert templates.first_name("Prince") == "Prince"
