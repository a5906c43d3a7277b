"""Team leaders' pages: caseload and capacity per officer, overdue and escalated referrals,
reassignment, and officer absences. Each action is one domain function in ``casework``."""
from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from referral_service import clock
from referral_service.auth.guards import roles, signed_in_user, staff_referral
from referral_service.domain import audit, casework, queues, releases
from referral_service.domain.errors import DomainError
from referral_service.extensions import db
from referral_service.models import OfficerAbsence, Role, User
from referral_service.web import forms, navigation

bp = Blueprint("team", __name__, url_prefix="/team")
# The real date shown when a typed one is not.
_EXAMPLE = "21 12 2026"

navigation.add("Team overview", "team.overview", Role.TEAM_LEADER, order=10)
navigation.add("Absences", "team.absences", Role.TEAM_LEADER, order=30)
navigation.add("Upcoming releases", "team.releases", Role.TEAM_LEADER, Role.OFFICER, order=40)
navigation.set_home(Role.TEAM_LEADER, "team.overview")


def _authority_id() -> uuid.UUID:
    user = signed_in_user()
    assert user.authority_id is not None  # a database constraint for team leaders
    return user.authority_id


@bp.get("")
@roles(Role.TEAM_LEADER)
def overview() -> ResponseReturnValue:
    authority_id = _authority_id()
    now = clock.now()
    return render_template("team/overview.html", caseloads=queues.caseloads(authority_id, now),
                           overdue=queues.overdue(authority_id, now),
                           escalated=queues.escalated(authority_id),
                           queue=queues.team_queue(authority_id),
                           deadline_status=queues.deadline_status, now=now)


@bp.get("/releases", endpoint="releases")
@roles(Role.TEAM_LEADER, Role.OFFICER)
def releases_page() -> ResponseReturnValue:
    """Upcoming releases and discharges, for the monthly release panel (officers see it too:
    they plan for their own cases)."""
    user = signed_in_user()
    today = clock.today_in_london()
    groups = releases.upcoming(_authority_id(), today)
    # Names of people about to leave prison or hospital: the viewing is audited.
    audit.record(audit.Actor.for_user(user, request.remote_addr), "releases.viewed",
                 subject_type="authority", subject_id=_authority_id(),
                 referrals=sum(len(group.referrals) for group in groups))
    return render_template("team/releases.html", groups=groups, today=today,
                           until=today + timedelta(weeks=releases.WEEKS_AHEAD),
                           weeks=releases.WEEKS_AHEAD, contact_state=releases.contact_state)


def _officer_of_team(raw_id: str | None) -> User | None:
    try:
        wanted = uuid.UUID(raw_id or "")
    except ValueError:
        return None
    officer = db.session.get(User, wanted)
    if (officer is None or officer.authority_id != _authority_id()
            or officer.role is not Role.OFFICER):
        return None
    return officer


@bp.route("/referrals/<uuid:referral_id>/reassign", methods=["GET", "POST"])
@roles(Role.TEAM_LEADER)
def reassign(referral_id: uuid.UUID) -> ResponseReturnValue:
    user, case = signed_in_user(), staff_referral(referral_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        officer = _officer_of_team(request.form.get("officer"))
        if officer is None:
            errors["officer"] = "Select the officer to give the referral to."
        reason = forms.required_text(errors, "reason", "Say why the referral is being reassigned.")
        if not errors:
            assert officer is not None
            errors = forms.attempt(lambda: casework.reassign(
                case, officer, user, reason=reason,
                allow_over_capacity=request.form.get("over_capacity") == "yes",
                ip_address=request.remote_addr)) or {}
            if not errors:
                flash(f"{case.reference} was reassigned to {officer.name}.", "success")
                return redirect(url_for("casework.referral", referral_id=case.id))
            case = staff_referral(referral_id)
    items = [{"value": "", "text": "Choose an officer"}] + [
        {"value": str(load.officer.id),
         "selected": str(load.officer.id) == request.form.get("officer"),
         "text": f"{load.officer.name} ({load.open_cases} of {load.officer.capacity} cases"
                 f"{', absent today' if load.absent_today else ''})"}
        for load in queues.caseloads(case.authority_id)  # the officers in name order
        if load.officer.id != case.named_officer_id]
    return render_template("team/reassign.html", referral=case, errors=errors,
                           form=request.form, officer_items=items), (400 if errors else 200)


@bp.route("/absences", methods=["GET", "POST"])
@roles(Role.TEAM_LEADER)
def absences() -> ResponseReturnValue:
    user = signed_in_user()
    authority_id = _authority_id()
    errors: dict[str, str] = {}
    if request.method == "POST":
        officer = _officer_of_team(request.form.get("officer"))
        if officer is None:
            errors["officer"] = "Select the officer who is absent."
        starts_on = forms.date_input(errors, "starts_on", "first day of absence", _EXAMPLE)
        ends_on = forms.date_input(errors, "ends_on", "last day of absence", _EXAMPLE)
        reason = request.form.get("reason", "").strip()[:100] or None
        if not errors:
            assert officer is not None and starts_on is not None and ends_on is not None
            recorded, refused = forms.outcome(lambda: casework.record_absence(
                officer, starts_on=starts_on, ends_on=ends_on, by=user, reason=reason,
                actor=audit.Actor.for_user(user, request.remote_addr),
                reassign_open=request.form.get("reassign") == "yes"))
            if refused is None:
                assert recorded is not None
                _, moved = recorded
                flash(f"{officer.name}'s absence was recorded"
                      + (f" and {len(moved)} open referral(s) routed again." if moved else "."),
                      "success")
                return redirect(url_for("team.absences"))
            errors = refused
    today = clock.today_in_london()
    current = list(db.session.scalars(
        select(OfficerAbsence).join(User).where(User.authority_id == authority_id,
                                                OfficerAbsence.ends_on >= today)
        .order_by(OfficerAbsence.starts_on)))
    items = [{"value": "", "text": "Choose an officer"}] + [
        {"value": str(o.id), "text": o.name, "selected": str(o.id) == request.form.get("officer")}
        for o in queues.officers_of(authority_id)]
    return render_template("team/absences.html", absences=current, errors=errors,
                           form=request.form, officer_items=items, today=today), (
        400 if errors else 200)


@bp.post("/absences/<uuid:absence_id>/end")
@roles(Role.TEAM_LEADER)
def end_absence(absence_id: uuid.UUID) -> ResponseReturnValue:
    user = signed_in_user()
    absence = db.session.get(OfficerAbsence, absence_id)
    if absence is None or absence.user.authority_id != _authority_id():
        abort(404)
    name = absence.user.name
    try:
        casework.end_absence(absence, by=user, ip_address=request.remote_addr)
        db.session.flush()  # a concurrent change is refused here, with the others
    except DomainError as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        flash(f"{name} is back: new referrals can be routed to them again.", "success")
    return redirect(url_for("team.absences"))
