"""docs/sharing.md must say what the code does: the field table and the lawful bases."""
from __future__ import annotations

from pathlib import Path

from referral_service.domain import panels, redaction
from referral_service.models import OrganisationType

DOC = Path(__file__).resolve().parents[2] / "docs" / "sharing.md"


def _cells(section: str) -> list[list[str]]:
    return [[cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
            for line in section.splitlines() if line.startswith("| `") or line.startswith("| m")]


def test_field_table_matches_the_redaction_table() -> None:
    section = DOC.read_text().split("## What each panel sees")[1].split("## Panel leads")[0]
    rows = [row for row in _cells(section) if row[0] in redaction.FIELDS]
    assert {row[0] for row in rows} == set(redaction.FIELDS)
    for panel, column in ((OrganisationType.MARAC, 1), (OrganisationType.MAPPA, 2)):
        documented = {row[0] for row in rows if row[column] == "yes"}
        assert documented == set(redaction.PANEL_FIELDS[panel]), panel


def test_lawful_bases_table_matches_the_data() -> None:
    section = DOC.read_text().split("### Lawful bases")[1].split("## What each panel sees")[0]
    documented = {(row[0], row[1], row[2]) for row in _cells(section) if len(row) == 3}
    expected = {(kind.value, basis.code, basis.title)
                for kind, bases in panels.LAWFUL_BASES.items() for basis in bases}
    assert documented == expected
