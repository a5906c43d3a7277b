"""One referral, as its authority's officers and team leaders see it, and what they do to it.

Every action is one domain function of ``referral_service.domain.casework`` (or ``messages``):
the rules live there. A refusal (``DomainError``) comes back as a GOV.UK error summary on the
same form; success commits once and returns to the referral with a confirmation banner.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from referral_service import clock
from referral_service.auth.guards import STAFF, roles, signed_in_user, staff_referral
from referral_service.domain import (
    audit,
    casework,
    consent,
    documents,
    duplicates,
    external_transfers,
    lifecycle,
    notes,
    queues,
    reads,
    timeline,
    transfer_history,
)
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
from referral_service.web import consent_forms, forms, labels
from referral_service.web import documents as document_pages

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
    if referral.is_open:
        actions.add("withdraw_consent")
    return actions


@bp.get("/<uuid:referral_id>")
@roles(*STAFF)
def referral(referral_id: uuid.UUID, errors: dict[str, str] | None = None,
             reply: str = "", status: int | None = None) -> ResponseReturnValue:
    user = signed_in_user()
    case = staff_referral(referral_id)
    # Only on a page that will be committed, so that every look at it is in the audit trail.
    earlier = None if errors else transfer_history.for_receiving_council(
        case, audit.Actor.for_user(user, request.remote_addr))
    read_before = reads.viewed(user, case.id)
    return render_template(
        "casework/referral.html", referral=case, user=user, earlier=earlier,
        actions=available_actions(user, case), now=clock.now(),
        deadline=queues.deadline_status(case), duplicates=queues.possible_duplicates(case),
        entries=list(reversed(timeline.for_staff(case))), notes=notes.for_referral(case),
        documents=documents.for_referral(case), read_before=read_before, new_from="referrer",
        errors=errors or {}, reply=reply), status or (400 if errors else 200)


def _done(case: Referral, message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for("casework.referral", referral_id=case.id))


FIELDS = {"authority_code": "authority", "body": "reply"}  # domain field → form field


@bp.post("/<uuid:referral_id>/accept")
@roles(*STAFF)
def accept(referral_id: uuid.UUID) -> ResponseReturnValue:
    user, case = signed_in_user(), staff_referral(referral_id)
    errors = forms.attempt(lambda: casework.accept(case, user, ip_address=request.remote_addr))
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
    errors = forms.attempt(lambda: notes.post(
        case, side="council", author_name=author, body=body,
        actor=audit.Actor.for_user(user, request.remote_addr)), FIELDS)
    if errors:
        return referral(referral_id, errors=errors, reply=body)
    return _done(case, "Your note was sent to the referrer.")


@bp.post("/<uuid:referral_id>/documents")
@roles(*STAFF)
def upload_document(referral_id: uuid.UUID) -> ResponseReturnValue:
    user, case = signed_in_user(), staff_referral(referral_id)
    refused = document_pages.receive(case, side="council",
                                     actor=audit.Actor.for_user(user, request.remote_addr))
    if refused:
        return referral(referral_id, errors={"document": refused}, status=400)
    return _done(case, "The document was added to the referral.")


@bp.get("/<uuid:referral_id>/documents/<uuid:document_id>")
@roles(*STAFF)
def download_document(referral_id: uuid.UUID, document_id: uuid.UUID) -> ResponseReturnValue:
    user, case = signed_in_user(), staff_referral(referral_id)
    return document_pages.send(case, document_id,
                               actor=audit.Actor.for_user(user, request.remote_addr))


def _notes(errors: dict[str, str]) -> str | None:
    notes = request.form.get("notes", "").strip()
    if len(notes) > NOTES_MAX:
        errors["notes"] = f"Keep the notes to {NOTES_MAX} characters."
    return notes or None


Parsed = dict[str, Any]


def _action_form(referral_id: uuid.UUID, template: str,
                 parse: Callable[[dict[str, str]], Parsed],
                 act: Callable[[Referral, User, Parsed], object],
                 done: Callable[[Referral, Parsed], str],
                 context: Callable[[Referral], dict[str, Any]] | None = None,
                 ) -> ResponseReturnValue:
    """A casework form page: GET shows it; POST validates the form (``parse`` fills errors),
    runs one domain operation (``act``) and returns to the referral, or shows the errors."""
    user, case = signed_in_user(), staff_referral(referral_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = parse(errors)
        if not errors:
            errors = forms.attempt(lambda: act(case, user, values), FIELDS) or {}
            if not errors:
                return _done(case, done(case, values))
            case = staff_referral(referral_id)  # reloaded after the rollback
    return render_template(template, referral=case, errors=errors, form=request.form,
                           **(context(case) if context else {})), (400 if errors else 200)


@bp.route("/<uuid:referral_id>/contact-attempt", methods=["GET", "POST"])
@roles(*STAFF)
def contact_attempt(referral_id: uuid.UUID) -> ResponseReturnValue:
    return _action_form(
        referral_id, "casework/contact_attempt.html",
        lambda errors: {
            "channel": forms.choice(errors, "channel", ContactChannel,
                                    "Select how you tried to contact them."),
            "result": forms.choice(errors, "result", ContactAttemptResult,
                                   "Select what happened."),
            "notes": _notes(errors)},
        lambda case, user, v: casework.record_contact_attempt(
            case, user, ip_address=request.remote_addr, **v),
        lambda case, v: "The contact attempt was recorded.")


@bp.route("/<uuid:referral_id>/contact-made", methods=["GET", "POST"])
@roles(*STAFF)
def contact_made(referral_id: uuid.UUID) -> ResponseReturnValue:
    return _action_form(
        referral_id, "casework/contact_made.html",
        lambda errors: {
            "channel": forms.choice(errors, "channel", ContactChannel,
                                    "Select how you made contact."),
            "notes": _notes(errors)},
        lambda case, user, v: casework.record_contact_made(
            case, user, ip_address=request.remote_addr, **v),
        lambda case, v: "Contact with the person was recorded.")


@bp.route("/<uuid:referral_id>/close", methods=["GET", "POST"])
@roles(*STAFF)
def close(referral_id: uuid.UUID) -> ResponseReturnValue:
    return _action_form(
        referral_id, "casework/close.html",
        lambda errors: {
            "outcome": forms.choice(errors, "outcome", Outcome, "Select the outcome."),
            "notes": _notes(errors)},
        lambda case, user, v: casework.close(case, user, ip_address=request.remote_addr, **v),
        lambda case, v: f"{case.reference} was closed. The referrer has been told.",
        lambda case: {"outcomes": {o.value for o in lifecycle.CLOSING_OUTCOMES.get(
            case.status, frozenset())}})


@bp.route("/<uuid:referral_id>/consent-withdrawal", methods=["GET", "POST"])
@roles(*STAFF)
def withdraw_consent(referral_id: uuid.UUID) -> ResponseReturnValue:
    """Record that the person told the officer they withdraw consent
    (``domain.consent.withdraw_by_officer``); the named officer or a team leader, as for the
    page's other actions."""
    user, case = signed_in_user(), staff_referral(referral_id)
    if not _is_case_worker(user, case):
        abort(403)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = consent_forms.parse(case, errors)
        if not errors:
            errors = forms.attempt(lambda: consent.withdraw_by_officer(
                case, by=user, ip_address=request.remote_addr, **values),
                {"scope": forms.FORM}) or {}
        if not errors:
            return _done(case, consent_forms.done_message(values["scope"]))
        case = staff_referral(referral_id)  # reloaded after the rollback
    return render_template(
        "casework/withdraw_consent.html", referral=case, errors=errors, form=request.form,
        scope_items=consent_forms.scope_items(case, request.form.get("scope")),
        reason_labels=consent_forms.REASON_LABELS,
    ), 409 if forms.FORM in errors else 400 if errors else 200


def _other_authorities(case: Referral) -> list[Authority]:
    return list(db.session.scalars(
        select(Authority).where(Authority.id != case.authority_id).order_by(Authority.name)))


# The transfer form's choice of a council not on the service (its fields follow).
ELSEWHERE = "elsewhere"


def _transfer_target(errors: dict[str, str]) -> Authority | external_transfers.Destination | None:
    """The chosen authority (the domain refuses the referral's own, with a message), or the
    council not on the service that the officer typed in."""
    wanted = request.form.get("authority", "")
    if wanted == ELSEWHERE:
        found, refused = forms.outcome(lambda: external_transfers.destination(
            request.form.get("council_name", ""), request.form.get("council_code", ""),
            request.form.get("council_email", "")))
        errors.update(refused or {})
        return found
    target = db.session.scalar(select(Authority).where(Authority.code == wanted)) if (
        wanted) else None
    if target is None:
        errors["authority"] = "Select the housing authority to transfer to."
        return None
    return target


def _person_agreed(errors: dict[str, str]) -> bool:
    """The officer's word that the person agreed to the new council (their consent named ours)."""
    if request.form.get("person_agreed") != "yes":
        errors["person_agreed"] = "Confirm the person agreed to be referred to the new council."
        return False
    return True


@bp.route("/<uuid:referral_id>/transfer", methods=["GET", "POST"])
@roles(*STAFF)
def transfer(referral_id: uuid.UUID) -> ResponseReturnValue:
    chosen = request.form.get("authority")
    return _action_form(
        referral_id, "casework/transfer.html",
        lambda errors: {
            "to": _transfer_target(errors),
            "reason": forms.required_text(errors, "reason",
                                          "Say why the referral is being transferred."),
            "person_agreed": _person_agreed(errors)},
        _transfer,
        lambda case, v: f"{case.reference} was transferred to {v['to'].name}." + (
            " A secure link was emailed to its housing options team." if isinstance(
                v["to"], external_transfers.Destination) else ""),
        lambda case: {"authority_items": [{"value": "", "text": "Choose an authority"}] + [
            {"value": a.code, "text": a.name, "selected": a.code == chosen}
            for a in _other_authorities(case)] + [
            {"value": ELSEWHERE, "text": "A council not on this service",
             "selected": chosen == ELSEWHERE}],
            "transfer_link_days": current_app.config["TRANSFER_LINK_LIFETIME_DAYS"]})


def _transfer(case: Referral, user: User, v: dict[str, Any]) -> object:
    if isinstance(v["to"], external_transfers.Destination):
        return external_transfers.transfer(case, v["to"], user, reason=v["reason"],
                                           person_agreed=v["person_agreed"],
                                           ip_address=request.remote_addr)
    return casework.transfer(case, v["to"], user, reason=v["reason"],
                             person_agreed=v["person_agreed"], ip_address=request.remote_addr)


@bp.post("/<uuid:referral_id>/transfer-link")
@roles(*STAFF)
def new_transfer_link(referral_id: uuid.UUID) -> ResponseReturnValue:
    """A new one-time link for the council not on the service; the old one stops working."""
    user, case = signed_in_user(), staff_referral(referral_id)
    errors = forms.attempt(lambda: external_transfers.send_new_link(
        case, user, ip_address=request.remote_addr))
    if errors:
        return referral(referral_id, errors=errors)
    moved = case.external_transfer
    assert moved is not None
    return _done(case, f"A new link was emailed to {moved.council_name}. The old one no "
                       "longer works.")


@bp.post("/<uuid:referral_id>/duplicates/<uuid:link_id>")
@roles(*STAFF)
def decide_duplicate(referral_id: uuid.UUID, link_id: uuid.UUID) -> ResponseReturnValue:
    """Confirm or reject a possible-duplicate link (``duplicates.decide``)."""
    user, case = signed_in_user(), staff_referral(referral_id)
    link = next((link for link, _ in queues.possible_duplicates(case) if link.id == link_id),
                None)
    if link is None:
        abort(404)
    same = request.form.get("decision") == "same"
    errors = forms.attempt(lambda: duplicates.decide(link, is_duplicate=same, by=user,
                                                     ip_address=request.remote_addr))
    if errors:
        return referral(referral_id, errors=errors)
    return _done(case, "Recorded: the same person." if same else "Recorded: not the same person.")


def officer_name(officer_id: uuid.UUID | None) -> str:
    officer = db.session.get(User, officer_id) if officer_id else None
    return officer.name if officer else "Not named yet"


bp.add_app_template_global(officer_name, "officer_name")
bp.add_app_template_global(labels.items, "choice_items")
