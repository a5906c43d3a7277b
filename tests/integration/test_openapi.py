"""The published contract: OpenAPI 3.1 from the same schemas that validate, and a property-based
run (schemathesis) that finds no 5xx and no response breaking the document."""
from __future__ import annotations

import re

import hypothesis
import pytest
import schemathesis
from flask import Flask
from schemathesis import checks

from tests import factories as f


def test_openapi_document_describes_the_api(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    assert set(spec["paths"]) >= {
        "/api/v1/authorities", "/api/v1/referrals", "/api/v1/referrals/{referral_id}",
        "/api/v1/referrals/{referral_id}/timeline", "/api/v1/referrals/{referral_id}/withdraw",
        "/api/v1/referrals/{referral_id}/messages"}
    scheme = spec["components"]["securitySchemes"]["partnerOAuth"]
    assert set(scheme["flows"]["clientCredentials"]["scopes"]) == {
        "referrals:write", "referrals:read", "cases:shared"}
    create = spec["paths"]["/api/v1/referrals"]["post"]
    assert create["security"] == [{"partnerOAuth": ["referrals:write"]}]
    body = spec["components"]["schemas"]["ReferralSubmission"]
    assert {"authority_code", "consent", "person", "reason"} <= set(body["required"])
    assert body.get("additionalProperties") is False
    problem = spec["components"]["responses"]["BAD_REQUEST"]["content"]
    assert "application/problem+json" in problem


def test_docs_page_is_served(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/api/docs")
    assert page.status_code == 200 and b"swagger" in page.data.lower()


def test_docs_page_loads_swagger_ui_from_our_own_origin_with_no_inline_script(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/api/docs").get_data(as_text=True)
    references = re.findall(r'\b(?:src|href)="([^"]*)"', html)
    assert set(references) == {"/swagger-ui/swagger-ui.css", "/swagger-ui/swagger-ui-bundle.js",
                               "/static/api-docs.js"}
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in html and " style=" not in html and "cdn" not in html.lower()
    assert 'data-spec-url="/api/v1/openapi.json"' in html


@pytest.mark.parametrize(("path", "mimetype"), [
    ("/swagger-ui/swagger-ui.css", "text/css"),
    ("/swagger-ui/swagger-ui-bundle.js", "text/javascript"),
    ("/static/api-docs.js", "text/javascript"),
])
def test_swagger_ui_assets_are_served_from_node_modules(client, path: str, mimetype: str) -> None:  # type: ignore[no-untyped-def]
    answer = client.get(path)
    try:
        assert (answer.status_code, answer.mimetype) == (200, mimetype)
        assert len(answer.data) > 100
    finally:
        answer.close()  # a file response: its file is open until then


def test_only_swagger_uis_stylesheet_and_bundle_are_served(client) -> None:  # type: ignore[no-untyped-def]
    # index.html and swagger-initializer.js start Swagger UI with a CDN-free but inline script.
    for name in ("index.html", "swagger-initializer.js", "package.json", "..%2Fpackage.json"):
        assert client.get(f"/swagger-ui/{name}").status_code == 404


def test_docs_page_has_the_same_strict_csp_as_every_page(client) -> None:  # type: ignore[no-untyped-def]
    from referral_service.web.security import CONTENT_SECURITY_POLICY

    docs = client.get("/api/docs").headers["Content-Security-Policy"]
    assert docs == CONTENT_SECURITY_POLICY == client.get("/").headers["Content-Security-Policy"]
    assert "unsafe-inline" not in docs and "https:" not in docs


def _operations(app: Flask) -> list[object]:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def _has_input(operation) -> bool:  # type: ignore[no-untyped-def]
    return bool(list(operation.iter_parameters()) or list(operation.body))


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE,
                                  schemathesis.GenerationMode.NEGATIVE],
                         ids=["valid-input", "invalid-input"])
def test_api_never_fails_and_keeps_to_its_document(app: Flask, db_session,  # type: ignore[no-untyped-def]
                                                   mode) -> None:
    """Every operation, with generated input: no 5xx, every response as documented."""
    f.authority()
    f.officer(f.authority())
    org = f.organisation()
    issued = f.api_client(org)
    f.referral(org)
    f.db.session.commit()
    headers = f.bearer_headers(app.test_client(), issued)
    operations = _operations(app)
    assert len(operations) >= 8
    for operation in operations:
        if mode is schemathesis.GenerationMode.NEGATIVE and not _has_input(operation):
            continue  # nothing to make invalid (GET /authorities)

        @hypothesis.given(case=operation.as_strategy(mode))  # type: ignore[attr-defined]
        @hypothesis.settings(max_examples=25, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(hypothesis.HealthCheck))
        def run(case) -> None:  # type: ignore[no-untyped-def]
            # Schema-valid input can still break a rule the schema cannot express (an
            # authority that does not take part, a cursor not issued by us), so acceptance of
            # every valid-looking request is not demanded; everything else is.
            case.call_and_validate(headers={**headers, **(case.headers or {})},
                                   excluded_checks=[checks.positive_data_acceptance])

        run()
