"""Typed answers in, the API's payload out: the only place form values change shape.

A page's answers are kept as typed (strings, ticked values, day/month/year parts), so a page
shows back exactly what was entered; :func:`payload` lays them out as ``POST
/api/v1/referrals`` takes them, for ``ReferralSubmissionSchema`` to judge. No value is checked
here: a date that is not a real date goes to the schema as the text typed, and is refused there.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from werkzeug.datastructures import MultiDict

from referral_service.models.enums import MAX_HOUSEHOLD_MEMBERS
from referral_service.web.referrer.questions import REFERRER, Field, Journey, Page

DATE_PARTS = ("day", "month", "year")
# When the referrer said the person consented: kept with the answers, sent as consent.recorded_at.
CONSENT_RECORDED_AT = "consent-recorded-at"
# Blank rows offered on the household page beyond those already filled.
SPARE_HOUSEHOLD_ROWS = 2


def from_form(page: Page, form: MultiDict[str, str]) -> dict[str, Any]:
    """The page's answers as typed, keyed by field name."""
    answers: dict[str, Any] = {}
    for one in page.fields:
        if one.kind in {"checkboxes", "flags"}:
            allowed = {value for value, _ in one.options}
            answers[one.name] = [v for v in form.getlist(one.name) if v in allowed]
        elif one.kind == "checkbox":
            answers[one.name] = form.get(one.name) == "yes"
        elif one.kind == "date":
            answers[one.name] = {part: form.get(f"{one.name}-{part}", "").strip()
                                 for part in DATE_PARTS}
        elif one.kind == "household":
            answers[one.name] = _household_rows(one, form)
        else:
            answers[one.name] = form.get(one.name, "")
    return answers


def _household_rows(one: Field, form: MultiDict[str, str]) -> list[dict[str, str]]:
    rows = []
    for index in range(MAX_HOUSEHOLD_MEMBERS + 1):
        relationship = form.get(f"{one.name}-{index}-relationship", "").strip()
        age = form.get(f"{one.name}-{index}-age", "").strip()
        # A row left wholly blank is not a member; kept rows are renumbered, so the schema's
        # "household.2.age" is the third row shown.
        if relationship or age:
            rows.append({"relationship": relationship, "age": age})
    return rows


def household_rows(answers: dict[str, Any], name: str) -> list[dict[str, str]]:
    """Rows to show: those filled in, then a couple of blank ones (up to the maximum)."""
    rows = list(answers.get(name) or [])
    spare = min(SPARE_HOUSEHOLD_ROWS, MAX_HOUSEHOLD_MEMBERS - len(rows))
    return rows + [{"relationship": "", "age": ""}] * max(spare, 0 if rows else 1)


def payload(answers: dict[str, Any], journey: Journey = REFERRER) -> dict[str, Any]:
    """Every field's answer placed at its schema path (API.md, "Creating a referral")."""
    body: dict[str, Any] = {}
    for page in journey.pages:
        for one in page.fields:
            present, value = _value(one, answers.get(one.name))
            if one.kind == "flags":
                ticked = set(value)
                for option, _ in one.options:
                    _put(body, f"{one.path}.{option}", option in ticked)
            elif present:
                _put(body, one.path, value)
    if answers.get(CONSENT_RECORDED_AT):
        _put(body, "consent.recorded_at", answers[CONSENT_RECORDED_AT])
    return body


def _value(one: Field, raw: Any) -> tuple[bool, Any]:
    """(whether to send the field, its value): an unanswered yes/no is left to the default."""
    if one.kind == "yesno":
        if raw in {"yes", "no"}:
            return True, raw == "yes"
        return False, None
    if one.kind == "checkbox":
        return True, bool(raw)
    if one.kind in {"checkboxes", "flags"}:
        return True, list(raw or [])
    if one.kind == "date":
        return True, date_text(raw or {})
    if one.kind == "household":
        return True, [dict(row) for row in raw or []]
    return True, raw if isinstance(raw, str) else ""


def date_text(parts: dict[str, str]) -> str | None:
    """Day, month and year as an ISO date; what was typed, as typed, if it is not one."""
    day, month, year = (parts.get(part, "").strip() for part in DATE_PARTS)
    if not (day or month or year):
        return None
    if day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4:
        try:
            return dt.date(int(year), int(month), int(day)).isoformat()
        except (ValueError, OverflowError):  # OverflowError: a day or month of many digits
            pass
    # Not a real date: the schema refuses it with its own message ("Enter a date…").
    return f"{year}-{month}-{day}"


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = body
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
