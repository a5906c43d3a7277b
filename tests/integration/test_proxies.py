"""Behind reverse proxies: whose address a request is from (rate limits, audit records, the
/metrics loopback rule), with ``TRUSTED_PROXIES`` hops believed and no forwarding header
believed without it; and /metrics in production, which needs its token.

Apps of their own with tiny limits, on the run's database inside the test's rolled-back
transaction (as in test_web_sign_in_limits.py); the waitress tests serve over real HTTP from a
database of their own.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from flask import Flask

from referral_service.app import create_app
from referral_service.commands.serve import make_server
from referral_service.models import AuditEvent, User
from tests import factories as f
from tests.web_helpers import csrf_token

ATTACKER, COLLEAGUE = "198.51.100.7", "198.51.100.8"


def limited_app(database_url: str, **settings: Any) -> Flask:
    return create_app({
        "TESTING": True, "SECRET_KEY": "test", "PUBLIC_BASE_URL": "http://localhost",
        "SQLALCHEMY_DATABASE_URI": database_url, "SIGN_IN_RATE_LIMIT": "3 per minute",
        "TOKEN_RATE_LIMIT": "2 per minute", **settings})


@pytest.fixture
def officer(db_session: sa.orm.scoped_session) -> User:
    user = f.officer(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    return user


def sign_in(http: Any, user: User, words: str, forwarded_for: str) -> Any:
    """A sign-in relayed by a proxy on this machine (the test client's own address)."""
    return http.post("/sign-in", headers={"X-Forwarded-For": forwarded_for}, data={
        "email": user.email, "password": words, "csrf_token": csrf_token(http)})


def ip_addresses(action: str) -> list[str | None]:
    return list(f.db.session.scalars(sa.select(AuditEvent.ip_address).where(
        AuditEvent.action == action)))


@pytest.mark.parametrize("forwarded", ["x" * 60, "198.51.100.7\x01", "unknown"])
def test_a_forwarded_client_that_is_not_an_address_is_not_believed(
        app: Flask, officer: User, forwarded: str) -> None:
    """The peer's own address is recorded instead (PostgreSQL refused 60 characters: a 500)."""
    proxied = limited_app(app.config["SQLALCHEMY_DATABASE_URI"], TRUSTED_PROXIES=1)
    assert sign_in(proxied.test_client(), officer, f.PASSWORD, forwarded).status_code == 302
    assert ip_addresses("user.signed_in") == ["127.0.0.1"]


def test_behind_a_trusted_proxy_two_clients_are_limited_and_audited_apart(
        app: Flask, officer: User) -> None:
    proxied = limited_app(app.config["SQLALCHEMY_DATABASE_URI"], TRUSTED_PROXIES=1)
    attacker, colleague = proxied.test_client(), proxied.test_client()
    for _ in range(3):
        assert sign_in(attacker, officer, "wrong wrong wrong", ATTACKER).status_code == 400
    assert sign_in(attacker, officer, "wrong wrong wrong", ATTACKER).status_code == 429
    # The colleague behind the same proxy is someone else: not refused, and signed in (to
    # their own account: the one guessed at is limited from every address).
    own = f.officer(officer.authority, password=f.PASSWORD)
    f.db.session.commit()
    assert sign_in(colleague, own, f.PASSWORD, COLLEAGUE).status_code == 302
    assert ip_addresses("user.sign_in_rate_limited") == [ATTACKER]
    assert ip_addresses("user.signed_in") == [COLLEAGUE]
    # Token requests are limited per address too: one partner's bad secret is not another's.
    bad = ("no-such-client", "wrong")
    for _ in range(2):
        assert proxied.test_client().post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=bad,
            headers={"X-Forwarded-For": ATTACKER}).status_code == 401
    assert proxied.test_client().post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=bad,
        headers={"X-Forwarded-For": ATTACKER}).status_code == 429
    assert proxied.test_client().post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=bad,
        headers={"X-Forwarded-For": COLLEAGUE}).status_code == 401


def test_with_no_trusted_proxy_a_forged_forwarded_for_changes_nothing(
        app: Flask, officer: User) -> None:
    direct = limited_app(app.config["SQLALCHEMY_DATABASE_URI"], TRUSTED_PROXIES=0)
    http = direct.test_client()
    # One person writing a new address into every attempt is still one address.
    for n in range(3):
        assert sign_in(http, officer, "wrong wrong wrong", f"203.0.113.{n}").status_code == 400
    assert sign_in(http, officer, f.PASSWORD, "203.0.113.99").status_code == 429
    assert ip_addresses("user.sign_in_rate_limited") == ["127.0.0.1"]
    assert ip_addresses("user.signed_in") == []
    # /metrics: a remote client claiming to be local, and a local proxy's relay, are refused.
    metrics = direct.test_client()
    assert metrics.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"},
                       environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    assert metrics.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    assert metrics.get("/metrics", headers={"Forwarded": "for=203.0.113.9"}).status_code == 403
    assert metrics.get("/metrics").status_code == 200


def test_in_production_metrics_need_the_token_even_from_this_machine(
        app: Flask, db_session: sa.orm.scoped_session, caplog: pytest.LogCaptureFixture) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with caplog.at_level(logging.WARNING, logger="referral_service.metrics"):
        production = limited_app(url, APP_ENV="production", METRICS_TOKEN=None)
    assert "METRICS_TOKEN is not set" in caplog.text
    behind_proxy = limited_app(url, APP_ENV="production", METRICS_TOKEN=None, TRUSTED_PROXIES=1)
    for served in (production, behind_proxy):
        http = served.test_client()
        for headers in ({}, {"X-Forwarded-For": "127.0.0.1"}):
            refused = http.get("/metrics", headers=headers)
            assert refused.status_code == 404, headers
            assert "# TYPE" not in refused.get_data(as_text=True)
    with_token = limited_app(url, APP_ENV="production", METRICS_TOKEN="t0ken")
    http = with_token.test_client()
    assert http.get("/metrics").status_code == 401
    assert http.get("/metrics", headers={"Authorization": "Bearer t0ken"}).status_code == 200


# --- served by waitress (`referrals serve`) -------------------------------------------------

@contextmanager
def served_by_waitress(app: Flask) -> Iterator[str]:
    server = make_server(app, "127.0.0.1", 0, threads=2)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Closed from the server's own loop thread: closing its sockets from this thread raced
        # the loop's select() (EBADF in the thread, and a connection left open).
        server.trigger.pull_trigger(server.close)
        thread.join(timeout=10)
        assert not thread.is_alive()


def get(url: str, **headers: str) -> int:
    return httpx.get(url, headers={"Connection": "close", **headers}, timeout=10).status_code


def test_waitress_passes_forwarding_headers_to_the_app(fresh_app: Flask) -> None:
    """waitress deleted X-Forwarded-For before the app saw it: a request relayed by a proxy
    on this machine looked local, and /metrics was served to the world."""
    with served_by_waitress(fresh_app) as base:
        assert get(f"{base}/metrics") == 200
        assert get(f"{base}/metrics", **{"X-Forwarded-For": "203.0.113.9"}) == 403
    proxied = limited_app(fresh_app.config["SQLALCHEMY_DATABASE_URI"], TRUSTED_PROXIES=1)
    try:
        with served_by_waitress(proxied) as base:
            # The proxy reports a remote client, or (a scrape through it) this machine.
            assert get(f"{base}/metrics", **{"X-Forwarded-For": "203.0.113.9"}) == 403
            assert get(f"{base}/metrics", **{"X-Forwarded-For": "127.0.0.1"}) == 200

            def token_request(client_address: str) -> int:
                return httpx.post(f"{base}/oauth/token", data={
                    "grant_type": "client_credentials"}, auth=("no-such-client", "wrong"),
                    headers={"X-Forwarded-For": client_address, "Connection": "close"},
                    timeout=10).status_code

            assert [token_request(ATTACKER) for _ in range(3)] == [401, 401, 429]
            assert token_request(COLLEAGUE) == 401
    finally:
        with proxied.app_context():
            f.db.engine.dispose()
