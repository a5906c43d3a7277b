"""The referral a partner's system (or an officer's form) submits: its shape, normal form and rules.

``ReferralSubmissionSchema().load(payload)`` returns a plain nested dict with the same keys as the
payload (API.md, "Creating a referral"), every optional key present, values normalised
(E.164 phones, formatted postcodes, bare NHS numbers, ``date``/``datetime`` objects) and defaults
filled. Anything wrong raises :class:`marshmallow.ValidationError`; :func:`flatten_errors` turns
its nested messages into the dotted keys the API and the forms show (``"person.phone"``).

Whether ``authority_code`` names a participating authority needs the database, so it is checked
by the caller, not here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)
from marshmallow.types import ErrorMessages

from referral_service import clock, validation
from referral_service.domain.errors import ValidationFailed
from referral_service.models.enums import (
    CONTACT_METHODS,
    HOUSEHOLD_RELATIONSHIPS,
    HOUSING_SITUATIONS,
    MAX_HOUSEHOLD_MEMBERS,
    SUPPORT_NEEDS,
)

__all__ = [
    "CONSENT_MESSAGE",
    "CONTACT_METHODS",
    "HOUSEHOLD_RELATIONSHIPS",
    "HOUSING_SITUATIONS",
    "MAX_HOUSEHOLD_MEMBERS",
    "REACH_MESSAGE",
    "SUPPORT_NEEDS",
    "AddressSchema",
    "ConsentSchema",
    "HouseholdMemberSchema",
    "JSONBoolean",
    "PersonSchema",
    "ReferralSubmissionSchema",
    "ReferrerSchema",
    "RiskSchema",
    "SafeContactSchema",
    "Text",
    "flatten_errors",
]

# The allowed values live in models/enums.py (domain and messaging read them too); re-exported here
# for the forms.


CONSENT_MESSAGE = "Referral needs the person's consent (Housing Act 1996 s.213B). Ask them first."
REACH_MESSAGE = (
    "Give at least one way to reach the person: phone, email, address, or contact via the referrer."
)

EARLIEST_DATE_OF_BIRTH = dt.date(1900, 1, 1)
CLOCK_SKEW = dt.timedelta(minutes=5)


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


def _max_length(limit: int) -> validate.Length:
    return validate.Length(max=limit, error=f"Use {limit} characters or fewer.")


def _messages(message: str) -> ErrorMessages:
    """The same words whether the value is missing, null or blank."""
    return {"required": message, "null": message}


def _required_text(message: str, max_length: int, *, multiline: bool = False) -> Text:
    return Text(required=True, validate=_max_length(max_length), error_messages=_messages(message),
                multiline=multiline)


def _optional_text(max_length: int, *, multiline: bool = False) -> Text:
    return Text(load_default=None, validate=_max_length(max_length), multiline=multiline)


def _one_of(choices: Iterable[str], what: str) -> validate.OneOf:
    listed = ", ".join(choices)
    return validate.OneOf(tuple(choices), error=f"Choose {what}: one of {listed}.")


def _shown(value: object, limit: int = 40) -> str:
    """A submitted value quoted back in a message, cut short so a message never carries much."""
    text = str(value)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


# --- Validators that need the clock -------------------------------------------------------------


def _date_of_birth(value: dt.date) -> None:
    if value >= clock.today_in_london():
        raise ValidationError("Date of birth must be in the past.")
    if value < EARLIEST_DATE_OF_BIRTH:
        raise ValidationError("Date of birth must be 1 January 1900 or later.")


def _not_in_future(value: dt.datetime) -> None:
    if value > clock.now() + CLOCK_SKEW:
        raise ValidationError("The time consent was recorded cannot be in the future.")


def _support_need(value: str) -> None:
    if value not in SUPPORT_NEEDS:
        raise ValidationError(f"Not a recognised support need: {_shown(value)}.")


def _no_repeats(values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValidationError(f"List each support need once: {_shown(value)} is repeated.")
        seen.add(value)


# --- Schemas ------------------------------------------------------------------------------------


class _StrictSchema(Schema):
    """Unknown keys are refused (a typo must not silently drop data)."""

    class Meta:
        unknown = RAISE

    error_messages = {
        "unknown": "Not a recognised field: check its name and spelling.",
        "type": "Expected an object with named fields.",
    }


class ReferrerSchema(_StrictSchema):
    class Meta:
        unknown = RAISE

    name = _required_text("Enter the referrer's name.", 200)
    job_title = _optional_text(200)
    team = _optional_text(200)
    email = Email(required=True, error_messages=_messages("Enter the referrer's email address."))
    phone = UKPhone(load_default=None)


class ConsentSchema(_StrictSchema):
    class Meta:
        unknown = RAISE

    given = JSONBoolean(
        required=True,
        validate=validate.Equal(True, error=CONSENT_MESSAGE),
        error_messages={**_messages(CONSENT_MESSAGE),
                        "invalid": f"Give true (a JSON boolean). {CONSENT_MESSAGE}"},
    )
    recorded_at = UTCDateTime(load_default=None, validate=_not_in_future)
    notes = _optional_text(2000, multiline=True)


class AddressSchema(_StrictSchema):
    class Meta:
        unknown = RAISE

    line1 = _required_text("Enter the first line of the address.", 200)
    line2 = _optional_text(200)
    town = _optional_text(100)
    postcode = Postcode(load_default=None)


SAFE_ROUTES: tuple[str, ...] = ("sms", "voicemail", "email", "letter")


def _default_safe_contact() -> dict[str, Any]:
    return {**dict.fromkeys(SAFE_ROUTES, False), "instructions": None}


class SafeContactSchema(_StrictSchema):
    """Which routes are safe to use (for example, not read by an abusive partner)."""

    class Meta:
        unknown = RAISE

    sms = JSONBoolean(load_default=False)
    voicemail = JSONBoolean(load_default=False)
    email = JSONBoolean(load_default=False)
    letter = JSONBoolean(load_default=False)
    instructions = _optional_text(500, multiline=True)


class PersonSchema(_StrictSchema):
    class Meta:
        unknown = RAISE

    first_name = _required_text("Enter the person's first name.", 100)
    last_name = _required_text("Enter the person's last name.", 100)
    date_of_birth = Date(load_default=None, validate=_date_of_birth)
    nhs_number = NHSNumber(load_default=None)
    phone = UKPhone(load_default=None)
    email = Email(load_default=None)
    address = fields.Nested(AddressSchema, load_default=None)
    no_fixed_abode = JSONBoolean(load_default=False)
    preferred_contact_method = Text(
        load_default=None, validate=_one_of(CONTACT_METHODS, "how to contact the person")
    )
    safe_contact = fields.Nested(
        SafeContactSchema, load_default=_default_safe_contact, allow_none=True
    )
    language = Text(load_default="en", allow_none=True, validate=_max_length(35))
    interpreter_needed = JSONBoolean(load_default=False)

    @pre_load
    def _blank_address_is_none(self, data: Any, **kwargs: Any) -> Any:
        """A form's address boxes all left empty mean "no address", not "address missing line 1"."""
        if isinstance(data, Mapping):
            address = data.get("address")
            if isinstance(address, Mapping) and all(
                value is None or (isinstance(value, str) and not value.strip())
                for value in address.values()
            ):
                data = {**data, "address": None}
        return data

    @validates_schema
    def _contact_routes(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        phone, email, address = data.get("phone"), data.get("email"), data.get("address")
        method = data.get("preferred_contact_method")
        safe = data.get("safe_contact") or {}

        if not (phone or email or address or method == "via_referrer"):
            errors["_schema"] = [REACH_MESSAGE]
        if method == "sms":
            if not phone:
                errors["phone"] = ["Enter a mobile number to contact the person by text message."]
            elif not validation.is_mobile_e164(phone):
                errors["phone"] = [
                    "Text messages need a mobile number, like 07700 900123. "
                    "Enter one or choose another way to contact the person."
                ]
            if not safe.get("sms"):
                errors["safe_contact"] = {
                    "sms": [
                        "Text messages must be marked safe for this person before they can be "
                        "the preferred way to contact them."
                    ]
                }
        elif method == "phone" and not phone:
            errors["phone"] = ["Enter a phone number to contact the person by phone."]
        elif method == "email":
            if not email:
                errors["email"] = ["Enter an email address to contact the person by email."]
            if not safe.get("email"):
                errors["safe_contact"] = {
                    "email": [
                        "Email must be marked safe for this person before it can be the "
                        "preferred way to contact them."
                    ]
                }
        elif method == "letter":
            if not address:
                errors["address"] = ["Enter an address to contact the person by letter."]
            # A letter can be opened by whoever else lives there: it needs marking safe too.
            if not safe.get("letter"):
                errors["safe_contact"] = {
                    "letter": [
                        "Letters must be marked safe for this person before they can be the "
                        "preferred way to contact them."
                    ]
                }
        if errors:
            raise ValidationError(errors)

    @post_load
    def _fill_defaults(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("safe_contact") is None:
            data["safe_contact"] = _default_safe_contact()
        if data.get("language") is None:
            data["language"] = "en"
        return data


class HouseholdMemberSchema(_StrictSchema):
    class Meta:
        unknown = RAISE

    relationship = Text(
        required=True,
        validate=_one_of(HOUSEHOLD_RELATIONSHIPS, "the household member's relationship"),
        error_messages=_messages("Choose the household member's relationship to the person."),
    )
    age = WholeNumber(
        required=True,
        validate=validate.Range(min=0, max=120, error="Enter an age from 0 to 120."),
        error_messages=_messages("Enter the household member's age."),
    )


def _default_risk() -> dict[str, Any]:
    return {
        "marac": False,
        "mappa_level": None,
        "mappa_category": None,
        "risk_to_staff": False,
        "details": None,
    }


class RiskSchema(_StrictSchema):
    class Meta:
        unknown = RAISE

    marac = JSONBoolean(load_default=False)
    mappa_level = WholeNumber(
        load_default=None, validate=validate.Range(min=1, max=3, error="MAPPA level is 1, 2 or 3.")
    )
    mappa_category = WholeNumber(
        load_default=None,
        validate=validate.Range(min=1, max=4, error="MAPPA category is 1, 2, 3 or 4."),
    )
    risk_to_staff = JSONBoolean(load_default=False)
    details = _optional_text(2000, multiline=True)


class ReferralSubmissionSchema(_StrictSchema):
    """A new referral as ``POST /api/v1/referrals`` receives it (API.md, "Creating a referral")."""

    class Meta:
        unknown = RAISE

    authority_code = _required_text(
        "Enter the code of the housing authority the person chose, like E07000241.", 20
    )
    referrer = fields.Nested(
        ReferrerSchema, required=True, error_messages=_messages("Give the referrer's details.")
    )
    consent = fields.Nested(ConsentSchema, required=True, error_messages=_messages(CONSENT_MESSAGE))
    person = fields.Nested(
        PersonSchema, required=True, error_messages=_messages("Give the person's details.")
    )
    household = fields.List(
        fields.Nested(HouseholdMemberSchema),
        load_default=list,
        allow_none=True,
        validate=validate.Length(
            max=MAX_HOUSEHOLD_MEMBERS,
            error=f"List up to {MAX_HOUSEHOLD_MEMBERS} household members.",
        ),
    )
    housing_situation = Text(
        required=True,
        validate=_one_of(HOUSING_SITUATIONS, "the person's housing situation"),
        error_messages=_messages(
            "Choose the person's housing situation: homeless or threatened_with_homelessness."
        ),
    )
    at_risk_of_rough_sleeping_tonight = JSONBoolean(load_default=False)
    homelessness_date = Date(load_default=None)
    release_or_discharge_date = Date(load_default=None)
    current_location = _optional_text(500, multiline=True)
    reason = _required_text("Enter the reason for the referral.", 5000, multiline=True)
    support_needs = fields.List(
        Text(
            required=True,
            validate=_support_need,
            error_messages=_messages("Leave out empty support needs."),
        ),
        load_default=list,
        allow_none=True,
        validate=_no_repeats,
    )
    risk = fields.Nested(RiskSchema, load_default=_default_risk, allow_none=True)
    agency_reference = _optional_text(100)

    @post_load
    def _fill_defaults(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        for key in ("household", "support_needs"):
            if data.get(key) is None:
                data[key] = []
        if data.get("risk") is None:
            data["risk"] = _default_risk()
        return data


# --- Errors -------------------------------------------------------------------------------------


def flatten_errors(messages: Mapping[Any, Any] | list[Any] | str) -> dict[str, list[str]]:
    """marshmallow's nested messages as dotted keys: ``{"person.phone": ["..."]}``.

    List positions become path parts (``household.0.age``). A schema-level message stays on its
    object's key (``"person"``), or on ``"_schema"`` for the whole payload.
    """
    flat: dict[str, list[str]] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "_schema":
                    walk(value, path)
                else:
                    walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item, path)
        else:
            flat.setdefault(path or "_schema", []).append(str(node))

    walk(messages, "")
    return flat


# --- Changes after sending ----------------------------------------------------------------------

# What a referrer may change once a referral is sent (PATCH /api/v1/referrals/{id}): the
# release or discharge date, and how to reach the person. Everything else is the referral as
# the person consented to it; a change there is a note to the council.
CHANGEABLE_CONTACT_FIELDS: tuple[str, ...] = (
    "phone", "email", "address", "no_fixed_abode", "preferred_contact_method", "safe_contact",
)
CHANGEABLE_FIELDS: tuple[str, ...] = (
    "release_or_discharge_date", *(f"person.{name}" for name in CHANGEABLE_CONTACT_FIELDS),
)
NOT_CHANGEABLE = (
    "This cannot be changed once the referral is sent. Only release_or_discharge_date and the "
    "person's contact details (" + ", ".join(CHANGEABLE_CONTACT_FIELDS) + ") can be; "
    "send the council a note about anything else."
)


def _refuse_fixed_fields(data: Any, known: Iterable[str]) -> None:
    """A field of the referral that may not be changed gets a message saying so, by name."""
    if isinstance(data, Mapping):
        fixed = {str(key): [NOT_CHANGEABLE] for key in data if key in known}
        if fixed:
            raise ValidationError(fixed)


class PersonContactChangeSchema(_StrictSchema):
    """The person's contact details, each field exactly as ``PersonSchema`` validates it."""

    class Meta:
        unknown = RAISE

    locals().update({name: PersonSchema._declared_fields[name]
                     for name in CHANGEABLE_CONTACT_FIELDS})

    @pre_load
    def _fixed_fields(self, data: Any, **kwargs: Any) -> Any:
        _refuse_fixed_fields(data, set(PersonSchema._declared_fields) - set(
            CHANGEABLE_CONTACT_FIELDS))
        return data


class ReferralChangeSchema(_StrictSchema):
    """``PATCH /api/v1/referrals/{id}``: only the fields given change (load with partial=True)."""

    class Meta:
        unknown = RAISE

    release_or_discharge_date = ReferralSubmissionSchema._declared_fields[
        "release_or_discharge_date"]
    person = fields.Nested(PersonContactChangeSchema)

    @pre_load
    def _fixed_fields(self, data: Any, **kwargs: Any) -> Any:
        _refuse_fixed_fields(data, set(ReferralSubmissionSchema._declared_fields) - {
            "release_or_discharge_date", "person"})
        if isinstance(data, Mapping) and not data:
            raise ValidationError(["Give at least one field to change: "
                                   + ", ".join(CHANGEABLE_FIELDS) + "."])
        return data


def load_changed_person(person: dict[str, Any]) -> dict[str, Any]:
    """The person's details after a change, checked as a whole as at intake (a way to reach
    them; a preferred route marked safe); errors keyed ``person.<field>``."""
    try:
        return _PERSON_SCHEMA.load(person)
    except ValidationError as error:
        raise ValidationFailed({f"person.{key}" if key != "_schema" else "person": messages
                                for key, messages in flatten_errors(error.messages).items()}
                               ) from error


_PERSON_SCHEMA = PersonSchema()
