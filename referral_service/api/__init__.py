"""The partner API (``/api/v1``): flask-smorest blueprints over the domain operations.

Errors are RFC 9457 problem documents from the application's one error handler (flask-smorest's
own JSON error handler is not installed), and validation failures are 400 with dotted field names.
"""
from __future__ import annotations

import http
from typing import Any

from flask import Flask, render_template, request, url_for
from flask_smorest import Api as _Api
from flask_smorest.spec import prepare_response

from referral_service.api import authorities, documents, fhir, referrals, shared_cases, webhooks
from referral_service.api.schemas import ProblemSchema
from referral_service.auth import scopes
from referral_service.problems import problem


class Api(_Api):
    PROBLEM_CONTENT_TYPE = "application/problem+json"

    def _openapi_swagger_ui(self) -> Any:
        """``/api/docs``: Swagger UI from our own origin (web/frontend.py serves swagger-ui-dist
        from node_modules) and started by ``static/api-docs.js``, not by flask-smorest's page,
        whose inline script would need a looser Content-Security-Policy."""
        return render_template(
            "api_docs.html", title=self.spec.title,
            spec_url=url_for(f"{self._make_doc_blueprint_name()}.openapi_json"),
            swagger_ui_config=self.config.get("OPENAPI_SWAGGER_UI_CONFIG", {}))

    def _register_error_handlers(self) -> None:
        """The application's handler already answers every error as problem+json."""

    def _register_responses(self) -> None:
        """Document every error response as what it is: an RFC 9457 problem document."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = ProblemSchema
            prepare_response(response, self.spec, self.PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Any error, as a problem document.", "schema": ProblemSchema}
        prepare_response(default, self.spec, self.PROBLEM_CONTENT_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)


api = Api()

API_PREFIX = "/api/v1"
BODY_METHODS = {"POST", "PUT", "PATCH"}


def _json_only() -> Any:
    """415 for a body that is not JSON (an empty body is fine where none is needed)."""
    # Without credentials the answer is 401 (from the view), whatever the body.
    if (request.method not in BODY_METHODS or not request.path.startswith(API_PREFIX)
            or "Authorization" not in request.headers):
        return None
    if getattr(request, "takes_document", False):
        return None  # multipart/form-data, checked by the view once the token is (api/documents)
    if (request.content_length or request.mimetype) and not request.is_json:
        return problem(415, "Unsupported Media Type",
                       "Send the request body as JSON with Content-Type: application/json.")
    return None


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="Duty to Refer referrals",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="v1/openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # flask-smorest registers the page only with a URL; ours is served from node_modules
        # (web/frontend.py), and Api._openapi_swagger_ui renders the page that loads it.
        OPENAPI_SWAGGER_UI_URL="/swagger-ui/",
        API_SPEC_OPTIONS={
            "info": {"description": (
                "Referrals under section 213B of the Housing Act 1996, from public bodies to "
                "the housing authority the person chose. Authenticate with OAuth 2.0 client "
                "credentials at /oauth/token.")},
            "components": {"securitySchemes": {"partnerOAuth": {
                "type": "oauth2",
                "flows": {"clientCredentials": {"tokenUrl": "/oauth/token",
                                                "scopes": dict(scopes.DESCRIPTIONS)}},
            }}},
        },
    )
    api.init_app(app)
    api.register_blueprint(authorities.blp)
    api.register_blueprint(referrals.blp)
    api.register_blueprint(documents.blp)
    api.register_blueprint(shared_cases.blp)
    api.register_blueprint(webhooks.blp)
    api.register_blueprint(fhir.blp)
    fhir.init_app(app, api.spec._paths)
    app.before_request(_json_only)
