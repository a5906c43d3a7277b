"""Choose a named officer for a referral, or leave it in the team queue, and say why.

Only active officers of the referral's own authority are considered; absent officers and those at
capacity never are. Among the rest: the most matching specialisms first, then a patch that covers
the person's postcode, then the lightest open caseload, then whoever was given a case least
recently (so equal officers take turns), then a stable order.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import load_only

from referral_service import clock
from referral_service.extensions import db
from referral_service.models import (
    CASELOAD_STATUSES_LIST,
    OfficerAbsence,
    Referral,
    Role,
    User,
)
from referral_service.validation import postcode_district

# Specialisms beyond the support-need names of API.md.
PRISON_RELEASE = "prison_release"
HOSPITAL_DISCHARGE = "hospital_discharge"
EXTRA_SPECIALISMS = (PRISON_RELEASE, HOSPITAL_DISCHARGE)
# A need that also suits the broader specialism: an officer who specialises in care leavers
# suits every care leaver, whatever H-CLIC age band the referral gives.
BROADER_SPECIALISM = {
    "care_leaver_18_20": "care_leaver",
    "care_leaver_21_24": "care_leaver",
    "care_leaver_25_plus": "care_leaver",
}

# One fixed stand-in for "never given a case", so that never-assigned officers tie with each
# other and fall through to the stable order (a fresh clock reading per officer would not).
_NEVER_ASSIGNED = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Candidate:
    officer: User
    caseload: int
    matched_specialisms: tuple[str, ...]
    patch_match: str | None

    @property
    def capacity_text(self) -> str:
        return f"{self.caseload}/{self.officer.capacity}"


@dataclass(frozen=True)
class RoutingDecision:
    officer: User | None
    reason: str
    considered: int
    refused: dict[str, int] = field(default_factory=dict)


def routing_needs(referral: Referral) -> set[str]:
    """The specialisms that would suit this referral."""
    needs = set(referral.support_needs or [])
    needs |= {BROADER_SPECIALISM[need] for need in needs if need in BROADER_SPECIALISM}
    org_type = referral.referring_organisation.type
    if referral.release_or_discharge_date is not None:
        if org_type.is_custodial:
            needs.add(PRISON_RELEASE)
        elif org_type.is_health:
            needs.add(HOSPITAL_DISCHARGE)
    return needs


def patch_covers(patch: str, district: str) -> bool:
    """'AL8' covers AL8 only; an area of letters alone ('SG') covers every SG district."""
    patch = patch.strip().upper()
    if patch.isalpha():
        area = re.match(r"[A-Z]+", district)
        return area is not None and area.group(0) == patch
    return district == patch


def open_caseloads(officer_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not officer_ids:
        return {}
    rows = db.session.execute(
        select(Referral.named_officer_id, func.count(Referral.id))
        .where(Referral.named_officer_id.in_(officer_ids))
        .where(Referral.status.in_(CASELOAD_STATUSES_LIST))
        .group_by(Referral.named_officer_id)
    ).all()
    counts = {officer_id: 0 for officer_id in officer_ids}
    counts.update({officer_id: count for officer_id, count in rows if officer_id is not None})
    return counts


def _officers_with_load_statement() -> Select[User, int, bool]:
    # The open caseload as the triggers keep it on the users row (not a count of the
    # authority's open cases on every referral), read from the row, never from a loaded object.
    caseload = User.__table__.c.open_caseload
    absent = (
        select(OfficerAbsence.id)
        .where(OfficerAbsence.user_id == User.id)
        .where(OfficerAbsence.starts_on <= bindparam("day"),
               OfficerAbsence.ends_on >= bindparam("day"))
        .correlate(User)
        .exists()
    )
    return (
        select(User, caseload, absent)
        # What routing, the officer's messages and the audit read: not the sign-in columns
        # (password hash, second factor), for eight or so officers on every referral.
        .options(load_only(User.id, User.email, User.name, User.role, User.authority_id,
                           User.specialisms, User.patches, User.capacity,
                           User.last_assigned_at, User.active))
        .where(User.authority_id == bindparam("authority_id"))
        .where(User.role == Role.OFFICER)
        .where(User.active.is_(True))
    )


# Built once, with the authority and the day bound: it runs for every referral received, and
# building it and working out its cache key cost more than running it.
_OFFICERS_WITH_LOAD = _officers_with_load_statement()


def officers_with_load(authority_id: uuid.UUID, day: date) -> list[tuple[User, int, bool]]:
    """Active officers of an authority with their open caseload and whether they are absent on
    ``day``: one query, since it runs for every referral received."""
    rows = db.session.execute(_OFFICERS_WITH_LOAD, {"authority_id": authority_id, "day": day})
    return [(officer, count, bool(is_absent)) for officer, count, is_absent in rows]


def is_at_capacity(officer: User, caseload: int) -> bool:
    return officer.capacity is not None and caseload >= officer.capacity


def choose_officer(
    referral: Referral,
    *,
    today: date | None = None,
    exclude: frozenset[uuid.UUID] = frozenset(),
) -> RoutingDecision:
    """Pick the best eligible officer, or none (the team queue). Changes nothing."""
    today = today or clock.today_in_london()
    loads = officers_with_load(referral.authority_id, today)
    officers = [officer for officer, _, _ in loads]
    caseloads = {officer.id: caseload for officer, caseload, _ in loads}
    absent = {officer.id for officer, _, is_absent in loads if is_absent}
    needs = routing_needs(referral)
    postcode = referral.address_postcode
    district = postcode_district(postcode) if postcode else None
    refused = {"absent": 0, "at_capacity": 0, "excluded": 0}
    candidates: list[Candidate] = []
    for officer in officers:
        if officer.id in exclude:
            refused["excluded"] += 1
        elif officer.id in absent:
            refused["absent"] += 1
        elif is_at_capacity(officer, caseloads[officer.id]):
            refused["at_capacity"] += 1
        else:
            patch = next(
                (p for p in officer.patches or [] if district and patch_covers(p, district)), None
            )
            candidates.append(
                Candidate(
                    officer=officer,
                    caseload=caseloads[officer.id],
                    matched_specialisms=tuple(sorted(needs & set(officer.specialisms or []))),
                    patch_match=patch,
                )
            )
    refused = {key: count for key, count in refused.items() if count}
    if not candidates:
        return RoutingDecision(None, _queue_reason(len(officers), refused), len(officers), refused)
    best = min(candidates, key=_rank)
    return RoutingDecision(best.officer, _reason(best), len(officers), refused)


def _rank(candidate: Candidate) -> tuple[object, ...]:
    last = candidate.officer.last_assigned_at
    return (
        -len(candidate.matched_specialisms),
        candidate.patch_match is None,
        candidate.caseload,
        last is not None,
        last or _NEVER_ASSIGNED,
        str(candidate.officer.id),
    )


def _reason(candidate: Candidate) -> str:
    parts = []
    if candidate.matched_specialisms:
        parts.append("specialism " + ", ".join(candidate.matched_specialisms))
    if candidate.patch_match:
        parts.append(f"patch {candidate.patch_match}")
    capacity = candidate.capacity_text if candidate.officer.capacity is not None else (
        f"{candidate.caseload} (no capacity set)")
    parts.append(f"caseload {capacity}")
    return "; ".join(parts)


def _queue_reason(total: int, refused: dict[str, int]) -> str:
    if total == 0:
        return "no officers set up for this authority: team queue"
    detail = ", ".join(f"{count} {key.replace('_', ' ')}" for key, count in refused.items())
    return f"no eligible officer ({total} considered: {detail}): team queue"
