"""Form errors the GOV.UK way: one message per field beside it, all of them in an error summary
at the top linking to the fields.

Views keep errors as ``{field: message}``. A domain refusal becomes the same shape with
:func:`from_domain_error`: ``ValidationFailed`` keeps its fields, any other ``DomainError``
(a refused transition, a permission) is one message for the whole form, under ``""``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar

from flask import request
from sqlalchemy.orm.exc import StaleDataError

from referral_service.domain.errors import Conflict, DomainError, ValidationFailed
from referral_service.extensions import db

FORM = ""  # the key for a message about the whole form rather than one field
T = TypeVar("T")


def from_domain_error(error: DomainError,
                      fields: Mapping[str, str] | None = None) -> dict[str, str]:
    """``fields`` maps the domain's field names to the form's (``{"body": "reply"}``)."""
    fields = fields or {}
    if isinstance(error, ValidationFailed) and error.errors:
        out: dict[str, str] = {}
        for name, messages in error.errors.items():
            text = messages[0] if isinstance(messages, list) and messages else str(messages)
            out[fields.get(name, name)] = str(text)
        return out
    return {FORM: error.message}


def errors_to_summary(errors: Mapping[str, str | list[str]] | None,
                      anchors: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """Items for ``govukErrorSummary``, in the order the fields appear (``anchors``' order)."""
    if not errors:
        return []
    anchors = anchors or {}
    ordered = [name for name in anchors if name in errors] + [
        name for name in errors if name not in anchors]
    items = []
    for name in ordered:
        value = errors[name]
        text = value[0] if isinstance(value, list) else value
        item = {"text": str(text)}
        if name != FORM:
            item["href"] = anchors.get(name, f"#{name}")
        items.append(item)
    return items


def attempt(action: Callable[[], Any],
            fields: Mapping[str, str] | None = None) -> dict[str, str] | None:
    """Run one domain operation: None when it went through (the caller commits), or its
    refusal as form errors after a rollback (nothing changed)."""
    return outcome(action, fields)[1]


def outcome(action: Callable[[], T], fields: Mapping[str, str] | None = None,
            ) -> tuple[T | None, dict[str, str] | None]:
    """:func:`attempt` for an operation whose result the view shows: ``(result, None)`` when
    it went through, ``(None, errors)`` after a rollback when it was refused."""
    try:
        return action(), None
    except StaleDataError:
        db.session.rollback()
        return None, from_domain_error(Conflict(
            "Someone else changed this at the same moment. Reload the page and try again."))
    except DomainError as refused:
        db.session.rollback()
        return None, from_domain_error(refused, fields)


def required_text(errors: dict[str, str], name: str, message: str) -> str:
    """The stripped form value, or ``message`` recorded against the field when it is empty."""
    value = request.form.get(name, "").strip()
    if not value:
        errors[name] = message
    return value


def choice(errors: dict[str, str], name: str, kind: type, message: str) -> Any:
    """The form value as one of ``kind``'s values (an enum), or ``message`` against the field."""
    try:
        return kind(request.form.get(name) or "")
    except ValueError:
        errors[name] = message
        return None


def date_parts(values: Mapping[str, str], prefix: str) -> date | None:
    """A GOV.UK date input (``prefix-day``, ``-month``, ``-year``) as a date; None when all three
    are blank. ValueError when what was typed is not a real date."""
    parts = [values.get(f"{prefix}-{part}", "").strip() for part in ("day", "month", "year")]
    if not any(parts):
        return None
    day, month, year = (int(part) for part in parts)
    try:
        return date(year, month, day)
    except OverflowError as too_big:  # a year of many digits: as wrong as 31 February
        raise ValueError(str(too_big)) from too_big


def date_input(errors: dict[str, str], prefix: str, what: str, example: str,
               required: bool = True) -> date | None:
    """The posted date input as a date, or an error against it (``what`` names the date in the
    messages; ``example`` is a real date shown in the message for one that is not)."""
    try:
        value = date_parts(request.form, prefix)
    except ValueError:
        errors[prefix] = f"The {what} must be a real date, like {example}."
        return None
    if value is None and required:
        errors[prefix] = f"Enter the {what}."
    return value
