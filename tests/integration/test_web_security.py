"""The web pages' defences, route by route: sign-in required, roles enforced, CSRF on every
form, and the security headers on every response."""
from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask

from referral_service.app import create_app
from referral_service.web.security import CSRF_EXEMPT_PREFIXES
from tests.integration.test_route_security import _rules, _views, declared


def _concrete(path: str) -> str:
    return re.sub(r"<(?:uuid:)?[^>]+>", str(uuid.uuid4()), path)


def _page_routes(app: Flask, kind: str) -> list[tuple[str, str]]:
    return [(method, path) for endpoint, method, path in _rules(app)
            if any(declared(view) == kind for _, view in _views(app, endpoint, {method}))]


def test_every_page_with_roles_sends_an_anonymous_visitor_to_sign_in(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    checked = 0
    for method, path in _page_routes(app, "roles"):
        if method != "GET":
            continue
        response = client.get(_concrete(path))
        assert response.status_code == 302, f"GET {path}: {response.status_code}"
        assert response.headers["Location"].startswith("/sign-in?next="), path
        checked += 1
    assert checked >= 1


def test_every_form_refuses_a_missing_csrf_token(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    checked = 0
    for _, method, path in _rules(app):
        if method not in {"POST", "PUT", "PATCH", "DELETE"} or path.startswith(
                CSRF_EXEMPT_PREFIXES):
            continue
        response = client.open(_concrete(path), method=method, data={"anything": "x"})
        assert response.status_code == 400, f"{method} {path}: {response.status_code}"
        assert "The form could not be sent" in response.get_data(as_text=True), path
        checked += 1
    assert checked >= 2  # sign-in and sign-out at least


def test_the_api_and_webhooks_are_not_behind_csrf(client) -> None:  # type: ignore[no-untyped-def]
    # A token endpoint call without a CSRF token reaches OAuth (401 for no client), not a 400.
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert response.status_code == 401


def test_security_headers_on_pages(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cache-Control"] == "no-store"
    # Plain-HTTP development: no HSTS (it would pin localhost to HTTPS in the browser).
    assert "Strict-Transport-Security" not in response.headers


def test_pages_have_no_inline_script_or_style(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/sign-in").get_data(as_text=True)
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert " style=" not in html and "<style" not in html


def test_headers_on_api_responses_too(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/openapi.json")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.fixture
def https_app(app: Flask) -> Flask:
    return create_app({"TESTING": True, "SECRET_KEY": "test",
                       "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                       "PUBLIC_BASE_URL": "https://referrals.example.gov.uk",
                       "SERVED_OVER_HTTPS": True, "SESSION_COOKIE_SECURE": True})


def test_hsts_and_secure_cookie_when_served_over_https(https_app: Flask) -> None:
    http = https_app.test_client()
    response = http.get("/sign-in", base_url="https://referrals.example.gov.uk")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_config_makes_the_cookie_secure_for_an_https_address(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from referral_service import config

    https = config.load(tmp_path, {"PUBLIC_BASE_URL": "https://referrals.example.gov.uk"})
    plain = config.load(tmp_path, {})
    assert https["SESSION_COOKIE_SECURE"] is True and https["SERVED_OVER_HTTPS"] is True
    assert plain["SESSION_COOKIE_SECURE"] is False and plain["SERVED_OVER_HTTPS"] is False
    assert plain["SESSION_COOKIE_HTTPONLY"] is True and plain["SESSION_COOKIE_SAMESITE"] == "Lax"
