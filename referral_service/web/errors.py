"""Errors as people and partner systems expect them: problem+json for the API, pages for people."""
from __future__ import annotations

import logging

from flask import Flask, current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from referral_service.domain.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    TooLarge,
    TransitionRefused,
    UnsupportedType,
    ValidationFailed,
)
from referral_service.extensions import db
from referral_service.problems import FIELD_ERRORS_DETAIL, problem, wants_json
from referral_service.schemas.errors import flatten_errors

log = logging.getLogger(__name__)


DOMAIN_STATUS: list[tuple[type[DomainError], int, str]] = [
    (ValidationFailed, 400, "Bad Request"),
    (NotFound, 404, "Not Found"),
    (PermissionDenied, 403, "Forbidden"),
    (TransitionRefused, 409, "Conflict"),
    (Conflict, 409, "Conflict"),
    (TooLarge, 413, "Content Too Large"),
    (UnsupportedType, 415, "Unsupported Media Type"),
    (DomainError, 422, "Unprocessable Content"),
]


def _field_errors(error: HTTPException) -> dict[str, object]:
    """Validation messages that webargs attached to the error, as dotted field names."""
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if not messages:
        return {}
    flat: dict[str, list[str]] = {}
    for location, located in (messages.items() if isinstance(messages, dict) else []):
        flat.update(flatten_errors(located) if isinstance(located, dict | list) else
                    {location: [str(located)]})
    return {"errors": flat} if flat else {}


def _wait_words(error: HTTPException) -> str:
    """How long to wait, in words: the length of the limit's window (the counter starts again
    within it); ``Retry-After`` carries the exact seconds."""
    limit = getattr(getattr(error, "limit", None), "limit", None)
    seconds = limit.get_expiry() if limit is not None else 60
    if seconds <= 60:
        return "a minute"
    if seconds < 3600:
        return f"{-(-seconds // 60)} minutes"
    if seconds == 3600:
        return "an hour"
    return f"{-(-seconds // 3600)} hours"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        if wants_json():
            fields = _field_errors(error)
            detail = (FIELD_ERRORS_DETAIL if fields else error.description)
            response = problem(status, error.name, detail, **fields)
        elif status == 429:
            response = app.make_response((render_template(
                "error.html", status=status, title="Too many attempts",
                detail=("You have tried this too many times in a short time, so this attempt "
                        "was not carried out and nothing was changed."),
                wait=_wait_words(error)), status))
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

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> ResponseReturnValue:
        """A rule refused the request: the caller's words, never a 500."""
        db.session.rollback()
        status, title = next((code, name) for kind, code, name in DOMAIN_STATUS
                             if isinstance(error, kind))
        if wants_json():
            extra = {"errors": error.errors} if isinstance(error, ValidationFailed) else {}
            return problem(status, title, error.message, **extra)
        return render_template("error.html", status=status, title=title,
                               detail=error.message), status

    @app.errorhandler(StaleDataError)
    def _concurrent_change(error: StaleDataError) -> ResponseReturnValue:
        return _domain_error(Conflict(
            "Someone else changed this record at the same moment. Reload it and try again."))

    app.register_error_handler(Exception, unexpected)


def unexpected(error: Exception) -> ResponseReturnValue:
    """The 500 for anything no other handler answers."""
    # The type and path only: exception text may carry personal data.
    log.error("unhandled %s on %s %s", type(error).__name__, request.method, request.path,
              exc_info=current_app.debug)
    # A failed statement leaves the session unusable (PendingRollbackError): without this
    # the page could not load the signed-in user, and showed the person as signed out.
    _roll_back()
    return current_app.handle_http_exception(InternalServerError())


def _roll_back() -> None:
    try:
        db.session.rollback()
    except SQLAlchemyError:  # the database is gone: the page renders without it
        log.warning("rollback failed before the error page")
