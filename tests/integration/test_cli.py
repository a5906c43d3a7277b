"""The ``referrals`` admin commands (API.md §6), run through the real click group.

Each command runs inside the test's own transaction (the ``db_session`` fixture), so what it
commits is seen here and rolled back afterwards. Every refusal is checked three ways: a clear
message, a non-zero exit, and no row added or changed anywhere (audit events included).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import func, select

from referral_service import clock
from referral_service.domain import admin, casework
from referral_service.models import (
    AuditEvent,
    Authority,
    OfficerAbsence,
    Organisation,
    Referral,
    ReferralStatus,
    User,
)
from tests import factories as f

TABLES = (Authority, Organisation, User, OfficerAbsence, Referral, AuditEvent)
PASSWORD = "correct-horse-battery"  # 21 characters


Cli = Callable[..., Result]




def counts(session: Any) -> dict[str, int]:
    session.expire_all()
    return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in TABLES}


def ok(cli: Cli, *args: str) -> Result:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result


def ok_json(cli: Cli, *args: str) -> dict[str, Any]:
    return json.loads(ok(cli, *args, "--json").stdout)


def refused(cli: Cli, session: Any, *args: str, exit_code: int = 1) -> Result:
    """Run a command that must be refused; assert nothing at all changed in the database."""
    # What the test set up is committed first, as it would be before a real command ran: a
    # refusal rolls the command's session back, and must not take the test's setup with it.
    session.commit()
    before = counts(session)
    result = cli(*args)
    assert result.exit_code == exit_code, result.output
    assert counts(session) == before
    return result


def refused_json(cli: Cli, session: Any, *args: str) -> dict[str, Any]:
    result = refused(cli, session, *args, "--json")
    document = json.loads(result.stdout)
    assert set(document) == {"error", "errors"}
    assert document["error"]
    return document


def audit_events(session: Any, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def one(session: Any, model: Any, **where: Any) -> Any:
    rows = session.scalars(select(model).filter_by(**where)).all()
    assert len(rows) == 1, rows
    return rows[0]


# --- authority add ---------------------------------------------------------------------------

WELHAT = ("--code", "E07000241", "--name", "Welwyn Hatfield", "--team-phone", "01632 960100",
          "--team-email", "housing.options@welhat.example")


def test_authority_add_prints_a_sentence_and_audits(cli: Cli, db_session: Any) -> None:
    result = ok(cli, "authority", "add", *WELHAT)
    assert result.output.strip() == "Added authority E07000241 Welwyn Hatfield."
    authority = one(db_session, Authority, code="E07000241")
    assert authority.name == "Welwyn Hatfield"
    assert authority.team_phone == "+441632960100"
    assert authority.team_email == "housing.options@welhat.example"
    assert authority.participating is True
    assert authority.contact_working_days == 2
    [event] = audit_events(db_session, "authority.created")
    assert event.actor_label == "system:cli"
    assert event.actor_type.value == "system"
    assert event.subject_type == "authority"
    assert event.subject_id == str(authority.id)


def test_authority_set_release_days_json(cli: Cli, db_session: Any) -> None:
    ok_json(cli, "authority", "add", "--code", "E07000242", "--name", "East Hertfordshire")
    document = ok_json(cli, "authority", "set-release-days", "--code", "e07000242",
                       "--days", "8")
    assert document["release_days_before"] == 8 and document["changed"] is True
    again = ok_json(cli, "authority", "set-release-days", "--code", "E07000242", "--days", "8")
    assert again["changed"] is False
    assert one(db_session, Authority, code="E07000242").release_days_before == 8
    [event] = audit_events(db_session, "authority.release_days_before_changed")
    assert event.details["release_days_before"] == {"from": 5, "to": 8}


def test_authority_set_release_days_refuses_unknown_code_and_range(cli: Cli,
                                                                   db_session: Any) -> None:
    unknown = refused_json(cli, db_session, "authority", "set-release-days",
                           "--code", "E07000999", "--days", "3")
    assert "No authority has the code" in unknown["error"]
    out_of_range = refused(cli, db_session, "authority", "set-release-days",
                           "--code", "E07000999", "--days", "21", exit_code=2)
    assert "0<=x<=20" in out_of_range.output


def test_authority_team_email_sets_the_mailbox_and_refuses_a_bad_address(
        cli: Cli, db_session: Any) -> None:
    ok_json(cli, "authority", "add", "--code", "E07000242", "--name", "East Hertfordshire")
    document = ok_json(cli, "authority", "team-email", "e07000242", "Housing@EastHerts.example")
    assert document["changed"] is True
    assert one(db_session, Authority, code="E07000242").team_email == document["team_email"]
    assert ok_json(cli, "authority", "team-email", "E07000242",
                   document["team_email"])["changed"] is False
    assert len(audit_events(db_session, "authority.team_email_changed")) == 1
    bad = refused_json(cli, db_session, "authority", "team-email", "E07000242", "housing at x")
    assert "team_email" in bad["errors"]
    unknown = refused_json(cli, db_session, "authority", "team-email", "E07000999", "a@b.example")
    assert "No authority has the code" in unknown["error"]


def test_authority_add_json(cli: Cli, db_session: Any) -> None:
    document = ok_json(cli, "authority", "add", "--code", "e07000242",
                       "--name", " East Hertfordshire ", "--contact-working-days", "5")
    authority = one(db_session, Authority, code="E07000242")
    assert document == {
        "id": str(authority.id), "code": "E07000242", "name": "East Hertfordshire",
        "team_phone": None, "team_email": None, "participating": True,
        "contact_working_days": 5, "release_days_before": 5, "created": True,
    }


def test_authority_add_not_participating(cli: Cli, db_session: Any) -> None:
    document = ok_json(cli, "authority", "add", "--code", "E07000243", "--name", "Stevenage",
                       "--not-participating")
    assert document["participating"] is False
    assert one(db_session, Authority, code="E07000243").participating is False


def test_authority_add_twice_is_a_no_op(cli: Cli, db_session: Any) -> None:
    ok(cli, "authority", "add", *WELHAT)
    before = counts(db_session)
    again = ok(cli, "authority", "add", *WELHAT)
    assert again.output.strip() == ("Already set up, unchanged: authority E07000241 "
                                    "Welwyn Hatfield.")
    document = ok_json(cli, "authority", "add", *WELHAT)
    assert document["created"] is False
    assert document["code"] == "E07000241"
    assert counts(db_session) == before
    assert before["authorities"] == 1
    assert len(audit_events(db_session, "authority.created")) == 1


@pytest.mark.parametrize(("change", "field"), [
    (("--name", "Welwyn"), "name"),
    (("--team-phone", "01632 960999"), "team_phone"),
    (("--contact-working-days", "3"), "contact_working_days"),
])
def test_authority_re_add_with_different_details_is_refused(
        cli: Cli, db_session: Any, change: tuple[str, str], field: str) -> None:
    ok(cli, "authority", "add", *WELHAT)
    args = list(WELHAT)
    if change[0] in args:
        args[args.index(change[0]) + 1] = change[1]
    else:
        args += change
    result = refused(cli, db_session, "authority", "add", *args)
    assert "An authority with code E07000241 already exists with a different" in result.output
    assert field in result.output
    assert "Nothing was changed." in result.output
    document = refused_json(cli, db_session, "authority", "add", *args)
    assert field in document["error"]
    authority = one(db_session, Authority, code="E07000241")
    assert (authority.name, authority.team_phone, authority.contact_working_days) == (
        "Welwyn Hatfield", "+441632960100", 2)


BAD_AUTHORITIES = [
    pytest.param(("--code", "X123", "--name", "Nowhere"), "code", "GSS code for England",
                 id="not-a-gss-code"),
    pytest.param(("--code", "W06000015", "--name", "Cardiff"), "code", "GSS code for England",
                 id="welsh-code"),
    pytest.param(("--code", "S12000036", "--name", "Edinburgh"), "code", "GSS code for England",
                 id="scottish-code"),
    pytest.param(("--code", "E10000015", "--name", "Hertfordshire"), "code",
                 "GSS code for England", id="county-council-is-not-a-housing-authority"),
    pytest.param(("--code", "E07000241", "--name", "  "), "name", "authority's name",
                 id="blank-name"),
    pytest.param(("--code", "E07000241", "--name", "W" * 201), "name", "at most 200 characters",
                 id="name-too-long"),
    pytest.param(("--code", "E07000241", "--name", "Welwyn Hatfield", "--team-phone", "12345"),
                 "team_phone", "UK phone number", id="bad-phone"),
    pytest.param(("--code", "E07000241", "--name", "Welwyn Hatfield", "--team-phone",
                  "+33 1 23 45 67 89"), "team_phone", "UK phone number", id="foreign-phone"),
    pytest.param(("--code", "E07000241", "--name", "Welwyn Hatfield", "--team-email",
                  "housing at welhat"), "team_email", "email address", id="bad-email"),
]


@pytest.mark.parametrize(("args", "field", "message"), BAD_AUTHORITIES)
def test_authority_add_refuses_bad_input(cli: Cli, db_session: Any, args: tuple[str, ...],
                                         field: str, message: str) -> None:
    result = refused(cli, db_session, "authority", "add", *args)
    assert f"{field}: " in result.output
    assert message in result.output
    document = refused_json(cli, db_session, "authority", "add", *args)
    assert document["error"] == "Check the highlighted fields."
    assert list(document["errors"]) == [field]
    assert message in " ".join(document["errors"][field])


@pytest.mark.parametrize("days", ["21", "-1"])
def test_authority_add_refuses_working_days_out_of_range(cli: Cli, db_session: Any,
                                                         days: str) -> None:
    # Checked by click before the command runs: a usage error (exit 2) naming the option.
    for extra in ((), ("--json",)):
        result = refused(cli, db_session, "authority", "add", *WELHAT,
                         "--contact-working-days", days, *extra, exit_code=2)
        assert "--contact-working-days" in result.output
        assert "0<=x<=20" in result.output


def test_authority_add_refuses_several_mistakes_at_once(cli: Cli, db_session: Any) -> None:
    document = refused_json(cli, db_session, "authority", "add", "--code", "W06000015",
                            "--name", "Cardiff", "--team-phone", "12", "--team-email", "x")
    assert set(document["errors"]) == {"code", "team_phone", "team_email"}


# --- authority list --------------------------------------------------------------------------

def test_authority_list_when_empty(cli: Cli, db_session: Any) -> None:
    assert ok(cli, "authority", "list").output.strip() == "No authorities yet."
    assert ok_json(cli, "authority", "list") == {"items": []}


def test_authority_list(cli: Cli, db_session: Any) -> None:
    ok(cli, "authority", "add", *WELHAT)
    ok(cli, "authority", "add", "--code", "E07000242", "--name", "East Hertfordshire")
    ok(cli, "authority", "add", "--code", "E07000243", "--name", "Stevenage",
       "--not-participating")
    before = counts(db_session)
    assert ok(cli, "authority", "list").output.splitlines() == [
        "E07000242  East Hertfordshire",
        "E07000243  Stevenage  (not participating)",
        "E07000241  Welwyn Hatfield",
    ]
    items = ok_json(cli, "authority", "list")["items"]
    assert [item["code"] for item in items] == ["E07000242", "E07000243", "E07000241"]
    welhat = items[2]
    assert welhat == {"id": str(one(db_session, Authority, code="E07000241").id),
                      "code": "E07000241", "name": "Welwyn Hatfield",
                      "team_phone": "+441632960100",
                      "team_email": "housing.options@welhat.example",
                      "participating": True, "contact_working_days": 2,
                      "release_days_before": 5}
    assert [item["participating"] for item in items] == [True, False, True]
    assert counts(db_session) == before


# --- org add ---------------------------------------------------------------------------------

def test_org_add_prints_a_sentence_and_audits(cli: Cli, db_session: Any) -> None:
    result = ok(cli, "org", "add", "--name", "Probation Service – Kent", "--type", "probation")
    assert result.output.strip() == "Added organisation Probation Service – Kent (probation)."
    organisation = one(db_session, Organisation, name="Probation Service – Kent")
    assert organisation.type.value == "probation"
    assert organisation.ods_code is None
    [event] = audit_events(db_session, "organisation.created")
    assert event.actor_label == "system:cli"
    assert event.subject_type == "organisation"
    assert event.subject_id == str(organisation.id)
    assert event.details == {"type": "probation"}


def test_org_add_json(cli: Cli, db_session: Any) -> None:
    document = ok_json(cli, "org", "add", "--name", "Lister Hospital ED",
                       "--type", "hospital_emergency_department", "--ods-code", "rwh")
    organisation = one(db_session, Organisation, name="Lister Hospital ED")
    assert document == {"id": str(organisation.id), "name": "Lister Hospital ED",
                        "type": "hospital_emergency_department", "ods_code": "RWH",
                        "created": True}


@pytest.mark.parametrize("org_type", ["marac", "mappa", "voluntary_sector", "armed_forces"])
def test_org_add_accepts_each_kind(cli: Cli, db_session: Any, org_type: str) -> None:
    assert ok_json(cli, "org", "add", "--name", f"Herts {org_type}",
                   "--type", org_type)["type"] == org_type


def test_org_add_twice_is_a_no_op(cli: Cli, db_session: Any) -> None:
    ok(cli, "org", "add", "--name", "Hertfordshire MARAC", "--type", "marac")
    before = counts(db_session)
    again = ok(cli, "org", "add", "--name", "Hertfordshire MARAC", "--type", "marac")
    assert again.output.strip() == ("Already set up, unchanged: organisation "
                                    "Hertfordshire MARAC (marac).")
    # The name is matched without regard to case.
    document = ok_json(cli, "org", "add", "--name", "hertfordshire marac", "--type", "marac")
    assert document["created"] is False
    assert document["name"] == "Hertfordshire MARAC"
    assert counts(db_session) == before
    assert before["organisations"] == 1
    assert len(audit_events(db_session, "organisation.created")) == 1


@pytest.mark.parametrize(("change", "field"), [
    (("--type", "mappa"), "type"),
    (("--ods-code", "RWH"), "ods_code"),
])
def test_org_re_add_with_different_details_is_refused(
        cli: Cli, db_session: Any, change: tuple[str, str], field: str) -> None:
    ok(cli, "org", "add", "--name", "Hertfordshire MARAC", "--type", "marac")
    args = ["--name", "Hertfordshire MARAC", "--type", "marac"]
    if change[0] in args:
        args[args.index(change[0]) + 1] = change[1]
    else:
        args += change
    result = refused(cli, db_session, "org", "add", *args)
    assert ("An organisation called 'Hertfordshire MARAC' already exists with a different "
            f"{field}.") in result.output
    assert "Nothing was changed." in result.output
    assert field in refused_json(cli, db_session, "org", "add", *args)["error"]
    organisation = one(db_session, Organisation, name="Hertfordshire MARAC")
    assert (organisation.type.value, organisation.ods_code) == ("marac", None)


BAD_ORGS = [
    pytest.param(("--name", "Kent Food Bank", "--type", "charity"), "type", "Choose one of:",
                 id="unknown-type"),
    pytest.param(("--name", "Kent Food Bank", "--type", "MARAC"), "type", "Choose one of:",
                 id="type-wrong-case"),
    pytest.param(("--name", " ", "--type", "probation"), "name", "organisation's name",
                 id="blank-name"),
    pytest.param(("--name", "L" * 201, "--type", "probation"), "name", "at most 200 characters",
                 id="name-too-long"),
    pytest.param(("--name", "Lister", "--type", "hospital_inpatient", "--ods-code", "R-W"),
                 "ods_code", "ODS code", id="ods-punctuation"),
    pytest.param(("--name", "Lister", "--type", "hospital_inpatient", "--ods-code", "RW"),
                 "ods_code", "ODS code", id="ods-too-short"),
    pytest.param(("--name", "Lister", "--type", "hospital_inpatient", "--ods-code",
                  "ABCDEFGHIJK"), "ods_code", "ODS code", id="ods-too-long"),
]


@pytest.mark.parametrize(("args", "field", "message"), BAD_ORGS)
def test_org_add_refuses_bad_input(cli: Cli, db_session: Any, args: tuple[str, ...],
                                   field: str, message: str) -> None:
    result = refused(cli, db_session, "org", "add", *args)
    assert f"{field}: " in result.output
    assert message in result.output
    document = refused_json(cli, db_session, "org", "add", *args)
    assert list(document["errors"]) == [field]
    assert message in " ".join(document["errors"][field])


def test_org_add_unknown_type_lists_the_choices(cli: Cli, db_session: Any) -> None:
    document = refused_json(cli, db_session, "org", "add", "--name", "X", "--type", "charity")
    [message] = document["errors"]["type"]
    for choice in ("prison", "probation", "jobcentre", "marac", "mappa", "voluntary_sector"):
        assert choice in message


# --- org list --------------------------------------------------------------------------------

def test_org_list_when_empty(cli: Cli, db_session: Any) -> None:
    assert ok(cli, "org", "list").output.strip() == "No organisations yet."
    assert ok_json(cli, "org", "list") == {"items": []}


def test_org_list(cli: Cli, db_session: Any) -> None:
    ok(cli, "org", "add", "--name", "Probation Service – Kent", "--type", "probation")
    ok(cli, "org", "add", "--name", "Hertfordshire MARAC", "--type", "marac")
    ok(cli, "org", "add", "--name", "Lister Hospital ED",
       "--type", "hospital_emergency_department", "--ods-code", "RWH")
    before = counts(db_session)
    assert ok(cli, "org", "list").output.splitlines() == [
        "Hertfordshire MARAC  (marac)",
        "Lister Hospital ED  (hospital_emergency_department)",
        "Probation Service – Kent  (probation)",
    ]
    items = ok_json(cli, "org", "list")["items"]
    assert [(i["name"], i["type"], i["ods_code"]) for i in items] == [
        ("Hertfordshire MARAC", "marac", None),
        ("Lister Hospital ED", "hospital_emergency_department", "RWH"),
        ("Probation Service – Kent", "probation", None),
    ]
    assert items[0]["id"] == str(one(db_session, Organisation, name="Hertfordshire MARAC").id)
    assert counts(db_session) == before


# --- user add --------------------------------------------------------------------------------

@pytest.fixture
def homes(db_session: Any) -> dict[str, Any]:
    """An authority, a referring organisation and a MARAC panel, committed."""
    made = {"authority": f.authority(), "probation": f.organisation(),
            "marac": f.organisation(name="Hertfordshire MARAC", type="marac")}
    db_session.commit()
    return made


OFFICER = ("--email", "jo.smith@welhat.example", "--name", "Jo Smith", "--role", "officer",
           "--authority", "E07000241")


def test_user_add_officer_prints_a_sentence_and_audits(cli: Cli, db_session: Any,
                                                       homes: dict[str, Any]) -> None:
    result = ok(cli, "user", "add", *OFFICER, "--specialisms", "prison_release,offending_history",
                "--patches", "al8, al7", "--capacity", "20", "--password", PASSWORD)
    assert result.output.strip() == "Added officer jo.smith@welhat.example."
    assert PASSWORD not in result.output
    user = one(db_session, User, email="jo.smith@welhat.example")
    assert user.name == "Jo Smith"
    assert user.role.value == "officer"
    assert user.authority_id == homes["authority"].id
    assert user.organisation_id is None
    assert user.specialisms == ["offending_history", "prison_release"]
    assert user.patches == ["AL7", "AL8"]
    assert user.capacity == 20
    assert user.active is True
    [event] = audit_events(db_session, "user.created")
    assert event.actor_label == "system:cli"
    assert event.subject_type == "user"
    assert event.subject_id == str(user.id)
    assert event.details == {"role": "officer"}


def test_user_add_json(cli: Cli, db_session: Any, homes: dict[str, Any]) -> None:
    document = ok_json(cli, "user", "add", *OFFICER, "--specialisms", "domestic_abuse",
                       "--patches", "SG")
    user = one(db_session, User, email="jo.smith@welhat.example")
    assert document == {
        "id": str(user.id), "email": "jo.smith@welhat.example", "name": "Jo Smith",
        "role": "officer", "authority": "E07000241", "organisation": None,
        "specialisms": ["domestic_abuse"], "patches": ["SG"],
        "capacity": admin.DEFAULT_OFFICER_CAPACITY, "active": True,
        "can_sign_in_with_password": False, "created": True,
    }
    assert user.password_hash is None


@pytest.mark.parametrize(("role", "home", "authority", "organisation"), [
    ("team_leader", ("--authority", "e07000241"), "E07000241", None),
    ("partner", ("--org", "probation service – kent"), None, "Probation Service – Kent"),
    ("panel_lead", ("--org", "Hertfordshire MARAC"), None, "Hertfordshire MARAC"),
    ("admin", (), None, None),
])
def test_user_add_each_role(cli: Cli, db_session: Any, homes: dict[str, Any], role: str,
                            home: tuple[str, ...], authority: str | None,
                            organisation: str | None) -> None:
    document = ok_json(cli, "user", "add", "--email", f"{role}@people.example",
                       "--name", "Someone", "--role", role, *home)
    assert (document["role"], document["authority"], document["organisation"]) == (
        role, authority, organisation)
    assert (document["specialisms"], document["patches"], document["capacity"]) == ([], [], None)
    assert len(audit_events(db_session, "user.created")) == 1


def test_user_password_is_stored_only_as_an_argon2_hash(cli: Cli, db_session: Any,
                                                        homes: dict[str, Any]) -> None:
    result = cli("user", "add", *OFFICER, "--password", PASSWORD, "--json")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    document = json.loads(result.stdout)
    assert document["can_sign_in_with_password"] is True
    assert "password_hash" not in document
    user = one(db_session, User, email="jo.smith@welhat.example")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert admin.verify_password(user, PASSWORD)
    assert not admin.verify_password(user, PASSWORD + "x")
    for event in db_session.scalars(select(AuditEvent)):
        assert PASSWORD not in json.dumps(event.details)
        assert "$argon2" not in json.dumps(event.details)


def test_user_password_of_exactly_twelve_characters_is_accepted(
        cli: Cli, db_session: Any, homes: dict[str, Any]) -> None:
    assert ok_json(cli, "user", "add", *OFFICER, "--password", "x" * 12)[
        "can_sign_in_with_password"] is True


def test_user_add_twice_is_a_no_op(cli: Cli, db_session: Any, homes: dict[str, Any]) -> None:
    args = (*OFFICER, "--specialisms", "mental_health", "--capacity", "20",
            "--password", PASSWORD)
    ok(cli, "user", "add", *args)
    stored_hash = one(db_session, User, email="jo.smith@welhat.example").password_hash
    before = counts(db_session)
    again = ok(cli, "user", "add", *args)
    assert again.output.strip() == "Already set up, unchanged: officer jo.smith@welhat.example."
    document = ok_json(cli, "user", "add", *args)
    assert document["created"] is False
    assert document["email"] == "jo.smith@welhat.example"
    assert counts(db_session) == before
    assert before["users"] == 1
    assert len(audit_events(db_session, "user.created")) == 1
    # The password is not hashed afresh (nor changed) by a repeat.
    assert one(db_session, User, email="jo.smith@welhat.example").password_hash == stored_hash


def test_user_add_matches_the_email_without_regard_to_case(
        cli: Cli, db_session: Any, homes: dict[str, Any]) -> None:
    ok(cli, "user", "add", *OFFICER)
    args = list(OFFICER)
    args[1] = "Jo.Smith@WELHAT.example"
    assert ok_json(cli, "user", "add", *args)["created"] is False
    assert counts(db_session)["users"] == 1


@pytest.mark.parametrize(("change", "field"), [
    (("--name", "Joanna Smith"), "name"),
    (("--role", "team_leader"), "role"),
    (("--capacity", "10"), "capacity"),
    (("--specialisms", "care_leaver"), "specialisms"),
])
def test_user_re_add_with_different_details_is_refused(
        cli: Cli, db_session: Any, homes: dict[str, Any], change: tuple[str, str],
        field: str) -> None:
    ok(cli, "user", "add", *OFFICER)
    args = list(OFFICER)
    if change[0] in args:
        args[args.index(change[0]) + 1] = change[1]
    else:
        args += change
    result = refused(cli, db_session, "user", "add", *args)
    assert ("A user with email jo.smith@welhat.example already exists with a different"
            in result.output)
    assert field in result.output
    assert "Nothing was changed." in result.output
    assert field in refused_json(cli, db_session, "user", "add", *args)["error"]
    user = one(db_session, User, email="jo.smith@welhat.example")
    assert (user.name, user.role.value, user.capacity, user.specialisms) == (
        "Jo Smith", "officer", 25, [])


def test_user_re_add_in_another_authority_is_refused(cli: Cli, db_session: Any,
                                                     homes: dict[str, Any]) -> None:
    f.authority(code="E07000242", name="East Hertfordshire")
    ok(cli, "user", "add", *OFFICER)
    args = list(OFFICER)
    args[-1] = "E07000242"
    result = refused(cli, db_session, "user", "add", *args)
    assert "different authority_id" in result.output
    assert one(db_session, User, email="jo.smith@welhat.example").authority_id == homes[
        "authority"].id


def user(email: str, role: str, *rest: str) -> tuple[str, ...]:
    return ("--email", email, "--name", "Someone", "--role", role, *rest)


BAD_USERS = [
    pytest.param(user("not-an-email", "admin"), "email", "email address", id="bad-email"),
    pytest.param(("--email", "a@b.example", "--name", " ", "--role", "admin"), "name",
                 "person's name", id="blank-name"),
    pytest.param(("--email", "a@b.example", "--name", "N" * 201, "--role", "admin"), "name",
                 "at most 200 characters", id="name-too-long"),
    pytest.param(user("a" * 250 + "@x.example", "admin"), "email", "email address",
                 id="email-too-long"),
    pytest.param(user("o@x.example", "officer"), "authority", "give --authority",
                 id="officer-without-authority"),
    pytest.param(user("t@x.example", "team_leader"), "authority", "give --authority",
                 id="team-leader-without-authority"),
    pytest.param(user("p@x.example", "partner"), "org", "give --org",
                 id="partner-without-org"),
    pytest.param(user("l@x.example", "panel_lead"), "org", "give --org",
                 id="panel-lead-without-org"),
    pytest.param(user("o@x.example", "officer", "--authority", "E07000241",
                      "--org", "Probation Service – Kent"), "authority", "not both",
                 id="officer-with-both"),
    pytest.param(user("p@x.example", "partner", "--authority", "E07000241",
                      "--org", "Probation Service – Kent"), "authority", "not both",
                 id="partner-with-both"),
    pytest.param(user("o@x.example", "officer", "--org", "Probation Service – Kent"), "org",
                 "not an organisation", id="officer-in-an-org"),
    pytest.param(user("p@x.example", "partner", "--authority", "E07000241"), "authority",
                 "belong to an organisation", id="partner-in-an-authority"),
    pytest.param(user("l@x.example", "panel_lead", "--org", "Probation Service – Kent"), "org",
                 "MARAC or MAPPA", id="panel-lead-in-a-referring-org"),
    pytest.param(user("p@x.example", "partner", "--org", "Hertfordshire MARAC"), "org",
                 "not a panel", id="partner-in-a-panel"),
    pytest.param(user("o@x.example", "officer", "--authority", "E07000241",
                      "--specialisms", "mental_health,juggling"), "specialisms",
                 "Not a recognised specialism: juggling.", id="unknown-specialism"),
    pytest.param(user("o@x.example", "officer", "--authority", "E07000241",
                      "--patches", "AL8,123"), "patches",
                 "Not a postcode area or district: 123.", id="bad-patch"),
    pytest.param(user("o@x.example", "officer", "--authority", "E07000241",
                      "--patches", "AL8 6AB"), "patches", "6AB", id="full-postcode-as-patch"),
    pytest.param(user("t@x.example", "team_leader", "--authority", "E07000241",
                      "--capacity", "10"), "role", "for officers only",
                 id="capacity-for-a-team-leader"),
    pytest.param(user("p@x.example", "partner", "--org", "Probation Service – Kent",
                      "--specialisms", "mental_health"), "role", "for officers only",
                 id="specialisms-for-a-partner"),
    pytest.param(user("a@x.example", "admin", "--patches", "AL8"), "role", "for officers only",
                 id="patches-for-an-admin"),
    pytest.param(user("o@x.example", "officer", "--authority", "E07000241",
                      "--capacity", "-1"), "capacity", "from 0 to 500",
                 id="negative-capacity"),
    pytest.param(user("o@x.example", "officer", "--authority", "E07000241",
                      "--capacity", "501"), "capacity", "from 0 to 500", id="huge-capacity"),
    pytest.param(user("a@x.example", "admin", "--password", "x" * 11), "password",
                 "at least 12 characters", id="password-too-short"),
    pytest.param(user("o@x.example", "officer", "--authority", "E07000999"), "authority",
                 "No authority has the code 'E07000999'", id="unknown-authority"),
    pytest.param(user("p@x.example", "partner", "--org", "Kent Food Bank"), "org",
                 "No organisation is called 'Kent Food Bank'", id="unknown-org"),
]


@pytest.mark.parametrize(("args", "field", "message"), BAD_USERS)
def test_user_add_refuses_bad_input(cli: Cli, db_session: Any, homes: dict[str, Any],
                                    args: tuple[str, ...], field: str, message: str) -> None:
    result = refused(cli, db_session, "user", "add", *args)
    assert f"{field}: " in result.output
    assert message in result.output
    document = refused_json(cli, db_session, "user", "add", *args)
    assert document["error"] == "Check the highlighted fields."
    assert field in document["errors"]
    assert message in " ".join(document["errors"][field])


def test_user_add_refused_password_is_never_echoed(cli: Cli, db_session: Any,
                                                   homes: dict[str, Any]) -> None:
    secret = "short-pass"
    result = refused(cli, db_session, "user", "add", *user("a@x.example", "admin"),
                     "--password", secret)
    assert secret not in result.output


def test_user_add_refuses_an_unknown_role(cli: Cli, db_session: Any,
                                          homes: dict[str, Any]) -> None:
    # Checked by click before the command runs: a usage error (exit 2) listing the roles.
    for extra in ((), ("--json",)):
        result = refused(cli, db_session, "user", "add",
                         *user("x@x.example", "superuser", "--authority", "E07000241"), *extra,
                         exit_code=2)
        assert "--role" in result.output
        assert "superuser" in result.output
        for role in ("officer", "team_leader", "partner", "panel_lead", "admin"):
            assert role in result.output


def test_user_add_refuses_several_mistakes_at_once(cli: Cli, db_session: Any,
                                                   homes: dict[str, Any]) -> None:
    document = refused_json(cli, db_session, "user", "add",
                            *user("nope", "officer", "--specialisms", "juggling",
                                  "--password", "short"))
    assert {"email", "authority", "specialisms", "password"} <= set(document["errors"])


# --- user list -------------------------------------------------------------------------------

def test_user_list_when_empty(cli: Cli, db_session: Any) -> None:
    assert ok(cli, "user", "list").output.strip() == "No users yet."
    assert ok_json(cli, "user", "list") == {"items": []}


def test_user_list(cli: Cli, db_session: Any, homes: dict[str, Any]) -> None:
    f.authority(code="E07000242", name="East Hertfordshire")
    ok(cli, "user", "add", *OFFICER, "--password", PASSWORD, "--specialisms", "mental_health")
    ok(cli, "user", "add", *user("dana@eastherts.example", "officer", "--authority",
                                 "E07000242"))
    ok(cli, "user", "add", *user("morgan@welhat.example", "team_leader", "--authority",
                                 "E07000241"))
    ok(cli, "user", "add", *user("sam@probation.example", "partner", "--org",
                                 "Probation Service – Kent"))
    before = counts(db_session)

    lines = ok(cli, "user", "list").output.splitlines()
    assert sorted(lines) == sorted([
        "officer      dana@eastherts.example",
        "officer      jo.smith@welhat.example",
        "team_leader  morgan@welhat.example",
        "partner      sam@probation.example",
    ])
    items = ok_json(cli, "user", "list")["items"]
    assert {item["email"] for item in items} == {
        "dana@eastherts.example", "jo.smith@welhat.example", "morgan@welhat.example",
        "sam@probation.example"}
    jo = next(item for item in items if item["email"] == "jo.smith@welhat.example")
    assert jo == {"id": str(one(db_session, User, email="jo.smith@welhat.example").id),
                  "email": "jo.smith@welhat.example", "name": "Jo Smith", "role": "officer",
                  "authority": "E07000241", "organisation": None,
                  "specialisms": ["mental_health"], "patches": [], "capacity": 25,
                  "active": True, "can_sign_in_with_password": True}
    for item in items:
        assert not any("argon2" in str(value) for value in item.values())

    welhat = ok_json(cli, "user", "list", "--authority", "e07000241")["items"]
    assert {item["email"] for item in welhat} == {"jo.smith@welhat.example",
                                                  "morgan@welhat.example"}
    assert ok(cli, "user", "list", "--authority", "E07000242").output.splitlines() == [
        "officer      dana@eastherts.example"]
    assert ok(cli, "user", "list", "--authority", "E09000001").output.strip() == "No users yet."
    assert counts(db_session) == before


# --- user absent -----------------------------------------------------------------------------

def test_user_absent_records_an_absence(cli: Cli, db_session: Any,
                                        homes: dict[str, Any]) -> None:
    ok(cli, "user", "add", *OFFICER)
    result = ok(cli, "user", "absent", "--email", "Jo.Smith@welhat.example",
                "--from", "2026-12-01", "--to", "2026-12-05", "--reason", "annual leave")
    assert result.output.strip() == (
        "Recorded jo.smith@welhat.example absent 2026-12-01 to 2026-12-05.")
    jo = one(db_session, User, email="jo.smith@welhat.example")
    absence = one(db_session, OfficerAbsence, user_id=jo.id)
    assert (absence.starts_on.isoformat(), absence.ends_on.isoformat(), absence.reason) == (
        "2026-12-01", "2026-12-05", "annual leave")
    [event] = audit_events(db_session, "officer.absence_recorded")
    assert event.actor_label == "system:cli"
    assert event.subject_id == str(jo.id)


def test_user_absent_json(cli: Cli, db_session: Any, homes: dict[str, Any]) -> None:
    ok(cli, "user", "add", *OFFICER)
    document = ok_json(cli, "user", "absent", "--email", "jo.smith@welhat.example",
                       "--from", "2026-12-01", "--to", "2026-12-01")
    assert document == {"officer": "jo.smith@welhat.example", "starts_on": "2026-12-01",
                        "ends_on": "2026-12-01", "rerouted": [], "needs_reassignment": []}
    assert counts(db_session)["officer_absences"] == 1


def test_user_absent_reassign_reroutes_the_officers_referrals(
        cli: Cli, db_session: Any, homes: dict[str, Any]) -> None:
    first = f.officer(homes["authority"])
    second = f.officer(homes["authority"])
    referral = f.referral(homes["probation"])
    assert referral.status is ReferralStatus.ASSIGNED
    away = referral.named_officer
    stays = second if away is first else first
    db_session.commit()

    today = clock.now().date()
    document = ok_json(cli, "user", "absent", "--email", away.email,
                       "--from", today.isoformat(),
                       "--to", (today + timedelta(days=5)).isoformat(),
                       "--reason", "sickness", "--reassign")
    assert document["rerouted"] == [referral.reference]
    assert document["needs_reassignment"] == []
    db_session.expire_all()
    assert referral.named_officer_id == stays.id
    assert referral.status is ReferralStatus.ASSIGNED
    moves = [event for event in db_session.scalars(
        select(AuditEvent).where(AuditEvent.referral_id == referral.id))
        if event.actor_label == "system:cli"]
    assert moves, "the move is audited, by the CLI"
    assert len(audit_events(db_session, "officer.absence_recorded")) == 1


def test_user_absent_reassign_says_how_many_moved(cli: Cli, db_session: Any,
                                                  homes: dict[str, Any]) -> None:
    f.officer(homes["authority"])
    f.officer(homes["authority"])
    referral = f.referral(homes["probation"])
    away = referral.named_officer
    db_session.commit()
    today = clock.now().date().isoformat()
    result = ok(cli, "user", "absent", "--email", away.email, "--from", today, "--to", today,
                "--reassign")
    assert result.output.strip().endswith("; 1 open referrals routed again.")
    db_session.expire_all()
    assert referral.named_officer_id != away.id


def test_user_absent_without_reassign_leaves_the_caseload(cli: Cli, db_session: Any,
                                                          homes: dict[str, Any]) -> None:
    f.officer(homes["authority"])
    f.officer(homes["authority"])
    referral = f.referral(homes["probation"])
    away = referral.named_officer
    db_session.commit()
    today = clock.now().date().isoformat()
    document = ok_json(cli, "user", "absent", "--email", away.email, "--from", today,
                       "--to", today)
    assert document["rerouted"] == []
    db_session.expire_all()
    assert referral.named_officer_id == away.id


def test_user_absent_reassign_with_nobody_else_free(cli: Cli, db_session: Any,
                                                   homes: dict[str, Any]) -> None:
    """Assigned work goes back to the team queue; accepted work stays with the officer and is
    reported apart (not as routed again) for a team leader to move."""
    only = f.officer(homes["authority"])
    accepted = f.referral(homes["probation"])
    assigned = f.referral(homes["probation"])
    casework.accept(accepted, only)
    db_session.commit()
    today = clock.now().date().isoformat()
    args = ("user", "absent", "--email", only.email, "--from", today, "--to", today,
            "--reassign")
    document = ok_json(cli, *args)
    assert document["rerouted"] == [assigned.reference]
    assert document["needs_reassignment"] == [accepted.reference]
    db_session.expire_all()
    assert (assigned.status, assigned.named_officer_id) == (ReferralStatus.UNASSIGNED, None)
    assert (accepted.status, accepted.named_officer_id) == (ReferralStatus.ACCEPTED, only.id)
    [needed] = audit_events(db_session, "referral.reassignment_needed")
    assert needed.referral_id == accepted.id
    assert needed.actor_label == "system:cli"

    result = ok(cli, *args)
    assert result.output.strip().endswith(
        "; 0 open referrals routed again; 1 still with them, for a team leader to reassign.")


def test_user_absent_refuses_an_unknown_email(cli: Cli, db_session: Any,
                                              homes: dict[str, Any]) -> None:
    args = ("user", "absent", "--email", "nobody@welhat.example", "--from", "2026-12-01",
            "--to", "2026-12-05")
    result = refused(cli, db_session, *args)
    assert "No user has the email nobody@welhat.example." in result.output
    document = refused_json(cli, db_session, *args)
    assert document == {"error": "No user has the email nobody@welhat.example.", "errors": {}}


def test_user_absent_refuses_an_end_before_the_start(cli: Cli, db_session: Any,
                                                     homes: dict[str, Any]) -> None:
    ok(cli, "user", "add", *OFFICER)
    args = ("user", "absent", "--email", "jo.smith@welhat.example", "--from", "2026-12-05",
            "--to", "2026-12-01")
    result = refused(cli, db_session, *args)
    assert "ends_on: The last day must be on or after the first day." in result.output
    document = refused_json(cli, db_session, *args)
    assert document["errors"] == {"ends_on": ["The last day must be on or after the first day."]}


@pytest.mark.parametrize(("role", "home"), [
    ("team_leader", ("--authority", "E07000241")),
    ("partner", ("--org", "Probation Service – Kent")),
    ("admin", ()),
])
def test_user_absent_refuses_a_non_officer(cli: Cli, db_session: Any, homes: dict[str, Any],
                                           role: str, home: tuple[str, ...]) -> None:
    ok(cli, "user", "add", *user(f"{role}@x.example", role, *home))
    args = ("user", "absent", "--email", f"{role}@x.example", "--from", "2026-12-01",
            "--to", "2026-12-05")
    result = refused(cli, db_session, *args)
    assert "Absences are recorded for officers." in result.output
    document = refused_json(cli, db_session, *args)
    assert document["errors"] == {"officer": ["Absences are recorded for officers."]}


def test_user_absent_refuses_an_over_long_reason(cli: Cli, db_session: Any,
                                                 homes: dict[str, Any]) -> None:
    ok(cli, "user", "add", *OFFICER)
    args = ("user", "absent", "--email", "jo.smith@welhat.example", "--from", "2026-12-01",
            "--to", "2026-12-05", "--reason", "r" * 101)
    result = refused(cli, db_session, *args)
    assert "reason: Use at most 100 characters." in result.output
    assert refused_json(cli, db_session, *args)["errors"] == {
        "reason": ["Use at most 100 characters."]}
    assert ok_json(cli, *args[:-1], "r" * 100)["officer"] == "jo.smith@welhat.example"


def test_names_of_exactly_200_characters_are_accepted(cli: Cli, db_session: Any) -> None:
    long_name = "N" * 200
    assert ok_json(cli, "authority", "add", "--code", "E07000241", "--name", long_name)["name"] \
        == long_name
    assert ok_json(cli, "org", "add", "--name", long_name, "--type", "probation")["name"] \
        == long_name
    assert ok_json(cli, "user", "add", *user("a@x.example", "admin"), "--name", long_name)[
        "name"] == long_name


def test_user_absent_refuses_a_date_that_is_not_a_date(cli: Cli, db_session: Any,
                                                       homes: dict[str, Any]) -> None:
    ok(cli, "user", "add", *OFFICER)
    result = refused(cli, db_session, "user", "absent", "--email", "jo.smith@welhat.example",
                     "--from", "1 December", "--to", "2026-12-05", exit_code=2)
    assert "--from" in result.output
