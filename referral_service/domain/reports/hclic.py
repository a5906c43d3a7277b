"""The quarterly H-CLIC Duty to Refer extract: one row per referral an authority received in a
quarter, with the referring public body and the household's support needs as H-CLIC categories
(``hclic_codes.py``; docs/hclic.md).

Quarters are H-CLIC's: financial-year quarters, Q1 = April to June. ``2026-Q3`` is the third
quarter of the financial year that starts in April 2026: 1 October to 31 December 2026, and
``2026-Q4`` is January to March 2027. The boundaries are London midnights, so a referral at
00:30 BST on 1 July falls in Q2.

The file holds no free text about anyone: the referral's reference, the authority's GSS code,
the date received, codes and yes/no flags. Every extract is audited.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from referral_service import clock
from referral_service.domain import audit
from referral_service.domain.admin import AUTHORITY_CODE
from referral_service.domain.errors import ValidationFailed
from referral_service.domain.reports import calendar
from referral_service.domain.reports.hclic_codes import (
    AGENCY_TO_HCLIC,
    NOT_COLLECTED,
    PUBLIC_BODIES,
    SUPPORT_CATEGORIES,
    hclic_support_flags,
)
from referral_service.domain.reports.scope import Scope, cohort_filter, scope_for
from referral_service.extensions import db
from referral_service.models import Authority, Organisation, Referral, User

QUARTER_FORMAT = re.compile(r"([0-9]{4})-Q([1-4])")  # ASCII digits only
# The Homelessness Reduction Act and H-CLIC began in April 2018.
FIRST_QUARTER_START = date(2018, 4, 1)
COLUMNS: tuple[str, ...] = (
    "case_reference", "local_authority_code", "referral_date", "duty_to_refer",
    "referring_public_body", "referring_public_body_name",
    *(f"support_need_{category}" for category in SUPPORT_CATEGORIES),
)


@dataclass(frozen=True)
class Quarter:
    year: int  # the calendar year the financial year starts in
    number: int

    @property
    def key(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> date:
        month = 4 + 3 * (self.number - 1)
        return date(self.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> date:
        """Inclusive: the last day of the quarter."""
        following = Quarter(self.year + self.number // 4, self.number % 4 + 1)
        return following.start - timedelta(days=1)

    @property
    def financial_year(self) -> str:
        return f"{self.year}-{(self.year + 1) % 100:02d}"

    @property
    def description(self) -> str:
        return (f"{self.financial_year} Q{self.number} ({self.start:%-d %B %Y} to "
                f"{self.end:%-d %B %Y})")


def parse_quarter(text: str | None) -> Quarter:
    """``2026-Q3`` as a Quarter, or ValidationFailed saying what is wanted."""
    match = QUARTER_FORMAT.fullmatch((text or "").strip().upper())
    if match is None:
        raise ValidationFailed({"quarter": [
            "Give the quarter as the year its financial year starts and the quarter, like "
            "2026-Q3 (October to December 2026); Q1 is April to June."]})
    quarter = Quarter(int(match.group(1)), int(match.group(2)))
    if quarter.start < FIRST_QUARTER_START or quarter.end > calendar.LAST_DAY:
        raise ValidationFailed({"quarter": [
            f"Choose a quarter from 2018-Q1 (April 2018) to the end of "
            f"{calendar.LAST_DAY:%B %Y}."]})
    return quarter


def scope(quarter_text: str | None, authority_code: str | None,
          user: User | None = None) -> tuple[Quarter, Scope]:
    """The quarter and the one authority to extract, or ValidationFailed/PermissionDenied.

    With a ``user`` (the dashboard), the figures' own access rules apply: a team leader has
    their own authority, an administrator names one. Without (the operator's CLI), any
    authority the service knows.
    """
    errors: dict[str, list[str]] = {}
    try:
        quarter = parse_quarter(quarter_text)
    except ValidationFailed as refused:
        errors.update(refused.errors)
        quarter = Quarter(2026, 1)  # stands in while the authority is checked too
    code = (authority_code or "").strip().upper() or None
    found: Scope | None = None
    if code is not None and not AUTHORITY_CODE.fullmatch(code):
        # Checked before any query: PostgreSQL refuses text with a NUL byte outright.
        errors["authority"] = ["Give the authority's GSS code for England, like E07000241."]
    elif user is not None:
        try:
            found = scope_for(user, start=quarter.start, end=quarter.end, authority_code=code)
        except ValidationFailed as refused:
            errors.update(refused.errors)
        else:
            if found.authority_id is None:
                errors["authority"] = ["Choose the authority whose extract you want."]
    else:
        authority = db.session.scalar(sa.select(Authority).where(Authority.code == code)) \
            if code else None
        if authority is None:
            errors["authority"] = ["Give the GSS code of an authority the service knows, like "
                                   "E07000241."]
        else:
            found = Scope(start=quarter.start, end=quarter.end, authority_id=authority.id,
                          authority_code=authority.code)
    if errors or found is None:
        raise ValidationFailed(errors)
    return quarter, found


def rows(extract_scope: Scope) -> list[tuple[Any, ...]]:
    """The quarter's referrals, oldest first. A quarter of one authority is a few thousand rows
    at most: built whole, so the file is complete or not written at all."""
    r = Referral
    stmt = (sa.select(r.reference, Authority.code, r.received_at, Organisation.type,
                      r.support_needs)
            .join(Authority, Authority.id == r.authority_id)
            .join(Organisation, Organisation.id == r.referring_organisation_id)
            .where(*cohort_filter(extract_scope))
            .order_by(r.received_at, r.id))
    out = []
    for reference, code, received_at, agency, needs in db.session.execute(stmt):
        body = AGENCY_TO_HCLIC[agency]
        known = PUBLIC_BODIES.get(body)
        flags = hclic_support_flags(needs)
        out.append((reference, code, clock.as_utc(received_at).astimezone(clock.LONDON).date(),
                    known.duty_to_refer if known else None,
                    body if body != NOT_COLLECTED else None, known.label if known else None,
                    *flags.values()))
    return out


def record_export(actor: audit.Actor, quarter: Quarter, extract_scope: Scope, count: int,
                  channel: str) -> None:
    """Audit the extract (in the caller's transaction): it is case-level data on support needs."""
    audit.record(actor, "reports.hclic_exported", subject_type="authority",
                 subject_id=extract_scope.authority_id, authority=extract_scope.authority_code,
                 quarter=quarter.key, rows=count, channel=channel)


def filename(quarter: Quarter, extract_scope: Scope) -> str:
    name = f"hclic_duty_to_refer_{extract_scope.authority_code}_{quarter.key}.csv"
    return re.sub(r"[^A-Za-z0-9_.-]", "", name)
