"""The H-CLIC mapping (domain/reports/hclic_codes.py) and quarters (domain/reports/hclic.py):
every value of ours has a documented H-CLIC place or an explicit "not collected", the support
needs API.md listed keep their names, and quarters are financial-year quarters."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from referral_service.domain.errors import ValidationFailed
from referral_service.domain.reports import hclic
from referral_service.domain.reports.hclic_codes import (
    AGENCY_TO_HCLIC,
    NOT_COLLECTED,
    PUBLIC_BODIES,
    SUPPORT_CATEGORIES,
    SUPPORT_NEED_TO_HCLIC,
    hclic_support_flags,
)
from referral_service.models.enums import SUPPORT_NEEDS, OrganisationType
from referral_service.web.dashboard import recent_quarters
from referral_service.web.labels import SUPPORT_NEED, support_need

DOC = (Path(__file__).resolve().parents[2] / "docs" / "hclic.md").read_text()
# API.md §2 as it stood before issue 15.7: these names stay valid, in this order.
API_MD_NEEDS = ("mental_health", "physical_health", "learning_disability", "drug_dependency",
                "alcohol_dependency", "offending_history", "domestic_abuse", "rough_sleeping",
                "repeat_homelessness", "care_leaver", "young_person", "young_parent",
                "armed_forces", "old_age", "sexual_exploitation", "budgeting_debt", "refugee",
                "other")


def test_the_support_needs_api_md_listed_keep_their_names_and_places() -> None:
    assert SUPPORT_NEEDS[:len(API_MD_NEEDS)] == API_MD_NEEDS
    assert len(set(SUPPORT_NEEDS)) == len(SUPPORT_NEEDS)


def test_every_support_need_maps_to_a_category_or_says_not_collected() -> None:
    assert set(SUPPORT_NEED_TO_HCLIC) == set(SUPPORT_NEEDS)
    for need, category in SUPPORT_NEED_TO_HCLIC.items():
        assert category == NOT_COLLECTED or category in SUPPORT_CATEGORIES, need


def test_every_h_clic_support_category_is_reachable_from_a_need_of_ours() -> None:
    assert set(SUPPORT_NEED_TO_HCLIC.values()) - {NOT_COLLECTED} == set(SUPPORT_CATEGORIES)


def test_every_agency_type_maps_to_a_public_body_or_says_not_collected() -> None:
    assert set(AGENCY_TO_HCLIC) == set(OrganisationType)
    for agency, body in AGENCY_TO_HCLIC.items():
        assert body in PUBLIC_BODIES or (body == NOT_COLLECTED and agency.is_panel), agency
    assert set(AGENCY_TO_HCLIC.values()) - {NOT_COLLECTED} == set(PUBLIC_BODIES)


def _doc_table(heading: str) -> dict[str, str]:
    """The ``| `ours` | `theirs` | …`` rows of the table under ``heading`` in docs/hclic.md."""
    section = DOC.split(heading, 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([a-z0-9_]+)` \| `([a-z0-9_]+)` \|", section, re.MULTILINE))


def test_docs_table_states_the_same_support_need_mapping_as_the_code() -> None:
    assert _doc_table("## Support needs") == SUPPORT_NEED_TO_HCLIC


def test_docs_table_states_the_same_agency_mapping_as_the_code() -> None:
    assert _doc_table("## Referring public body") == {
        agency.value: body for agency, body in AGENCY_TO_HCLIC.items()}


def test_every_support_need_has_words_for_pages() -> None:
    assert set(SUPPORT_NEED) == set(SUPPORT_NEEDS)
    assert support_need("care_leaver_21_24") == "Care leaver aged 21 to 24"
    assert list(SUPPORT_NEED)[-1] == "other"  # the question page offers "another need" last


def test_flags_cover_every_category_in_order() -> None:
    flags = hclic_support_flags(["mental_health", "refugee", "other", "care_leaver"])
    assert list(flags) == list(SUPPORT_CATEGORIES)
    assert {c for c, on in flags.items() if on} == {"history_of_mental_health_problems",
                                                    "former_asylum_seeker"}
    assert not any(hclic_support_flags(None).values())


@pytest.mark.parametrize(("text", "start", "end", "described"), [
    ("2026-Q1", date(2026, 4, 1), date(2026, 6, 30), "2026-27 Q1 (1 April 2026 to 30 June 2026)"),
    ("2026-Q2", date(2026, 7, 1), date(2026, 9, 30),
     "2026-27 Q2 (1 July 2026 to 30 September 2026)"),
    (" 2026-q3 ", date(2026, 10, 1), date(2026, 12, 31),
     "2026-27 Q3 (1 October 2026 to 31 December 2026)"),
    ("2026-Q4", date(2027, 1, 1), date(2027, 3, 31),
     "2026-27 Q4 (1 January 2027 to 31 March 2027)"),
    ("2018-Q1", date(2018, 4, 1), date(2018, 6, 30), "2018-19 Q1 (1 April 2018 to 30 June 2018)"),
    ("2034-Q4", date(2035, 1, 1), date(2035, 3, 31),
     "2034-35 Q4 (1 January 2035 to 31 March 2035)"),
])
def test_quarters_are_financial_year_quarters(text: str, start: date, end: date,
                                              described: str) -> None:
    quarter = hclic.parse_quarter(text)
    assert (quarter.start, quarter.end, quarter.description) == (start, end, described)
    assert quarter.key == text.strip().upper()


@pytest.mark.parametrize("text", ["", None, "2026Q3", "2026-Q5", "2026-Q0", "Q3-2026",
                                  "2026-Q3x", "2017-Q4", "2036-Q1", "2026-27-Q3", "２０２６-Q3"])
def test_a_bad_quarter_is_refused_with_what_is_wanted(text: str | None) -> None:
    with pytest.raises(ValidationFailed) as refused:
        hclic.parse_quarter(text)
    assert list(refused.value.errors) == ["quarter"]


def test_the_download_form_offers_the_current_quarter_and_the_seven_before() -> None:
    keys = [q.key for q in recent_quarters(date(2026, 12, 4))]
    assert keys == ["2026-Q3", "2026-Q2", "2026-Q1", "2025-Q4", "2025-Q3", "2025-Q2",
                    "2025-Q1", "2024-Q4"]
    assert recent_quarters(date(2027, 3, 31), 2)[0].key == "2026-Q4"
    assert recent_quarters(date(2027, 4, 1), 1)[0].key == "2027-Q1"
