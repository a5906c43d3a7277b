"""The development outbox page cannot be used to take over an account (issue 12, item 1): it is
off unless switched on, never in production (an unknown APP_ENV is production), only for
administrators, and it never shows a reset link; the outbox row itself never holds one."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from integrations.providers import email_sender, sms_sender
from referral_service import config
from referral_service.app import create_app
from referral_service.domain import admin
from referral_service.extensions import db
from referral_service.models import MessageStatus, OutboxMessage, PasswordResetToken, User
from tests import factories as f
from tests.emailed import Post, post  # noqa: F401 - the fixture
from tests.web_helpers import csrf_token, sign_in

LINK = re.compile(r"http://localhost(/password-reset/[A-Za-z0-9_-]+)")


def _administrator() -> User:
    return admin.create_user(email="admin@council.example", name="Ada Admin", role="admin",
                             password=f.PASSWORD, actor=f.ACTOR).record


def _ask_for_reset(client, user: User) -> None:  # type: ignore[no-untyped-def]
    asked = client.post("/password-reset", data={"email": user.email,
                                                 "csrf_token": csrf_token(client)})
    assert asked.headers["Location"] == "/password-reset/sent"


def test_the_outbox_page_does_not_hand_out_a_team_leaders_reset_link(app, client) -> None:  # type: ignore[no-untyped-def]
    leader = f.team_leader(f.authority(), password=f.PASSWORD)
    administrator = _administrator()
    f.db.session.commit()
    _ask_for_reset(client, leader)

    anonymous = app.test_client().get("/dev/outbox")
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]
    assert "password-reset/" not in anonymous.get_data(as_text=True)

    sign_in(client, leader)
    assert client.get("/dev/outbox").status_code == 403  # staff, but not an administrator

    as_admin = app.test_client()
    sign_in(as_admin, administrator)
    page = as_admin.get("/dev/outbox").get_data(as_text=True)
    assert "Reset your password" in page and leader.email in page
    assert "password reset link: sent in the email, never shown" in page
    assert "/password-reset/" not in page


def test_the_reset_works_by_email_and_the_sent_row_holds_no_working_link(
        app, client, post: Post) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    leader = f.team_leader(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    _ask_for_reset(client, leader)

    [email] = post.send_queued(event="password_reset", to_address=leader.email)
    found = LINK.search(email)
    assert found, email
    link = found.group(1)
    secret = link.rsplit("/", 1)[1]
    row = f.db.session.query(OutboxMessage).filter_by(event="password_reset").one()
    f.db.session.refresh(row)
    assert row.status is MessageStatus.SENT and row.template == "password_reset"
    # Neither the row nor the token table (a database dump) holds the link or its secret.
    stored = " ".join(str(value) for value in (row.subject, row.body, row.status_reason,
                                               row.provider_id, row.provider_status))
    assert secret not in stored and "/password-reset/" not in stored
    token = f.db.session.query(PasswordResetToken).filter_by(user_id=leader.id).one()
    assert secret not in token.token_hash

    done = client.post(link, data={"password": "a new long password",
                                   "confirm": "a new long password",
                                   "csrf_token": csrf_token(client, link)})
    assert done.headers["Location"] == "/password-reset/done"
    assert sign_in(app.test_client(), leader, "a new long password").status_code == 302


def _app(**settings: object) -> Flask:
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       "SECRET_KEY": "x" * 40, **settings})


def _outbox_status(app: Flask) -> int:
    try:
        return app.test_client().get("/dev/outbox").status_code
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_outbox_page_is_off_unless_switched_on(tmp_path: Path) -> None:
    assert config.load(tmp_path, environ={})["DEV_OUTBOX_ENABLED"] is False
    assert config.load(tmp_path, environ={"DEV_OUTBOX": "on"})["DEV_OUTBOX_ENABLED"] is True
    assert _outbox_status(_app(DEV_OUTBOX_ENABLED=False)) == 404
    # Switched on, but a provider is configured: the page does not exist either.
    assert _outbox_status(_app(DEV_OUTBOX_ENABLED=True, SMTP_HOST="127.0.0.1",
                               MAIL_FROM="referrals@council.example.gov.uk")) == 404


@pytest.mark.parametrize("named", ["staging", "Production", "prod", "live"])
def test_an_unknown_app_env_counts_as_production(tmp_path: Path, named: str) -> None:
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.load(tmp_path, environ={"APP_ENV": named, "DEV_OUTBOX": "on"})
    settings = config.load(tmp_path, environ={"APP_ENV": named, "DEV_OUTBOX": "on",
                                              "SECRET_KEY": "s" * 40})
    assert settings["APP_ENV"] == "production"
    assert settings["DEV_OUTBOX_ENABLED"] is False and settings["SESSION_COOKIE_SECURE"] is True
    with pytest.raises(RuntimeError, match="SMS is not configured"):
        sms_sender(settings)
    with pytest.raises(RuntimeError, match="Email is not configured"):
        email_sender(settings)
    assert _outbox_status(_app(APP_ENV=named, DEV_OUTBOX_ENABLED=True)) == 404


def test_development_and_test_are_the_only_other_environments(tmp_path: Path) -> None:
    for named, expected in (("", "development"), ("development", "development"),
                            ("test", "test"), (" Test ", "test")):
        settings = config.load(tmp_path, environ={"APP_ENV": named, "DEV_OUTBOX": "on"})
        assert settings["APP_ENV"] == expected and settings["DEV_OUTBOX_ENABLED"] is True


def test_the_demo_switches_the_outbox_on_but_not_in_production() -> None:
    assert config.demo_settings({}) == {"DEV_OUTBOX_ENABLED": True}
    assert config.demo_settings({"APP_ENV": "staging"}) == {"DEV_OUTBOX_ENABLED": False}


def test_serve_refuses_to_start_with_no_provider_and_no_dev_outbox(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from referral_service.cli import main

    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "")  # FlaskGroup sets it; monkeypatch puts it back
    app = _app(BROKER_URL="embedded", DEV_OUTBOX_ENABLED=False,
               SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'serve.db'}")
    try:
        result = CliRunner().invoke(main, ["serve", "--port", "1"], obj=ScriptInfo(
            create_app=lambda: app, set_debug_flag=False))
        assert result.exit_code == 1
        assert "SMS is not configured (DEV_OUTBOX not on needs Twilio" in result.output
    finally:
        with app.app_context():
            db.engine.dispose()
