"""The published contract: OpenAPI 3.1 from the same schemas that validate, and a property-based
run (schemathesis) that finds no 5xx and no response breaking the document, also when strings
carry NUL and other control characters."""
from __future__ import annotations

import copy
import io
import re
from typing import Any

import hypothesis
import pytest
import schemathesis
from flask import Flask
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.schemas import APIOperation

from tests import document_samples, fhir_examples
from tests import factories as f
from tests import panel_factories as pf


def test_openapi_document_describes_the_api(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    assert set(spec["paths"]) >= {
        "/api/v1/authorities", "/api/v1/referrals", "/api/v1/referrals/{referral_id}",
        "/api/v1/referrals/{referral_id}/timeline", "/api/v1/referrals/{referral_id}/withdraw",
        "/api/v1/referrals/{referral_id}/messages", "/api/v1/referrals/{referral_id}/documents",
        "/api/v1/referrals/{referral_id}/documents/{document_id}"}
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


def _operations(app: Flask) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def _has_input(operation) -> bool:  # type: ignore[no-untyped-def]
    return bool(list(operation.iter_parameters()) or list(operation.body))


def _scopes_needed(operation: APIOperation) -> set[str]:
    return {scope for requirement in operation.definition.raw.get("security", [])
            for scope in requirement.get("partnerOAuth", [])}


# Characters a partner system can send inside a JSON string or a percent-encoded query/path
# (NUL, C0 and C1 controls, DEL, line/paragraph separators) that PostgreSQL, logs, CSV exports
# or e-mail headers may choke on. Schemathesis draws from all of Unicode, so in a few examples
# per operation it would seldom send one: they are forced in (one per case) instead.
CONTROL_CHARACTERS = "\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x1f\x7f\x85\u2028\u2029"
CONTROL_CHARACTERS_MODE = "control-characters"


def _string_slots(value: object, where: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Where the strings are in a generated body or parameter mapping, as key paths."""
    if isinstance(value, str):
        return [where]
    items = value.items() if isinstance(value, dict) else (
        enumerate(value) if isinstance(value, list) else ())
    return [slot for key, child in items for slot in _string_slots(child, (*where, key))]


def _force_a_control_character(case: schemathesis.Case, data: st.DataObject) -> None:
    """Put one control character into one string of the case (its body, query or path), at a
    place Hypothesis chooses, so the rest of the request stays as valid as it was and the
    character gets as deep into the service as it can."""
    # A seeded body or path is the same object in every case: change a copy.
    case.body = copy.deepcopy(case.body)
    case.query = copy.deepcopy(case.query)
    case.path_parameters = copy.deepcopy(case.path_parameters)
    containers: dict[str, Any] = {"body": case.body, "query": case.query,
                                  "path": case.path_parameters}
    slots = [(name, slot) for name, container in containers.items()
             if isinstance(container, (dict, list))
             for slot in _string_slots(container)]
    if not slots:
        return
    name, slot = data.draw(st.sampled_from(slots), label="string")
    parent = containers[name]
    for key in slot[:-1]:
        parent = parent[key]
    text: str = parent[slot[-1]]
    at = data.draw(st.integers(0, len(text)), label="position")
    parent[slot[-1]] = text[:at] + data.draw(st.sampled_from(CONTROL_CHARACTERS),
                                             label="character") + text[at:]


def _valid_request(operation: APIOperation, ids: dict[str, str]) -> dict[str, Any]:
    """A request the operation accepts (real ids, a complete referral): generated input is
    almost always refused by a rule before it reaches the database, a control character in an
    otherwise valid request is not."""
    method, path = operation.method.upper(), operation.path
    seed: dict[str, Any] = {}
    if "{referral_id}" in path:  # /api/v1/referrals/… and /api/fhir/Task/…
        seed["path_parameters"] = {"referral_id": ids["withdrawable" if path.endswith("withdraw")
                                                      else "referral"]}
    if "{document_id}" in path:
        seed["path_parameters"]["document_id"] = ids["document"]
    if "{case_id}" in path:
        seed["path_parameters"] = {"case_id": ids["shared_case"]}
    if (method, path) == ("POST", "/api/v1/referrals"):
        seed["body"] = f.payload(person=f.unique_person())
    elif (method, path) == ("POST", "/api/fhir/ServiceRequest"):
        seed["body"] = fhir_examples.service_request()
    elif (method, path) == ("POST", "/api/fhir"):
        seed["body"] = fhir_examples.transaction()
    elif method == "POST" and path.endswith("/withdraw"):
        seed["body"] = {"reason": "Found a place with family."}
    elif method == "POST" and path.endswith("/messages"):
        seed["body"] = {"body": "Any news on a first appointment?"}
    elif method == "POST" and path.endswith("/documents"):
        seed["body"] = {"file": document_samples.pdf()}
    return seed


def _never_fails(strategy: st.SearchStrategy[schemathesis.Case], headers: dict[str, str], *,
                 force_a_control_character: bool) -> None:
    """Call the operation with each case drawn (25, the same every run): no 5xx, every response
    as documented."""

    @hypothesis.given(case=strategy, data=st.data())
    @hypothesis.settings(max_examples=25, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    def run(case: schemathesis.Case, data: st.DataObject) -> None:
        if force_a_control_character:
            _force_a_control_character(case, data)
        # Schema-valid input can still break a rule the schema cannot express (an authority
        # that does not take part, a cursor not issued by us), so acceptance of every
        # valid-looking request is not demanded; everything else is.
        case.call_and_validate(headers={**headers, **(case.headers or {})},
                               excluded_checks=[checks.positive_data_acceptance])

    run()


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE,
                                  schemathesis.GenerationMode.NEGATIVE,
                                  CONTROL_CHARACTERS_MODE],
                         ids=["valid-input", "invalid-input", CONTROL_CHARACTERS_MODE])
def test_api_never_fails_and_keeps_to_its_document(app: Flask, db_session,  # type: ignore[no-untyped-def]
                                                   mode) -> None:
    """Every operation, with generated input, each called with a real token holding the scopes
    it needs (a referrer's, or a panel's for shared cases): no 5xx, every response as
    documented. ``control-characters``: valid input with a NUL or other control character
    forced into one string (on PostgreSQL, NUL in a text column is an error)."""
    f.authority()
    officer = f.officer(f.authority())
    org = f.organisation()
    issued = f.api_client(org)
    marac = pf.panel("marac")
    shared = pf.marac_case(org)
    pf.share(shared, officer, marac)
    ids = {"referral": str(f.referral(org).id), "withdrawable": str(f.referral(org).id),
           "shared_case": str(shared.id)}
    panel_issued = f.api_client(marac, scopes=("cases:shared",))
    f.db.session.commit()
    http = app.test_client()
    tokens = {("referrals:read", "referrals:write"): f.bearer_headers(http, issued),
              ("cases:shared",): f.bearer_headers(http, panel_issued)}
    uploaded = http.post(f"/api/v1/referrals/{ids['referral']}/documents",
                         data={"file": (io.BytesIO(document_samples.pdf()), "a.pdf")},
                         headers=tokens[("referrals:read", "referrals:write")])
    assert uploaded.status_code == 201, uploaded.json
    ids["document"] = uploaded.json["id"]
    operations = _operations(app)
    assert len(operations) >= 8
    for operation in operations:
        if mode != schemathesis.GenerationMode.POSITIVE and not _has_input(operation):
            continue  # nothing to make invalid (GET /authorities)
        headers = next(token for scopes, token in tokens.items()
                       if _scopes_needed(operation) <= set(scopes))
        if mode == CONTROL_CHARACTERS_MODE:
            positive = schemathesis.GenerationMode.POSITIVE
            seed = _valid_request(operation, ids)
            strategy = operation.as_strategy(positive)  # type: ignore[attr-defined]
            if seed:
                strategy = strategy | operation.as_strategy(positive, **seed)  # type: ignore[attr-defined]
        else:
            strategy = operation.as_strategy(mode)  # type: ignore[attr-defined]

        _never_fails(strategy, headers,
                     force_a_control_character=mode == CONTROL_CHARACTERS_MODE)
