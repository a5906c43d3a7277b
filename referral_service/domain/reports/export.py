"""CSV of each figure and of the referral-level data behind the figures, streamed.

The referral-level file has no free text about anyone: no names, contact details, reasons or
notes; only ids, the reference, dates and times, codes, statuses, the agency type, the outcome
and working-hour measures. Cells a spreadsheet would run as a formula are neutralised
(OWASP: CSV injection), and file names are built from safe characters only.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from referral_service import clock
from referral_service.domain.reports import cohort
from referral_service.domain.reports.figures import HOUR_S, Figure
from referral_service.domain.reports.scope import Scope
from referral_service.domain.reports.sql import tune_for_reports
from referral_service.extensions import db
from referral_service.models import Authority, Organisation, Referral

R = Referral
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
REFERRAL_COLUMNS = (
    "id", "reference", "authority_code", "referring_organisation_id", "agency_type",
    "housing_situation", "urgent", "status", "outcome", "received_at", "contact_due_by",
    "first_contact_attempt_at", "contacted_at", "closed_at",
    "working_hours_to_first_attempt", "working_hours_to_contact", "attempted_by_deadline",
    "repeat", "possible_duplicate",
)
STREAM_BATCH = 2000


def safe_cell(value: Any) -> Any:
    """Text that starts like a formula gets a leading apostrophe; other values as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """One CSV line at a time (RFC 4180: CRLF, quoted where needed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(cell) for cell in header])
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(cell) for cell in row])
        yield buffer.getvalue()


def figure_csv(figure: Figure) -> Iterator[str]:
    return csv_lines(figure.columns, figure.rows)


def filename(scope: Scope, what: str) -> str:
    """``referrals_<what>_<authority>_<start>_<end>[_<agency>].csv``, safe characters only."""
    name = f"referrals_{what}_{scope.label}.csv"
    return re.sub(r"[^A-Za-z0-9_.-]", "", name)


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / HOUR_S, 2)


def referral_rows(scope: Scope) -> Iterator[tuple[Any, ...]]:
    """The cohort, one row per referral, oldest first, fetched in batches (never all at once)."""
    tune_for_reports()
    repeats, links = cohort.repeats(scope), cohort.duplicate_links()
    timed = cohort.timings(scope, R.reference, R.authority_id, R.referring_organisation_id,
                           R.housing_situation, R.urgent, R.status, R.outcome, R.received_at)
    t = timed.c
    stmt = (sa.select(t.id, t.reference, Authority.code, t.referring_organisation_id,
                      Organisation.type, t.housing_situation, t.urgent, t.status, t.outcome,
                      t.received_at, t.contact_due_by, t.first_contact_attempt_at,
                      t.contacted_at, t.closed_at, t.to_attempt, t.to_contact,
                      repeats.c.repeat, links.c.links.is_not(None))
            .join(Authority, Authority.id == t.authority_id)
            .join(Organisation, Organisation.id == t.referring_organisation_id)
            .join(repeats, repeats.c.id == t.id)
            .outerjoin(links, links.c.referral_id == t.id)
            .order_by(t.received_at, t.id)
            .execution_options(yield_per=STREAM_BATCH))
    now = clock.now()
    for row in db.session.execute(stmt):
        (rid, reference, code, org_id, agency, situation, urgent, status, outcome, received,
         due_by, attempted, contacted, closed, to_attempt, to_contact, repeat, flagged) = row
        yield (str(rid), reference, code, str(org_id), agency.value, situation.value,
               bool(urgent), status.value, outcome.value if outcome else None, received, due_by,
               attempted, contacted, closed, _hours(to_attempt), _hours(to_contact),
               _attempted_by_deadline(now, due_by, attempted, closed), bool(repeat),
               bool(flagged))


def _attempted_by_deadline(now: datetime, due_by: datetime, attempted: datetime | None,
                           closed: datetime | None) -> bool | None:
    """Yes or no once the deadline counts (as in the ``contact_deadline`` figure), else blank."""
    if attempted is None and (due_by > now or (closed is not None and closed < due_by)):
        return None
    return attempted is not None and attempted <= due_by


def referrals_csv(scope: Scope) -> Iterator[str]:
    return csv_lines(REFERRAL_COLUMNS, referral_rows(scope))
