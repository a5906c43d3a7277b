"""Panel leads' pages: the cases shared with their MARAC or MAPPA panel, each case marked
OFFICIAL-SENSITIVE and showing only that panel type's fields, and the panel's actions on it.

Each page load is one list or view in the access log (``domain/panel_access.py``); a case that is
not live-shared with the lead's panel is a 404, and that refusal is recorded (committed as a
refusal before the 404 page is drawn).
"""
from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from referral_service import unit_of_work
from referral_service.auth.guards import roles, signed_in_user
from referral_service.domain import panel_access, panels, redaction
from referral_service.domain.errors import ValidationFailed
from referral_service.extensions import db
from referral_service.models import Role
from referral_service.web import forms, navigation

bp = Blueprint("panels", __name__, url_prefix="/panel")

navigation.add("Shared cases", "panels.cases", Role.PANEL_LEAD, order=10)
navigation.set_home(Role.PANEL_LEAD, "panels.cases")


def _viewer() -> panel_access.Viewer:
    return panel_access.Viewer.panel_lead(signed_in_user(), ip_address=request.remote_addr,
                                          user_agent=request.user_agent.string)


def _open(case_id: uuid.UUID) -> panel_access.SharedCase:
    try:
        return panel_access.read_case(_viewer(), case_id)
    except panel_access.CaseNotShared:
        unit_of_work.commit_refusal()  # the refused view stays on the record
        raise


@bp.get("/cases")
@roles(Role.PANEL_LEAD)
def cases() -> ResponseReturnValue:
    viewer = _viewer()
    shared = panel_access.list_cases(viewer)
    return render_template("panels/cases.html", cases=shared, panel=viewer.organisation,
                           panel_name=panels.PANEL_NAMES[viewer.panel_type])


def _case_page(case: panel_access.SharedCase, errors: dict[str, str], text: str = "",
               ) -> ResponseReturnValue:
    return render_template(
        "panels/case.html", case=case, fields=redaction.labelled(case.document),
        panel_name=panels.PANEL_NAMES[case.panel_type], errors=errors, text=text,
    ), (400 if errors else 200)


@bp.get("/cases/<uuid:case_id>")
@roles(Role.PANEL_LEAD)
def case(case_id: uuid.UUID) -> ResponseReturnValue:
    return _case_page(_open(case_id), {})


@bp.post("/cases/<uuid:case_id>/actions")
@roles(Role.PANEL_LEAD)
def add_action(case_id: uuid.UUID) -> ResponseReturnValue:
    text = request.form.get("text", "")
    try:
        panel_access.add_action(_viewer(), case_id, text)
    except ValidationFailed as refused:
        db.session.rollback()
        case = _open(case_id)
        unit_of_work.commit_refusal()  # the case was shown again: the view stays on the record
        return _case_page(case, forms.from_domain_error(refused), text)
    except panel_access.CaseNotShared:
        unit_of_work.commit_refusal()  # the refused attempt stays on the record
        raise
    flash("Action added. The housing officer will see it on the case.", "success")
    return redirect(url_for("panels.case", case_id=case_id))
