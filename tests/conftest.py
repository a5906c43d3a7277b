"""Test fixtures: one migrated database per run, each test inside a rolled-back transaction.

The database is SQLite (a temporary file) unless ``TEST_DATABASE_URL`` names another, which CI
sets to PostgreSQL. The schema is made by the real Alembic migrations, never ``create_all``.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session

from referral_service.app import create_app
from referral_service.extensions import SESSION_OPTIONS, db
from tests.support_live import UNLIMITED

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        from referral_service.config import normalise_database_url

        return normalise_database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def reset_postgres_schema(url: str) -> None:
    """Start every run from an empty database: what the migrations make is what is tested."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests are left out of a SQLite run, Redis tests out of a run without
    ``TEST_REDIS_URL`` and RabbitMQ tests out of one without ``TEST_RABBITMQ_URL`` (deselected,
    and said so): CI sets all three and executes them. They are never skipped."""
    needs: list[str] = []
    if not is_postgres(os.environ.get("TEST_DATABASE_URL", "")):
        needs.append("postgres_only")
    if not os.environ.get("TEST_REDIS_URL"):
        needs.append("redis")
    if not os.environ.get("TEST_RABBITMQ_URL"):
        needs.append("rabbitmq")
    if not needs:
        return
    kept = [item for item in items if not any(item.get_closest_marker(m) for m in needs)]
    left_out = [item for item in items if any(item.get_closest_marker(m) for m in needs)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test is a failure: nothing may pass by not running."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if IN_CI and skipped:
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped; skips are failures in CI.",
                            red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    url = database_url(tmp_path_factory)
    if is_postgres(url):
        reset_postgres_schema(url)
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "PUBLIC_BASE_URL": "http://localhost",
            # Messages stay in the development outbox (no SMS or email provider in tests).
            "DEV_OUTBOX_ENABLED": True,
            # A request's domain events are expanded before its response leaves, so a test
            # sees its messages and reminders at once (notifications.runtime._expand_inline).
            "EVENTS_EXPAND_INLINE": True,
            "DOCUMENTS_DIR": str(instance / "documents"),
            # The whole run shares one app (every test signing in from 127.0.0.1): limits are
            # tested on apps of their own (test_web_sign_in_limits.py).
            **UNLIMITED,
        }
    )
    application.instance_path = str(instance)
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


class _ConnectionBoundSession(Session):
    """Flask-SQLAlchemy picks an engine per query; here every query uses the test's connection."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):  # type: ignore[no-untyped-def]
        return self.bind


@pytest.fixture
def db_session(app: Flask) -> Iterator[sa.orm.scoped_session]:
    """A test's own transaction: commits inside it are SAVEPOINTs, all rolled back afterwards."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {"class_": _ConnectionBoundSession, "bind": connection,
             "join_transaction_mode": "create_savepoint", **SESSION_OPTIONS}
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app: Flask, db_session: sa.orm.scoped_session):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def fresh_database(tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An empty database of the run's kind, for tests that need real commits from several
    connections at once (concurrency) or an unmigrated schema (migrations)."""
    from tests.support_live import own_database

    with own_database(tmp_path, "migrations") as url:
        yield url


@pytest.fixture
def fresh_app(fresh_database: str) -> Iterator[Flask]:
    """The app on a migrated database of its own, with real commits (no rollback isolation)."""
    application = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": fresh_database,
                              "SECRET_KEY": "test", "PUBLIC_BASE_URL": "http://localhost",
                              "DEV_OUTBOX_ENABLED": True})
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """``TEST_REDIS_URL`` (tests using it are marked ``redis``), its database emptied before and
    after the test."""
    import redis

    url = os.environ["TEST_REDIS_URL"]
    with redis.Redis.from_url(url) as connection:
        connection.flushdb()
    yield url
    with redis.Redis.from_url(url) as connection:
        connection.flushdb()


@pytest.fixture
def redis_app(fresh_app: Flask, redis_url: str) -> Iterator[Flask]:
    """An app on ``fresh_app``'s database whose dramatiq broker is Redis."""
    from notifications.broker import get_broker

    application = create_app({"TESTING": True, "SECRET_KEY": "test", "BROKER_URL": redis_url,
                              "PUBLIC_BASE_URL": "http://localhost", "DEV_OUTBOX_ENABLED": True,
                              "SQLALCHEMY_DATABASE_URI": fresh_app.config[
                                  "SQLALCHEMY_DATABASE_URI"]})
    yield application
    get_broker(application).client.connection_pool.disconnect()  # type: ignore[attr-defined]
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def cli(app: Flask, db_session: sa.orm.scoped_session, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Invoke ``referrals …`` against the test app (and so the test's own connection)."""
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from referral_service.cli import main

    # FlaskGroup sets FLASK_RUN_FROM_CLI for the process; let monkeypatch put it back.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "")
    runner = CliRunner()
    # set_debug_flag=False: loading must not reset app.debug on the session-wide app.
    info = ScriptInfo(create_app=lambda: app, set_debug_flag=False)

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, list(args), obj=info, catch_exceptions=False)

    return invoke


@pytest.fixture
def artefacts_dir() -> Path:
    path = Path(os.environ.get("TEST_ARTEFACTS", "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
