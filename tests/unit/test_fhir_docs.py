"""docs/fhir.md must say what the FHIR mapping does: its status tables and its extensions."""
from __future__ import annotations

import re
from pathlib import Path

from referral_service.fhir import resources
from referral_service.fhir import vocabulary as v
from referral_service.models import ReferralStatus

DOC = (Path(__file__).resolve().parents[2] / "docs" / "fhir.md").read_text()


def _table(after: str) -> dict[str, str]:
    """The two-column table that follows ``after``: first-column codes -> second-column code."""
    rows: dict[str, str] = {}
    for line in DOC.split(after, 1)[1].split("\n\n", 2)[1].splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        for code in re.findall(r"`([a-z_]+)`", cells[0]):
            rows[code] = cells[1].strip("`")
    return rows


def test_task_status_table_matches_code() -> None:
    documented = _table("rejected by the performer; cancelled by the requester):")
    assert documented == {status.value: task for status, task in resources.TASK_STATUS.items()}
    assert set(resources.TASK_STATUS) == set(ReferralStatus)


def test_service_request_status_table_matches_code() -> None:
    documented = _table("`ServiceRequest`: `id` (the referral's)")
    for status in ReferralStatus:
        expected = resources.SERVICE_REQUEST_STATUS.get(status, "active")
        assert documented.get(status.value, "active") == expected, status


def test_every_extension_is_in_the_mapping_table() -> None:
    names = {*v.SERVICE_REQUEST_EXTENSIONS, *v.PATIENT_EXTENSIONS, *v.CONSENT_EXTENSIONS,
             v.NAMED_OFFICER.rsplit("/", 1)[1]}
    assert {name for name in names if f"ext:{name}`" not in DOC} == set()
    assert f"`{v.extension('NAME')}`" in DOC
