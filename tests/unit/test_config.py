"""Configuration comes from the environment only, with the embedded default when it is empty."""
from __future__ import annotations

import stat

import pytest

from referral_service import config


def test_empty_environment_is_the_embedded_default(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = config.load(tmp_path, environ={})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'referrals.db'}"
    assert settings["BROKER_URL"] == "embedded"
    assert settings["PUBLIC_BASE_URL"] == "http://localhost:5000"
    assert settings["DEV_OUTBOX_ENABLED"] is False  # only when asked for (DEV_OUTBOX=on)
    assert settings["MAX_CONTENT_LENGTH"] == 64 * 1024


def test_generated_secret_key_is_kept_private_and_reused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = config.load(tmp_path, environ={})["SECRET_KEY"]
    second = config.load(tmp_path, environ={})["SECRET_KEY"]
    assert first == second and len(str(first)) >= 40
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_production_needs_a_secret_key_and_has_no_dev_outbox(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.load(tmp_path, environ={"APP_ENV": "production"})
    settings = config.load(tmp_path, environ={"APP_ENV": "production", "SECRET_KEY": "s" * 40,
                                              "DEV_OUTBOX": "on"})
    assert settings["DEV_OUTBOX_ENABLED"] is False
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("given", [
    "postgres://u@db/referrals", "postgresql://u@db/referrals", "postgresql+psycopg://u@db/referrals",
])
def test_postgres_urls_use_psycopg3(tmp_path, given: str) -> None:  # type: ignore[no-untyped-def]
    settings = config.load(tmp_path, environ={"DATABASE_URL": given})
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/referrals"


def test_environment_values_are_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = config.load(tmp_path, environ={
        "BROKER_URL": "redis://127.0.0.1:6379/0", "PUBLIC_BASE_URL": "https://dtr.example/",
        "SMTP_PORT": "2525", "SMTP_STARTTLS": "false", "TWILIO_ACCOUNT_SID": "AC123"})
    assert settings["BROKER_URL"] == "redis://127.0.0.1:6379/0"
    assert settings["PUBLIC_BASE_URL"] == "https://dtr.example"
    assert settings["SMTP_PORT"] == 2525 and settings["SMTP_STARTTLS"] is False
    assert settings["TWILIO_ACCOUNT_SID"] == "AC123"


def test_only_config_reads_the_environment() -> None:
    """House rule: settings come from config.py alone, so they can be found and overridden."""
    from pathlib import Path

    root = Path(config.__file__).parent
    readers = [str(p.relative_to(root)) for p in root.rglob("*.py")
               if p.name != "config.py" and ("os.environ" in p.read_text()
                                              or "os.getenv" in p.read_text())]
    assert readers == []


def test_proxies_and_database_time_limits_are_whole_numbers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = config.load(tmp_path, environ={})
    assert settings["TRUSTED_PROXIES"] == 0
    assert (settings["DATABASE_CONNECT_TIMEOUT"], settings["DATABASE_STATEMENT_TIMEOUT"]) == (5, 30)
    settings = config.load(tmp_path, environ={"TRUSTED_PROXIES": "2",
                                              "DATABASE_CONNECT_TIMEOUT": "3"})
    assert settings["TRUSTED_PROXIES"] == 2 and settings["DATABASE_CONNECT_TIMEOUT"] == 3
    for name, value in (("TRUSTED_PROXIES", "one"), ("TRUSTED_PROXIES", "-1"),
                        ("DATABASE_CONNECT_TIMEOUT", "0"), ("DATABASE_STATEMENT_TIMEOUT", "2.5")):
        with pytest.raises(RuntimeError, match=f"{name} must be a whole number"):
            config.load(tmp_path, environ={name: value})


def test_retention_settings_have_defaults_and_refuse_nonsense(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = config.load(tmp_path, environ={})
    assert (settings["OAUTH_TOKEN_RETENTION_DAYS"], settings["IDEMPOTENCY_KEY_RETENTION_DAYS"],
            settings["PURGE_BATCH_SIZE"]) == (7, 7, 1000)
    assert config.load(tmp_path, environ={"PURGE_BATCH_SIZE": "50"})["PURGE_BATCH_SIZE"] == 50
    for name, value in (("OAUTH_TOKEN_RETENTION_DAYS", "0"), ("PURGE_BATCH_SIZE", "lots"),
                        ("IDEMPOTENCY_KEY_RETENTION_DAYS", "-3")):
        with pytest.raises(RuntimeError, match=name):
            config.load(tmp_path, environ={name: value})


def test_document_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    default = config.load(tmp_path, environ={})
    assert default["DOCUMENT_STORE"] == "local"
    assert default["DOCUMENTS_DIR"] == str(tmp_path / "documents")
    assert default["CLAMD_SOCKET"] is None and default["CLAMD_TIMEOUT_SECONDS"] == 30.0
    given = config.load(tmp_path, environ={"DOCUMENTS_DIR": "/srv/documents",
                                           "CLAMD_SOCKET": "/run/clamav/clamd.ctl",
                                           "CLAMD_TIMEOUT_SECONDS": "5"})
    assert given["DOCUMENTS_DIR"] == "/srv/documents"
    assert given["CLAMD_SOCKET"] == "/run/clamav/clamd.ctl"
    assert given["CLAMD_TIMEOUT_SECONDS"] == 5.0
    with pytest.raises(RuntimeError, match="CLAMD_TIMEOUT_SECONDS"):
        config.load(tmp_path, environ={"CLAMD_TIMEOUT_SECONDS": "soon"})


def test_an_unknown_document_store_stops_the_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from referral_service.app import create_app

    with pytest.raises(RuntimeError, match="DOCUMENT_STORE"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "t",
                    "DOCUMENT_STORE": "s3"})
