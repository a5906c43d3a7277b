"""Migrations are the only way the schema is made: they must match the models, both ways."""
from __future__ import annotations

import os

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade

from referral_service.app import MIGRATIONS_DIR, create_app
from referral_service.extensions import db


def app_for(url: str) -> Flask:
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                       "SECRET_KEY": "test"})


def schema_differences(app: Flask) -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_head_revision_matches_the_models(fresh_database: str) -> None:
    app = app_for(fresh_database)
    with app.app_context():
        upgrade()
        differences = schema_differences(app)
        db.engine.dispose()
    assert differences == [], f"Models and migrations differ; add a revision: {differences}"


def test_downgrade_to_base_and_up_again(fresh_database: str) -> None:
    app = app_for(fresh_database)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        left = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        upgrade()
        again = set(sa.inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert left == set()
    assert {"referrals", "authorities", "audit_events", "users"} <= again


def test_one_head_and_revisions_named_by_date() -> None:
    script = ScriptDirectory(MIGRATIONS_DIR)
    assert len(script.get_heads()) == 1, "Merge the migration branches"
    for revision in script.walk_revisions():
        filename = os.path.basename(revision.path)
        stamp = filename.split("_")[:2]
        assert len(stamp[0]) == 8 and stamp[0].isdigit() and len(stamp[1]) == 4, filename


def test_no_create_all_outside_the_tests() -> None:
    """The schema is made by migrations only (house rule): no create_all in the application."""
    from pathlib import Path

    root = Path(MIGRATIONS_DIR).parent
    offenders = [
        str(path.relative_to(root))
        for package in ("referral_service", "notifications", "integrations")
        for path in (root / package).rglob("*.py")
        if "create_all(" in path.read_text()
    ]
    assert offenders == []


# The triggers that keep ``users.open_caseload`` (migration 20261201_0740). On SQLite a later
# ``batch_alter_table('referrals')`` copies the table and drops the old one, and its triggers
# with it, silently: this says so at once.
CASELOAD_TRIGGERS = {
    "sqlite": {"referrals_caseload_insert", "referrals_caseload_update",
               "referrals_caseload_delete"},
    "postgresql": {"referrals_keep_open_caseload"},
}


def triggers_on_referrals(connection: sa.Connection) -> set[str]:
    if connection.dialect.name == "postgresql":
        return set(connection.scalars(sa.text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'referrals'::regclass "
            "AND NOT tgisinternal AND tgenabled <> 'D'")))
    return set(connection.scalars(sa.text(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'referrals'")))


def test_the_caseload_triggers_exist_at_head(fresh_database: str) -> None:
    app = app_for(fresh_database)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            dialect = connection.dialect.name
            found = triggers_on_referrals(connection)
            function = (connection.scalar(sa.text(
                "SELECT count(*) FROM pg_proc WHERE proname = 'referrals_keep_open_caseload'"))
                if dialect == "postgresql" else None)
        db.engine.dispose()
    assert found == CASELOAD_TRIGGERS[dialect], (
        "users.open_caseload is kept by triggers on referrals: a migration that rebuilt the "
        "table (batch_alter_table on SQLite) must create them again")
    assert function in (None, 1)


OUR_PACKAGES = ("referral_service", "notifications", "integrations")


def imported_modules(path: str) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    import ast
    from pathlib import Path

    found: set[str] = set()
    for node in ast.walk(ast.parse(Path(path).read_text(), filename=path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


def test_migrations_import_nothing_of_the_live_code() -> None:
    """A revision must do tomorrow what it did the day it was written: it may not import our
    packages (their code changes), only the standard library, Alembic and SQLAlchemy."""
    script = ScriptDirectory(MIGRATIONS_DIR)
    offenders = {
        os.path.basename(revision.path): sorted(
            name for name in imported_modules(revision.path)
            if name.startswith(".") or name.split(".")[0] in OUR_PACKAGES)
        for revision in script.walk_revisions()
    }
    assert any("_0720_" in name for name in offenders)  # the calendar's revision is read
    assert {name: found for name, found in offenders.items() if found} == {}
