"""503 when the database is down, refuses connections, or is too slow to answer in time.

The request could not be carried out and nothing was changed; trying again later is the right
thing to do, so partners get a problem document and people a GOV.UK "service unavailable"
page, each with ``Retry-After``, rather than a 500 that reads as a fault in what they sent.
"""
from __future__ import annotations

import contextlib
import logging
import sqlite3

from flask import Flask, current_app, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from referral_service.auth import session
from referral_service.extensions import db
from referral_service.problems import problem, wants_json
from referral_service.web.errors import unexpected

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30
# SQLite reports a missing column as an OperationalError too: only these mean "try later".
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error")


def is_unavailable(error: SQLAlchemyError) -> bool:
    """The database could not be reached or answer in time (not a fault in our SQL)."""
    if isinstance(error, PoolTimeout) or getattr(error, "connection_invalidated", False):
        return True
    cause = getattr(error, "orig", None)
    if isinstance(cause, sqlite3.OperationalError):
        return str(cause).lower().startswith(_SQLITE_UNAVAILABLE)
    return True  # psycopg's OperationalError: connection lost or refused, statement timed out


def _database_unavailable(error: SQLAlchemyError) -> ResponseReturnValue:
    if not is_unavailable(error):
        return unexpected(error)
    # Type names only: the error's text holds the statement and its parameters.
    cause = type(getattr(error, "orig", None) or error).__name__
    log.warning("database unavailable (%s): %s", type(error).__name__, cause)
    # The connection may be gone already; the session is removed at teardown either way.
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()
    # The signed-in person's row cannot be read now (after the rollback it would be reloaded
    # for the header): the page is drawn without it, or its own rendering fails into a 500.
    session.unknown_for_this_response()
    if wants_json():
        response = problem(503, "Service Unavailable", "The service cannot reach its database "
                           "just now. Nothing was changed: try again later.")
    else:
        response = current_app.make_response((render_template(
            "error.html", status=503, title="Sorry, the service is unavailable",
            detail="Nothing was changed. You will be able to use the service later."), 503))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def register(app: Flask) -> None:
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(PoolTimeout, _database_unavailable)
