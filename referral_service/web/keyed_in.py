"""Key in a referral that arrived by email, phone, letter or in person (issue 15.4): a council
officer or team leader fills in the referrer's own question pages (``web/referrer/journey.py``,
the ``KEYED_IN`` journey), after a first page saying how it arrived and which public body made
it, and the referral goes through the same intake as any other (``domain/keyed_in.py``), for
the officer's own council. Only that council's staff can (others 403); the referral's
``referral.received`` audit event names the officer and the source.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, url_for
from marshmallow import ValidationError

from referral_service import clock
from referral_service.auth.guards import STAFF
from referral_service.domain import audit, drafts, keyed_in
from referral_service.domain.errors import ValidationFailed
from referral_service.models import Referral, User
from referral_service.schemas.errors import flatten_errors
from referral_service.schemas.keyed_in import KeyedInSourceSchema, KeyedInSubmissionSchema
from referral_service.web import navigation
from referral_service.web.referrer import answers as answer_layout
from referral_service.web.referrer.journey import Flow, register
from referral_service.web.referrer.questions import KEYED_IN
from referral_service.web.referrer.service import Answered

bp = Blueprint("keyed_in", __name__, url_prefix="/casework")
navigation.add("Key in a referral", "keyed_in.start", *STAFF, order=25)

SUBMISSION = KeyedInSubmissionSchema()
SOURCE = KeyedInSourceSchema()


def judge(answers: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None,
                                            dict[str, list[str]]]:
    """(the referral, its source, {}) as loaded, or (None, None, the errors by dotted path)."""
    body = answer_layout.payload(answers, KEYED_IN)
    typed_source = body.pop("source", None) or {}
    errors: dict[str, list[str]] = {}
    data = source = None
    try:
        data = SUBMISSION.load(body)
    except ValidationError as error:
        errors.update(flatten_errors(error.messages))
    try:
        # An unanswered box is sent as "": as not given.
        source = SOURCE.load({key: value for key, value in typed_source.items() if value})
    except ValidationError as error:
        errors.update({f"source.{key}": messages
                       for key, messages in flatten_errors(error.messages).items()})
    else:
        if source["organisation_id"] is not None:
            try:
                keyed_in.known_body(source["organisation_id"])
            except ValidationFailed as refused:
                errors.update(refused.errors)
    return (None, None, errors) if errors else (data, source, {})


def check(answers: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    data, _, errors = judge(answers)
    return data, errors


def answer(user: User, slug: str, typed: dict[str, Any]) -> Answered:
    """Keep one page's answers; judge the whole draft. How it arrived comes first (nothing about
    the person is in it), then consent: "no" deletes everything kept."""
    keyed_in.keying_authority(user)
    consent = typed.get("consent-given") if slug == "consent" else None
    if consent == "no":
        drafts.discard(user)
        return Answered(no_consent=True)
    draft = drafts.start(user, {}) if slug == KEYED_IN.pages[0].slug else drafts.current(user)
    if consent == "yes" and draft is not None:
        recorded = draft.answers.get(answer_layout.CONSENT_RECORDED_AT)
        typed = {**typed, answer_layout.CONSENT_RECORDED_AT: recorded or clock.now().isoformat()}
    answers = {**(draft.answers if draft else {}), **typed}
    if draft is not None:
        drafts.save(draft, slug, typed)
    return Answered(answers=answers, errors=check(answers)[1])


def submit(user: User, ip_address: str | None) -> Referral | None:
    """Make the referral from the officer's draft; None if a second click found it gone."""
    keyed_in.keying_authority(user)
    draft = drafts.current(user)
    if draft is None:
        return None
    data, source, errors = judge(draft.answers)
    if data is None or source is None:
        raise ValidationFailed(errors)
    if not drafts.take(draft):
        return None
    return keyed_in.key_in(data, source, officer=user,
                           actor=audit.Actor.for_user(user, ip_address))


def _done(referral: Referral) -> str:
    flash(f"Referral {referral.reference} keyed in.", "success")
    return url_for("casework.referral", referral_id=referral.id)


def _organisations() -> list[tuple[str, str]]:
    return [(str(o.id), o.name) for o in keyed_in.referring_bodies()]


KEYED_IN_FLOW = Flow(
    endpoint="keyed_in", journey=KEYED_IN, roles=STAFF, title="Key in a referral",
    answer=answer, check=check, submit=submit, done=_done,
    after_duplicate_send="officer.team_queue",
    start_template="keyed_in/start.html", no_consent_template="keyed_in/no_consent.html",
    send_heading="Now save the referral",
    declaration="By saving this referral you confirm that the referrer said the person agreed "
                "to it, and that the details are as they gave them. It goes to your council's "
                "intake: routing, the contact deadline and the messages to the person.",
    send_button="Save referral",
    names=lambda: dict(_organisations()), authorities=list, organisations=_organisations,
)
register(bp, KEYED_IN_FLOW, "/key-in")
