"""Possible duplicates: a new referral for someone with an open one at the same authority.

Repeat and multiple referrals are expected (Code of Guidance 4.17). They are linked for an
officer to confirm or reject, never merged silently.
"""
from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select, union
from sqlalchemy.orm import load_only

from referral_service import clock, rowbatch
from referral_service.domain import audit
from referral_service.domain.errors import Conflict, PermissionDenied
from referral_service.extensions import db
from referral_service.models import (
    OPEN_STATUSES_SQL,
    DuplicateDecision,
    DuplicateMatch,
    PossibleDuplicate,
    Referral,
    Role,
    User,
)

MAX_LINKS = 10


def name_key(first_name: str, last_name: str) -> str:
    """'Aoife', "O'Neill" and 'AOIFE', 'ONeill' give the same key; accents are folded too."""

    def fold(text: str) -> str:
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
        return re.sub(r"[^a-z]", "", text.casefold())

    return f"{fold(first_name)} {fold(last_name)}"


# Only what matching and linking read: psycopg describes every column of every row it returns,
# and a referral has about 65.
_MATCH_COLUMNS = load_only(Referral.id, Referral.reference, Referral.person_nhs_number,
                           Referral.person_name_key, Referral.person_date_of_birth,
                           Referral.person_phone)


@cache
def _matches_statement(nhs_number: bool, date_of_birth: bool, phone: bool) -> Select[Any]:
    """One statement per combination of what the new referral has, built once, values bound:
    it runs for every referral received. The ids alone, as a Core query (half the CPU time of
    the ORM one, and almost always there is no match).

    Each identifier is its own branch, an equality on its own index, so that finding nothing
    costs a few index pages. As one ``WHERE … OR …`` ordered by ``received_at``, PostgreSQL
    walked every referral of the authority backwards and filtered them (a generic plan, or stale
    statistics on a growing table): 1,000 pages and 4.5 ms per referral at 5,500 referrals,
    growing with the table."""
    t = Referral.__table__.c
    conditions = []
    if nhs_number:
        conditions.append(t.person_nhs_number == bindparam("nhs_number"))
    if date_of_birth:
        conditions.append(and_(t.person_name_key == bindparam("name_key"),
                               t.person_date_of_birth == bindparam("date_of_birth")))
    if phone:
        conditions.append(t.person_phone == bindparam("phone"))
    branches = [
        select(t.id, t.received_at)
        .where(t.authority_id == bindparam("authority_id"))
        .where(condition)
        .where(t.id != bindparam("referral_id"))
        .where(t.status.in_(OPEN_STATUSES_SQL))
        .order_by(t.received_at.desc())
        # A shared number (a hostel's landline) can match dozens of people: the most recent
        # few are what an officer can act on, and the link table stays small.
        .limit(MAX_LINKS)
        .subquery()  # SQLite takes no ORDER BY or LIMIT on a member of a UNION itself
        for condition in conditions
    ]
    found = union(*(select(branch) for branch in branches)).subquery("found")
    return select(found.c.id).order_by(found.c.received_at.desc()).limit(MAX_LINKS)


def find_matches(referral: Referral) -> dict[Referral, list[DuplicateMatch]]:
    """Open referrals at the same authority that match on NHS number, name and DOB, or phone."""
    has = (bool(referral.person_nhs_number), referral.person_date_of_birth is not None,
           bool(referral.person_phone))
    if not any(has):
        return {}
    values = {
        "authority_id": referral.authority_id, "referral_id": referral.id,
        "nhs_number": referral.person_nhs_number, "name_key": referral.person_name_key,
        "date_of_birth": referral.person_date_of_birth, "phone": referral.person_phone}
    ids = db.session.scalars(_matches_statement(*has), values).all()
    if not ids:
        return {}
    # Almost never reached: the matches themselves, by the ids just found (not a second search).
    candidates = db.session.scalars(select(Referral).options(_MATCH_COLUMNS)
                                    .where(Referral.id.in_(ids))
                                    .order_by(Referral.received_at.desc()))
    matches: dict[Referral, list[DuplicateMatch]] = {}
    for other in candidates:
        found = []
        if referral.person_nhs_number and other.person_nhs_number == referral.person_nhs_number:
            found.append(DuplicateMatch.NHS_NUMBER)
        if (
            referral.person_date_of_birth is not None
            and other.person_name_key == referral.person_name_key
            and other.person_date_of_birth == referral.person_date_of_birth
        ):
            found.append(DuplicateMatch.NAME_AND_DATE_OF_BIRTH)
        if referral.person_phone and other.person_phone == referral.person_phone:
            found.append(DuplicateMatch.PHONE)
        matches[other] = found
    return matches


def link_possible_duplicates(referral: Referral, actor: audit.Actor) -> list[PossibleDuplicate]:
    links = []
    for existing, matched_on in find_matches(referral).items():
        # Receiving: written after the new referral, with it.
        link = rowbatch.new(
            PossibleDuplicate,
            referral_id=referral.id,
            existing_referral_id=existing.id,
            matched_on=[match.value for match in matched_on],
        )
        links.append(link)
        audit.record(
            actor,
            "referral.possible_duplicate_linked",
            subject_type="referral",
            subject_id=referral.id,
            referral=referral,
            existing_referral=existing.reference,
            matched_on=[match.value for match in matched_on],
        )
    if links and rowbatch.current() is None:
        db.session.flush()
    return links


def pending_links(referral: Referral) -> list[PossibleDuplicate]:
    return list(
        db.session.scalars(
            select(PossibleDuplicate)
            .where(
                or_(
                    PossibleDuplicate.referral_id == referral.id,
                    PossibleDuplicate.existing_referral_id == referral.id,
                )
            )
            .where(PossibleDuplicate.decision == DuplicateDecision.PENDING)
        )
    )


def decide(link: PossibleDuplicate, *, is_duplicate: bool, by: User,
           ip_address: str | None = None) -> None:
    """An officer says whether the two referrals are the same person's repeat referral."""
    # Both referrals belong to one authority (links are never made across authorities): only
    # its own staff may judge them, as for every other casework decision.
    if (by.role not in {Role.OFFICER, Role.TEAM_LEADER} or not by.active
            or by.authority_id != link.referral.authority_id):
        raise PermissionDenied("Only the authority's officers and team leaders can decide this.")
    if link.decision is not DuplicateDecision.PENDING:
        raise Conflict("This possible duplicate has already been decided.")
    link.decision = DuplicateDecision.CONFIRMED if is_duplicate else DuplicateDecision.NOT_DUPLICATE
    link.decided_by_id = by.id
    link.decided_at = clock.now()
    audit.record(
        audit.Actor.for_user(by, ip_address),
        "referral.duplicate_decided",
        subject_type="possible_duplicate",
        subject_id=link.id,
        referral=link.referral,
        existing_referral=link.existing_referral.reference,
        decision=link.decision.value,
    )
    db.session.flush()
