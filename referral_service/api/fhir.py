"""``/api/fhir``: FHIR R4 for NHS systems (docs/fhir.md).

A ServiceRequest (create, ``POST /api/fhir/ServiceRequest``) or a transaction Bundle
(``POST /api/fhir``) is mapped to the payload of ``POST /api/v1/referrals`` and made through the
very same schema, intake and Idempotency-Key handling, so a FHIR referral is indistinguishable
from a JSON one once received. Every error on these paths is an OperationOutcome.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Flask, Response, request
from marshmallow import ValidationError

from referral_service.api import referrals
from referral_service.api.blueprint import Blueprint, has_lone_surrogate
from referral_service.auth import scopes
from referral_service.auth.bearer import require_scope
from referral_service.domain.errors import ValidationFailed
from referral_service.fhir import intake as fhir_intake
from referral_service.fhir import outcomes, resources
from referral_service.fhir.outcomes import FhirRefused, Issue
from referral_service.schemas.errors import flatten_errors

PREFIX = "/api/fhir"
FHIR_JSON = "application/fhir+json"
ACCEPTED_TYPES = (FHIR_JSON, "application/json")

blp = Blueprint("fhir", __name__, url_prefix=PREFIX,
                description="FHIR R4 (application/fhir+json) for NHS systems: make a referral "
                            "as a ServiceRequest and follow it as a Task. See docs/fhir.md.")

_RESOURCE = {"type": "object", "required": ["resourceType"],
             "properties": {"resourceType": {"type": "string"}}}
_OUTCOME_DOC = {"description": "An OperationOutcome: each issue's expression is the FHIR path "
                               "to fix.",
                "content": {FHIR_JSON: {"schema": _RESOURCE}}}
_IDEMPOTENCY = {"in": "header", "name": "Idempotency-Key", "required": False,
                "schema": {"type": "string", "maxLength": 255},
                "description": "As on POST /api/v1/referrals: the same key and body return the "
                               "original referral; another body is 409."}


def _write_doc(body: str, status: str, answer: str, headers: tuple[str, ...]
               ) -> dict[str, Any]:
    """The OpenAPI description of a POST that makes a referral from a FHIR document."""
    content = {FHIR_JSON: {"schema": _RESOURCE}}
    return {"requestBody": {"required": True, "description": body, "content": content},
            "parameters": [_IDEMPOTENCY],
            "responses": {status: {"description": answer, "content": content, "headers": {
                name: {"schema": {"type": "string"}} for name in headers}}}}


def fhir_response(resource: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> Response:
    return Response(resource.model_dump_json(exclude_none=True), status=status,
                    headers=headers or {}, mimetype=FHIR_JSON)


def _read_body() -> Any:
    """The request's JSON: 415 unless FHIR JSON (or plain JSON), 413 past the size limit."""
    if request.mimetype not in ACCEPTED_TYPES:
        raise FhirRefused(415, [Issue(f"Send the resource as {FHIR_JSON}.", None,
                                      "not-supported")])
    try:
        document = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise FhirRefused(400, [Issue("The body is not valid JSON text.", None,
                                      "structure")]) from None
    if has_lone_surrogate(document):
        raise FhirRefused(400, [Issue("The body is not valid Unicode text.", None, "structure")])
    return document


def _make(mapped: fhir_intake.Mapped, root: str) -> tuple[Any, bool]:
    """Load the mapped payload with the JSON API's schema and make the referral there; each
    refusal named by the FHIR path the field came from (422)."""
    try:
        data = referrals.SUBMISSION.load(mapped.payload)
        return referrals.receive(data)
    except ValidationError as error:
        errors = flatten_errors(error.messages)
    except ValidationFailed as error:
        if any(not mapped.expression_for(key, "") for key in error.errors):
            raise  # not about the document (the Idempotency-Key header): a 400 as on /api/v1
        errors = error.errors
    raise FhirRefused(422, [Issue(message, mapped.expression_for(key, root))
                            for key, messages in errors.items() for message in messages])


def _created_headers(referral_id: uuid.UUID, replayed: bool) -> dict[str, str]:
    headers = {"Location": f"{PREFIX}/ServiceRequest/{referral_id}",
               "Link": f'<{PREFIX}/Task/{referral_id}>; rel="related"'}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return headers


@blp.route("/ServiceRequest", methods=["POST"])
@require_scope(scopes.REFERRALS_WRITE)
@blp.doc(**_write_doc(
    "A ServiceRequest with its Patient, Consent and requester contained (docs/fhir.md).",
    "201", "The ServiceRequest made; the Task that follows it has the same id (Link header).",
    ("Location", "Link")))
def create_service_request() -> Any:
    """Make a referral as a FHIR ServiceRequest (scope referrals:write)."""
    mapped = fhir_intake.from_service_request(_read_body())
    referral, replayed = _make(mapped, "ServiceRequest")
    return fhir_response(resources.service_request(referral), 201,
                         _created_headers(referral.id, replayed))


@blp.route("", methods=["POST"])
@require_scope(scopes.REFERRALS_WRITE)
@blp.doc(**_write_doc(
    "A Bundle of type transaction: one ServiceRequest with its Patient, Consent and requester "
    "as entries (docs/fhir.md).",
    "200", "A Bundle of type transaction-response: one entry per request entry.", ("Link",)))
def transaction() -> Any:
    """Make a referral from a FHIR transaction Bundle (scope referrals:write)."""
    mapped = fhir_intake.from_transaction(_read_body())
    referral, replayed = _make(mapped, "Bundle")
    headers = _created_headers(referral.id, replayed)
    del headers["Location"]  # a transaction answers 200 with each entry's location
    return fhir_response(resources.transaction_response(referral, mapped.entry_types), 200,
                         headers)


_READ_DOC = {"200": {"description": "The resource.", "content": {FHIR_JSON: {"schema": _RESOURCE}}}}


@blp.route("/ServiceRequest/<uuid:referral_id>", methods=["GET"])
@require_scope(scopes.REFERRALS_READ)
@blp.doc(responses=_READ_DOC)
def read_service_request(referral_id: uuid.UUID) -> Any:
    """One of your organisation's referrals as a ServiceRequest (404 for anyone else's)."""
    return fhir_response(resources.service_request(referrals.own_referral(referral_id)))


@blp.route("/Task/<uuid:referral_id>", methods=["GET"])
@require_scope(scopes.REFERRALS_READ)
@blp.doc(responses=_READ_DOC)
def read_task(referral_id: uuid.UUID) -> Any:
    """Where one of your referrals has got to, as a FHIR Task (404 for anyone else's)."""
    return fhir_response(resources.task(referrals.own_referral(referral_id)))


@blp.route("/metadata", methods=["GET"])
@blp.doc(responses=_READ_DOC, security=[])
def metadata() -> Any:
    """The CapabilityStatement: what these FHIR endpoints do. Public, as FHIR's RESTful API
    expects: an integration engine reads it to learn how to get a token before it has one."""
    return fhir_response(resources.capability_statement(PREFIX))


def _refused(error: FhirRefused) -> Response:
    # The request's unit of work rolls back what the refused referral wrote (an Idempotency-Key).
    return fhir_response(outcomes.outcome(error.status, error.issues), error.status)


def _as_operation_outcome(response: Response) -> Response:
    """Every other error on these paths (401 and 403 from the bearer layer, 404, 405, 409,
    413, 429, 503...) is written as a problem document first: rewrite it in FHIR's words,
    keeping its status and headers (WWW-Authenticate, Retry-After)."""
    if not request.path.startswith(PREFIX) or response.mimetype != "application/problem+json":
        return response
    problem = json.loads(response.get_data())
    response.set_data(outcomes.from_problem(problem).model_dump_json(exclude_none=True))
    response.mimetype = FHIR_JSON
    return response


def _document_errors_as_operation_outcomes(spec_paths: dict[str, Any]) -> None:
    """flask-smorest documents every error as a problem document; on these paths it is an
    OperationOutcome (application/fhir+json)."""
    for path, operations in spec_paths.items():
        if not path.startswith(PREFIX):
            continue
        for operation in operations.values():
            if not isinstance(operation, dict):  # the path's own "parameters"
                continue
            responses = operation.get("responses", {})
            for status in list(responses):
                if status == "default" or status[0] in "45":
                    described = responses[status].get("description") if isinstance(
                        responses[status], dict) else None
                    responses[status] = {**_OUTCOME_DOC,
                                         "description": described or _OUTCOME_DOC["description"]}


def init_app(app: Flask, spec_paths: dict[str, Any]) -> None:
    app.register_error_handler(FhirRefused, _refused)
    app.after_request(_as_operation_outcome)
    _document_errors_as_operation_outcomes(spec_paths)
