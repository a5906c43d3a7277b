"""The words pages use for the service's codes, and how dates are shown (London time)."""
from __future__ import annotations

from datetime import date, datetime

import phonenumbers

from referral_service import clock

STATUS = {
    "received": ("Received", "govuk-tag--grey"),
    "assigned": ("New", "govuk-tag--light-blue"),
    "unassigned": ("In team queue", "govuk-tag--purple"),
    "accepted": ("Accepted", "govuk-tag--blue"),
    "contact_attempted": ("Contact attempted", "govuk-tag--yellow"),
    "contacted": ("Contact made", "govuk-tag--green"),
    "closed": ("Closed", "govuk-tag--grey"),
    "withdrawn": ("Withdrawn", "govuk-tag--grey"),
    "transferred": ("Transferred", "govuk-tag--grey"),
}
DEADLINE = {
    "met": ("Attempt made", "govuk-tag--green"),
    "overdue": ("Overdue", "govuk-tag--red"),
    "due_today": ("Due today", "govuk-tag--orange"),
    "due": ("Due", "govuk-tag--blue"),
}
CHANNEL = {
    "phone": "Phone call",
    "sms": "Text message",
    "email": "Email",
    "letter": "Letter",
    "in_person": "In person",
    "via_referrer": "Through the referrer",
}
ATTEMPT_RESULT = {
    "no_answer": "No answer",
    "left_message": "Left a message",
    "wrong_number": "Wrong number",
    "unsafe_to_continue": "Unsafe to continue (someone else was there)",
    "message_sent": "Message sent, no reply yet",
    "other": "Other",
}
OUTCOME = {
    "prevention_duty": "Prevention duty owed",
    "relief_duty": "Relief duty owed",
    "advice_only": "Advice only",
    "not_eligible": "Not eligible for assistance",
    "no_contact": "No contact could be made",
    "declined": "The person declined help",
    "duplicate": "Duplicate of another referral",
    "transferred": "Transferred to another authority",
}
# The referrer's question page and the officer's pages say support needs in these words; the
# H-CLIC categories they count under are in domain/reports/hclic_codes.py.
SUPPORT_NEED = {  # in the order the question page offers them ("other" last)
    "mental_health": "Mental health",
    "physical_health": "Physical ill health or disability",
    "learning_disability": "Learning disability",
    "drug_dependency": "Drug dependency",
    "alcohol_dependency": "Alcohol dependency",
    "offending_history": "Offending history",
    "domestic_abuse": "At risk of or has experienced domestic abuse",
    "sexual_exploitation": "At risk of or has experienced sexual exploitation",
    "non_domestic_abuse": "At risk of or has experienced abuse (not domestic abuse)",
    "modern_slavery": "Victim of modern slavery",
    "rough_sleeping": "History of rough sleeping",
    "repeat_homelessness": "History of repeat homelessness",
    "young_person": "Young person aged 16 or 17",
    "young_person_18_25": "Young person aged 18 to 25 requiring support to live independently",
    "young_parent": "Young parent requiring support",
    "care_leaver_18_20": "Care leaver aged 18 to 20",
    "care_leaver_21_24": "Care leaver aged 21 to 24",
    "care_leaver_25_plus": "Care leaver aged 25 or over",
    "care_leaver": "Care leaver (age not given)",
    "armed_forces": "Served in HM Forces",
    "old_age": "Old age",
    "budgeting_debt": "Needs help with budgeting or debt",
    "education_employment_training": "Needs support to access education, employment or training",
    "refugee": "Former asylum seeker or refugee",
    "other": "Another support need (say what in the reason)",
}
MATCH = {
    "nhs_number": "NHS number",
    "name_and_date_of_birth": "name and date of birth",
    "phone": "phone number",
}


def words(code: str | None) -> str:
    """A code as plain words, for anything without a label above: ``mental_health`` →
    ``Mental health``."""
    return (code or "").replace("_", " ").capitalize()


def support_need(code: str | None) -> str:
    return SUPPORT_NEED.get(code or "", words(code))


def sentence(text: str | None) -> str:
    """The first letter made a capital, the rest left alone ("SMS" stays "SMS")."""
    return (text or "")[:1].upper() + (text or "")[1:]


def london_datetime(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = clock.as_utc(moment).astimezone(clock.LONDON)
    hour, noon = local.hour % 12 or 12, "am" if local.hour < 12 else "pm"
    return f"{clock.long_date(local.date())} at {hour}:{local:%M}{noon}"


def london_date(day: date | datetime | None) -> str:
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = clock.as_utc(day).astimezone(clock.LONDON).date()
    return clock.long_date(day)


def items(mapping: dict[str, str], chosen: str | None = None,
          only: set[str] | frozenset[str] | None = None) -> list[dict[str, object]]:
    """Radio or select items for the GOV.UK macros."""
    return [{"value": value, "text": text, "checked": value == chosen,
             "selected": value == chosen}
            for value, text in mapping.items() if only is None or value in only]


def uk_phone(e164: str | None) -> str:
    """A stored E.164 number as people dial it in the UK: +441632960100 is 01632 960100."""
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164),
                                          phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return e164


# How a referral arrived (``Referral.source``): on the officer's page, timeline and figures.
SOURCE: dict[str, str] = {
    "api": "Sent through the partner API",
    "web": "Sent on the referrer's pages",
    "transfer": "Transferred from another council",
    "email": "Email, keyed in",
    "phone": "Phone call, keyed in",
    "letter": "Letter, keyed in",
    "in_person": "In person, keyed in",
}


def register(jinja_globals: dict[str, object], jinja_filters: dict[str, object]) -> None:
    jinja_globals.update(SOURCE_LABELS=SOURCE, STATUS_LABELS=STATUS, DEADLINE_LABELS=DEADLINE,
                         CHANNEL_LABELS=CHANNEL,
                         ATTEMPT_RESULT_LABELS=ATTEMPT_RESULT, OUTCOME_LABELS=OUTCOME,
                         MATCH_LABELS=MATCH, label_items=items)
    jinja_filters.update(london_datetime=london_datetime, london_date=london_date, words=words,
                         support_need=support_need, sentence=sentence, uk_phone=uk_phone)
