"""What a referrer may change once a referral is sent (``PATCH /api/v1/referrals/{id}`` and the
referrer's change page): the release or discharge date, and how to reach the person. Each field
is validated exactly as the submission schemas validate it."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import RAISE, ValidationError, fields, pre_load

from referral_service.domain.errors import ValidationFailed
from referral_service.schemas.errors import flatten_errors
from referral_service.schemas.referral import PersonSchema, ReferralSubmissionSchema, _StrictSchema

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
