"""Who may see which figures, and the cohort every figure counts: referrals received in a period.

A team leader sees their own authority; an administrator any one authority, or all of them.
The period is whole London days, ``start`` to ``end`` inclusive; an agency type narrows the
cohort to referrals from that kind of referring body.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from referral_service.clock import london_to_utc
from referral_service.domain.errors import PermissionDenied, ValidationFailed
from referral_service.domain.reports import calendar
from referral_service.extensions import db
from referral_service.models import Authority, Organisation, OrganisationType, Referral, Role, User

MAX_PERIOD_DAYS = 5 * 366


@dataclass(frozen=True)
class Scope:
    start: date
    end: date
    authority_id: uuid.UUID | None = None
    authority_code: str | None = None
    agency_type: OrganisationType | None = None

    @property
    def starts_at(self) -> datetime:
        return london_to_utc(self.start)

    @property
    def ends_at(self) -> datetime:
        """Exclusive: London midnight after ``end``."""
        return london_to_utc(self.end + timedelta(days=1))

    @property
    def label(self) -> str:
        parts = [self.authority_code or "all-authorities", self.start.isoformat(),
                 self.end.isoformat()]
        if self.agency_type is not None:
            parts.append(self.agency_type.value)
        return "_".join(parts)


def scope_for(user: User, *, start: date, end: date, authority_code: str | None = None,
              agency_type: str | None = None) -> Scope:
    """The figures ``user`` may see for these filters, or PermissionDenied/ValidationFailed."""
    if not user.active or user.role not in {Role.TEAM_LEADER, Role.ADMIN}:
        raise PermissionDenied("Only team leaders and administrators can see these figures.")
    errors: dict[str, list[str]] = {}
    if end < start:
        errors["end"] = ["The end of the period must be on or after its start."]
    elif (end - start).days >= MAX_PERIOD_DAYS:
        errors["end"] = ["Choose a period of at most five years."]
    if start < calendar.FIRST_DAY or end > calendar.LAST_DAY:
        errors["start"] = [f"Choose dates from {calendar.FIRST_DAY:%-d %B %Y} to "
                           f"{calendar.LAST_DAY:%-d %B %Y}."]
    agency: OrganisationType | None = None
    if agency_type:
        try:
            agency = OrganisationType(agency_type)
        except ValueError:
            errors["agency_type"] = ["Choose a referring agency type from the list."]
        else:
            if agency.is_panel:
                errors["agency_type"] = ["MARAC and MAPPA panels do not make referrals."]
    authority: Authority | None = None
    code = (authority_code or "").strip().upper() or None
    if user.role is Role.TEAM_LEADER:
        authority = db.session.get(Authority, user.authority_id)
        if code is not None and authority is not None and code != authority.code:
            raise PermissionDenied("Team leaders see their own authority's figures only.")
    elif code is not None:
        authority = db.session.scalar(sa.select(Authority).where(Authority.code == code))
        if authority is None:
            errors["authority"] = ["Choose an authority from the list."]
    if errors:
        raise ValidationFailed(errors)
    return Scope(start=start, end=end, agency_type=agency,
                 authority_id=authority.id if authority else None,
                 authority_code=authority.code if authority else None)


def cohort_filter(scope: Scope) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses for the cohort: authority, period (by ``received_at``), agency type."""
    r = Referral
    clauses = [r.received_at >= scope.starts_at, r.received_at < scope.ends_at]
    if scope.authority_id is not None:
        clauses.append(r.authority_id == scope.authority_id)
    if scope.agency_type is not None:
        clauses.append(r.referring_organisation_id.in_(
            sa.select(Organisation.id).where(Organisation.type == scope.agency_type)))
    return clauses


def authority_choices(user: User) -> list[tuple[str, str]]:
    """(code, name) of the authorities ``user`` may choose: their own, or all for an admin."""
    query = sa.select(Authority.code, Authority.name).where(Authority.participating.is_(True))
    if user.role is not Role.ADMIN:
        query = query.where(Authority.id == user.authority_id)
    return [(code, name) for code, name in db.session.execute(query.order_by(Authority.name))]


AGENCY_TYPES = [t for t in OrganisationType if not t.is_panel]
