"""The H-CLIC Duty to Refer extract (docs/hclic.md), from the CLI and the dashboard: which
referrals fall in a quarter (London time), the columns and rows, who may download it, the audit,
``--json``, and refusals that write nothing.

Authority A (E07000241) receives, in London time:
- Q1 2026-27: 23:59 BST on Tue 30 June 2026, from a charity, no support needs
- Q2: 00:30 BST on Wed 1 July (23:30 UTC on 30 June), from probation: mental health, care
  leaver aged 21 to 24, and "other"
- Q2: 23:59:59 BST on Wed 30 September, from Jobcentre Plus: refugee, young person (16 or 17)
- Q3: 00:00 BST on Thu 1 October (23:00 UTC on 30 September), from probation
Authority B (E07000242) receives one in Q2, which A's extract never shows.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from referral_service.domain import admin
from referral_service.domain.reports.hclic import COLUMNS
from referral_service.domain.reports.hclic_codes import SUPPORT_CATEGORIES
from referral_service.extensions import db
from referral_service.models import AuditEvent, Referral, User
from tests import factories as f
from tests.web_helpers import sign_in

FLAGS = [f"support_need_{category}" for category in SUPPORT_CATEGORIES]


@dataclass
class World:
    refs: dict[str, str]
    leader_a: User
    leader_b: User
    officer_a: User
    admin: User


def _received(org: Any, at: datetime, needs: list[str], authority: str = "E07000241") -> str:
    referral: Referral = f.referral(org, authority_code=authority, support_needs=needs)
    referral.received_at = at
    db.session.flush()
    return referral.reference


@pytest.fixture
def world(db_session) -> World:  # type: ignore[no-untyped-def]
    a = f.authority()
    b = f.authority(code="E07000242", name="Broxbourne")
    probation = f.organisation()
    charity = f.organisation(name="Shelter Hub", type="voluntary_sector")
    jobcentre = f.organisation(name="Jobcentre Plus – Welwyn", type="jobcentre")
    refs = {
        "q1_last": _received(charity, datetime(2026, 6, 30, 22, 59, tzinfo=UTC), []),
        "q2_first": _received(probation, datetime(2026, 6, 30, 23, 30, tzinfo=UTC),
                              ["mental_health", "care_leaver_21_24", "other"]),
        "q2_last": _received(jobcentre, datetime(2026, 9, 30, 22, 59, 59, tzinfo=UTC),
                             ["refugee", "young_person"]),
        "q3_first": _received(probation, datetime(2026, 9, 30, 23, 0, tzinfo=UTC),
                              ["offending_history"]),
        "b_q2": _received(probation, datetime(2026, 8, 1, 12, 0, tzinfo=UTC),
                          ["mental_health"], authority="E07000242"),
    }
    made = World(
        refs=refs,
        leader_a=f.team_leader(a, password=f.PASSWORD),
        leader_b=f.team_leader(b, password=f.PASSWORD),
        officer_a=f.officer(a, password=f.PASSWORD),
        admin=admin.create_user(email="admin@hclic.example", name="Ann Admin", role="admin",
                                password=f.PASSWORD, actor=f.ACTOR).record,
    )
    db.session.commit()
    return made


def _expected_q2(refs: dict[str, str]) -> list[dict[str, str]]:
    def row(ref: str, day: str, duty: str, body: str, name: str, on: set[str]) -> dict[str, str]:
        flags = {column: "yes" if column in on else "no" for column in FLAGS}
        return {"case_reference": ref, "local_authority_code": "E07000241",
                "referral_date": day, "duty_to_refer": duty, "referring_public_body": body,
                "referring_public_body_name": name, **flags}

    return [
        row(refs["q2_first"], "2026-07-01", "yes", "probation",
            "Probation service (National Probation Service / CRC)",
            {"support_need_history_of_mental_health_problems",
             "support_need_care_leaver_21_24"}),
        row(refs["q2_last"], "2026-09-30", "yes", "jobcentre_plus", "Jobcentre Plus",
            {"support_need_former_asylum_seeker", "support_need_young_person_16_17"}),
    ]


def _csv(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def _exports() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "reports.hclic_exported").order_by(AuditEvent.occurred_at)))


# --- The CLI ------------------------------------------------------------------------------------

def test_cli_writes_the_quarter_of_the_authority_to_a_file(cli, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "q2.csv"
    result = cli("reports", "hclic", "--quarter", "2026-Q2", "--authority", "e07000241",
                 "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "E07000241, 2026-27 Q2 (1 July 2026 to 30 September 2026): 2 referrals" in \
        result.output
    assert _csv(out.read_text()) == _expected_q2(world.refs)
    assert [p.name for p in tmp_path.iterdir()] == ["q2.csv"]  # no temporary file left
    (event,) = _exports()
    assert event.actor_label == "system:cli"
    assert event.details == {"authority": "E07000241", "quarter": "2026-Q2", "rows": 2,
                             "channel": "cli"}


@pytest.mark.parametrize(("quarter", "expected"), [
    ("2026-Q1", ["q1_last"]), ("2026-Q3", ["q3_first"]), ("2025-Q4", [])])
def test_the_quarter_boundaries_are_london_midnights(cli, world, quarter: str,  # type: ignore[no-untyped-def]
                                                     expected: list[str]) -> None:
    result = cli("reports", "hclic", "--quarter", quarter, "--authority", "E07000241")
    assert result.exit_code == 0, result.output
    assert [row["case_reference"] for row in _csv(result.stdout)] == \
        [world.refs[name] for name in expected]


def test_cli_json_gives_the_rows_and_what_they_cover(cli, world) -> None:  # type: ignore[no-untyped-def]
    result = cli("reports", "hclic", "--quarter", "2026-Q2", "--authority", "E07000241",
                 "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {k: v for k, v in document.items() if k != "referrals"} == {
        "quarter": "2026-Q2", "financial_year": "2026-27", "starts_on": "2026-07-01",
        "ends_on": "2026-09-30", "authority": "E07000241", "rows": 2,
        "columns": list(COLUMNS), "output": None}
    as_text = [{k: ("yes" if v is True else "no" if v is False else v) for k, v in row.items()}
               for row in document["referrals"]]
    assert as_text == _expected_q2(world.refs)


def test_cli_json_with_output_says_where_it_wrote(cli, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "q2.csv"
    result = cli("reports", "hclic", "--quarter", "2026-Q2", "--authority", "E07000241",
                 "--output", str(out), "--json")
    document = json.loads(result.stdout)
    assert document["output"] == str(out) and "referrals" not in document
    assert len(_csv(out.read_text())) == 2


@pytest.mark.parametrize(("args", "field"), [
    (("--quarter", "2026-Q5", "--authority", "E07000241"), "quarter"),
    (("--quarter", "Q2 2026", "--authority", "E07000241"), "quarter"),
    (("--quarter", "2026-Q2", "--authority", "E09999999"), "authority"),
    (("--quarter", "2026-Q2", "--authority", "E07000241\x00"), "authority"),
    (("--quarter", "2017-Q4", "--authority", "E07000241"), "quarter"),
])
def test_bad_input_is_refused_and_nothing_is_written(cli, world, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                     args: tuple[str, ...], field: str) -> None:
    out = tmp_path / "never.csv"
    result = cli("reports", "hclic", *args, "--output", str(out), "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert set(document) == {"error", "errors"} and field in document["errors"]
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert _exports() == []


def test_a_missing_folder_is_refused_before_anything_is_read(cli, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("reports", "hclic", "--quarter", "2026-Q2", "--authority", "E07000241",
                 "--output", str(tmp_path / "nowhere" / "q2.csv"))
    assert result.exit_code == 1
    assert "does not exist" in result.output
    assert _exports() == []


# --- The dashboard ------------------------------------------------------------------------------

def test_a_team_leader_downloads_their_own_authoritys_quarter(client, world) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.leader_a)
    response = client.get("/dashboard/hclic.csv?quarter=2026-Q2")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="hclic_duty_to_refer_E07000241_2026-Q2.csv"' in \
        response.headers["Content-Disposition"]
    assert _csv(response.get_data(as_text=True)) == _expected_q2(world.refs)
    (event,) = _exports()
    assert event.actor_user_id == world.leader_a.id
    assert event.details == {"authority": "E07000241", "quarter": "2026-Q2", "rows": 2,
                             "channel": "web"}


def test_a_team_leader_cannot_have_another_authoritys_extract(client, world) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.leader_a)
    assert client.get("/dashboard/hclic.csv?quarter=2026-Q2&authority=E07000242"
                      ).status_code == 403
    assert _exports() == []


def test_an_administrator_names_the_authority(client, world) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.admin)
    without = client.get("/dashboard/hclic.csv?quarter=2026-Q2")
    assert without.status_code == 400
    assert "Choose the authority whose extract you want." in without.get_data(as_text=True)
    unknown = client.get("/dashboard/hclic.csv?quarter=2026-Q2&authority=E07999999")
    assert unknown.status_code == 400
    assert _exports() == []
    response = client.get("/dashboard/hclic.csv?quarter=2026-Q2&authority=E07000242")
    assert response.status_code == 200
    assert [row["case_reference"] for row in _csv(response.get_data(as_text=True))] == \
        [world.refs["b_q2"]]


@pytest.mark.parametrize("quarter", ["", "2026-Q9", "2026%20Q2", "x" * 300])
def test_a_bad_quarter_on_the_dashboard_is_a_clear_400(client, world, quarter: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.leader_a)
    response = client.get(f"/dashboard/hclic.csv?quarter={quarter}")
    assert response.status_code == 400
    assert "like 2026-Q3 (October to December 2026)" in response.get_data(as_text=True)
    assert _exports() == []


def test_a_nul_byte_in_the_quarter_is_refused_before_the_database(client, world) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.leader_a)
    assert client.get("/dashboard/hclic.csv?quarter=2026-Q2%00").status_code == 400
    assert _exports() == []


def test_officers_and_strangers_are_refused(client, world) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/dashboard/hclic.csv?quarter=2026-Q2").status_code == 302
    sign_in(client, world.officer_a)
    assert client.get("/dashboard/hclic.csv?quarter=2026-Q2").status_code == 403
    assert _exports() == []


def test_the_dashboard_offers_the_download(client, world) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.leader_a)
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'action="/dashboard/hclic.csv"' in page
    assert "Download the H-CLIC extract (CSV)" in page
    assert 'id="hclic-authority"' not in page  # a team leader's is their own authority
