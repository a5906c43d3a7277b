"""Referrals that arrive by email, phone, letter or in person, keyed in by a council officer
(issue 15.4), so the whole caseload and the figures live in one place.

The referral goes through exactly the intake every referral does (``intake.receive_referral``:
routing, deadlines, duplicates, the messages to the person), for the officer's own council,
from the public body that made it, with how it arrived and who keyed it in recorded. The
referrer is acknowledged only if an email address was given (``notifications.outbox``
suppresses the acknowledgement otherwise, with the reason on the timeline). Functions flush;
the caller commits.
"""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from referral_service.domain import audit, intake
from referral_service.domain.errors import PermissionDenied, ValidationFailed
from referral_service.extensions import db
from referral_service.models import (
    Authority,
    Organisation,
    OrganisationType,
    Referral,
    ReferralSource,
    User,
)

BODY_PATH = "source.organisation_id"


def keying_authority(user: User) -> Authority:
    """The council a member of staff keys referrals in for: their own, and only theirs."""
    if not user.role.belongs_to_authority or user.authority is None:
        raise PermissionDenied("Only a council's officers and team leaders can key in referrals.")
    return user.authority


def referring_bodies() -> list[Organisation]:
    """Public bodies on the service that can make referrals (not MARAC or MAPPA panels)."""
    return [organisation for organisation in db.session.scalars(
        select(Organisation).order_by(Organisation.name)) if not organisation.type.is_panel]


def known_body(organisation_id: uuid.UUID) -> Organisation:
    """A referring body on the service, or ``ValidationFailed`` on the source page's box."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or organisation.type.is_panel:
        raise ValidationFailed({BODY_PATH: [
            "Choose a public body from the list, or enter the name of one that is not listed."]})
    return organisation


def referring_body(source: dict[str, Any], actor: audit.Actor) -> Organisation:
    """The body the keyed-in source names: one on the service, or the one of that name (in any
    case), made now (audited) if the service has never heard of it. A named panel is refused."""
    if source.get("organisation_id") is not None:
        return known_body(source["organisation_id"])
    name = " ".join(str(source["organisation_name"]).split())
    found = db.session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == name.lower()))
    if found is not None:
        if found.type.is_panel:
            raise ValidationFailed({"source.organisation_name": [
                "MARAC and MAPPA panels do not make referrals: enter the public body that did."]})
        return found
    made = Organisation(name=name, type=OrganisationType(source["organisation_type"]))
    db.session.add(made)
    db.session.flush()
    audit.record(actor, "organisation.created", subject_type="organisation", subject_id=made.id,
                 organisation_type=made.type.value, reason="keyed-in referral")
    return made


def key_in(data: dict[str, Any], source: dict[str, Any], *, officer: User,
           actor: audit.Actor) -> Referral:
    """Make the referral ``data`` (the loaded submission, its authority ignored) at the
    officer's council, from the body and by the channel of ``source`` (loaded
    ``KeyedInSourceSchema``). Raises ``PermissionDenied`` for anyone but that council's staff,
    ``ValidationFailed`` for an unknown body; nothing is changed then."""
    authority = keying_authority(officer)
    channel = ReferralSource(source["channel"])
    if not channel.keyed_in:
        raise ValidationFailed({"source.channel": ["Choose how the referral arrived."]})
    organisation = referring_body(source, actor)
    return intake.receive_referral(
        {**data, "authority_code": authority.code}, organisation=organisation, actor=actor,
        source=channel, keyed_in_by=officer)
