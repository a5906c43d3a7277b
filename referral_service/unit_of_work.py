"""One unit of work per request: a request commits once, at the end, when it succeeded, and
rolls back otherwise (as Indico's request handler does).

Views, the domain and the helpers they call add and flush; none of them commits. When the view
has returned, its response is made and then:

- a success (status below 400, redirects included) is committed, once, before the response
  leaves. A commit that fails (a unique key taken at the last moment, a concurrent change, the
  database gone) raises here, inside Flask's request handling, so the error handlers answer it
  as they answer the same error raised by a view: 409, 503 or 500, never a 200 for a lost write;
- an error status (4xx, 5xx) or an exception is rolled back: a refused request changes nothing.

The one exception is an audited refusal (a refused access to a shared case, a counted failed
sign-in, a rate-limited attempt): the refusal must stay on the record although the response is
an error, so the view calls :func:`commit_refusal` where it refuses, and that is the only other
commit a request makes.

How it hooks into Flask: :class:`App` overrides ``dispatch_request``, the call of the view
inside ``full_dispatch_request``. There, an exception from the commit goes through
``handle_user_exception`` and so through our error handlers, exactly like one from the view;
``after_request`` functions (headers, metrics) still run once, on the final response. An
``after_request`` hook would be too late: its exceptions bypass the error handlers (a bare 500)
and it also runs for the error handlers' own responses. ``before_request`` functions run outside
(they write nothing but the rate limiter's audited refusal, which commits itself). A streamed
response's generator runs after the commit: it may read, never write.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from referral_service.extensions import db

T = TypeVar("T")
# Statuses that count as success: everything below 400 (2xx, and 3xx: the redirect after a POST).
FIRST_ERROR_STATUS = 400


class App(Flask):
    """The Flask application whose every request is one unit of work."""

    def dispatch_request(self) -> ResponseReturnValue:
        try:
            response = self.make_response(super().dispatch_request())
        except BaseException:
            rollback()
            raise
        finish(response)
        return response


def finish(response: Response) -> None:
    """Commit a successful response's work, roll back anything else."""
    if response.status_code >= FIRST_ERROR_STATUS:
        rollback()
        return
    try:
        db.session.commit()
    except BaseException:
        rollback()
        raise


def rollback() -> None:
    # The connection may be gone already (the error being answered says so); the session is
    # removed at teardown either way.
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()


def commit_refusal() -> None:
    """Keep what this request has written so far although it is being refused: the refusal's
    audit event or failure count must stay on the record, and the error response that follows
    rolls back only what comes after. Call it where the request is refused, with a one-line
    reason beside the call."""
    db.session.commit()


def afresh_when(retryable: Callable[[IntegrityError], bool], attempts: int,
                work: Callable[[], T]) -> T:
    """Run ``work``; when it fails on an IntegrityError that ``retryable`` accepts (a value drawn
    at random that another request has just taken), roll everything back and run it afresh, up
    to ``attempts`` times in all. The last failure is raised."""
    attempt = 1
    while True:
        try:
            return work()
        except IntegrityError as error:
            if not retryable(error) or attempt >= attempts:
                raise
        db.session.rollback()
        attempt += 1


def end_read_only_transaction() -> None:
    """End the transaction the request has only read in so far, so that the next statement
    starts a new one (the Idempotency-Key reservation must be its transaction's first write on
    SQLite). Loaded objects stay loaded, which a rollback would expire."""
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("end_read_only_transaction() with changes pending")
    db.session.commit()
