"""The marshmallow fields and field helpers the submission schemas (and the API's) are made of.

Every text field refuses control characters and reads a blank as missing; phones, postcodes, NHS
numbers and emails come out in one normal form; dates and whole numbers accept the strings a form
posts. A value quoted back in a message is cut short (``shown``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from marshmallow import fields, validate
from marshmallow.types import ErrorMessages

from referral_service import clock, validation

__all__ = [
    "Date",
    "Email",
    "JSONBoolean",
    "NHSNumber",
    "Postcode",
    "Text",
    "UKPhone",
    "UTCDateTime",
    "WholeNumber",
    "length_at_most",
    "one_of",
    "optional_text",
    "required_text",
    "same_message",
    "shown",
]

_DIGITS = re.compile(r"[0-9]{1,9}")


# --- Fields -------------------------------------------------------------------------------------


class _BlankIsNone:
    """Mixin: a blank string (as a form sends for an empty box) counts as no value (``None``).

    An optional field then loads it as ``None``; a required one refuses it with its "null"
    message, which the helpers below set to the same words as its "required" message.
    """

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any):
        if isinstance(value, str) and not value.strip():
            value = None
        return super().deserialize(value, attr, data, **kwargs)  # type: ignore[misc]


class _NoControlCharacters:
    """Mixin: text holding NUL or another control character is refused before anything reads it
    (PostgreSQL cannot store NUL: it was a 500). Tabs and line breaks are left to the field."""

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any):
        if isinstance(value, str):
            validation.check_plain_text(value, multiline=True)
        return super().deserialize(value, attr, data, **kwargs)  # type: ignore[misc]


class Text(_NoControlCharacters, _BlankIsNone, fields.String):
    """A string with surrounding whitespace removed; blank means no value.

    One line unless ``multiline=True`` (free text such as a reason, notes or details, where
    tabs and line breaks are kept).
    """

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        return validation.check_plain_text(text, multiline=self.multiline)


class JSONBoolean(fields.Boolean):
    """``true`` or ``false`` as JSON writes them: "true", 1 or "yes" are refused, not guessed
    at (the web forms send booleans too: web/referrer/answers.py lays them out)."""

    default_error_messages = {"invalid": "Give true or false (a JSON boolean)."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class _Normalised(Text):
    """A string passed through one of :mod:`referral_service.validation`'s normalisers."""

    def normalise(self, text: str) -> str:
        raise NotImplementedError

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return self.normalise(super()._deserialize(value, attr, data, **kwargs))


class UKPhone(_Normalised):
    """A UK phone number in any common format, loaded as E.164."""

    def normalise(self, text: str) -> str:
        return validation.normalise_uk_phone(text)


class Postcode(_Normalised):
    def normalise(self, text: str) -> str:
        return validation.normalise_postcode(text)


class NHSNumber(_Normalised):
    def normalise(self, text: str) -> str:
        return validation.check_nhs_number(text)


class Email(_Normalised):
    def normalise(self, text: str) -> str:
        return validation.normalise_email(text)


class Date(_NoControlCharacters, _BlankIsNone, fields.Date):
    default_error_messages = {
        "invalid": "Enter a date in the format YYYY-MM-DD, like 1990-04-01.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        if isinstance(value, dt.datetime):  # a datetime is a date subclass; it is not a date
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class UTCDateTime(_NoControlCharacters, _BlankIsNone, fields.AwareDateTime):
    """An ISO 8601 date and time; one without an offset is taken as UTC. Loaded in UTC."""

    default_error_messages = {
        "invalid": "Enter a date and time in ISO 8601 format, like 2026-11-20T10:15:00Z.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_timezone=dt.UTC, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return clock.as_utc(moment)
        except OverflowError:
            # e.g. 0001-01-01T00:00+01:00: a valid ISO string with no UTC equivalent.
            raise self.make_error("invalid") from None


class WholeNumber(_NoControlCharacters, _BlankIsNone, fields.Integer):
    """An integer, or a string of digits as a form sends it ("4").

    4.5, "4.5" or ``true`` is refused rather than quietly turned into 4 or 1.
    """

    default_error_messages = {"invalid": "Enter a whole number."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str):
            digits = value.strip()
            if not _DIGITS.fullmatch(digits):
                raise self.make_error("invalid")
            value = int(digits)
        return super()._deserialize(value, attr, data, **kwargs)


def length_at_most(limit: int) -> validate.Length:
    return validate.Length(max=limit, error=f"Use {limit} characters or fewer.")


def same_message(message: str) -> ErrorMessages:
    """The same words whether the value is missing, null or blank."""
    return {"required": message, "null": message}


def required_text(message: str, max_length: int, *, multiline: bool = False) -> Text:
    return Text(required=True, validate=length_at_most(max_length),
                error_messages=same_message(message), multiline=multiline)


def optional_text(max_length: int, *, multiline: bool = False) -> Text:
    return Text(load_default=None, validate=length_at_most(max_length), multiline=multiline)


def one_of(choices: Iterable[str], what: str) -> validate.OneOf:
    listed = ", ".join(choices)
    return validate.OneOf(tuple(choices), error=f"Choose {what}: one of {listed}.")


def shown(value: object, limit: int = 40) -> str:
    """A submitted value quoted back in a message, cut short so a message never carries much."""
    text = str(value)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
