"""Upcoming releases and discharges: what the monthly release panel reads.

No field names the prison or hospital itself, so referrals are grouped by the organisation that
referred (for prisons and hospitals, the establishment's own referral team).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from referral_service.extensions import db
from referral_service.models import Organisation, Referral, ReferralStatus

WEEKS_AHEAD = 8
_OPEN = [status for status in ReferralStatus if status.is_open]


@dataclass(frozen=True)
class Establishment:
    organisation: Organisation
    referrals: list[Referral]


def contact_state(referral: Referral) -> str:
    """``made``, ``attempted`` or ``not_yet``: the question the panel asks about each person."""
    if referral.contacted_at is not None:
        return "made"
    if referral.first_contact_attempt_at is not None:
        return "attempted"
    return "not_yet"


def upcoming(authority_id: uuid.UUID, today: date, weeks: int = WEEKS_AHEAD
             ) -> list[Establishment]:
    """Open referrals to the authority with a release or discharge date from ``today`` to
    ``weeks`` weeks ahead, by referring organisation (name order), soonest date first."""
    rows = db.session.scalars(
        select(Referral)
        .join(Referral.referring_organisation)
        .options(joinedload(Referral.referring_organisation), joinedload(Referral.named_officer))
        .where(Referral.authority_id == authority_id,
               Referral.status.in_(_OPEN),
               Referral.release_or_discharge_date >= today,
               Referral.release_or_discharge_date <= today + timedelta(weeks=weeks))
        .order_by(Organisation.name, Referral.release_or_discharge_date, Referral.reference))
    groups: dict[uuid.UUID, Establishment] = {}
    for referral in rows:
        organisation = referral.referring_organisation
        groups.setdefault(organisation.id, Establishment(organisation, [])).referrals.append(
            referral)
    return list(groups.values())
