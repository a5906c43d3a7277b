"""Make a referral: consent first, then one question per page, check your answers, send.

Answers are kept in the referrer's draft (``models/drafts.py``), never in the URL or the cookie.
Each Continue runs the whole referral through ``ReferralSubmissionSchema`` and shows only the
messages that belong to that page, so the pages check exactly what the API checks, in its words.
"""
from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from referral_service import unit_of_work
from referral_service.auth.guards import roles, signed_in_user
from referral_service.domain import drafts
from referral_service.domain.errors import ValidationFailed
from referral_service.extensions import db
from referral_service.models import Role
from referral_service.web.referrer import answers as answer_layout
from referral_service.web.referrer import bp, display, service
from referral_service.web.referrer.errors import PageErrors, arrange
from referral_service.web.referrer.questions import (
    PAGES,
    PAGES_BY_SLUG,
    SECTIONS,
    Page,
    previous_page,
)

referrer_only = roles(Role.PARTNER)


def page_url(slug: str) -> str:
    return url_for("referrer.question", slug=slug, change=1)


@bp.get("/new")
@referrer_only
def start() -> ResponseReturnValue:
    draft = drafts.current(signed_in_user())
    return render_template("referrer/start.html", draft=draft)


@bp.post("/new/discard")
@referrer_only
def discard() -> ResponseReturnValue:
    drafts.discard(signed_in_user())
    return redirect(url_for("referrer.start"))


@bp.get("/new/no-consent")
@referrer_only
def no_consent() -> ResponseReturnValue:
    return render_template("referrer/no_consent.html")


@bp.route("/new/<slug>", methods=["GET", "POST"])
@referrer_only
def question(slug: str) -> ResponseReturnValue:
    page = PAGES_BY_SLUG.get(slug)
    if page is None:
        abort(404)
    user = signed_in_user()
    draft = drafts.current(user)
    if page.slug != "consent" and (draft is None
                                   or draft.answers.get("consent-given") != "yes"):
        # Consent comes first: nothing is kept about a person who has not agreed.
        return redirect(url_for("referrer.question", slug="consent"))
    answers = dict(draft.answers) if draft else {}
    changing = request.args.get("change") == "1"
    errors = PageErrors()
    if request.method == "POST":
        answered = service.answer(user, page.slug, answer_layout.from_form(page, request.form))
        if answered.errors:
            unit_of_work.commit_refusal()  # the draft keeps what was typed, mistakes and all
        if answered.no_consent:
            return redirect(url_for("referrer.no_consent"))
        answers = answered.answers
        errors = arrange(answered.errors, page_url, only=page.slug)
        if not errors:
            return redirect(_after(page, changing))
    elif changing and draft is not None and page.slug in draft.answered:
        # Sent here from check your answers to fix something: show what needs fixing.
        errors = arrange(service.check(answers)[1], page_url, only=page.slug)
    return render_template("referrer/question.html", page=page, answers=answers, errors=errors,
                           error_summary=errors.summary_items(),
                           back=_back(page, changing), changing=changing,
                           authorities=_authority_options(),
                           household_rows=answer_layout.household_rows), _status(errors)


@bp.route("/new/check", methods=["GET", "POST"])
@referrer_only
def check_answers() -> ResponseReturnValue:
    user = signed_in_user()
    draft = drafts.current(user)
    if draft is None:
        return redirect(url_for("referrer.start"))
    unanswered = next((page for page in PAGES if page.slug not in draft.answered), None)
    if unanswered is not None:
        return redirect(url_for("referrer.question", slug=unanswered.slug))
    found: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            referral = service.submit(user, ip_address=request.remote_addr)
        except ValidationFailed as refused:
            db.session.rollback()
            found = refused.errors
        else:
            if referral is None:  # sent already, by an earlier click
                return redirect(url_for("referrer.referrals"))
            return redirect(url_for("referrer.sent", referral_id=referral.id))
    else:
        found = service.check(draft.answers)[1]
    errors = arrange(found, page_url)
    return render_template("referrer/check.html", sections=_summary_sections(draft.answers),
                           errors=errors, error_summary=errors.summary_items(),
                           ), _status(errors)


def _summary_sections(answers: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Check your answers: each section's rows, one per question, each with its change link."""
    names = {a.code: a.name for a in service.participating_authorities()}
    sections = []
    for title, slugs in SECTIONS:
        rows = []
        for page in (PAGES_BY_SLUG[slug] for slug in slugs):
            for one in page.fields:
                rows.append({
                    "key": one.label.removesuffix(" (optional)") if len(page.fields) > 1
                    else page.summary,
                    "lines": display.answer_text(one, answers.get(one.name), names),
                    "href": f"{page_url(page.slug)}#{one.anchor}",
                })
        sections.append((title, rows))
    return sections


def _status(errors: PageErrors) -> int:
    """400 for a form sent with mistakes; a page merely showing what to fix is a 200."""
    return 400 if errors and request.method == "POST" else 200


def _authority_options() -> list[tuple[str, str]]:
    return [(a.code, a.name) for a in service.participating_authorities()]


def _after(page: Page, changing: bool) -> str:
    index = PAGES.index(page)
    if changing or index + 1 == len(PAGES):
        return url_for("referrer.check_answers")
    return url_for("referrer.question", slug=PAGES[index + 1].slug)


def _back(page: Page, changing: bool) -> str:
    if changing:
        return url_for("referrer.check_answers")
    before = previous_page(page.slug)
    return url_for("referrer.question", slug=before.slug) if before else url_for(
        "referrer.start")
