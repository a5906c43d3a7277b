"""The scrutiny dashboard for team leaders and administrators (issue 7): filters, charts with a
table of the same numbers beside each, and CSV of every figure and of the referral-level data;
and the quarterly H-CLIC Duty to Refer extract of one authority (docs/hclic.md), audited.

GET only: the filters are a GOV.UK form submitted with GET, so a view of the figures is a link
people can share. Team leaders see their own authority; administrators any one, or all.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from referral_service import clock
from referral_service.auth.guards import roles, signed_in_user
from referral_service.domain import audit, reports
from referral_service.domain.errors import ValidationFailed
from referral_service.domain.reports import export, hclic
from referral_service.models import Role
from referral_service.web import dashboard_charts as charts
from referral_service.web import forms, navigation

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
navigation.add("Figures", "dashboard.index", Role.TEAM_LEADER, Role.ADMIN, order=60)
# The figures are the one page an administrator has (accounts are managed with the CLI).
navigation.set_home(Role.ADMIN, "dashboard.index")

HEADINGS = {
    "agency_type": "Referring agency", "referrals": "Referrals", "urgent": "Urgent",
    "housing_situation": "Housing situation", "measure": "Measure",
    "percent_of_received": "% of received", "median_working_hours": "Median (working hours)",
    "p90_working_hours": "90th percentile (working hours)", "working_time": "Time taken",
    "first_contact_attempt": "First contact attempt", "contact_made": "Contact made",
    "received": "Received", "due": "Deadline passed", "attempted_by_deadline":
    "Attempted by the deadline", "missed": "Missed", "percent_attempted_by_deadline":
    "% attempted by the deadline", "contacted_by_deadline": "Contacted by the deadline",
    "percent_contacted_by_deadline": "% contacted by the deadline", "outcome": "Outcome",
    "authority": "Authority", "officer": "Officer", "open_cases": "Open cases",
    "capacity": "Capacity", "percent_of_capacity": "% of capacity", "channel": "Channel",
    "queued": "Queued", "sending": "Sending", "sent": "Sent", "delivered": "Delivered",
    "failed": "Failed", "suppressed": "Suppressed", "total": "Total",
    "percent_delivered": "% delivered", "percent_failed": "% failed",
    "organisation": "Organisation", "contacted": "Contacted", "percent_contacted":
    "% contacted", "week_starting": "Week starting", "source": "How it arrived",
    "keyed_in": "Keyed in by an officer",
}
WORDS = {"sms": "SMS", "email": "Email", "repeat": "Repeat referrals",
         "possible_duplicate": "Flagged as a possible duplicate",
         "confirmed_duplicate": "Confirmed as a duplicate",
         "closed_as_duplicate": "Closed as a duplicate", "received": "Received",
         "first_contact_attempt": "First contact attempt", "contact_made": "Contact made",
         # How referrals arrived (``by_source``); "email" is the channel's word above.
         "api": "Partner API", "web": "Referrer's pages", "transfer": "Transfer",
         "phone": "Phone call", "letter": "Letter", "in_person": "In person"}


# Histogram bands, short enough to sit under a bar.
SHORT = {"under 1 working hour": "under 1 h", "1 to 4 working hours": "1–4 h",
         "4 to 8 working hours": "4–8 h", "1 to 2 working days": "1–2 days",
         "2 to 5 working days": "2–5 days", "over 5 working days": "over 5 days"}


def words(value: Any) -> str:
    """A code as people read it ('hospital_emergency_department' becomes 'Hospital emergency
    department'), a number with thousands separators, and None as a dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    text = str(value)
    return WORDS.get(text, text.replace("_", " ").capitalize() if "_" in text or
                     text.islower() else text)


def _date(prefix: str, default: date, errors: dict[str, list[str]]) -> date:
    try:
        return forms.date_parts(request.args, prefix) or default
    except ValueError:
        which = "start" if prefix == "start" else "end"
        errors[prefix] = [f"The {which} of the period must be a real date, like 31 3 2026."]
        return default


def _filters() -> tuple[dict[str, Any], dict[str, list[str]]]:
    today = clock.today_in_london()
    errors: dict[str, list[str]] = {}
    filters = {
        "start": _date("start", date(today.year, 1, 1), errors),
        "end": _date("end", today, errors),
        "authority_code": request.args.get("authority", "").strip() or None,
        "agency_type": request.args.get("agency_type", "").strip() or None,
    }
    return filters, errors


def _scope() -> tuple[reports.Scope | None, dict[str, Any], dict[str, list[str]]]:
    filters, errors = _filters()
    if errors:
        return None, filters, errors
    try:
        return reports.scope_for(signed_in_user(), **filters), filters, {}
    except ValidationFailed as refused:
        return None, filters, refused.errors


def _charts(figures: dict[str, reports.Figure]) -> dict[str, charts.Chart]:
    agency = [(words(t), n) for t, n in figures["by_agency"].rows]
    outcome = [(words(o), n) for o, n in figures["outcomes"].rows]
    # "Not yet" is not a length of time: it is in the table, not among the bars.
    spread = [(SHORT[label], n) for label, n, _ in figures["time_to_contact_distribution"].rows
              if label in SHORT]
    week = [(w, n) for w, n, *_ in figures["weekly"].rows]
    return {
        "by_agency": charts.horizontal(
            "Referrals by referring agency", "Bar chart of referrals received by agency "
            "type; the table below gives the numbers.", agency),
        "outcomes": charts.horizontal(
            "Outcomes", "Bar chart of the outcomes of the referrals received; the table "
            "below gives the numbers.", outcome),
        "time_to_contact_distribution": charts.columns(
            "Working time to the first contact attempt", "Histogram of how many referrals "
            "had their first contact attempt within each band of working time; the table "
            "below gives the numbers.", spread),
        "weekly": charts.columns(
            "Referrals each week", "Bar chart of referrals received each week of the "
            "period; the table below gives the numbers.", week,
            label_every=max(1, len(week) // 8)),
    }


def recent_quarters(today: date, count: int = 8) -> list[hclic.Quarter]:
    """The quarter ``today`` is in and the ones before it, newest first, for the download form."""
    year = today.year if today.month >= 4 else today.year - 1
    quarter = hclic.Quarter(year, (today.month - 4) % 12 // 3 + 1)
    out = [quarter]
    while len(out) < count:
        number = quarter.number - 1 or 4
        quarter = hclic.Quarter(quarter.year - (1 if number == 4 else 0), number)
        out.append(quarter)
    return out


@bp.get("")
@roles(Role.TEAM_LEADER, Role.ADMIN)
def index() -> ResponseReturnValue:
    user = signed_in_user()
    scope, filters, errors = _scope()
    figures = reports.dashboard(scope) if scope is not None else {}
    return render_template(
        "dashboard/index.html", scope=scope, filters=filters, errors=errors, figures=figures,
        charts=_charts(figures) if figures else {}, headings=HEADINGS, words=words,
        authorities=reports.authority_choices(user), is_admin=user.role is Role.ADMIN,
        agency_types=reports.AGENCY_TYPES, query=request.query_string.decode(),
        quarters=recent_quarters(clock.today_in_london()),
    ), (400 if errors else 200)


def _csv(lines: Any, name: str) -> Response:
    return Response(stream_with_context(lines), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/hclic.csv")
@roles(Role.TEAM_LEADER, Role.ADMIN)
def hclic_csv() -> ResponseReturnValue:
    """The H-CLIC Duty to Refer extract of one authority's quarter (``?quarter=2026-Q3``)."""
    user = signed_in_user()
    try:
        quarter, scope = hclic.scope(request.args.get("quarter"), request.args.get("authority"),
                                     user=user)
    except ValidationFailed as refused:
        # The error page shows the message only: say there what was wrong with which field.
        words_ = " ".join(m for messages in refused.errors.values() for m in messages)
        raise ValidationFailed(refused.errors, words_) from refused
    rows = hclic.rows(scope)
    hclic.record_export(audit.Actor.for_user(user, request.remote_addr), quarter, scope,
                        len(rows), channel="web")
    return _csv(export.csv_lines(hclic.COLUMNS, rows), hclic.filename(quarter, scope))


@bp.get("/<key>.csv")
@roles(Role.TEAM_LEADER, Role.ADMIN)
def figure_csv(key: str) -> ResponseReturnValue:
    """One figure as CSV, or ``referrals.csv``: the referral-level rows behind the figures."""
    if key != "referrals" and key not in reports.FIGURES:
        raise NotFound("There is no figure by that name.")
    scope, _, errors = _scope()
    if scope is None:
        raise ValidationFailed(errors)
    if key == "referrals":
        return _csv(export.referrals_csv(scope), export.filename(scope, "referrals"))
    return _csv(export.figure_csv(reports.figure(key, scope)), export.filename(scope, key))
