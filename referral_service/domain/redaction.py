"""What each panel may see of a case, defined as data, and the one function that applies it.

``FIELDS`` is every field a panel could ever be shown, with its label and how it is read from the
referral; ``PANEL_FIELDS`` picks, per panel type, the fields that panel needs and nothing more.
The panel lead's pages and the ``cases:shared`` API both call :func:`redact`, and the API's
schemas are generated from the same tables (``schema_for``), so the three cannot drift apart.

Left out for every panel, by design: the referrer and their contact details, consent notes, the
referral's free-text reason, NHS number, language, and support needs that are not the panel's
business (mental and physical health, learning disability, age, debt and the like). MARAC does
not get the address (the safe contact route is how to reach the person); MAPPA does not get the
person's phone, email or safe-contact instructions.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import RAISE, Schema, fields

from referral_service.models import OrganisationType, Referral

MARAC = OrganisationType.MARAC
MAPPA = OrganisationType.MAPPA

# Support needs each panel is told of; any other need on the referral is never shown to it.
# The H-CLIC needs added in issue 15.7 are shown to neither panel (docs/sharing.md):
# non_domestic_abuse and modern_slavery are sensitive and not what a MARAC (domestic abuse) or
# MAPPA (offender management) needs to act; the young-person and care-leaver age bands and
# education, employment or training say nothing about the risk either panel manages.
SUPPORT_NEEDS_SHOWN: dict[OrganisationType, frozenset[str]] = {
    MARAC: frozenset({"domestic_abuse", "sexual_exploitation", "young_parent"}),
    MAPPA: frozenset({"offending_history", "drug_dependency", "alcohol_dependency",
                      "rough_sleeping", "repeat_homelessness"}),
}


class Closed(Schema):
    """Documented as ``additionalProperties: false``: a panel is promised nothing else appears."""

    class Meta:
        unknown = RAISE


class CaseOfficerSchema(Closed):
    name = fields.String()
    team_phone = fields.String(allow_none=True)
    team_email = fields.String(allow_none=True)


class CaseAuthoritySchema(Closed):
    code = fields.String()
    name = fields.String()


class CaseAddressSchema(Closed):
    line1 = fields.String(allow_none=True)
    line2 = fields.String(allow_none=True)
    town = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)


class CaseSafeContactSchema(Closed):
    sms = fields.Boolean()
    voicemail = fields.Boolean()
    email = fields.Boolean()
    letter = fields.Boolean()
    instructions = fields.String(allow_none=True)
    phone = fields.String(allow_none=True, metadata={
        "description": "The person's number, only when texts or voicemail are marked safe."})
    email_address = fields.String(allow_none=True, metadata={
        "description": "The person's email, only when email is marked safe."})


class CaseHouseholdMemberSchema(Closed):
    relationship = fields.String()
    age = fields.Integer(allow_none=True)


class CaseMappaSchema(Closed):
    level = fields.Integer(allow_none=True)
    category = fields.Integer(allow_none=True)


@dataclass(frozen=True)
class Field:
    label: str
    read: Callable[[Referral, OrganisationType], Any]
    schema_field: Callable[[], fields.Field]


def _officer(referral: Referral, _: OrganisationType) -> dict[str, Any] | None:
    officer = referral.named_officer
    if officer is None:
        return None
    return {"name": officer.name, "team_phone": referral.authority.team_phone,
            "team_email": referral.authority.team_email}


def _address(referral: Referral, _: OrganisationType) -> dict[str, Any] | None:
    address = {"line1": referral.address_line1, "line2": referral.address_line2,
               "town": referral.address_town, "postcode": referral.address_postcode}
    return address if any(address.values()) else None


def _safe_contact(referral: Referral, _: OrganisationType) -> dict[str, Any]:
    by_phone = referral.safe_sms or referral.safe_voicemail
    return {"sms": referral.safe_sms, "voicemail": referral.safe_voicemail,
            "email": referral.safe_email, "letter": referral.safe_letter,
            "instructions": referral.safe_contact_instructions,
            "phone": referral.person_phone if by_phone else None,
            "email_address": referral.person_email if referral.safe_email else None}


def _support_needs(referral: Referral, panel: OrganisationType) -> list[str]:
    shown = SUPPORT_NEEDS_SHOWN[panel]
    return [need for need in referral.support_needs or [] if need in shown]


def _household(referral: Referral, _: OrganisationType) -> list[dict[str, Any]]:
    return [{"relationship": m.get("relationship"), "age": m.get("age")}
            for m in referral.household or []]


def _nested(schema: type[Schema], **kwargs: Any) -> Callable[[], fields.Field]:
    return lambda: fields.Nested(schema, **kwargs)


FIELDS: dict[str, Field] = {
    "reference": Field("Reference", lambda r, _: r.reference, fields.String),
    "person_name": Field("Name", lambda r, _: f"{r.person_first_name} {r.person_last_name}",
                         fields.String),
    "date_of_birth": Field("Date of birth", lambda r, _: r.person_date_of_birth,
                           lambda: fields.Date(allow_none=True)),
    "status": Field("Housing status", lambda r, _: r.status.value, fields.String),
    "authority": Field("Housing authority", lambda r, _: {"code": r.authority.code,
                                                          "name": r.authority.name},
                       _nested(CaseAuthoritySchema)),
    "named_officer": Field("Named officer", _officer, _nested(CaseOfficerSchema, allow_none=True)),
    "housing_situation": Field("Housing situation", lambda r, _: r.housing_situation.value,
                               fields.String),
    "homelessness_date": Field("Homeless from", lambda r, _: r.homelessness_date,
                               lambda: fields.Date(allow_none=True)),
    "at_risk_of_rough_sleeping_tonight": Field(
        "At risk of sleeping rough tonight", lambda r, _: r.at_risk_of_rough_sleeping_tonight,
        fields.Boolean),
    "current_address": Field("Current address", _address,
                             _nested(CaseAddressSchema, allow_none=True)),
    "no_fixed_abode": Field("No fixed abode", lambda r, _: r.no_fixed_abode, fields.Boolean),
    "current_location": Field("Where they are living now", lambda r, _: r.current_location,
                              lambda: fields.String(allow_none=True)),
    "release_or_discharge_date": Field("Release date", lambda r, _: r.release_or_discharge_date,
                                       lambda: fields.Date(allow_none=True)),
    "mappa": Field("MAPPA level and category",
                   lambda r, _: {"level": r.risk_mappa_level, "category": r.risk_mappa_category},
                   _nested(CaseMappaSchema)),
    "safe_contact": Field("Safe contact route", _safe_contact, _nested(CaseSafeContactSchema)),
    "household": Field("Household", _household,
                       lambda: fields.List(fields.Nested(CaseHouseholdMemberSchema))),
    "support_needs": Field("Relevant support needs", _support_needs,
                           lambda: fields.List(fields.String())),
    "risk_to_staff": Field("Risk to staff", lambda r, _: r.risk_to_staff, fields.Boolean),
    "risk_details": Field("Risk information", lambda r, _: r.risk_details,
                          lambda: fields.String(allow_none=True)),
}

_BOTH = ("reference", "person_name", "date_of_birth", "status", "authority", "named_officer",
         "housing_situation", "homelessness_date", "at_risk_of_rough_sleeping_tonight",
         "household", "support_needs", "risk_to_staff", "risk_details")

# The need-to-know field sets, in the order the case page shows them.
PANEL_FIELDS: dict[OrganisationType, tuple[str, ...]] = {
    MAPPA: (*_BOTH, "current_address", "no_fixed_abode", "current_location",
            "release_or_discharge_date", "mappa"),
    MARAC: (*_BOTH, "safe_contact"),
}

# What a panel's list of cases shows: enough to recognise each case, present in every field set.
LIST_FIELDS = ("reference", "person_name", "date_of_birth", "status")
assert all(set(LIST_FIELDS) <= set(chosen) for chosen in PANEL_FIELDS.values())
assert all(set(chosen) <= set(FIELDS) for chosen in PANEL_FIELDS.values())


def fields_for(panel: OrganisationType) -> tuple[str, ...]:
    try:
        return PANEL_FIELDS[panel]
    except KeyError:
        raise ValueError(f"{panel.value} is not a panel: it sees no shared cases.") from None


def redact(referral: Referral, panel: OrganisationType,
           only: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The referral as ``panel`` may see it: exactly its field set (or ``only``, a subset)."""
    allowed = fields_for(panel)
    chosen = allowed if only is None else tuple(name for name in only if name in allowed)
    return {name: FIELDS[name].read(referral, panel) for name in chosen}


def labelled(document: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(key, label, value) for a page to show a redacted document in its field order."""
    return [(name, FIELDS[name].label, value) for name, value in document.items()]


def schema_for(panel: OrganisationType, base: dict[str, fields.Field] | None = None,
               name: str | None = None) -> type[Schema]:
    """A marshmallow schema of exactly ``panel``'s fields (plus ``base``), for the API."""
    declared = {key: FIELDS[key].schema_field() for key in fields_for(panel)}
    for made in declared.values():
        made.required = True  # every key is always there (null when unknown): say so
    return Closed.from_dict({**(base or {}), **declared},
                            name=name or f"{panel.value.capitalize()}Case")
