"""The schema's messages put on the question page, and the control, that owns each one.

``ReferralSubmissionSchema`` reports errors by dotted path (``person.phone``,
``household.1.age``, ``person`` for "give at least one way to reach the person"); the question
table says which page and control has each path. The words are the API's, except where they
name the API's own shapes (a date "in the format YYYY-MM-DD", an authority "code"), which on a
form with day, month and year boxes or a list of councils would not make sense.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from referral_service.web.referrer.questions import REFERRER, Field, Journey, Page

_HOUSEHOLD_ROW = re.compile(r"household\.(\d+)(?:\.(relationship|age))?$")

# API words that name the API's input shapes, and what the form says instead.
_FORM_WORDS: dict[str, str] = {
    "Enter a date in the format YYYY-MM-DD, like 1990-04-01.":
        "Enter a real date, for example 27 3 1990.",
    "Enter the code of the housing authority the person chose, like E07000241.":
        "Choose the housing authority the person chose.",
}
_AUTHORITY_NOT_FOUND = re.compile(r"^No participating housing authority has the code")


def form_words(path: str, message: str) -> str:
    if path == "authority_code" and _AUTHORITY_NOT_FOUND.match(message):
        return "That housing authority no longer takes referrals here: choose another."
    return _FORM_WORDS.get(message, message)


@dataclass(frozen=True)
class Located:
    page: Page
    field: Field
    control: str  # the name of the control the message sits on (a household row's own box)
    anchor: str  # the id the error summary links to


def locate(path: str, journey: Journey = REFERRER) -> Located | None:
    """The page and control that own an error path, or None for a whole-referral message."""
    fields = journey.fields
    row = _HOUSEHOLD_ROW.match(path)
    if row:
        page, one = next((page, one) for page, one in fields if one.path == "household")
        part = row.group(2) or "relationship"
        control = f"{one.name}-{row.group(1)}-{part}"
        return Located(page, one, control, control)
    for page, one in fields:
        if one.path == path:
            return Located(page, one, one.name, one.anchor)
    for page, one in fields:
        # A flag of a group of checkboxes (person.safe_contact.sms): the group owns it.
        if one.kind == "flags" and path.startswith(one.path + "."):
            return Located(page, one, one.name, one.anchor)
    for page in journey.pages:
        if path in page.claims:
            return Located(page, page.fields[0], page.fields[0].name, page.fields[0].anchor)
    for page, one in fields:
        # An object's own message (person.address: "Enter an address…"): its first field.
        if one.path.startswith(path + "."):
            return Located(page, one, one.name, one.anchor)
    return None


@dataclass
class PageErrors:
    """Errors as the GOV.UK error summary and inline messages show them."""

    summary: list[tuple[str, str]] = field(default_factory=list)  # (href, message)
    by_control: dict[str, str] = field(default_factory=dict)
    pages: list[str] = field(default_factory=list)  # slugs with an error, in journey order

    def __bool__(self) -> bool:
        return bool(self.summary)

    def summary_items(self) -> list[dict[str, str]]:
        """For the layout's ``govukErrorSummary`` (``error_summary``)."""
        return [{"text": message, "href": href} for href, message in self.summary]


def arrange(errors: dict[str, list[str]], page_url: Callable[[str], str], *,
            only: str | None = None, journey: Journey = REFERRER) -> PageErrors:
    """Lay out flattened schema errors; ``only`` keeps one page's, others are dropped.

    ``page_url(slug)`` builds the link for a message on another page (the check-your-answers
    page links each message to the page that can fix it).
    """
    arranged = PageErrors()
    located: list[tuple[int, Located | None, str, str]] = []
    order = {page.slug: index for index, page in enumerate(journey.pages)}
    for path, messages in errors.items():
        where = locate(path, journey)
        if only is not None and (where is None or where.page.slug != only):
            continue
        for message in messages:
            rank = order[where.page.slug] if where else len(journey.pages)
            located.append((rank, where, path, form_words(path, message)))
    for _rank, where, _path, message in sorted(located, key=lambda item: item[0]):
        if where is None:
            arranged.summary.append(("#main-content", message))
            continue
        if where.control in arranged.by_control:
            continue  # one message per control, as the GOV.UK pattern shows
        arranged.by_control[where.control] = message
        href = f"#{where.anchor}" if only else f"{page_url(where.page.slug)}#{where.anchor}"
        arranged.summary.append((href, message))
        if where.page.slug not in arranged.pages:
            arranged.pages.append(where.page.slug)
    return arranged


