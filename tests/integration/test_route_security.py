"""No route is left open by accident: each one needs a token with a declared scope, or is
listed here as public on purpose, with the reason."""
from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask

PUBLIC = {
    "static": "CSS and images",
    "ops.healthz": "load balancers (no data)",
    "ops.readyz": "load balancers (no data)",
    "public.index": "the front page: counts only, no personal data",
    "oauth.metadata": "RFC 8414: clients discover the server before they have a token",
    "oauth.token": "clients authenticate to it with their own credentials",
    "oauth.revoke": "client authentication inside (RFC 7009)",
    "oauth.introspect": "client authentication inside (RFC 7662)",
    "api-docs.openapi_json": "the published contract",
    "api-docs.openapi_swagger_ui": "the published contract, browsable",
    "webhooks.twilio_status": "Twilio calls it; its X-Twilio-Signature is checked inside",
    "webhooks.twilio_inbound": "Twilio calls it; its X-Twilio-Signature is checked inside",
    "dev.outbox": "development only: never registered when APP_ENV=production",
    "metrics.metrics": "not public: METRICS_TOKEN bearer or this machine only, checked inside "
                       "(tests/integration/test_metrics.py)",
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


def test_every_route_declares_who_may_call_it(app: Flask) -> None:
    undeclared = []
    for endpoint, method, path in _rules(app):
        if endpoint in PUBLIC:
            continue
        for _, view in _views(app, endpoint, {method}):
            if not getattr(view, "requires_token", False):
                undeclared.append(f"{method} {path}")
    assert undeclared == [], "Protect these routes or list them in PUBLIC with a reason"


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
        if endpoint in PUBLIC:
            continue
        response = http.open(_concrete(path), method=method, headers=headers, json={})
        assert response.status_code == 401, f"{method} {path}: {response.status_code}"
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
        assert response.mimetype == "application/problem+json"
        checked += 1
    assert checked >= 8
