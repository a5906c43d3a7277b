"""Building blocks the figures join to the cohort: working-hour timings, repeat referrals and
possible-duplicate links. Each is one set-based query, never a per-row look-up in Python."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from referral_service import clock
from referral_service.domain.reports.scope import Scope, cohort_filter
from referral_service.domain.reports.sql import days_before, utc_hour, working_clock
from referral_service.extensions import db
from referral_service.models import DuplicateDecision, PossibleDuplicate, Referral, WorkingHour

R = Referral
HOUR_S = 3600
REPEAT_WINDOW_DAYS = 365


def _on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _hour_of(moment: datetime) -> int:
    return int(moment.timestamp()) // HOUR_S


def timings(scope: Scope, *extra: Any) -> sa.CTE:
    """The cohort with working seconds from receipt to first attempt and to contact made.

    Each timestamp finds its calendar hour by equality in the part of the calendar that can
    match (from the period's start to now: nothing is attempted before it is received, or in
    the future). On PostgreSQL both are MATERIALIZED: the calendar part is hashed once (a few
    thousand rows) instead of probed per timestamp, and the timings are worked out once however
    many aggregates read them.
    """
    first = _hour_of(scope.starts_at)
    last = max(_hour_of(scope.ends_at), _hour_of(clock.now()))
    calendar = sa.select(WorkingHour.hour, WorkingHour.seconds_before, WorkingHour.working,
                         WorkingHour.week_start).where(WorkingHour.hour.between(first, last))
    part = calendar.cte("calendar_part")
    if _on_postgresql():
        part = part.prefix_with("MATERIALIZED")
    h0, h1, h2 = part.alias("h0"), part.alias("h1"), part.alias("h2")
    start = working_clock(R.received_at, h0.c)
    timed = (
        sa.select(R.id, R.contact_due_by, R.first_contact_attempt_at, R.contacted_at,
                  R.closed_at, h0.c.week_start.label("week_start"),
                  (working_clock(R.first_contact_attempt_at, h1.c) - start).label("to_attempt"),
                  (working_clock(R.contacted_at, h2.c) - start).label("to_contact"), *extra)
        .join(h0, h0.c.hour == utc_hour(R.received_at))
        .outerjoin(h1, h1.c.hour == utc_hour(R.first_contact_attempt_at))
        .outerjoin(h2, h2.c.hour == utc_hour(R.contacted_at))
        .where(*cohort_filter(scope))
    ).cte("timed")
    return timed.prefix_with("MATERIALIZED") if _on_postgresql() else timed


def repeats(scope: Scope, *extra: Any) -> sa.Subquery:
    """The cohort's ``id``, ``repeat`` and any ``extra`` columns of the referral: repeat
    when the same authority had a referral for the same person (same NHS number, or same name
    and date of birth) in the 365 days before it, whoever referred them.

    One pass per identity with LAG() over the period and the year before it. Each pass reads
    the duplicate-matching index of its identity, which is already in (person, received_at)
    order, so neither needs a sort; the two are joined by id.
    """
    window_start = scope.starts_at - timedelta(days=REPEAT_WINDOW_DAYS)

    def previous(*person: Any) -> sa.Subquery:
        clauses = [R.received_at >= window_start, R.received_at < scope.ends_at,
                   *(column.is_not(None) for column in person)]
        if scope.authority_id is not None:
            clauses.append(R.authority_id == scope.authority_id)
        key: tuple[Any, ...] = person
        if _on_postgresql():
            # Sorting by a 4-byte hash first, then the text itself (compared only when hashes
            # tie), groups the same people together several times faster than text alone.
            key = (sa.func.hashtext(person[0]), *person)
        earlier = sa.func.lag(R.received_at).over(partition_by=(R.authority_id, *key),
                                                  order_by=R.received_at)
        w = sa.select(R.id, R.received_at, earlier.label("earlier")).where(*clauses).subquery()
        # Strictly earlier: two referrals at the very same instant are not each other's repeat.
        recent = sa.and_(w.c.earlier < w.c.received_at,
                         w.c.earlier >= days_before(w.c.received_at, REPEAT_WINDOW_DAYS))
        return sa.select(w.c.id).where(w.c.received_at >= scope.starts_at, recent).subquery()

    by_nhs = previous(R.person_nhs_number)
    by_name = previous(R.person_name_key, R.person_date_of_birth)
    repeat = sa.or_(by_nhs.c.id.is_not(None), by_name.c.id.is_not(None))
    return (sa.select(R.id, sa.case((repeat, True), else_=False).label("repeat"), *extra)
            .outerjoin(by_nhs, by_nhs.c.id == R.id).outerjoin(by_name, by_name.c.id == R.id)
            .where(*cohort_filter(scope)).subquery("repeats"))


def duplicate_links() -> sa.Subquery:
    """Per referral linked as a possible duplicate: how many links, and how many confirmed."""
    pd = PossibleDuplicate
    return (sa.select(pd.referral_id, sa.func.count().label("links"),
                      sa.func.sum(sa.case((pd.decision == DuplicateDecision.CONFIRMED, 1),
                                          else_=0)).label("confirmed"))
            .group_by(pd.referral_id).subquery("links"))
