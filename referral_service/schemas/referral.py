"""The referral a partner's system (or an officer's form) submits: its shape, normal form and rules.

``ReferralSubmissionSchema().load(payload)`` returns a plain nested dict with the same keys as the
payload (API.md, "Creating a referral"), every optional key present, values normalised
(E.164 phones, formatted postcodes, bare NHS numbers, ``date``/``datetime`` objects) and defaults
filled. Anything wrong raises :class:`marshmallow.ValidationError`;
``schemas.errors.flatten_errors`` turns its nested messages into the dotted keys the API and the
forms show (``"person.phone"``). The fields are in ``schemas.fields``; the allowed values in
``models.enums`` (domain and messaging read them too).

Whether ``authority_code`` names a participating authority needs the database, so it is checked
by the caller, not here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
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

from referral_service import clock, validation
from referral_service.models.enums import (
    CONTACT_METHODS,
    HOUSEHOLD_RELATIONSHIPS,
    HOUSING_SITUATIONS,
    MAX_HOUSEHOLD_MEMBERS,
    SUPPORT_NEEDS,
)
from referral_service.schemas.fields import (
    Date,
    Email,
    JSONBoolean,
    NHSNumber,
    Postcode,
    Text,
    UKPhone,
    UTCDateTime,
    WholeNumber,
    length_at_most,
    one_of,
    optional_text,
    required_text,
    same_message,
    shown,
)

__all__ = [
    "CONSENT_MESSAGE",
    "REACH_MESSAGE",
    "SAFE_ROUTES",
    "AddressSchema",
    "ConsentSchema",
    "HouseholdMemberSchema",
    "PersonSchema",
    "ReferralSubmissionSchema",
    "ReferrerSchema",
    "RiskSchema",
    "SafeContactSchema",
]

CONSENT_MESSAGE = "Referral needs the person's consent (Housing Act 1996 s.213B). Ask them first."
REACH_MESSAGE = (
    "Give at least one way to reach the person: phone, email, address, or contact via the referrer."
)

EARLIEST_DATE_OF_BIRTH = dt.date(1900, 1, 1)
CLOCK_SKEW = dt.timedelta(minutes=5)


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
        raise ValidationError(f"Not a recognised support need: {shown(value)}.")


def _no_repeats(values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValidationError(f"List each support need once: {shown(value)} is repeated.")
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

    name = required_text("Enter the referrer's name.", 200)
    job_title = optional_text(200)
    team = optional_text(200)
    email = Email(required=True, error_messages=same_message("Enter the referrer's email address."))
    phone = UKPhone(load_default=None)


class ConsentScopesSchema(_StrictSchema):
    class Meta:
        unknown = RAISE

    texts = JSONBoolean(load_default=True)
    email = JSONBoolean(load_default=True)
    panels = fields.List(Text(validate=one_of(("marac", "mappa"), "a panel")),
                         load_default=list)


class ConsentWithdrawalDumpSchema(Schema):
    id = fields.UUID()
    scope = fields.String(metadata={"enum": ["referral", "texts", "email", "panel_sharing"]})
    withdrawn_by = fields.String(metadata={"enum": ["referrer", "officer", "person"]})
    reason = fields.String()
    withdrawn_at = fields.AwareDateTime()
    lifted_at = fields.AwareDateTime(allow_none=True)


class ConsentSchema(_StrictSchema):
    class Meta:
        unknown = RAISE

    given = JSONBoolean(
        required=True,
        validate=validate.Equal(True, error=CONSENT_MESSAGE),
        error_messages={**same_message(CONSENT_MESSAGE),
                        "invalid": f"Give true (a JSON boolean). {CONSENT_MESSAGE}"},
    )
    recorded_at = UTCDateTime(load_default=None, validate=_not_in_future)
    notes = optional_text(2000, multiline=True)
    scopes = fields.Nested(ConsentScopesSchema, load_default=None, metadata={
        "description": "What else the person agreed to; default texts and email, no panel."})
    withdrawals = fields.List(fields.Nested(ConsentWithdrawalDumpSchema), dump_only=True, metadata={
        "description": "Each withdrawal: id, scope, withdrawn_by, reason, withdrawn_at, "
                       "lifted_at (a STOP undone by START)."})


class AddressSchema(_StrictSchema):
    class Meta:
        unknown = RAISE

    line1 = required_text("Enter the first line of the address.", 200)
    line2 = optional_text(200)
    town = optional_text(100)
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
    instructions = optional_text(500, multiline=True)


class PersonSchema(_StrictSchema):
    class Meta:
        unknown = RAISE

    first_name = required_text("Enter the person's first name.", 100)
    last_name = required_text("Enter the person's last name.", 100)
    date_of_birth = Date(load_default=None, validate=_date_of_birth)
    nhs_number = NHSNumber(load_default=None)
    phone = UKPhone(load_default=None)
    email = Email(load_default=None)
    address = fields.Nested(AddressSchema, load_default=None)
    no_fixed_abode = JSONBoolean(load_default=False)
    preferred_contact_method = Text(
        load_default=None, validate=one_of(CONTACT_METHODS, "how to contact the person")
    )
    safe_contact = fields.Nested(
        SafeContactSchema, load_default=_default_safe_contact, allow_none=True
    )
    language = Text(load_default="en", allow_none=True, validate=length_at_most(35))
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
        validate=one_of(HOUSEHOLD_RELATIONSHIPS, "the household member's relationship"),
        error_messages=same_message("Choose the household member's relationship to the person."),
    )
    age = WholeNumber(
        required=True,
        validate=validate.Range(min=0, max=120, error="Enter an age from 0 to 120."),
        error_messages=same_message("Enter the household member's age."),
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
    details = optional_text(2000, multiline=True)


class ReferralSubmissionSchema(_StrictSchema):
    """A new referral as ``POST /api/v1/referrals`` receives it (API.md, "Creating a referral")."""

    class Meta:
        unknown = RAISE

    authority_code = required_text(
        "Enter the code of the housing authority the person chose, like E07000241.", 20
    )
    referrer = fields.Nested(
        ReferrerSchema, required=True, error_messages=same_message("Give the referrer's details.")
    )
    consent = fields.Nested(ConsentSchema, required=True,
                            error_messages=same_message(CONSENT_MESSAGE))
    person = fields.Nested(
        PersonSchema, required=True, error_messages=same_message("Give the person's details.")
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
        validate=one_of(HOUSING_SITUATIONS, "the person's housing situation"),
        error_messages=same_message(
            "Choose the person's housing situation: homeless or threatened_with_homelessness."
        ),
    )
    at_risk_of_rough_sleeping_tonight = JSONBoolean(load_default=False)
    homelessness_date = Date(load_default=None)
    release_or_discharge_date = Date(load_default=None)
    current_location = optional_text(500, multiline=True)
    reason = required_text("Enter the reason for the referral.", 5000, multiline=True)
    support_needs = fields.List(
        Text(
            required=True,
            validate=_support_need,
            error_messages=same_message("Leave out empty support needs."),
        ),
        load_default=list,
        allow_none=True,
        validate=_no_repeats,
    )
    risk = fields.Nested(RiskSchema, load_default=_default_risk, allow_none=True)
    agency_reference = optional_text(100)

    @post_load
    def _fill_defaults(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        for key in ("household", "support_needs"):
            if data.get(key) is None:
                data[key] = []
        if data.get("risk") is None:
            data["risk"] = _default_risk()
        return data
