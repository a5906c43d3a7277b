"""What the referrer's pages do, free of Flask requests: the one check, answering a page (the
draft itself is ``domain/drafts.py``), sending, and a page of their organisation's referrals.

Submitting goes through exactly what ``POST /api/v1/referrals`` uses: the same
``ReferralSubmissionSchema`` and ``intake.receive_referral``. The referring organisation is the
signed-in referrer's, never an answer. Functions flush; the view commits once.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Select, func, select

from referral_service import clock
from referral_service.domain import audit, drafts, intake
from referral_service.domain.errors import PermissionDenied, ValidationFailed
from referral_service.extensions import db
from referral_service.models import (
    Authority,
    Organisation,
    Referral,
    ReferralDraft,
    ReferralStatus,
    Role,
    User,
)
from referral_service.schemas.errors import flatten_errors
from referral_service.schemas.referral import ReferralSubmissionSchema
from referral_service.web.referrer import answers as answer_layout

# One instance, shared: loading keeps no state on it (as the API's SUBMISSION).
SUBMISSION = ReferralSubmissionSchema()
PER_PAGE = 20


def referrer_organisation(user: User) -> Organisation:
    if user.role is not Role.PARTNER or user.organisation is None:
        raise PermissionDenied("Only referrers of a referring organisation can do this.")
    return user.organisation


# --- The one check ------------------------------------------------------------------------------


def check(answers: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The answers judged as the API judges a body: (loaded data, {}) or (None, errors)."""
    body = answer_layout.payload(answers)
    data: dict[str, Any] | None = None
    errors: dict[str, list[str]] = {}
    try:
        data = SUBMISSION.load(body)
    except ValidationError as error:
        errors = flatten_errors(error.messages)
    code = body.get("authority_code")
    # Checked even while other pages are unanswered, so the authority page can say so.
    if isinstance(code, str) and code.strip() and "authority_code" not in errors:
        try:
            intake.participating_authority(code)
        except ValidationFailed as refused:
            errors.update(refused.errors)
    return (None, errors) if errors else (data, {})


def participating_authorities() -> list[Authority]:
    return list(db.session.scalars(
        select(Authority).where(Authority.participating.is_(True)).order_by(Authority.name)))


# --- Answering and sending (drafts: ``domain/drafts.py``) --------------------------------------


@dataclass(frozen=True)
class Answered:
    no_consent: bool = False
    answers: dict[str, Any] = field(default_factory=dict)  # the whole draft, this page's included
    errors: dict[str, list[str]] = field(default_factory=dict)  # the whole draft's, judged


def answer(user: User, slug: str, typed: dict[str, Any]) -> Answered:
    """Keep one page's answers and judge the whole draft with them.

    Consent first: "no" deletes everything kept about the person; "yes" starts the draft and
    notes when (``consent.recorded_at``). Before a "yes", nothing is stored.
    """
    consent = typed.get("consent-given") if slug == "consent" else None
    if consent == "no":
        drafts.discard(user)
        return Answered(no_consent=True)
    if consent == "yes":
        # The referrer's own name and email, from their account, until they change them.
        started = drafts.start(user, {"referrer-name": user.name, "referrer-email": user.email})
        draft: ReferralDraft | None = started
        recorded = started.answers.get(answer_layout.CONSENT_RECORDED_AT)
        typed = {**typed, answer_layout.CONSENT_RECORDED_AT: recorded or clock.now().isoformat()}
    else:
        draft = drafts.current(user)
    answers = {**(draft.answers if draft else {}), **typed}
    if draft is not None:
        drafts.save(draft, slug, typed)
    return Answered(answers=answers, errors=check(answers)[1])


def submit(user: User, *, ip_address: str | None) -> Referral | None:
    """Make the referral from the referrer's draft; None if the draft is already gone (a second
    click on "Send referral" while the first was being saved).

    Raises ``ValidationFailed`` (dotted errors) if the answers do not pass; nothing is changed.
    """
    organisation = referrer_organisation(user)
    draft = drafts.current(user)
    if draft is None:
        return None
    data, errors = check(draft.answers)
    if data is None:
        raise ValidationFailed(errors)
    if not drafts.take(draft):
        return None
    return intake.receive_referral(
        data, organisation=organisation, actor=audit.Actor.for_user(user, ip_address),
        submitted_by_user_id=user.id)


# --- The organisation's referrals ---------------------------------------------------------------


@dataclass(frozen=True)
class ReferralPage:
    items: list[Referral]
    page: int
    pages: int
    total: int


def page_of(scope: Select[Any], *, status: ReferralStatus | None = None,
            page: int = 1, per_page: int = PER_PAGE) -> ReferralPage:
    """One page of ``scope`` (the referrer's organisation's referrals, from
    ``auth.guards.organisation_referrals``), newest first, optionally of one status."""
    if status is not None:
        scope = scope.where(Referral.status == status)
    total = db.session.scalar(
        select(func.count()).select_from(scope.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    items = list(db.session.scalars(
        scope.order_by(Referral.received_at.desc(), Referral.id.desc())
        .offset((page - 1) * per_page).limit(per_page)))
    return ReferralPage(items, page, pages, total)
