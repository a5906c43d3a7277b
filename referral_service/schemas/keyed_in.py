"""A referral an officer keys in from an email, a phone call, a letter or a visit (issue 15.4).

The referral itself is the API's (``ReferralSubmissionSchema``), with one difference: the
referrer's email may be missing (a phone call or a letter gives none; then nobody is
acknowledged). How it arrived and who referred is ``KeyedInSourceSchema``: the referring public
body is either an organisation on the service (its id) or a name and kind typed in. Whether the
id names an organisation is for the caller, which has the database.
"""
from __future__ import annotations

from typing import Any

from marshmallow import RAISE, ValidationError, fields, validates_schema

from referral_service.models.enums import KEYED_IN_SOURCES, OrganisationType
from referral_service.schemas.fields import (
    Email,
    Text,
    optional_text,
    required_text,
    same_message,
)
from referral_service.schemas.referral import (
    ReferralSubmissionSchema,
    ReferrerSchema,
    _StrictSchema,
)

KEYED_IN_CHANNELS: tuple[str, ...] = tuple(source.value for source in KEYED_IN_SOURCES)
REFERRING_TYPES: tuple[str, ...] = tuple(
    kind.value for kind in OrganisationType if not kind.is_panel)
CHANNEL_MESSAGE = "Choose how the referral arrived."
BODY_MESSAGE = "Choose the public body that made the referral, or enter its name."
TYPE_MESSAGE = "Choose what kind of public body it is."


class KeyedInSourceSchema(_StrictSchema):
    class Meta:
        unknown = RAISE

    # Checked with the body below, so that a blank page says both at once.
    channel = Text(load_default=None)
    organisation_id = fields.UUID(load_default=None, allow_none=True,
                                  error_messages={"invalid_uuid": BODY_MESSAGE,
                                                  "invalid": BODY_MESSAGE})
    organisation_name = optional_text(200)
    organisation_type = Text(load_default=None)

    @validates_schema
    def _one_body(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        if data.get("channel") not in KEYED_IN_CHANNELS:
            errors["channel"] = [CHANNEL_MESSAGE]
        chosen, named = data.get("organisation_id"), data.get("organisation_name")
        if chosen is None and not named:
            errors["organisation_id"] = [BODY_MESSAGE]
        elif chosen is not None and named:
            errors["organisation_name"] = [
                "Either choose a public body on the service or enter a name, not both."]
        elif named and data.get("organisation_type") not in REFERRING_TYPES:
            errors["organisation_type"] = [TYPE_MESSAGE]
        if errors:
            raise ValidationError(errors)


class KeyedInReferrerSchema(ReferrerSchema):
    class Meta:
        unknown = RAISE

    name = required_text("Enter the referrer's name.", 200)
    email = Email(load_default=None)


class KeyedInSubmissionSchema(ReferralSubmissionSchema):
    """The API's referral, the referrer's email optional; the council is the officer's own, so
    ``authority_code`` is not asked for."""

    class Meta:
        unknown = RAISE

    authority_code = Text(load_default=None)
    referrer = fields.Nested(KeyedInReferrerSchema, required=True,
                             error_messages=same_message("Give the referrer's details."))
