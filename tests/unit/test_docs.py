"""The lifecycle page must say what the code does."""
from __future__ import annotations

from pathlib import Path

from referral_service.domain import lifecycle

DOC = Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md"


def _rows(text: str) -> dict[str, str]:
    rows = {}
    for line in text.splitlines():
        if line.startswith("| `"):
            status, targets = (cell.strip() for cell in line.strip("|").split("|")[:2])
            rows.setdefault(status.strip("`"), targets)
    return rows


def test_transition_table_in_docs_matches_code() -> None:
    section = DOC.read_text().split("## Closing outcomes")[0]
    rows = _rows(section)
    for status, targets in lifecycle.TRANSITIONS.items():
        documented = {t.strip() for t in rows[status.value].split(",")} - {"— (final)"}
        assert documented == {t.value for t in targets}, status


def test_closing_outcomes_in_docs_match_code() -> None:
    rows = _rows(DOC.read_text().split("## Closing outcomes")[1])
    for status, outcomes in lifecycle.CLOSING_OUTCOMES.items():
        assert {o.strip() for o in rows[status.value].split(",")} == {o.value for o in outcomes}
