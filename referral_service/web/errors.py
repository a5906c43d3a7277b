"""Errors as people and partner systems expect them: problem+json for the API, pages for people."""
from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/oauth/", "/webhooks/")) or (
        request.accept_mimetypes.best == "application/json"
    )


def problem(status: int, title: str, detail: str | None = None, **extra: object) -> Response:
    """An RFC 9457 problem document."""
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        if wants_json():
            response = problem(status, error.name, error.description)
        else:
            response = app.make_response(
                (render_template("error.html", status=status, title=error.name,
                                 detail=error.description), status)
            )
        # Keep headers such as Allow (405) and Retry-After (429) that the error carried.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        # The type and path only: exception text may carry personal data.
        log.error("unhandled %s on %s %s", type(error).__name__, request.method, request.path,
                  exc_info=app.debug)
        return _http_error(InternalServerError())
