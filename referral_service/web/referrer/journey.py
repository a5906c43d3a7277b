"""Question pages, one question per page, check your answers, send: driven by a ``Flow``.

Two flows use these views and templates: the referrer making a referral (``/referrer/new``,
below) and a council officer keying in one that arrived by email or phone
(``web/keyed_in.py``, ``/casework/key-in``). A flow names its journey (the pages, in order),
who may use it, and what its Continue checks and its Send does (``service.py``,
``keyed_in.py``). Answers are kept in the user's draft (``models/drafts.py``), never in the URL
or the cookie. Each Continue runs the whole referral through the schema and shows only the
messages that belong to that page, so the pages check exactly what the API checks, in its words.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from referral_service import unit_of_work
from referral_service.auth.guards import roles, signed_in_user
from referral_service.domain import drafts
from referral_service.domain.errors import ValidationFailed
from referral_service.extensions import db
from referral_service.models import Referral, Role, User
from referral_service.web.referrer import answers as answer_layout
from referral_service.web.referrer import bp, display, service
from referral_service.web.referrer.errors import PageErrors, arrange
from referral_service.web.referrer.questions import REFERRER, Journey, Page


@dataclass(frozen=True)
class Flow:
    """One way through the question pages: whose, which pages, and what Continue and Send do."""

    endpoint: str  # the blueprint's name: its views are <endpoint>.start, .question, ...
    journey: Journey
    roles: tuple[Role, ...]
    title: str  # after each question page's title, and on the start page
    answer: Callable[[User, str, dict[str, Any]], service.Answered]
    check: Callable[[dict[str, Any]], tuple[dict[str, Any] | None, dict[str, list[str]]]]
    submit: Callable[[User, str | None], Referral | None]
    done: Callable[[Referral], str]  # where Send leads
    after_duplicate_send: str  # an endpoint, for a second click on Send
    start_template: str
    no_consent_template: str
    send_heading: str
    declaration: str
    send_button: str
    names: Callable[[], dict[str, str]]  # authorities and organisations an answer may name
    authorities: Callable[[], list[tuple[str, str]]]
    organisations: Callable[[], list[tuple[str, str]]]

    def url(self, view: str, **values: Any) -> str:
        return url_for(f"{self.endpoint}.{view}", **values)

    def page_url(self, slug: str) -> str:
        return self.url("question", slug=slug, change=1)


def register(blueprint: Blueprint, flow: Flow, prefix: str) -> None:
    """The flow's views on ``blueprint``, under ``prefix`` (``/new``, ``/key-in``)."""
    guard = roles(*flow.roles)

    def start() -> ResponseReturnValue:
        return render_template(flow.start_template, draft=drafts.current(signed_in_user()),
                               flow=flow)

    def discard() -> ResponseReturnValue:
        drafts.discard(signed_in_user())
        return redirect(flow.url("start"))

    def no_consent() -> ResponseReturnValue:
        return render_template(flow.no_consent_template, flow=flow)

    def question(slug: str) -> ResponseReturnValue:
        return _question(flow, slug)

    def check_answers() -> ResponseReturnValue:
        return _check_answers(flow)

    blueprint.add_url_rule(prefix, "start", guard(start), methods=["GET"])
    blueprint.add_url_rule(f"{prefix}/discard", "discard", guard(discard), methods=["POST"])
    blueprint.add_url_rule(f"{prefix}/no-consent", "no_consent", guard(no_consent),
                           methods=["GET"])
    # Before <slug>: "check" is not a question page.
    blueprint.add_url_rule(f"{prefix}/check", "check_answers", guard(check_answers),
                           methods=["GET", "POST"])
    blueprint.add_url_rule(f"{prefix}/<slug>", "question", guard(question),
                           methods=["GET", "POST"])


def _question(flow: Flow, slug: str) -> ResponseReturnValue:
    journey = flow.journey
    page = journey.by_slug.get(slug)
    if page is None:
        abort(404)
    user = signed_in_user()
    draft = drafts.current(user)
    first = journey.pages[0]
    if page.slug != first.slug and (draft is None or first.slug not in draft.answered):
        return redirect(flow.url("question", slug=first.slug))
    consent = journey.by_slug["consent"]
    if page.slug not in {first.slug, consent.slug} and (
            draft is None or draft.answers.get("consent-given") != "yes"):
        # Consent comes first: nothing is kept about a person who has not agreed.
        return redirect(flow.url("question", slug=consent.slug))
    answers = dict(draft.answers) if draft else {}
    changing = request.args.get("change") == "1"
    errors = PageErrors()
    if request.method == "POST":
        answered = flow.answer(user, page.slug, answer_layout.from_form(page, request.form))
        if answered.errors:
            unit_of_work.commit_refusal()  # the draft keeps what was typed, mistakes and all
        if answered.no_consent:
            return redirect(flow.url("no_consent"))
        answers = answered.answers
        errors = arrange(answered.errors, flow.page_url, only=page.slug, journey=journey)
        if not errors:
            return redirect(_after(flow, page, changing))
    elif changing and draft is not None and page.slug in draft.answered:
        # Sent here from check your answers to fix something: show what needs fixing.
        errors = arrange(flow.check(answers)[1], flow.page_url, only=page.slug, journey=journey)
    return render_template("referrer/question.html", page=page, answers=answers, errors=errors,
                           error_summary=errors.summary_items(), flow=flow,
                           back=_back(flow, page, changing), changing=changing,
                           authorities=flow.authorities(), organisations=flow.organisations(),
                           household_rows=answer_layout.household_rows), _status(errors)


def _check_answers(flow: Flow) -> ResponseReturnValue:
    user = signed_in_user()
    draft = drafts.current(user)
    if draft is None:
        return redirect(flow.url("start"))
    unanswered = next((page for page in flow.journey.pages if page.slug not in draft.answered),
                      None)
    if unanswered is not None:
        return redirect(flow.url("question", slug=unanswered.slug))
    found: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            referral = flow.submit(user, request.remote_addr)
        except ValidationFailed as refused:
            db.session.rollback()
            found = refused.errors
        else:
            if referral is None:  # sent already, by an earlier click
                return redirect(url_for(flow.after_duplicate_send))
            return redirect(flow.done(referral))
    else:
        found = flow.check(draft.answers)[1]
    errors = arrange(found, flow.page_url, journey=flow.journey)
    return render_template("referrer/check.html", sections=_summary_sections(flow, draft.answers),
                           errors=errors, error_summary=errors.summary_items(), flow=flow,
                           ), _status(errors)


def _summary_sections(flow: Flow,
                      answers: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Check your answers: each section's rows, one per question, each with its change link."""
    names = flow.names()
    by_slug = flow.journey.by_slug
    sections = []
    for title, slugs in flow.journey.sections:
        rows = []
        for page in (by_slug[slug] for slug in slugs):
            for one in page.fields:
                rows.append({
                    "key": one.label.removesuffix(" (optional)") if len(page.fields) > 1
                    else page.summary,
                    "lines": display.answer_text(one, answers.get(one.name), names),
                    "href": f"{flow.page_url(page.slug)}#{one.anchor}",
                })
        sections.append((title, rows))
    return sections


def _status(errors: PageErrors) -> int:
    """400 for a form sent with mistakes; a page merely showing what to fix is a 200."""
    return 400 if errors and request.method == "POST" else 200


def _after(flow: Flow, page: Page, changing: bool) -> str:
    following = flow.journey.next_page(page.slug)
    if changing or following is None:
        return flow.url("check_answers")
    return flow.url("question", slug=following.slug)


def _back(flow: Flow, page: Page, changing: bool) -> str:
    if changing:
        return flow.url("check_answers")
    before = flow.journey.previous_page(page.slug)
    return flow.url("question", slug=before.slug) if before else flow.url("start")


def _authority_options() -> list[tuple[str, str]]:
    return [(a.code, a.name) for a in service.participating_authorities()]


REFERRER_FLOW = Flow(
    endpoint="referrer", journey=REFERRER, roles=(Role.PARTNER,), title="Make a referral",
    answer=service.answer, check=service.check,
    submit=lambda user, ip: service.submit(user, ip_address=ip),
    done=lambda referral: url_for("referrer.sent", referral_id=referral.id),
    after_duplicate_send="referrer.referrals",
    start_template="referrer/start.html", no_consent_template="referrer/no_consent.html",
    send_heading="Now send the referral",
    declaration="By sending this referral you confirm that the person agreed to it and to the "
                "council contacting them, and that the details are correct to the best of your "
                "knowledge.",
    send_button="Send referral",
    names=lambda: dict(_authority_options()), authorities=_authority_options,
    organisations=list,
)
register(bp, REFERRER_FLOW, "/new")
