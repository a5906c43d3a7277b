"""Rate limits on the sign-in, password-reset and second-factor pages (form posts), per address
and per account.

Each test has an app of its own with tiny limits (and so counters of its own), on the run's
database inside the test's rolled-back transaction. The session-wide app raises these limits
(conftest), because the whole run signs in from 127.0.0.1.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask

from referral_service import clock
from referral_service.app import create_app
from referral_service.auth import totp
from referral_service.models import AuditEvent, OutboxMessage, PasswordResetToken, User
from tests import factories as f
from tests.web_helpers import csrf_token

ELSEWHERE = {"REMOTE_ADDR": "198.51.100.20"}


@pytest.fixture
def limited(app: Flask, db_session: sa.orm.scoped_session) -> Flask:
    return create_app({
        "TESTING": True, "SECRET_KEY": "test", "PUBLIC_BASE_URL": "http://localhost",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SIGN_IN_RATE_LIMIT": "3 per minute", "SECOND_FACTOR_RATE_LIMIT": "3 per minute",
        "PASSWORD_RESET_RATE_LIMIT": "2 per hour"})


@pytest.fixture
def officer(db_session: sa.orm.scoped_session) -> Iterator[User]:
    user = f.officer(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    yield user


def actions(user: User) -> list[str]:
    return list(f.db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.subject_id == str(user.id)).order_by(AuditEvent.occurred_at)))


def password(http: Any, user: User, words: str, **environ: str) -> Any:
    return http.post("/sign-in", data={"email": user.email, "password": words,
                                       "csrf_token": csrf_token(http)},
                     environ_base=environ)


def assert_refused_page(response: Any) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    html = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert '<h1 class="govuk-heading-l">Too many attempts</h1>' in html
    assert "nothing was changed" in html
    assert "Wait a minute, then try again." in html or "Wait an hour, then try again." in html
    assert "govuk-template" in html  # the service's GOV.UK layout, not a bare error


def test_refused_passwords_from_one_address_are_stopped_and_change_nothing(
        limited: Flask, officer: User) -> None:
    http = limited.test_client()
    for _ in range(3):
        assert password(http, officer, "wrong wrong wrong").status_code == 400
    f.db.session.refresh(officer)
    failures, locked = officer.failed_sign_ins, officer.locked_until
    assert failures == 3

    refused = password(http, officer, f.PASSWORD)  # even the right one is not checked
    assert_refused_page(refused)
    assert "reset it" in refused.get_data(as_text=True)
    assert http.get("/account").status_code == 302  # not signed in
    f.db.session.refresh(officer)
    assert (officer.failed_sign_ins, officer.locked_until) == (failures, locked)
    assert "user.signed_in" not in actions(officer)
    assert actions(officer).count("user.sign_in_rate_limited") == 1
    event = f.db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "user.sign_in_rate_limited")).one()
    assert event.details == {"page": "sign_in", "limit": "3 per 1 minute"}
    assert event.ip_address == "127.0.0.1"

    # The page itself still opens; another address is counted on its own (this account is now
    # refused from anywhere: it has its own count, see below).
    assert http.get("/sign-in").status_code == 200
    colleague = f.officer(officer.authority, password=f.PASSWORD)
    f.db.session.commit()
    assert password(limited.test_client(), colleague, f.PASSWORD, **ELSEWHERE).status_code == 302
    assert password(limited.test_client(), officer, f.PASSWORD, **ELSEWHERE).status_code == 429
    # The window passes: the first address may try again.
    with time_machine.travel(clock.now() + timedelta(minutes=2)):
        assert password(http, officer, f.PASSWORD).status_code == 302


def test_refused_passwords_at_one_account_are_stopped_from_any_address(
        limited: Flask, officer: User) -> None:
    """Guesses spread over many addresses still meet a limit per account, before the lock."""
    for n in range(3):
        assert password(limited.test_client(), officer, "wrong wrong wrong",
                        REMOTE_ADDR=f"198.51.100.{40 + n}").status_code == 400
    refused = password(limited.test_client(), officer, f.PASSWORD, REMOTE_ADDR="198.51.100.50")
    assert_refused_page(refused)
    f.db.session.refresh(officer)
    assert (officer.failed_sign_ins, officer.locked_until) == (3, None)  # not checked
    assert actions(officer).count("user.sign_in_rate_limited") == 1
    # The email is the key in any spelling; another account from that address is not stopped.
    assert password(limited.test_client(), officer, f.PASSWORD,
                    REMOTE_ADDR="198.51.100.51").status_code == 429
    other = f.officer(officer.authority, password=f.PASSWORD)
    f.db.session.commit()
    assert password(limited.test_client(), other, f.PASSWORD,
                    REMOTE_ADDR="198.51.100.50").status_code == 302


def test_sign_ins_that_succeed_are_not_counted(limited: Flask, officer: User) -> None:
    """A council office behind one address signing in at nine is not someone guessing."""
    for _ in range(5):
        assert password(limited.test_client(), officer, f.PASSWORD).status_code == 302


def test_second_factor_codes_are_limited(limited: Flask, officer: User) -> None:
    secret = totp.begin_enrolment(officer)
    officer.totp_confirmed_at = clock.now()
    f.db.session.commit()
    http = limited.test_client()
    assert password(http, officer, f.PASSWORD).headers["Location"] == "/sign-in/code"

    def code(value: str) -> Any:
        return http.post("/sign-in/code", data={
            "code": value, "csrf_token": csrf_token(http, "/sign-in/code")})

    for _ in range(3):
        assert code("000000").status_code == 400
    refused = code(pyotp.TOTP(secret).now())
    assert_refused_page(refused)
    assert http.get("/account").status_code == 302
    f.db.session.refresh(officer)
    assert officer.totp_last_step is None  # the right code was never checked, so not used up
    assert actions(officer).count("user.sign_in_rate_limited") == 1
    assert "user.signed_in" not in actions(officer)


def test_second_factor_codes_at_one_account_are_limited_from_any_address(
        limited: Flask, officer: User) -> None:
    secret = totp.begin_enrolment(officer)
    officer.totp_confirmed_at = clock.now()
    f.db.session.commit()

    def half_signed_in(address: str) -> Any:
        http = limited.test_client()
        assert password(http, officer, f.PASSWORD, REMOTE_ADDR=address).headers[
            "Location"] == "/sign-in/code"
        return http

    def code(http: Any, value: str, address: str) -> Any:
        return http.post("/sign-in/code", data={
            "code": value, "csrf_token": csrf_token(http, "/sign-in/code")},
            environ_base={"REMOTE_ADDR": address})

    for n in range(3):
        address = f"198.51.100.{60 + n}"
        assert code(half_signed_in(address), "000000", address).status_code == 400
    http = half_signed_in("198.51.100.70")
    assert_refused_page(code(http, pyotp.TOTP(secret).now(), "198.51.100.70"))
    f.db.session.refresh(officer)
    assert officer.totp_last_step is None  # the right code was not checked
    assert "user.signed_in" not in actions(officer)


def test_reset_requests_are_limited_by_address_and_by_the_address_asked_about(
        limited: Flask, officer: User) -> None:
    other = f.officer(officer.authority, password=f.PASSWORD)
    f.db.session.commit()

    def ask(email: str, **environ: str) -> Any:
        http = limited.test_client()
        return http.post("/password-reset", data={
            "email": email, "csrf_token": csrf_token(http, "/password-reset")},
            environ_base=environ)

    def links(user: User) -> int:
        return f.db.session.scalar(sa.select(sa.func.count()).select_from(PasswordResetToken)
                                   .where(PasswordResetToken.user_id == user.id)) or 0

    def emails() -> int:
        return f.db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                   .where(OutboxMessage.event == "password_reset")) or 0

    assert ask(officer.email).status_code == 302
    assert ask(other.email).status_code == 302
    sent = emails()
    refused = ask(other.email)  # a third request from this address, whatever it names
    assert_refused_page(refused)
    assert (links(other), emails()) == (1, sent)
    # From elsewhere, each account may still be asked about until it has been asked twice.
    assert ask(officer.email, **ELSEWHERE).status_code == 302
    assert_refused_page(ask(officer.email, REMOTE_ADDR="198.51.100.21"))
    assert links(officer) == 2 and emails() == sent + 1
    assert actions(officer).count("user.sign_in_rate_limited") == 1
    # Asked about in another spelling, it is the same account.
    assert ask(officer.email.upper(), REMOTE_ADDR="198.51.100.22").status_code == 429
    # An empty form is answered by the page, not by the email limit.
    assert ask("", REMOTE_ADDR="198.51.100.23").status_code == 400


def test_the_api_limit_is_untouched_by_these(limited: Flask) -> None:
    assert limited.config["API_RATE_LIMIT"] == "600 per minute"
    assert limited.config["TOKEN_RATE_LIMIT"] == "60 per minute"


def test_the_defaults_are_tight(tmp_path: Any) -> None:
    from referral_service import config

    settings = config.load(tmp_path, {})
    assert settings["SIGN_IN_RATE_LIMIT"] == "10 per minute"
    assert settings["SECOND_FACTOR_RATE_LIMIT"] == "10 per minute"
    assert settings["PASSWORD_RESET_RATE_LIMIT"] == "5 per hour"
    assert config.load(tmp_path, {"SIGN_IN_RATE_LIMIT": "20 per minute"})[
        "SIGN_IN_RATE_LIMIT"] == "20 per minute"
