"""Words for what the referrer's pages show: statuses and typed answers (phone numbers are
``labels.uk_phone``, as on every page)."""
from __future__ import annotations

from datetime import date
from typing import Any

from referral_service.web.labels import london_date
from referral_service.web.referrer.answers import date_text, household_rows
from referral_service.web.referrer.questions import Field

# A status in the referrer's words: they care who has the case and whether the person has been
# reached (the staff pages' "New" for ``assigned`` says nothing to them). Tag colours, outcome
# words and dates are the service's own (``web/labels.py``).
STATUS_WORDS: dict[str, str] = {
    "received": "Received",
    "assigned": "Officer named",
    "unassigned": "Waiting for an officer",
    "accepted": "Accepted",
    "contact_attempted": "Contact attempted",
    "contacted": "Contact made",
    "closed": "Closed",
    "withdrawn": "Withdrawn",
    "transferred": "Transferred",
}


def answer_text(one: Field, raw: Any, names: dict[str, str]) -> list[str]:
    """A typed answer as lines for the check-your-answers page ("Not given" when blank).
    ``names``: authorities by code and organisations by id, for the answers that name one."""
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
    elif one.kind in {"authority", "organisation"}:
        lines = [names.get(raw, raw)] if raw else []
    elif one.kind == "select":
        lines = [labels.get(raw, raw)] if raw else []
    elif one.kind == "date":
        text = date_text(raw or {}) or ""
        lines = [london_date(date.fromisoformat(text)) if _is_iso(text) else text]
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
