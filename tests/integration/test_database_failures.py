"""When the database refuses a statement (issue 12): no personal data in what is raised or
logged, and the error page still renders for the person signed in."""
from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from referral_service.app import create_app
from referral_service.extensions import db
from tests.support_live import UNLIMITED
from tests.web_helpers import make_team, sign_in

PERSONAL = "Aoife O'Neill 07700 900123"


@pytest.fixture
def team(db_session):  # type: ignore[no-untyped-def]
    made = make_team()
    db_session.commit()
    return made


def test_a_failing_statement_carries_no_parameter_values(app: Flask, db_session) -> None:  # type: ignore[no-untyped-def]
    """The exception's text is what reaches a log (ours, gunicorn's, an error tracker's)."""
    with pytest.raises(DBAPIError) as failed:
        db_session.execute(text("SELECT no_such_column FROM users WHERE email = :email"),
                           {"email": PERSONAL})
    db_session.rollback()
    assert PERSONAL not in str(failed.value)
    assert "hide_parameters" in str(failed.value)  # SQLAlchemy says they were left out


@pytest.fixture
def failing_app(app: Flask, db_session) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """The app with one more page whose query the database refuses (a real database error)."""
    application = create_app({"TESTING": True, "SECRET_KEY": "test", **UNLIMITED,
                              "PUBLIC_BASE_URL": "http://localhost",
                              "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})

    def fails() -> str:
        db.session.execute(text("SELECT no_such_column FROM users WHERE email = :email"),
                           {"email": PERSONAL})
        return "not reached"

    application.add_url_rule("/casework/fails", view_func=fails)
    yield application
    with application.app_context():
        db.engine.dispose()


def test_the_error_page_after_a_database_failure_shows_the_signed_in_layout(
        failing_app: Flask, team, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    client = failing_app.test_client()
    sign_in(client, team.officer)
    with caplog.at_level(logging.DEBUG):
        response = client.get("/casework/fails")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    # Before the rollback the user could not be loaded (PendingRollbackError): signed out.
    assert "Internal Server Error" in html and "Jo Smith" in html and "Sign out" in html
    assert PERSONAL not in caplog.text
