"""A database that is down or hangs: /readyz says so within seconds, /healthz is not held up,
and requests answer 503 (problem+json from the API, a GOV.UK page for people), never a 500 or
a thread stuck for minutes.

The slow case is tested, not only the dead one: a TCP server that accepts connections and never
says a word stands in for a PostgreSQL server that has stopped answering. It drops each
connection after a while, so code without time limits fails these tests instead of hanging them.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from flask import Flask

from referral_service.app import create_app
from referral_service.config import normalise_database_url
from referral_service.extensions import db

GIVE_UP_SECONDS = 20  # how long the silent server holds a connection before dropping it
WITHIN_SECONDS = 15  # an upper bound with a generous margin: speed belongs in benchmarks


class SilentDatabase:
    """Accepts every connection and never answers."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.accepted = threading.Event()
        self._timers: list[threading.Timer] = []
        self._connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="silent-db", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://nobody@127.0.0.1:{self.listener.getsockname()[1]}/none"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed: the test is over
                return
            self._connections.append(connection)
            timer = threading.Timer(GIVE_UP_SECONDS, connection.close)
            timer.daemon = True
            timer.start()
            self._timers.append(timer)
            self.accepted.set()

    def close(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close alone does not)
        self.listener.close()
        self._thread.join(timeout=10)
        for timer in self._timers:
            timer.cancel()
        for connection in self._connections:
            connection.close()


@pytest.fixture
def silent_app() -> Iterator[Flask]:
    silent = SilentDatabase()
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "PUBLIC_BASE_URL": "http://localhost",
                      "SQLALCHEMY_DATABASE_URI": silent.url})
    app.extensions["silent_database"] = silent
    yield app
    with app.app_context():
        db.engine.dispose()
    silent.close()


def test_readyz_answers_503_within_seconds_and_healthz_is_not_held_up(silent_app: Flask) -> None:
    silent: SilentDatabase = silent_app.extensions["silent_database"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        readyz = pool.submit(silent_app.test_client().get, "/readyz")
        assert silent.accepted.wait(WITHIN_SECONDS), "the readiness check never connected"
        # While the readiness check waits on the database, the process still answers at once.
        healthz = silent_app.test_client().get("/healthz")
        assert healthz.status_code == 200 and healthz.json == {"status": "ok"}
        assert not readyz.done()
        response = readyz.result(timeout=GIVE_UP_SECONDS * 2)
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json == {"status": "unavailable",
                             "checks": {"database": "unavailable", "broker": "ok"}}
    assert elapsed < WITHIN_SECONDS


def test_an_api_call_answers_503_problem_json(silent_app: Flask) -> None:
    started = time.monotonic()
    response = silent_app.test_client().get(
        "/api/v1/authorities", headers={"Authorization": "Bearer a-token-to-look-up"})
    assert time.monotonic() - started < WITHIN_SECONDS
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 503 and response.json["title"] == "Service Unavailable"
    assert "Nothing was changed" in response.json["detail"]
    assert int(response.headers["Retry-After"]) > 0


def test_a_page_answers_503_with_the_service_unavailable_page(silent_app: Flask) -> None:
    started = time.monotonic()
    # A password-reset link is looked up in the database before anything is drawn.
    response = silent_app.test_client().get("/password-reset/a-token-to-look-up")
    assert time.monotonic() - started < WITHIN_SECONDS
    assert response.status_code == 503 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Sorry, the service is unavailable</h1>' in html
    assert "govuk-template" in html
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.postgres_only
def test_a_statement_running_past_the_limit_is_stopped_and_answers_503() -> None:
    url = normalise_database_url(os.environ["TEST_DATABASE_URL"])
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url,
                      "DATABASE_STATEMENT_TIMEOUT": 1})

    @app.get("/__slow")
    def slow() -> str:
        db.session.execute(sa.text("SELECT pg_sleep(3)"))
        return "finished"

    try:
        with app.app_context(), db.engine.connect() as connection:
            assert connection.scalar(sa.text("SHOW statement_timeout")) == "1s"
        response = app.test_client().get("/__slow", headers={"Accept": "application/json"})
        assert response.status_code == 503
        assert response.mimetype == "application/problem+json"
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.postgres_only
def test_a_signed_in_person_whose_database_goes_away_mid_page_gets_the_503_page(
        fresh_app: Flask) -> None:
    """As in the soak's PostgreSQL restart: the page's own connection is ended and no new one
    is accepted. The 503 page is drawn without reading the database again (it used to reload
    the signed-in person for the header, failing a second time into a 500)."""
    from sqlalchemy import text

    from referral_service.auth.session import current_user
    from tests.web_helpers import make_team, sign_in

    url = fresh_app.config["SQLALCHEMY_DATABASE_URI"]
    name = sa.engine.make_url(url).database
    admin = sa.create_engine(normalise_database_url(os.environ["TEST_DATABASE_URL"]),
                             isolation_level="AUTOCOMMIT")

    def database_goes_away() -> str:
        assert current_user() is not None  # the header's person, loaded by this request
        with admin.connect() as connection:
            connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        db.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return "not reached"

    fresh_app.add_url_rule("/casework/database-goes-away", view_func=database_goes_away)
    with fresh_app.app_context():
        team = make_team()
        db.session.commit()
        officer = db.session.merge(team.officer)
        db.session.expunge_all()
    client = fresh_app.test_client()
    sign_in(client, officer)
    try:
        response = client.get("/casework/database-goes-away")
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.dispose()
    assert response.status_code == 503
    assert "Sorry, the service is unavailable" in response.get_data(as_text=True)
    assert response.headers["Retry-After"]
