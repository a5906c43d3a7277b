"""Words for what the referrer's pages show: statuses, outcomes, times and typed answers."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import phonenumbers

from referral_service.domain import clock
from referral_service.models import Outcome, ReferralStatus
from referral_service.web.referrer.answers import date_text, household_rows
from referral_service.web.referrer.questions import Field

STATUS_LABELS: dict[ReferralStatus, str] = {
    ReferralStatus.RECEIVED: "Received",
    ReferralStatus.ASSIGNED: "Officer named",
    ReferralStatus.UNASSIGNED: "Waiting for an officer",
    ReferralStatus.ACCEPTED: "Accepted",
    ReferralStatus.CONTACT_ATTEMPTED: "Contact attempted",
    ReferralStatus.CONTACTED: "Contact made",
    ReferralStatus.CLOSED: "Closed",
    ReferralStatus.WITHDRAWN: "Withdrawn",
    ReferralStatus.TRANSFERRED: "Transferred",
}
# GOV.UK tag colours: blue while the council works on it, green once contact is made, grey
# when it has ended.
STATUS_TAG_CLASSES: dict[ReferralStatus, str] = {
    ReferralStatus.RECEIVED: "govuk-tag--blue",
    ReferralStatus.ASSIGNED: "govuk-tag--blue",
    ReferralStatus.UNASSIGNED: "govuk-tag--yellow",
    ReferralStatus.ACCEPTED: "govuk-tag--light-blue",
    ReferralStatus.CONTACT_ATTEMPTED: "govuk-tag--orange",
    ReferralStatus.CONTACTED: "govuk-tag--green",
    ReferralStatus.CLOSED: "govuk-tag--grey",
    ReferralStatus.WITHDRAWN: "govuk-tag--grey",
    ReferralStatus.TRANSFERRED: "govuk-tag--purple",
}
OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.PREVENTION_DUTY: "Prevention duty accepted",
    Outcome.RELIEF_DUTY: "Relief duty accepted",
    Outcome.ADVICE_ONLY: "Advice given",
    Outcome.NOT_ELIGIBLE: "Not eligible for help",
    Outcome.NO_CONTACT: "The council could not make contact",
    Outcome.DECLINED: "The person declined help",
    Outcome.DUPLICATE: "Duplicate of another referral",
    Outcome.TRANSFERRED: "Transferred to another housing authority",
}


def when(moment: datetime | None) -> str:
    """A time as people in England read it: 1 December 2026 at 9:05am."""
    if moment is None:
        return ""
    local = clock.as_utc(moment).astimezone(clock.LONDON)
    hour = local.hour % 12 or 12
    return f"{local.day} {local:%B %Y} at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def phone(e164: str | None) -> str:
    """A stored E.164 number as people dial it in the UK: +441632960100 is 01632 960100."""
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164),
                                          phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def day(value: date | None) -> str:
    return "" if value is None else f"{value.day} {value:%B %Y}"


def answer_text(one: Field, raw: Any, authorities: dict[str, str]) -> list[str]:
    """A typed answer as lines for the check-your-answers page ("Not given" when blank)."""
    labels = dict(one.options)
    lines: list[str]
    if one.kind == "yesno":
        lines = [labels.get(raw, "")] if raw else ["No" if one.path != "consent.given" else ""]
    elif one.kind == "checkbox":
        lines = ["Yes" if raw else "No"]
    elif one.kind in {"checkboxes", "flags"}:
        lines = [labels.get(value, value) for value in raw or []]
        if one.kind == "flags" and not lines:
            lines = ["None marked safe"]
    elif one.kind == "radios":
        lines = [labels.get(raw, raw)] if raw or "" in labels else []
    elif one.kind == "authority":
        lines = [authorities.get(raw, raw)] if raw else []
    elif one.kind == "date":
        text = date_text(raw or {}) or ""
        lines = [day(date.fromisoformat(text)) if _is_iso(text) else text]
    elif one.kind == "household":
        relationships = dict(one.options)
        lines = [f"{relationships.get(row['relationship'], row['relationship'])}, "
                 f"aged {row['age']}" for row in household_rows({"h": raw}, "h")
                 if row["relationship"] or row["age"]]
        if not lines:
            lines = ["Nobody else"]
    else:
        lines = [raw] if isinstance(raw, str) and raw.strip() else []
    return [line for line in lines if line] or ["Not given"]


def _is_iso(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
