"""No route is left open by accident: each API route needs a token with a declared scope, each
web page declares the roles that may open it (``@roles``), and anything else is public on
purpose with the reason (``@public("why")`` on a page, or listed here)."""
from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask

PUBLIC = {
    "static": "the service's own CSS and JavaScript files",
    "ops.healthz": "load balancers (no data)",
    "ops.readyz": "load balancers (no data)",
    "public.index": "the front page: a start button and sign-in, nothing more",
    "oauth.metadata": "RFC 8414: clients discover the server before they have a token",
    "oauth.token": "clients authenticate to it with their own credentials",
    "oauth.revoke": "client authentication inside (RFC 7009)",
    "oauth.introspect": "client authentication inside (RFC 7662)",
    "api-docs.openapi_json": "the published contract",
    "fhir.metadata": "FHIR's CapabilityStatement: engines read it before they have a token",
    "api-docs.openapi_swagger_ui": "the published contract, browsable",
    "webhooks.twilio_status": "Twilio calls it; its X-Twilio-Signature is checked inside",
    "webhooks.twilio_inbound": "Twilio calls it; its X-Twilio-Signature is checked inside",
}


def _views(app: Flask, endpoint: str, methods: set[str]) -> list[tuple[str, object]]:
    view = app.view_functions[endpoint]
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return [(method, view) for method in methods]
    return [(method, getattr(view_class, method.lower())) for method in methods]


def _rules(app: Flask) -> list[tuple[str, str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule.rule))
    return found


def declared(view: object) -> str | None:
    """How a view says who may call it: "token", "roles", "public", or None (undeclared)."""
    if getattr(view, "requires_token", False):
        return "token"
    if getattr(view, "allowed_roles", None):
        return "roles"
    if getattr(view, "public_reason", "").strip():
        return "public"
    return None


def test_every_route_declares_who_may_call_it(app: Flask) -> None:
    undeclared = []
    for endpoint, method, path in _rules(app):
        if endpoint in PUBLIC:
            continue
        for _, view in _views(app, endpoint, {method}):
            if declared(view) is None:
                undeclared.append(f"{method} {path}")
    assert undeclared == [], ("Protect these routes (a token scope, or @roles for a page) or "
                              "mark them @public with a reason")


def test_pages_with_roles_exist_so_the_check_above_is_not_vacuous(app: Flask) -> None:
    kinds = {declared(view) for endpoint, method, _ in _rules(app) if endpoint not in PUBLIC
             for _, view in _views(app, endpoint, {method})}
    assert {"token", "roles", "public"} <= kinds


def test_public_list_has_no_stale_entries(app: Flask) -> None:
    assert set(PUBLIC) <= {endpoint for endpoint, _, _ in _rules(app)}


def _concrete(path: str) -> str:
    return re.sub(r"<(?:uuid:)?[^>]+>", str(uuid.uuid4()), path)


@pytest.mark.parametrize("with_header", [None, "Bearer not-a-real-token", "Basic dXNlcjpwdw=="])
def test_protected_routes_refuse_a_missing_or_bad_token(app: Flask, db_session,  # type: ignore[no-untyped-def]
                                                        with_header: str | None) -> None:
    http = app.test_client()
    headers = {"Authorization": with_header} if with_header else {}
    checked = 0
    for endpoint, method, path in _rules(app):
        if endpoint in PUBLIC or not any(declared(view) == "token"
                                         for _, view in _views(app, endpoint, {method})):
            continue
        response = http.open(_concrete(path), method=method, headers=headers, json={})
        assert response.status_code == 401, f"{method} {path}: {response.status_code}"
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
        # The FHIR endpoints answer every error as a FHIR OperationOutcome (docs/fhir.md).
        fhir = path.startswith("/api/fhir")
        assert response.mimetype == ("application/fhir+json" if fhir
                                     else "application/problem+json")
        checked += 1
    assert checked >= 8
