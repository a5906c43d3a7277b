"""The question table (web/referrer/questions.py) against the schema it fills: every value the
form can send is one the API takes, and every message the schema can give has a page."""
from __future__ import annotations

from typing import Any

import pytest
from marshmallow import ValidationError

from referral_service.models.enums import SUPPORT_NEEDS
from referral_service.schemas.errors import flatten_errors
from referral_service.schemas.referral import ReferralSubmissionSchema
from referral_service.web.referrer import answers
from referral_service.web.referrer.errors import arrange, locate
from referral_service.web.referrer.questions import FIELDS, PAGES, SECTIONS, SUPPORT_NEED_LABELS


def test_names_and_paths_are_unique() -> None:
    names = [one.name for _, one in FIELDS]
    paths = [one.path for _, one in FIELDS]
    assert len(names) == len(set(names)) and len(paths) == len(set(paths))
    assert len({page.slug for page in PAGES}) == len(PAGES)


def test_every_page_is_in_one_section_of_check_your_answers() -> None:
    listed = [slug for _, slugs in SECTIONS for slug in slugs]
    assert sorted(listed) == sorted(page.slug for page in PAGES)


def test_support_needs_offered_are_the_apis() -> None:
    assert set(SUPPORT_NEED_LABELS) == set(SUPPORT_NEEDS)


def _leaves(node: Any, path: str = "") -> set[str]:
    if isinstance(node, dict):
        found: set[str] = set()
        for key, value in node.items():
            found |= _leaves(value, f"{path}.{key}" if path else key)
        return found
    return {path}


def test_the_form_fills_every_field_a_referral_has() -> None:
    """Only what the referrer does not type is left out: the consent time (the moment they
    answer yes), consent's scopes (the defaults, as for the API: texts and email, no panel;
    the officer records a narrower consent by withdrawing) and the MAPPA category (the level
    is what housing officers act on)."""
    schema_paths = _leaves(ReferralSubmissionSchema().load(_good_payload()))
    typed = _leaves(answers.payload({one.name: "yes" if one.kind == "yesno" else ""
                                     for _, one in FIELDS}))
    assert schema_paths - typed - {"household"} == {"consent.recorded_at", "consent.scopes",
                                                   "risk.mappa_category"}


def _good_payload() -> dict[str, Any]:
    from tests import factories

    return factories.payload()


@pytest.mark.parametrize("path", sorted({one.path for _, one in FIELDS} | {
    "person", "person.address", "person.safe_contact.sms", "household.3.age",
    "household.0.relationship", "household", "consent"}))
def test_every_path_the_schema_reports_has_a_page(path: str) -> None:
    assert locate(path) is not None


def test_an_empty_form_is_refused_with_messages_on_their_pages() -> None:
    try:
        ReferralSubmissionSchema().load(answers.payload({}))
    except ValidationError as error:
        found = flatten_errors(error.messages)
    laid_out = arrange(found, lambda slug: f"/{slug}")
    # (The schema checks a way to reach the person only once the person's fields pass.)
    assert laid_out.pages == ["consent", "authority", "name", "housing", "reason", "referrer"]
    assert all(href.startswith("/") and "#" in href for href, _ in laid_out.summary)


@pytest.mark.parametrize(("parts", "sent"), [
    ({"day": "1", "month": "4", "year": "1990"}, "1990-04-01"),
    ({"day": "", "month": "", "year": ""}, None),
    ({"day": "31", "month": "2", "year": "1990"}, "1990-2-31"),
    ({"day": "1", "month": "4", "year": "90"}, "90-4-1"),
    ({"day": "one", "month": "4", "year": "1990"}, "1990-4-one"),
])
def test_dates_go_to_the_schema_as_typed_unless_real(parts: dict[str, str], sent: str) -> None:
    assert answers.date_text(parts) == sent
