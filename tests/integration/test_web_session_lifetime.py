"""A web session ends a fixed time after signing in, however busy it is: the cookie's own
lifetime (SESSION_LIFETIME_SECONDS) is renewed by every request and so ends only idle ones."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
import time_machine
from flask import Flask

from referral_service import clock, config
from referral_service.app import create_app
from tests import factories as f
from tests.web_helpers import sign_in


def test_a_busy_session_ends_twelve_hours_after_signing_in(client) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    start = clock.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, officer)
    for hours in (4, 8, 11.9):  # a page every few hours keeps the idle lifetime from ending it
        with time_machine.travel(start + timedelta(hours=hours), tick=False):
            assert client.get("/account").status_code == 200

    with time_machine.travel(start + timedelta(hours=12), tick=False):
        ended = client.get("/account")
        assert ended.status_code == 302
        assert ended.headers["Location"] == "/sign-in?next=/account"
        page = client.get(ended.headers["Location"])
        assert page.status_code == 200
        assert ("You have been signed out because you signed in more than 12 hours ago. "
                "Sign in again.") in page.text
        assert client.get("/account").status_code == 302  # the session is gone, not just hidden
        assert sign_in(client, officer).status_code == 302  # and a new sign-in starts afresh
        assert client.get("/account").status_code == 200


def test_the_lifetime_is_configurable(app: Flask, db_session: sa.orm.scoped_session,
                                      tmp_path: Path) -> None:
    assert config.load(tmp_path, {})["SESSION_ABSOLUTE_LIFETIME"] == 12 * 3600
    assert config.load(tmp_path, {"SESSION_ABSOLUTE_LIFETIME_SECONDS": "1800"})[
        "SESSION_ABSOLUTE_LIFETIME"] == 1800
    short = create_app({"TESTING": True, "SECRET_KEY": "test", "PUBLIC_BASE_URL": "http://localhost",
                        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "SESSION_ABSOLUTE_LIFETIME": 1800})
    officer = f.officer(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    http = short.test_client()
    start = clock.now()
    with time_machine.travel(start, tick=False):
        sign_in(http, officer)
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert http.get("/account").status_code == 200
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        assert http.get("/account").status_code == 302
        assert "signed in more than 30 minutes ago" in http.get("/sign-in").text
