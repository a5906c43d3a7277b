"""The real app served over HTTP by a thread, on a database of its own, for browser tests.

Browser tests cannot use the rolled-back transaction of ``db_session``: the browser's requests
arrive on the server's own threads and connections and must see committed data. So each browser
test module gets a fresh migrated database (a SQLite file, or a new PostgreSQL database beside
``TEST_DATABASE_URL``, dropped afterwards), and commits freely; nothing leaks into the other
tests. Never request ``db_session`` or ``client`` in a browser test: they swap ``db.session``
for the whole process.
"""
from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import BaseWSGIServer, make_server

from notifications import expansion
from referral_service.app import create_app
from referral_service.config import normalise_database_url
from referral_service.extensions import db

# Rate limits raised (not switched off) for apps that many tests share, all from 127.0.0.1.
UNLIMITED = {name: "100000 per minute" for name in (
    "API_RATE_LIMIT", "TOKEN_RATE_LIMIT", "SIGN_IN_RATE_LIMIT", "SECOND_FACTOR_RATE_LIMIT",
    "PASSWORD_RESET_RATE_LIMIT")}


def serve_command_environment(database_url: str) -> dict[str, str]:
    """The environment for running ``referrals serve`` as a process on ``database_url``: the
    embedded broker and the development outbox, none of the test run's own settings."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in {"TEST_DATABASE_URL", "FLASK_APP", "FLASK_RUN_FROM_CLI"}}
    environment.update({"DATABASE_URL": database_url, "SECRET_KEY": "test",
                        "BROKER_URL": "embedded", "DEV_OUTBOX": "on"})
    return environment


@contextmanager
def own_database(tmp_dir: Path, label: str) -> Iterator[str]:
    """An empty database of the run's kind (SQLite unless TEST_DATABASE_URL is PostgreSQL)."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgres"):
        yield f"sqlite:///{tmp_dir / f'{label}.db'}"
        return
    base = normalise_database_url(base)
    name = f"{sa.engine.make_url(base).database}_{label}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@dataclass
class LiveServer:
    app: Flask
    url: str
    server: BaseWSGIServer

    @contextmanager
    def data(self) -> Iterator[None]:
        """Set up data through the real domain functions, committed at the end of the block."""
        with self.app.app_context():
            try:
                yield
                db.session.commit()
                # What a worker would do next: the messages and reminders of the set-up's events.
                while expansion.expand_pending():
                    pass
            finally:
                db.session.remove()


@contextmanager
def serve(database_url: str, **overrides: object) -> Iterator[LiveServer]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                      "SECRET_KEY": "browser-test-secret", "DEV_OUTBOX_ENABLED": True,
                      # No worker here: a request's events are expanded before it answers.
                      "EVENTS_EXPAND_INLINE": True,
                      **UNLIMITED, **overrides})
    with app.app_context():
        upgrade()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, url, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()
