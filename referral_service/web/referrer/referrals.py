"""The referrer's organisation's referrals: the list, one referral (its timeline, outcome and
notes with the council), the confirmation after sending, changing the release date or contact
details, and withdrawal.

Another organisation's referral is 404, as in the API: its existence is not confirmed.
"""
from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from referral_service.auth.guards import (
    organisation_referral,
    organisation_referrals,
    roles,
    signed_in_user,
)
from referral_service.domain import (
    audit,
    casework,
    consent,
    documents,
    notes,
    reads,
    referral_changes,
    timeline,
)
from referral_service.domain.errors import TransitionRefused, ValidationFailed
from referral_service.extensions import db
from referral_service.models import Referral, ReferralStatus, Role, User
from referral_service.schemas.errors import flatten_errors
from referral_service.schemas.referral_change import ReferralChangeSchema, load_changed_person
from referral_service.web import consent_forms, forms, labels
from referral_service.web import documents as document_pages
from referral_service.web.referrer import bp, display, service

referrer_only = roles(Role.PARTNER)


def _actor(user: User) -> audit.Actor:
    return audit.Actor.for_user(user, request.remote_addr)


@bp.context_processor
def _words() -> dict[str, object]:
    return {"status_words": display.STATUS_WORDS}


@bp.get("/")
@referrer_only
def home() -> ResponseReturnValue:
    return redirect(url_for("referrer.referrals"))


@bp.get("/referrals")
@referrer_only
def referrals() -> ResponseReturnValue:
    wanted = request.args.get("status", "")
    status = ReferralStatus(wanted) if wanted in set(ReferralStatus) else None
    page = request.args.get("page", 1, type=int) or 1
    listing = service.page_of(organisation_referrals(signed_in_user()), status=status, page=page)
    return render_template("referrer/referrals.html", listing=listing, status=status,
                           unread=reads.with_unread(signed_in_user(),
                                                    (r.id for r in listing.items)),
                           statuses=list(ReferralStatus))


def _referral_page(referral: Referral, *, note_error: str | None = None, note: str = "",
                   document_error: str | None = None, status: int = 200) -> ResponseReturnValue:
    summary = ([{"text": document_error, "href": "#document"}] if document_error else []) + (
        [{"text": note_error, "href": "#body"}] if note_error else [])
    return render_template(
        "referrer/referral.html", referral=referral, entries=timeline.for_referrer(referral),
        notes=notes.for_referral(referral), note_error=note_error, note=note,
        read_before=reads.viewed(signed_in_user(), referral.id), new_from="council",
        documents=documents.for_referral(referral), document_error=document_error,
        error_summary=summary or None), status


@bp.get("/referrals/<uuid:referral_id>")
@referrer_only
def referral(referral_id: uuid.UUID) -> ResponseReturnValue:
    return _referral_page(organisation_referral(referral_id))


@bp.get("/referrals/<uuid:referral_id>/sent")
@referrer_only
def sent(referral_id: uuid.UUID) -> ResponseReturnValue:
    found = organisation_referral(referral_id)
    return render_template("referrer/sent.html", referral=found)


@bp.post("/referrals/<uuid:referral_id>/notes")
@referrer_only
def add_note(referral_id: uuid.UUID) -> ResponseReturnValue:
    user = signed_in_user()
    found = organisation_referral(referral_id, user)
    body = request.form.get("body", "")
    try:
        notes.post(found, side="referrer", author_name=user.name, body=body,
                      actor=_actor(user))
    except ValidationFailed as refused:
        db.session.rollback()
        return _referral_page(found, note_error=refused.errors["body"][0], note=body,
                              status=400)
    return redirect(url_for("referrer.referral", referral_id=found.id, _anchor="notes"))


@bp.post("/referrals/<uuid:referral_id>/documents")
@referrer_only
def upload_document(referral_id: uuid.UUID) -> ResponseReturnValue:
    user = signed_in_user()
    found = organisation_referral(referral_id, user)
    refused = document_pages.receive(found, side="referrer", actor=_actor(user))
    if refused:
        return _referral_page(found, document_error=refused, status=400)
    return redirect(url_for("referrer.referral", referral_id=found.id, _anchor="documents"))


@bp.get("/referrals/<uuid:referral_id>/documents/<uuid:document_id>")
@referrer_only
def download_document(referral_id: uuid.UUID, document_id: uuid.UUID) -> ResponseReturnValue:
    user = signed_in_user()
    found = organisation_referral(referral_id, user)
    return document_pages.send(found, document_id, actor=_actor(user))


@bp.route("/referrals/<uuid:referral_id>/withdraw", methods=["GET", "POST"])
@referrer_only
def withdraw(referral_id: uuid.UUID) -> ResponseReturnValue:
    user = signed_in_user()
    found = organisation_referral(referral_id, user)
    refused: str | None = None
    if request.method == "POST":
        try:
            casework.withdraw(found, organisation=service.referrer_organisation(user),
                              actor=_actor(user),
                              reason=request.form.get("reason", "").strip() or None)
        except TransitionRefused as error:  # closed, withdrawn or transferred already
            db.session.rollback()
            refused = error.message
        else:
            return redirect(url_for("referrer.referral", referral_id=found.id))
    return render_template(
        "referrer/withdraw.html", referral=found,
        error_summary=[{"text": refused, "href": "#status"}] if refused else None,
    ), 409 if refused else 200


@bp.route("/referrals/<uuid:referral_id>/consent-withdrawal", methods=["GET", "POST"])
@referrer_only
def withdraw_consent(referral_id: uuid.UUID) -> ResponseReturnValue:
    """Record that the person withdrew consent: to the referral (which closes it) or to texts,
    email or panel sharing (``domain.consent.withdraw_by_referrer``)."""
    user = signed_in_user()
    found = organisation_referral(referral_id, user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = consent_forms.parse(found, errors)
        if not errors:
            errors = forms.attempt(lambda: consent.withdraw_by_referrer(
                found, organisation=service.referrer_organisation(user), actor=_actor(user),
                user=user, **values), {"scope": forms.FORM}) or {}
        if not errors:
            flash(consent_forms.done_message(values["scope"]), "success")
            return redirect(url_for("referrer.referral", referral_id=found.id))
        found = organisation_referral(referral_id, user)  # reloaded after the rollback
    status = 409 if forms.FORM in errors else 400 if errors else 200
    return render_template(
        "referrer/withdraw_consent.html", referral=found, errors=errors, form=request.form,
        scope_items=consent_forms.scope_items(found, request.form.get("scope")),
        reason_labels=consent_forms.REASON_LABELS,
        error_summary=forms.errors_to_summary(errors, consent_forms.ANCHORS)), status


# The form's fields, in page order, with the API's names for them (the same schema loads both).
CHANGE_FIELDS = {"release_or_discharge_date": "release_date", "person.phone": "phone",
                 "person.email": "email", "person": "phone"}
_CHANGE = ReferralChangeSchema(partial=True)


@bp.route("/referrals/<uuid:referral_id>/change", methods=["GET", "POST"])
@referrer_only
def change(referral_id: uuid.UUID) -> ResponseReturnValue:
    """Change the release or discharge date, or the person's phone and email."""
    user = signed_in_user()
    found = organisation_referral(referral_id, user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        body = _change_body(errors)
        if not errors:
            errors = forms.attempt(lambda: referral_changes.change_details(
                found, _CHANGE.load(body), organisation=service.referrer_organisation(user),
                actor=_actor(user), check_person=load_changed_person), CHANGE_FIELDS) or {}
        if not errors:
            return redirect(url_for("referrer.referral", referral_id=found.id))
        found = organisation_referral(referral_id, user)
    form = request.form if request.method == "POST" else _current_answers(found)
    anchors = {"release_date": "#release_date-day", "phone": "#phone", "email": "#email"}
    status = 409 if forms.FORM in errors else 400 if errors else 200
    return render_template("referrer/change.html", referral=found, errors=errors, form=form,
                           error_summary=forms.errors_to_summary(errors, anchors)), status


def _change_body(errors: dict[str, str]) -> dict[str, object]:
    """The form as the API's PATCH body, or errors against the form's fields."""
    day = forms.date_input(errors, "release_date", "release or discharge date", "21 12 2026",
                           required=False)
    body: dict[str, object] = {
        "release_or_discharge_date": day.isoformat() if day else None,
        "person": {"phone": request.form.get("phone", ""), "email": request.form.get("email", "")},
    }
    try:
        _CHANGE.load(body)
    except ValidationError as refused:
        for name, messages in flatten_errors(refused.messages).items():
            errors.setdefault(CHANGE_FIELDS.get(name, name), messages[0])
    return body


def _current_answers(referral: Referral) -> dict[str, str]:
    day = referral.release_or_discharge_date
    return {"release_date-day": str(day.day) if day else "",
            "release_date-month": str(day.month) if day else "",
            "release_date-year": str(day.year) if day else "",
            "phone": labels.uk_phone(referral.person_phone) if referral.person_phone else "",
            "email": referral.person_email or ""}
