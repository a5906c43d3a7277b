"""Officers' and team leaders' sharing pages: flag a case for MARAC or MAPPA, share it with a
panel, revoke a share, see who has viewed the case, and (team leaders) export that log as CSV.

Views are thin: read the form, call one operation in ``domain/sharing.py`` or
``domain/panel_access.py``, commit, redirect; a refusal re-renders the form with its errors.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from referral_service import clock
from referral_service.auth.guards import STAFF, roles, signed_in_user, staff_referral
from referral_service.domain import panel_access, panels, sharing
from referral_service.domain.errors import ValidationFailed
from referral_service.extensions import db
from referral_service.models import Referral, Role
from referral_service.web import forms, navigation
from referral_service.web import panels as panel_pages

bp = Blueprint("sharing", __name__, url_prefix="/casework")
# The real date shown when a typed one is not.
_EXAMPLE = "14 1 2027"

navigation.add("MARAC and MAPPA", "sharing.flagged", *STAFF, order=60)


def _ip() -> str | None:
    return request.remote_addr


def _int_or_none(name: str, errors: dict[str, str], words: str) -> int | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        errors[name] = words
        return None
    return int(raw)


@bp.get("/sharing")
@roles(*STAFF)
def flagged() -> ResponseReturnValue:
    """The authority's MARAC and MAPPA cases, with who each is shared with now."""
    user = signed_in_user()
    assert user.authority_id is not None
    return render_template("sharing/flagged.html", cases=sharing.flagged_cases(user.authority_id),
                           limit=sharing.FLAGGED_LIST_LIMIT)


@bp.get("/referrals/<uuid:referral_id>/sharing")
@roles(*STAFF)
def overview(referral_id: uuid.UUID) -> ResponseReturnValue:
    user = signed_in_user()
    referral = staff_referral(referral_id)
    return render_template(
        "sharing/overview.html", referral=referral, shares=sharing.shares_for(referral),
        entries=[e for e in sharing.staff_timeline(referral) if e.type == "panel_action"],
        access=panel_access.access_log(referral, by=user),
        can_export=user.role is Role.TEAM_LEADER, panel_name=panels.PANEL_NAMES)


@bp.route("/referrals/<uuid:referral_id>/sharing/flags", methods=["GET", "POST"])
@roles(*STAFF)
def flags(referral_id: uuid.UUID) -> ResponseReturnValue:
    user = signed_in_user()
    referral = staff_referral(referral_id)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"marac": referral.risk_marac,
                              "mappa_level": referral.risk_mappa_level,
                              "mappa_category": referral.risk_mappa_category}
    if request.method == "POST":
        values = {"marac": request.form.get("marac") == "yes",
                  "mappa_level": _int_or_none("mappa_level", errors, "Choose a MAPPA level."),
                  "mappa_category": _int_or_none("mappa_category", errors,
                                                 "Choose a MAPPA category.")}
        if not errors:
            changed, refused = forms.outcome(
                lambda: sharing.set_flags(referral, by=user, ip_address=_ip(), **values))
            if refused is None:
                flash("Flags saved." if changed else "Nothing changed.", "success")
                return redirect(url_for("sharing.overview", referral_id=referral.id))
            errors = refused
        db.session.rollback()
    return render_template("sharing/flags.html", referral=referral, errors=errors,
                           values=values), (400 if errors else 200)


@bp.route("/referrals/<uuid:referral_id>/sharing/new", methods=["GET", "POST"])
@roles(*STAFF)
def new_share(referral_id: uuid.UUID) -> ResponseReturnValue:
    """Step 1 (no ``panel``): which panel. Step 2: the terms, with that panel type's bases."""
    user = signed_in_user()
    referral = staff_referral(referral_id)
    choices = [p for p in sharing.panel_organisations()
               if sharing.is_flagged_for(referral, p.type)]
    panel = next((p for p in choices if str(p.id) == request.values.get("panel")), None)
    errors: dict[str, str] = {}
    if panel is None:
        if request.values.get("panel") is not None or request.values.get("chosen"):
            errors["panel"] = "Choose the MARAC or MAPPA panel to share this case with."
        items = [{"value": str(p.id), "text": p.name,
                  "hint": {"text": panels.PANEL_NAMES[p.type]}} for p in choices]
        return render_template("sharing/choose_panel.html", referral=referral, choices=choices,
                               items=items, errors=errors), (400 if errors else 200)
    form = request.form
    if request.method == "POST":
        meeting = forms.date_input(errors, "next_meeting", "date of the next panel meeting",
                                   _EXAMPLE)
        expires = forms.date_input(errors, "expires", "expiry date", _EXAMPLE,
                                   required=False)
        # Asked even when a date did not parse, so every problem is listed at once; nothing is
        # kept unless the whole form was right (the rollback below).
        refused = forms.attempt(lambda: sharing.share(
            referral, by=user, panel_id=panel.id, lawful_basis=form.get("lawful_basis"),
            purpose=form.get("purpose"), next_meeting_on=meeting, expires_on=expires,
            ip_address=_ip()), {"next_meeting_on": "next_meeting", "expires_on": "expires"})
        errors = {**(refused or {}), **errors}
        if not errors:
            flash(f"{referral.reference} is shared with {panel.name}.", "success")
            return redirect(url_for("sharing.overview", referral_id=referral.id))
        db.session.rollback()
    return render_template(
        "sharing/share.html", referral=referral, panel=panel, errors=errors, form=form,
        basis_items=[{"value": b.code, "text": b.title, "hint": {"text": b.hint},
                      "checked": form.get("lawful_basis") == b.code}
                     for b in panels.bases_for(panel.type)],
        default_days=panels.DEFAULT_AFTER_MEETING.days,
    ), (400 if errors else 200)


@bp.route("/referrals/<uuid:referral_id>/sharing/<uuid:share_id>/revoke",
          methods=["GET", "POST"])
@roles(*STAFF)
def revoke(referral_id: uuid.UUID, share_id: uuid.UUID) -> ResponseReturnValue:
    user = signed_in_user()
    referral = staff_referral(referral_id)
    found = sharing.find_share(share_id, referral)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            sharing.revoke(found, by=user, reason=request.form.get("reason"), ip_address=_ip())
        except ValidationFailed as refused:
            db.session.rollback()
            errors = forms.from_domain_error(refused)
        else:
            flash(f"Revoked: {found.panel.name} can no longer see {referral.reference}.",
                  "success")
            return redirect(url_for("sharing.overview", referral_id=referral.id))
    return render_template("sharing/revoke.html", referral=referral, share=found, errors=errors,
                           reason=request.form.get("reason", "")), (400 if errors else 200)


@bp.post("/referrals/<uuid:referral_id>/sharing/access-log.csv")
@roles(Role.TEAM_LEADER)
def export_access_log(referral_id: uuid.UUID) -> ResponseReturnValue:
    user = signed_in_user()
    referral: Referral = staff_referral(referral_id)
    text = panel_access.export_access_log(referral, by=user, ip_address=_ip(),
                                          user_agent=request.user_agent.string)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{referral.reference}-access-log.csv"'})


def live_shares(referral: Referral) -> list[Any]:
    return [found for found in sharing.shares_for(referral) if found.is_live()]


def when(moment: datetime) -> str:
    """1 December 2026, 10:01am (London), as GOV.UK writes a time."""
    local = moment.astimezone(clock.LONDON)
    hour = local.hour % 12 or 12
    noon = "am" if local.hour < 12 else "pm"
    return f"{clock.long_date(local.date())}, {hour}:{local:%M}{noon}"


def register(app: Any) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(panel_pages.bp)
    app.jinja_env.filters.setdefault("share_time", when)
    app.jinja_env.globals.setdefault("lawful_basis_title", panels.basis_title)
    app.jinja_env.globals.setdefault("share_last_day", sharing.last_day)
    app.jinja_env.globals.setdefault(
        "has_endpoint", lambda name: name in app.view_functions)
    # For the officer's referral page: the one line that links here and says who can see it.
    app.jinja_env.globals.setdefault("live_shares", live_shares)

