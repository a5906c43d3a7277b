"""``referrals demo``, ``referrals db upgrade`` and ``referrals --help``, run as a newcomer would:
the installed console script in a subprocess, in an empty folder, with no DATABASE_URL.

These always use SQLite files of their own (the demo is SQLite by design), so they do not touch
the shared test database and run the same under ``TEST_DATABASE_URL``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral_service.models import (
    AuditEvent,
    Authority,
    Organisation,
    PossibleDuplicate,
    Referral,
    ReferralStatus,
    Role,
    User,
)

REFERRALS = Path(sys.executable).parent / "referrals"
TABLES = (Authority, Organisation, User, Referral, PossibleDuplicate, AuditEvent)


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The console script, with the test process's own settings taken out of its environment."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in {"DATABASE_URL", "TEST_DATABASE_URL", "FLASK_APP",
                                  "FLASK_RUN_FROM_CLI", "APP_ENV", "BROKER_URL"}}
    environment.update(env)
    return subprocess.run(  # noqa: S603  (our own console script, fixed arguments)
        [str(REFERRALS), *args], cwd=cwd, env=environment, capture_output=True, text=True,
        timeout=240, check=False)


@dataclass
class DemoRun:
    folder: Path
    database: Path
    result: subprocess.CompletedProcess[str]


def run_demo(folder: Path) -> DemoRun:
    database = folder / "demo.db"
    result = run("demo", "--no-serve", "--database", str(database), cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    return DemoRun(folder, database, result)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One demo run shared by the read-only checks below (it takes a few seconds)."""
    return run_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def session(demo: DemoRun) -> Iterator[Session]:
    engine = sa.create_engine(f"sqlite:///{demo.database}")
    try:
        with Session(engine) as opened:
            yield opened
    finally:
        engine.dispose()


def table_counts(database: Path) -> dict[str, int]:
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as opened:
            return {model.__tablename__: opened.scalar(select(func.count()).select_from(model))
                    for model in TABLES}
    finally:
        engine.dispose()


# --- referrals demo --------------------------------------------------------------------------

def test_demo_lists_sign_ins_and_statuses(demo: DemoRun) -> None:
    output = demo.result.stdout
    assert f"Demo database ready: {demo.database.resolve()}" in output
    assert "Demo accounts (password for all: demo-password-2026;" in output
    for role, email in [("officer", "jo.smith@welhat.example"),
                        ("team_leader", "morgan.hughes@welhat.example"),
                        ("partner", "sam.patel@probation.example"),
                        ("panel_lead", "marac.lead@herts.example"),
                        ("admin", "admin@council.example")]:
        assert any(line.split() == [role, email] for line in output.splitlines()), (role, email)
    [statuses] = [line for line in output.splitlines()
                  if line.startswith("Referrals by status: ")]
    listed = dict(part.rsplit(" ", 1) for part in
                  statuses.removeprefix("Referrals by status: ").split(", "))
    assert set(listed) == {status.value for status in ReferralStatus} - {"received"}
    assert all(int(count) >= 1 for count in listed.values())
    # A working partner API client is printed, so the API can be tried straight away.
    [client_id] = [line.split()[1] for line in output.splitlines()
                   if line.strip().startswith("client_id:")]
    [secret] = [line.split()[1] for line in output.splitlines()
                if line.strip().startswith("client_secret:")]
    assert client_id.startswith("dtr_") and len(secret) >= 40
    # --no-serve stops after loading: nothing is served.
    assert "Open http://" not in output
    assert "Serving on" not in output


def test_demo_uses_the_database_it_was_given(demo: DemoRun) -> None:
    assert demo.database.is_file()
    # No DATABASE_URL: nothing else was made but the instance folder (the secret key) beside it.
    assert not (demo.folder / "instance" / "referrals.db").exists()


def test_demo_authorities(session: Session) -> None:
    authorities = session.scalars(select(Authority)).all()
    assert sum(a.participating for a in authorities) == 2
    assert sum(not a.participating for a in authorities) == 1
    for authority in authorities:
        if authority.participating:
            assert authority.team_phone and authority.team_email


def test_demo_organisations(session: Session) -> None:
    types = {o.type.value for o in session.scalars(select(Organisation))}
    assert len(types) >= 5
    assert {"marac", "mappa"} <= types


def test_demo_officers_differ(session: Session) -> None:
    officers = session.scalars(select(User).where(User.role == Role.OFFICER)).all()
    assert len({tuple(o.specialisms) for o in officers}) >= 3
    assert len({o.capacity for o in officers}) >= 3
    assert {o.authority.code for o in officers} == {"E07000241", "E07000242"}
    assert any(o.patches for o in officers)
    assert any(o.absences for o in officers), "someone is on leave"
    roles = {u.role for u in session.scalars(select(User))}
    assert roles == set(Role)


def test_demo_passwords_are_argon2_hashes(session: Session) -> None:
    for user in session.scalars(select(User)):
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
        assert "demo-password-2026" not in user.password_hash


def test_demo_referrals_cover_every_status_but_received(session: Session) -> None:
    statuses = {r.status for r in session.scalars(select(Referral))}
    # "received" is momentary: routing always moves a new referral on to assigned or unassigned.
    assert statuses == set(ReferralStatus) - {ReferralStatus.RECEIVED}


def test_demo_has_a_possible_duplicate(session: Session) -> None:
    links = session.scalars(select(PossibleDuplicate)).all()
    assert links
    link = links[0]
    assert link.referral.person_name_key == link.existing_referral.person_name_key
    assert link.referral.authority_id == link.existing_referral.authority_id


def test_demo_shows_a_transfer_linked_both_ways(session: Session) -> None:
    """One referral passed to a council on the service (a new referral there, with a named
    officer to see the earlier timeline) and one to a council that is not."""
    moved = session.scalars(select(Referral).where(
        Referral.status == ReferralStatus.TRANSFERRED)).all()
    made_there = [r.transferred_to for r in moved if r.transferred_to is not None]
    assert len(made_there) == 1 and len(moved) == 2
    (later,) = made_there
    assert later.transferred_from is not None and later.transferred_from.transferred_to is later
    assert later.authority.code == "E07000242" and later.named_officer_id is not None
    assert later.referring_organisation_id == later.transferred_from.referring_organisation_id


def test_demo_has_work_in_the_team_queue(session: Session) -> None:
    queued = session.scalars(select(Referral).where(
        Referral.status == ReferralStatus.UNASSIGNED)).all()
    assert queued
    assert all(r.named_officer_id is None for r in queued)


def test_demo_history_is_audited(session: Session) -> None:
    actions = {e.action for e in session.scalars(select(AuditEvent))}
    assert {"authority.created", "organisation.created", "user.created"} <= actions
    referrals = session.scalar(select(func.count()).select_from(Referral))
    with_history = session.scalar(select(func.count(func.distinct(AuditEvent.referral_id))))
    assert with_history == referrals


def test_demo_twice_starts_afresh(tmp_path: Path) -> None:
    first = run_demo(tmp_path)
    counts = table_counts(first.database)
    # Something left over from before must not survive the second run.
    engine = sa.create_engine(f"sqlite:///{first.database}")
    with engine.begin() as connection:
        connection.execute(sa.update(Authority).values(name="Left over"))
    engine.dispose()

    second = run_demo(tmp_path)
    assert table_counts(second.database) == counts
    engine = sa.create_engine(f"sqlite:///{second.database}")
    with Session(engine) as opened:
        assert "Left over" not in {a.name for a in opened.scalars(select(Authority))}
    engine.dispose()


# --- referrals db upgrade, referrals --help --------------------------------------------------

def test_db_upgrade_makes_the_schema(tmp_path: Path) -> None:
    database = tmp_path / "fresh.db"
    result = run("db", "upgrade", cwd=tmp_path, DATABASE_URL=f"sqlite:///{database}")
    assert result.returncode == 0, result.stdout + result.stderr
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        tables = set(sa.inspect(engine).get_table_names())
        with engine.connect() as connection:
            version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert len(version.all()) == 1
    finally:
        engine.dispose()
    assert {"authorities", "organisations", "users", "officer_absences", "referrals",
            "possible_duplicates", "audit_events", "alembic_version"} <= tables
    # Nothing was made in the default place: DATABASE_URL was used.
    assert not (tmp_path / "instance" / "referrals.db").exists()

    again = run("db", "upgrade", cwd=tmp_path, DATABASE_URL=f"sqlite:///{database}")
    assert again.returncode == 0, again.stdout + again.stderr


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    commands_section = result.stdout.split("Commands:", 1)[1]
    listed = {line.split()[0] for line in commands_section.splitlines() if line.strip()}
    assert {"serve", "demo", "db", "authority", "org", "user"} <= listed


def test_demo_api_client_gets_a_token_and_sees_its_referrals(demo: DemoRun) -> None:
    from referral_service.app import create_app

    output = demo.result.stdout.splitlines()
    [client_id] = [line.split()[1] for line in output if line.strip().startswith("client_id:")]
    [secret] = [line.split()[1] for line in output if line.strip().startswith("client_secret:")]
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{demo.database.resolve()}",
                      "SECRET_KEY": "test", "TESTING": True})
    http = app.test_client()
    token = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                      auth=(client_id, secret))
    assert token.status_code == 200, token.get_data(as_text=True)
    listing = http.get("/api/v1/referrals",
                       headers={"Authorization": f"Bearer {token.json['access_token']}"})
    assert listing.status_code == 200
    organisations = {item["referring_organisation"]["name"] for item in listing.json["items"]}
    assert organisations == {"Probation Service – Hertfordshire"}
    with app.app_context():
        from referral_service.extensions import db
        db.engine.dispose()


def test_demo_history_messages_read_as_delivered_not_expired(demo: DemoRun) -> None:
    from referral_service.models import MessageStatus, OutboxMessage

    engine = sa.create_engine(f"sqlite:///{demo.database.resolve()}")
    try:
        with Session(engine) as opened:
            statuses = dict(opened.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    finally:
        engine.dispose()
    assert statuses.get(MessageStatus.DELIVERED, 0) > 20
    assert MessageStatus.FAILED not in statuses


def test_demo_shows_a_keyed_in_phone_referral(session: Session) -> None:
    keyed = list(session.scalars(select(Referral).where(Referral.keyed_in_by_id.is_not(None))))
    assert len(keyed) == 1
    referral = keyed[0]
    assert referral.source.value == "phone" and referral.referrer_email is None
    assert referral.referring_organisation.name == "HMP Bedford"
    assert referral.keyed_in_by.authority_id == referral.authority_id


def test_demo_shows_a_transfer_to_a_council_not_on_the_service(session: Session) -> None:
    """Luton: emailed a one-time link, which it opened before marking the referral received."""
    from referral_service.models import ExternalTransfer

    (moved,) = session.scalars(select(ExternalTransfer)).all()
    assert moved.council_name == "Luton Borough Council" and moved.council_code == "E06000032"
    assert moved.referral.status is ReferralStatus.TRANSFERRED
    assert moved.first_opened_at is not None and moved.received_at is not None
    assert moved.first_opened_at < moved.received_at
