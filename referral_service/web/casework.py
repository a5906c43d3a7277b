"""One referral, as its authority's officers and team leaders see it, and what they do to it.

Every action is one domain function of ``referral_service.domain.casework`` (or ``messages``):
the rules live there. A refusal (``DomainError``) comes back as a GOV.UK error summary on the
same form; success commits once and returns to the referral with a confirmation banner.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from referral_service.auth.guards import STAFF, roles, signed_in_user, staff_referral
from referral_service.domain import audit, casework, clock, lifecycle, messages, queues, timeline
from referral_service.domain.errors import Conflict, DomainError
from referral_service.extensions import db
from referral_service.models import (
    Authority,
    ContactAttemptResult,
    ContactChannel,
    Outcome,
    Referral,
    ReferralStatus,
    Role,
    User,
)
from referral_service.web import forms, labels

bp = Blueprint("casework", __name__, url_prefix="/casework/referrals")
S = ReferralStatus
NOTES_MAX = 5000


def _is_case_worker(user: User, referral: Referral) -> bool:
    return user.role is Role.TEAM_LEADER or referral.named_officer_id == user.id


def available_actions(user: User, referral: Referral) -> set[str]:
    """Which buttons to show; the domain still decides (and refuses) on submit."""
    status = referral.status
    actions: set[str] = set()
    if status is S.UNASSIGNED and user.role is Role.OFFICER:
        actions.add("claim")
    if not _is_case_worker(user, referral):
        return actions
    if status is S.ASSIGNED and referral.named_officer_id == user.id:
        actions.add("accept")
    if status in {S.ACCEPTED, S.CONTACT_ATTEMPTED}:
        actions |= {"contact_attempt", "contact_made"}
    if status in lifecycle.CLOSING_OUTCOMES:
        actions.add("close")
    if lifecycle.can_transition(status, S.TRANSFERRED):
        actions.add("transfer")
    if referral.is_open and user.role is Role.TEAM_LEADER:
        actions.add("reassign")
    return actions


@bp.get("/<uuid:referral_id>")
@roles(*STAFF)
def referral(referral_id: uuid.UUID, errors: dict[str, str] | None = None,
             reply: str = "") -> ResponseReturnValue:
    user = signed_in_user()
    case = staff_referral(referral_id)
    return render_template(
        "casework/referral.html", referral=case, user=user,
        actions=available_actions(user, case), now=clock.now(),
        deadline=queues.deadline_status(case), duplicates=queues.possible_duplicates(case),
        entries=list(reversed(timeline.for_staff(case))), notes=messages.for_referral(case),
        errors=errors or {}, reply=reply), (400 if errors else 200)


def _done(case: Referral, message: str) -> ResponseReturnValue:
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("casework.referral", referral_id=case.id))


def _attempt(action: Callable[[], Any]) -> dict[str, str] | None:
    """Run one domain operation; its refusal as form errors (and nothing changed)."""
    try:
        action()
        return None
    except StaleDataError:
        db.session.rollback()
        return forms.from_domain_error(Conflict(
            "Someone else changed this referral at the same moment. Reload it and try again."))
    except DomainError as refused:
        db.session.rollback()
        return forms.from_domain_error(refused, {"authority_code": "authority", "body": "reply"})


@bp.post("/<uuid:referral_id>/accept")
@roles(*STAFF)
def accept(referral_id: uuid.UUID) -> ResponseReturnValue:
    user, case = signed_in_user(), staff_referral(referral_id)
    errors = _attempt(lambda: casework.accept(case, user, ip_address=request.remote_addr))
    if errors:
        return referral(referral_id, errors=errors)
    return _done(case, f"You accepted {case.reference}. The referrer has been told.")


@bp.post("/<uuid:referral_id>/reply")
@roles(*STAFF)
def reply(referral_id: uuid.UUID) -> ResponseReturnValue:
    """A note to the referrer (API.md's two-way notes: their system or page shows it)."""
    user, case = signed_in_user(), staff_referral(referral_id)
    body = request.form.get("reply", "")
    author = f"{user.name}, {case.authority.name}"
    errors = _attempt(lambda: messages.post(
        case, side="council", author_name=author, body=body,
        actor=audit.Actor.for_user(user, request.remote_addr)))
    if errors:
        return referral(referral_id, errors=errors, reply=body)
    return _done(case, "Your note was sent to the referrer.")


def _choice(form_value: str | None, kind: type, field: str, message: str,
            errors: dict[str, str]) -> Any:
    try:
        return kind(form_value or "")
    except ValueError:
        errors[field] = message
        return None


def _notes(errors: dict[str, str]) -> str | None:
    notes = request.form.get("notes", "").strip()
    if len(notes) > NOTES_MAX:
        errors["notes"] = f"Keep the notes to {NOTES_MAX} characters."
    return notes or None


def _form_page(template: str, case: Referral, errors: dict[str, str],
               **context: Any) -> ResponseReturnValue:
    return render_template(template, referral=case, errors=errors, form=request.form,
                           **context), (400 if errors else 200)


@bp.route("/<uuid:referral_id>/contact-attempt", methods=["GET", "POST"])
@roles(*STAFF)
def contact_attempt(referral_id: uuid.UUID) -> ResponseReturnValue:
    user, case = signed_in_user(), staff_referral(referral_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        channel = _choice(request.form.get("channel"), ContactChannel, "channel",
                          "Select how you tried to contact them.", errors)
        result = _choice(request.form.get("result"), ContactAttemptResult, "result",
                         "Select what happened.", errors)
        notes = _notes(errors)
        if not errors:
            errors = _attempt(lambda: casework.record_contact_attempt(
                case, user, channel=channel, result=result, notes=notes,
                ip_address=request.remote_addr)) or {}
            if not errors:
                return _done(case, "The contact attempt was recorded.")
            case = staff_referral(referral_id)
    return _form_page("casework/contact_attempt.html", case, errors)


@bp.route("/<uuid:referral_id>/contact-made", methods=["GET", "POST"])
@roles(*STAFF)
def contact_made(referral_id: uuid.UUID) -> ResponseReturnValue:
    user, case = signed_in_user(), staff_referral(referral_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        channel = _choice(request.form.get("channel"), ContactChannel, "channel",
                          "Select how you made contact.", errors)
        notes = _notes(errors)
        if not errors:
            errors = _attempt(lambda: casework.record_contact_made(
                case, user, channel=channel, notes=notes, ip_address=request.remote_addr)) or {}
            if not errors:
                return _done(case, "Contact with the person was recorded.")
            case = staff_referral(referral_id)
    return _form_page("casework/contact_made.html", case, errors)


@bp.route("/<uuid:referral_id>/close", methods=["GET", "POST"])
@roles(*STAFF)
def close(referral_id: uuid.UUID) -> ResponseReturnValue:
    user, case = signed_in_user(), staff_referral(referral_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        outcome = _choice(request.form.get("outcome"), Outcome, "outcome",
                          "Select the outcome.", errors)
        notes = _notes(errors)
        if not errors:
            errors = _attempt(lambda: casework.close(
                case, user, outcome=outcome, notes=notes, ip_address=request.remote_addr)) or {}
            if not errors:
                return _done(case, f"{case.reference} was closed. The referrer has been told.")
            case = staff_referral(referral_id)
    outcomes = {o.value for o in lifecycle.CLOSING_OUTCOMES.get(case.status, frozenset())}
    return _form_page("casework/close.html", case, errors, outcomes=outcomes)


@bp.route("/<uuid:referral_id>/transfer", methods=["GET", "POST"])
@roles(*STAFF)
def transfer(referral_id: uuid.UUID) -> ResponseReturnValue:
    user, case = signed_in_user(), staff_referral(referral_id)
    errors: dict[str, str] = {}
    authorities = list(db.session.scalars(
        select(Authority).where(Authority.id != case.authority_id).order_by(Authority.name)))
    if request.method == "POST":
        wanted = request.form.get("authority", "")
        target = next((a for a in authorities if a.code == wanted), None)
        if target is None:
            errors["authority"] = "Select the housing authority to transfer to."
        reason = request.form.get("reason", "").strip()
        if not reason:
            errors["reason"] = "Say why the referral is being transferred."
        if not errors:
            assert target is not None
            errors = _attempt(lambda: casework.transfer(
                case, target, user, reason=reason, ip_address=request.remote_addr)) or {}
            if not errors:
                return _done(case, f"{case.reference} was transferred to {target.name}.")
            case = staff_referral(referral_id)
    items = [{"value": "", "text": "Choose an authority"}] + [
        {"value": a.code, "text": a.name, "selected": a.code == request.form.get("authority")}
        for a in authorities]
    return _form_page("casework/transfer.html", case, errors, authority_items=items)


def officer_name(officer_id: uuid.UUID | None) -> str:
    officer = db.session.get(User, officer_id) if officer_id else None
    return officer.name if officer else "Not named yet"


bp.add_app_template_global(officer_name, "officer_name")
bp.add_app_template_global(labels.items, "choice_items")
