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

from notifications import languages, policy, templates
from notifications.applicant_wording import BUILT_IN, ENGLISH, VARIANTS
from notifications.templates import Text
from referral_service.models.enums import SUPPORT_NEEDS

# A Wednesday at 12:30 London: the longest form ``when`` prints ("Wed 25 Nov, 12:30pm").
DUE = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
REFERENCE = "DTR-HKQ7MX"
TEAM_PHONE = "+441707357000"  # as stored: admin.create_authority keeps E.164

LONG_COUNCILS = ["Welwyn Hatfield", "Basingstoke and Deane", "Newcastle-under-Lyme"]
OFFICERS = ["Jo Smith", "Christopher Hall-Jones", "Aoife O'Neill"]

# Each applicant template, called with (council, officer full name or None, team phone or None,
# language). ``applicant_officer_changed`` always has an officer: it is sent because one was named.
APPLICANT_TEMPLATES: dict[str, Callable[[str, str | None, str | None, str], Text]] = {
    "applicant_received": lambda council, officer, phone, language: templates.applicant_received(
        council, officer, phone, DUE, REFERENCE, language),
    "applicant_officer_changed": lambda council, officer, phone, language:
        templates.applicant_officer_changed(council, officer or "Jo Smith", phone, REFERENCE,
                                            language),
    "applicant_contact_failed": lambda council, officer, phone, language:
        templates.applicant_contact_failed(council, officer, phone, REFERENCE, language),
    "applicant_release_day": lambda council, officer, phone, language:
        templates.applicant_release_day(council, officer, phone, REFERENCE, language),
}
LANGUAGES = list(BUILT_IN)
# How each language names the council at the start of every applicant text.
COUNCIL_FIRST = {"en": "{council} Council: ", "cy": "Cyngor {council}: "}

# Words that would hint at domestic abuse to someone reading a MARAC victim's phone, beyond the
# REVEALING list the policy itself enforces; in Welsh too (safe, danger, harm, risk, police...).
ABUSE_HINTS = re.compile(r"\b(safe\w*|danger\w*|harm\w*|risk\w*|police|partner|refuge|abus\w*|"
                         r"[dt]?d?h?iogel\w*|n?[bp]h?erygl\w*|niwed\w*|risg\w*|heddlu|lloches|"
                         r"[cg]?h?am-?drin)\b", re.IGNORECASE)


def every_applicant_text() -> list[tuple[str, str, str | None, str | None, str]]:
    return [(name, council, officer, phone, language)
            for name in APPLICANT_TEMPLATES
            for council in LONG_COUNCILS
            for officer in [*OFFICERS, None]
            for phone in (TEAM_PHONE, None)
            for language in LANGUAGES]


ALL_INPUTS = pytest.mark.parametrize(("template", "council", "officer", "phone", "language"),
                                     every_applicant_text())


# --- applicant templates ------------------------------------------------------------------


def test_every_built_in_language_is_tested() -> None:
    assert set(COUNCIL_FIRST) == set(BUILT_IN) == {"en", "cy"}


@ALL_INPUTS
def test_applicant_texts_reveal_nothing(template: str, council: str, officer: str | None,
                                        phone: str | None, language: str) -> None:
    text = APPLICANT_TEMPLATES[template](council, officer, phone, language)
    assert text.subject is None
    assert policy.REVEALING.search(text.body) is None, text.body
    assert ABUSE_HINTS.search(text.body) is None, text.body


@ALL_INPUTS
def test_applicant_texts_fit_one_sms_segment(template: str, council: str, officer: str | None,
                                             phone: str | None, language: str) -> None:
    body = APPLICANT_TEMPLATES[template](council, officer, phone, language).body
    assert len(body) <= templates.GSM_SEGMENT, (len(body), body)
    assert templates.sms_segments(body) == 1
    # Plain GSM-7: one curly quote, emoji or Welsh circumflex would make it Unicode (70 a
    # segment), so the built-in Welsh is worded to need none.
    assert templates.is_gsm7(body), body


@ALL_INPUTS
def test_applicant_texts_quote_council_and_reference(template: str, council: str,
                                                     officer: str | None,
                                                     phone: str | None, language: str) -> None:
    body = APPLICANT_TEMPLATES[template](council, officer, phone, language).body
    assert body.startswith(COUNCIL_FIRST[language].format(council=council))
    assert REFERENCE in body
    assert (phone in body) if phone else ("+44" not in body)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", list(APPLICANT_TEMPLATES))
def test_every_language_uses_the_english_placeholders(template: str, language: str) -> None:
    english = ENGLISH.templates[template]
    wording = BUILT_IN[language].templates[template]
    assert set(wording) == set(english) == set(VARIANTS[template])
    for variant, text in wording.items():
        assert languages.placeholders(text) == languages.placeholders(english[variant]), variant


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", list(APPLICANT_TEMPLATES))
def test_applicant_texts_name_the_officer_by_first_name_only(template: str, language: str) -> None:
    body = APPLICANT_TEMPLATES[template]("Welwyn Hatfield", "Christopher Hall-Jones", None,
                                         language).body
    assert "Christopher" in body
    assert "Hall" not in body and "Jones" not in body


def test_receipt_text_says_who_will_contact_and_by_when() -> None:
    named = templates.applicant_received("Welwyn Hatfield", "Jo Smith", TEAM_PHONE, DUE,
                                         REFERENCE).body
    queued = templates.applicant_received("Welwyn Hatfield", None, None, DUE, REFERENCE).body
    assert "Jo from our team will contact you by Wed 25 Nov, 12:30pm" in named
    assert "Someone from our team will contact you by Wed 25 Nov, 12:30pm" in queued


def test_receipt_text_in_welsh_says_who_and_by_when_in_welsh() -> None:
    named = templates.applicant_received("Caerdydd", "Jo Smith", TEAM_PHONE, DUE, REFERENCE,
                                         "cy").body
    queued = templates.applicant_received("Caerdydd", None, None, DUE, REFERENCE, "cy").body
    assert named == ("Cyngor Caerdydd: Bydd Jo o'n swyddfa yn cysylltu erbyn Mer 25 Tach, "
                     f"12:30yp. Cyf: {REFERENCE}. Atebwch yma neu ffoniwch {TEAM_PHONE}.")
    assert queued == ("Cyngor Caerdydd: Bydd un o'n swyddogion yn cysylltu erbyn Mer 25 Tach, "
                      f"12:30yp. Cyf: {REFERENCE}. Atebwch yma.")


@pytest.mark.parametrize("language", ["en", "EN", "pl", "fr-FR", "", None, "english", "c y"])
def test_languages_without_a_set_get_english(language: str | None) -> None:
    assert (templates.applicant_contact_failed("Welwyn Hatfield", None, None, REFERENCE, language)
            == templates.applicant_contact_failed("Welwyn Hatfield", None, None, REFERENCE, "en"))
    assert templates.applicant_contact_failed("Welwyn Hatfield", None, None, REFERENCE,
                                              language).body.startswith("Welwyn Hatfield Council")


@pytest.mark.parametrize("language", ["cy", "CY", "cy-GB", "cy_GB", " cy "])
def test_welsh_is_recognised_in_any_usual_form(language: str) -> None:
    body = templates.applicant_contact_failed("Caerdydd", None, None, REFERENCE, language).body
    assert body.startswith("Cyngor Caerdydd: Ceision ni gael gafael arnoch heddiw")


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


def test_escalation_digest_says_what_is_late_and_whose_for_each_referral() -> None:
    one = templates.escalation_digest("Pat Lee", [("accept_overdue", REFERENCE, "Jo Smith", DUE)])
    two = templates.escalation_digest("Pat Lee", [("accept_overdue", REFERENCE, "Jo Smith", DUE),
                                                  ("deadline_missed", "WH-2", None, DUE)])
    assert one.subject == "Escalation: 1 referral needs attention"
    assert two.subject == "Escalation: 2 referrals need attention"
    assert f"- {REFERENCE} (Jo Smith): not accepted" in two.body
    assert "- WH-2 (the team queue): no contact attempt" in two.body
    assert two.body.startswith("Hello Pat,")


def test_team_alerts_and_note_alerts_carry_no_personal_details() -> None:
    urgent = templates.team_arrival(REFERENCE, DUE, "https://x.example/casework/queue")
    digest = templates.team_arrival_digest([(REFERENCE, DUE), ("WH-2", DUE)],
                                           "https://x.example/casework/queue")
    note = templates.new_note(REFERENCE, "https://x.example/referrer/referrals/1")
    assert urgent.subject == f"URGENT: referral {REFERENCE} is in the team queue"
    assert digest.subject == "2 new referrals in the team queue"
    assert f"- {REFERENCE}: contact due by" in digest.body
    assert note.body == (f"There is a new note on referral {REFERENCE}.\n\nSign in to read it:\n"
                         "https://x.example/referrer/referrals/1")


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


@pytest.mark.parametrize(("moment", "expected"), [
    (datetime(2026, 11, 25, 17, 0, tzinfo=UTC), "Mer 25 Tach, 5yp"),
    (datetime(2026, 3, 30, 16, 0, tzinfo=UTC), "Llun 30 Maw, 5yp"),  # summer time: 17:00
    (datetime(2026, 6, 15, 23, 30, tzinfo=UTC), "Maw 16 Meh, 12:30yb"),
    (datetime(2026, 2, 1, 9, 5, tzinfo=UTC), "Sul 1 Chwef, 9:05yb"),
    (datetime(2026, 7, 3, 11, 0, tzinfo=UTC), "Gwe 3 Gorff, 12yp"),  # noon in BST
    (datetime(2026, 12, 31, 0, 0, tzinfo=UTC), "Iau 31 Rhag, 12yb"),
])
def test_when_prints_welsh_days_and_months_without_the_system_locale(moment: datetime,
                                                                      expected: str) -> None:
    assert templates.when(moment, BUILT_IN["cy"].dates) == expected


@pytest.mark.parametrize(("length", "segments"), [
    (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4),
])
def test_sms_segments(length: int, segments: int) -> None:
    assert templates.sms_segments("x" * length) == segments


@pytest.mark.parametrize(("length", "segments"), [
    (1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4),
])
@pytest.mark.parametrize("welsh_letter", ["â", "ŵ", "ŷ", "ô", "ê", "î", "û"])
def test_one_welsh_circumflex_makes_a_text_unicode(length: int, segments: int,
                                                   welsh_letter: str) -> None:
    body = welsh_letter + "x" * (length - 1)
    assert not templates.is_gsm7(body)
    assert templates.sms_segments(body) == segments


def test_gsm_accents_stay_gsm_and_extension_characters_count_twice() -> None:
    assert templates.sms_segments("é" * 160) == 1  # in the GSM set: Welsh "é" costs nothing
    assert templates.sms_segments("[" * 80) == 1  # 160 septets
    assert templates.sms_segments("[" * 81) == 2
    assert templates.sms_segments("€" + "x" * 158) == 1
    assert templates.sms_segments("€" + "x" * 159) == 2


def test_an_emoji_counts_as_two_unicode_characters() -> None:
    assert templates.sms_segments("\U0001F600" * 35) == 1
    assert templates.sms_segments("\U0001F600" * 36) == 2


def test_first_name() -> None:
    assert templates.first_name("Jo Smith") == "Jo"
    assert templates.first_name("  Jo   Smith ") == "Jo"
    assert templates.first_name("Prince") == "Prince"
