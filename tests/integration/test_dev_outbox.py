"""The development outbox page cannot be used to take over an account (issue 12, item 1): it is
off unless switched on, never in production (an unknown APP_ENV is production), only for
administrators, and it never shows a reset link; the outbox row itself never holds one."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from integrations.providers import email_sender, sms_sender
from referral_service import config, create_app
from referral_service.extensions import db


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
