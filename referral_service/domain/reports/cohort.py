"""Building blocks the figures join to the cohort: working-hour timings, repeat referrals and
possible-duplicate links. Each is one set-based query, never a per-row look-up in Python."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from referral_service.domain import clock
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


def repeats(scope: Scope) -> sa.Subquery:
    """``(id, repeat)`` for the scope's authority's referrals received in the period: repeat
    when the same authority had a referral for the same person (same NHS number, or same name
    and date of birth) in the 365 days before it, whoever referred them.

    One pass with window functions over the period and the year before it (LAG by person),
    rather than a look-up per referral.
    """
    window_start = scope.starts_at - timedelta(days=REPEAT_WINDOW_DAYS)
    clauses = [R.received_at >= window_start, R.received_at < scope.ends_at]
    if scope.authority_id is not None:
        clauses.append(R.authority_id == scope.authority_id)
    by_nhs = sa.func.lag(R.received_at).over(
        partition_by=(R.authority_id, R.person_nhs_number), order_by=R.received_at)
    by_name = sa.func.lag(R.received_at).over(
        partition_by=(R.authority_id, R.person_name_key, R.person_date_of_birth),
        order_by=R.received_at)
    w = sa.select(R.id, R.received_at, R.person_nhs_number, R.person_date_of_birth,
                  by_nhs.label("previous_by_nhs"), by_name.label("previous_by_name")
                  ).where(*clauses).subquery("people").c

    def recent(previous: Any) -> sa.ColumnElement[bool]:
        # Strictly earlier: two referrals at the very same instant are not each other's repeat.
        return sa.and_(previous < w.received_at,
                       previous >= days_before(w.received_at, REPEAT_WINDOW_DAYS))

    repeat = sa.or_(sa.and_(w.person_nhs_number.is_not(None), recent(w.previous_by_nhs)),
                    sa.and_(w.person_date_of_birth.is_not(None), recent(w.previous_by_name)))
    return sa.select(w.id, sa.case((repeat, True), else_=False).label("repeat")).where(
        w.received_at >= scope.starts_at).subquery("repeats")


def duplicate_links() -> sa.Subquery:
    """Per referral linked as a possible duplicate: how many links, and how many confirmed."""
    pd = PossibleDuplicate
    return (sa.select(pd.referral_id, sa.func.count().label("links"),
                      sa.func.sum(sa.case((pd.decision == DuplicateDecision.CONFIRMED, 1),
                                          else_=0)).label("confirmed"))
            .group_by(pd.referral_id).subquery("links"))
