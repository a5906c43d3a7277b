"""The scrutiny figures (issue 7), each one SQL aggregate over the cohort (``scope.py``).

Every function returns a ``Figure``: named columns and a few rows, ready for a table, a chart or
a CSV. Python only shapes the handful of aggregated rows; it never loops over referrals.
Definitions, exactly, are in docs/reports.md.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import wraps
from typing import Any

import sqlalchemy as sa

from referral_service import clock
from referral_service.domain.reports import cohort
from referral_service.domain.reports.scope import Scope, cohort_filter
from referral_service.domain.reports.sql import percentiles, tune_for_reports
from referral_service.extensions import db
from referral_service.models import (
    CASELOAD_STATUSES_LIST,
    Authority,
    MessageStatus,
    Organisation,
    OutboxMessage,
    Outcome,
    Referral,
    ReferralStatus,
    Role,
    User,
)

R = Referral
HOUR_S = 3600
# Time-to-contact histogram, in working hours: [low, high) with a label people read.
BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("under 1 working hour", 0, 1),
    ("1 to 4 working hours", 1, 4),
    ("4 to 8 working hours", 4, 8),
    ("1 to 2 working days", 8, 16),
    ("2 to 5 working days", 16, 40),
    ("over 5 working days", 40, None),
)


@dataclass
class Figure:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def _share(part: int | None, whole: int | None) -> float | None:
    return round(100.0 * (part or 0) / whole, 1) if whole else None


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _by_org(scope: Scope) -> sa.Select[Any]:
    return sa.select().select_from(R).join(
        Organisation, Organisation.id == R.referring_organisation_id).where(*cohort_filter(scope))


def by_agency(scope: Scope) -> Figure:
    """Referrals received, by referring agency type."""
    n = sa.func.count().label("n")
    rows = db.session.execute(_by_org(scope).add_columns(Organisation.type, n)
                              .group_by(Organisation.type).order_by(n.desc(), Organisation.type))
    return Figure("by_agency", "Referrals received by referring agency type",
                  ("agency_type", "referrals"), [(t.value, c) for t, c in rows])


def by_source(scope: Scope) -> Figure:
    """Referrals received, by how they arrived: sent through the service (API, referrer's
    pages, transfer) or keyed in by an officer from an email, phone call, letter or visit."""
    n = sa.func.count().label("n")
    rows = db.session.execute(
        sa.select(R.source, n).where(*cohort_filter(scope)).group_by(R.source)
        .order_by(n.desc(), R.source))
    return Figure("by_source", "Referrals received by how they arrived",
                  ("source", "keyed_in", "referrals"),
                  [(source.value, source.keyed_in, count) for source, count in rows])


def by_housing_situation(scope: Scope) -> Figure:
    """Referrals received, by housing situation, with how many were urgent."""
    rows = db.session.execute(
        sa.select(R.housing_situation, sa.func.count(), _count_if(R.urgent.is_(True)))
        .where(*cohort_filter(scope)).group_by(R.housing_situation)
        .order_by(R.housing_situation))
    return Figure("by_housing_situation", "Referrals received by housing situation",
                  ("housing_situation", "referrals", "urgent"),
                  [(s.value, c, u) for s, c, u in rows])


def repeats_and_duplicates(scope: Scope) -> Figure:
    repeats, links = cohort.repeats(scope, R.outcome), cohort.duplicate_links()
    received, repeat, flagged, confirmed, closed = db.session.execute(
        sa.select(sa.func.count(), _count_if(repeats.c.repeat.is_(True)),
                  _count_if(links.c.links.is_not(None)), _count_if(links.c.confirmed > 0),
                  _count_if(repeats.c.outcome == Outcome.DUPLICATE))
        .select_from(repeats).outerjoin(links, links.c.referral_id == repeats.c.id)).one()
    rows = [("received", received), ("repeat", repeat), ("possible_duplicate", flagged),
            ("confirmed_duplicate", confirmed), ("closed_as_duplicate", closed)]
    return Figure("repeats_and_duplicates", "Repeat and duplicate referrals",
                  ("measure", "referrals", "percent_of_received"),
                  [(m, c, _share(c, received)) for m, c in rows])


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / HOUR_S, 2)


def time_to_contact(scope: Scope) -> Figure:
    """Median and 90th percentile, in working hours, to first attempt and to contact made."""
    found = percentiles(cohort.timings(scope), ("to_attempt", "to_contact"), (0.5, 0.9))
    rows = []
    for measure, column in (("first_contact_attempt", "to_attempt"),
                            ("contact_made", "to_contact")):
        count, (median, p90) = found[column]
        rows.append((measure, count, _hours(median), _hours(p90)))
    return Figure("time_to_contact", "Time from receipt to contact, in working hours",
                  ("measure", "referrals", "median_working_hours", "p90_working_hours"), rows)


def _bucket_counts(value: sa.ColumnElement[Any]) -> list[sa.ColumnElement[int]]:
    counts = []
    for _, low, high in BUCKETS:
        inside = value >= low * HOUR_S if high is None else sa.and_(
            value >= low * HOUR_S, value < high * HOUR_S)
        counts.append(_count_if(inside))
    counts.append(_count_if(value.is_(None)))
    return counts


def time_to_contact_distribution(scope: Scope) -> Figure:
    timed = cohort.timings(scope)
    both = list(db.session.execute(sa.select(*_bucket_counts(timed.c.to_attempt),
                                             *_bucket_counts(timed.c.to_contact))).one())
    attempt, contact = both[:len(BUCKETS) + 1], both[len(BUCKETS) + 1:]
    labels = [label for label, _, _ in BUCKETS] + ["not yet"]
    return Figure("time_to_contact_distribution",
                  "How long contact took, in working hours (number of referrals)",
                  ("working_time", "first_contact_attempt", "contact_made"),
                  list(zip(labels, attempt, contact, strict=True)))


def _deadline_columns(timed: sa.CTE) -> list[sa.ColumnElement[int]]:
    t = timed.c
    now = clock.now()
    # Due: the deadline has passed, or an attempt was made early. Not due: a referral that
    # ended (withdrawn, closed as a duplicate, transferred) before its deadline without one.
    due = sa.and_(
        sa.or_(t.contact_due_by <= now, t.first_contact_attempt_at.is_not(None)),
        sa.not_(sa.and_(t.first_contact_attempt_at.is_(None), t.closed_at.is_not(None),
                        t.closed_at < t.contact_due_by)))
    met = t.first_contact_attempt_at <= t.contact_due_by
    contacted = t.contacted_at <= t.contact_due_by
    return [sa.func.count(), _count_if(due), _count_if(sa.and_(due, met)),
            _count_if(sa.and_(due, contacted))]


def contact_deadline(scope: Scope) -> Figure:
    """Share of referrals whose first contact attempt (and contact made) beat the deadline."""
    row = db.session.execute(sa.select(*_deadline_columns(cohort.timings(scope)))).one()
    received, due, met, contacted = row[0], row[1], row[2], row[3]
    return Figure("contact_deadline", "Contact within the deadline",
                  ("received", "due", "attempted_by_deadline", "missed",
                   "percent_attempted_by_deadline", "contacted_by_deadline",
                   "percent_contacted_by_deadline"),
                  [(received, due, met, due - met, _share(met, due), contacted,
                    _share(contacted, due))])


def outcomes(scope: Scope) -> Figure:
    """Where the period's referrals ended up: each outcome, withdrawn, or still open."""
    label = sa.case((R.outcome.is_not(None), sa.cast(R.outcome, sa.String)),
                    (R.status == ReferralStatus.WITHDRAWN, "withdrawn"), else_="open")
    n = sa.func.count().label("n")
    rows = db.session.execute(sa.select(label.label("outcome"), n).where(*cohort_filter(scope))
                              .group_by(label).order_by(n.desc(), label))
    return Figure("outcomes", "Outcomes of the referrals received", ("outcome", "referrals"),
                  [tuple(row) for row in rows])


def caseload(scope: Scope) -> Figure:
    """Each active officer's open caseload now, against their capacity (not period-bound)."""
    counted = (sa.select(R.named_officer_id, sa.func.count().label("n"))
               .where(R.status.in_(CASELOAD_STATUSES_LIST)).group_by(R.named_officer_id))
    officers = [User.role == Role.OFFICER, User.active.is_(True)]
    if scope.authority_id is not None:
        counted = counted.where(R.authority_id == scope.authority_id)
        officers.append(User.authority_id == scope.authority_id)
    load = counted.subquery()
    stmt = (sa.select(Authority.code, User.name, sa.func.coalesce(load.c.n, 0), User.capacity)
            .join(Authority, Authority.id == User.authority_id)
            .outerjoin(load, load.c.named_officer_id == User.id)
            .where(*officers).order_by(Authority.code, User.name, User.id))
    return Figure("caseload", "Open caseload per officer against capacity",
                  ("authority", "officer", "open_cases", "capacity", "percent_of_capacity"),
                  [(code, name, n, cap, _share(n, cap)) for code, name, n, cap
                   in db.session.execute(stmt)])


def messages(scope: Scope) -> Figure:
    """SMS and email about the cohort's referrals, by status, with delivery and failure rates."""
    m = OutboxMessage
    counts: dict[tuple[str, str], int] = {
        (channel.value, status.value): n for channel, status, n in db.session.execute(
            sa.select(m.channel, m.status, sa.func.count())
            .where(m.referral_id.in_(sa.select(R.id).where(*cohort_filter(scope))))
            .group_by(m.channel, m.status))}
    statuses = [s.value for s in MessageStatus]
    rows = []
    for channel in ("sms", "email"):
        by_status = [counts.get((channel, s), 0) for s in statuses]
        get = dict(zip(statuses, by_status, strict=True))
        # Rates are of the messages the provider has answered for: sent, delivered or failed.
        handed_over = get["sent"] + get["delivered"] + get["failed"]
        rows.append((channel, *by_status, sum(by_status),
                     _share(get["delivered"], handed_over), _share(get["failed"], handed_over)))
    return Figure("messages", "SMS and email: delivery and failure",
                  ("channel", *statuses, "total", "percent_delivered", "percent_failed"), rows)


def partners(scope: Scope) -> Figure:
    """Referrals per referring organisation, and how many of them led to contact."""
    n = sa.func.count().label("n")
    rows = db.session.execute(
        _by_org(scope).add_columns(Organisation.name, Organisation.type, n,
                                   _count_if(R.contacted_at.is_not(None)))
        .group_by(Organisation.id, Organisation.name, Organisation.type)
        .order_by(n.desc(), Organisation.name))
    return Figure("partners", "Referrals per partner organisation",
                  ("organisation", "agency_type", "referrals", "contacted", "percent_contacted"),
                  [(name, t.value, c, k, _share(k, c)) for name, t, c, k in rows])


def weekly(scope: Scope) -> Figure:
    """Referrals received per London week (Monday), with first attempts by the deadline."""
    timed = cohort.timings(scope)
    _, due, met, _ = _deadline_columns(timed)
    found = {week: (n, d, k) for week, n, d, k in db.session.execute(
        sa.select(timed.c.week_start, sa.func.count(), due, met)
        .group_by(timed.c.week_start))}
    rows = []
    week = scope.start - timedelta(days=scope.start.weekday())
    while week <= scope.end:  # every week of the period, the empty ones too
        n, d, k = found.get(week, (0, 0, 0))
        rows.append((week.isoformat(), n, d, k, _share(k, d)))
        week += timedelta(days=7)
    return Figure("weekly", "Referrals received each week",
                  ("week_starting", "referrals", "due", "attempted_by_deadline",
                   "percent_attempted_by_deadline"), rows)


def _tuned(compute: Callable[[Scope], Figure]) -> Callable[[Scope], Figure]:
    @wraps(compute)
    def run(scope: Scope) -> Figure:
        tune_for_reports()
        return compute(scope)

    return run


_COMPUTE: dict[str, Callable[[Scope], Figure]] = {f.__name__: f for f in (
    by_agency, by_source, by_housing_situation, repeats_and_duplicates, time_to_contact,
    time_to_contact_distribution, contact_deadline, outcomes, caseload, messages, partners,
    weekly)}
# Each figure on its own (a CSV, a benchmark) tunes its transaction first.
FIGURES: dict[str, Callable[[Scope], Figure]] = {
    key: _tuned(compute) for key, compute in _COMPUTE.items()}


def figure(key: str, scope: Scope) -> Figure:
    return FIGURES[key](scope)


def dashboard(scope: Scope) -> dict[str, Figure]:
    """Every figure for the dashboard page, in the order it shows them. The tuning is set once:
    ``SET LOCAL`` holds for the rest of the transaction, so every figure after it has it."""
    tune_for_reports()
    return {key: compute(scope) for key, compute in _COMPUTE.items()}
