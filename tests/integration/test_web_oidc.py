"""Sign-in through an external OpenID Connect provider: authlib's real Flask client against a
fake provider on a local port (discovery, JWKS, token endpoint, signed id_token)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from flask import Flask

from referral_service import clock
from referral_service.app import create_app
from referral_service.auth import totp
from referral_service.models import AuditEvent, User
from tests import factories as f
from tests.fakes.oidc import CLIENT_ID, CLIENT_SECRET


@pytest.fixture
def oidc_app(app: Flask, fake_oidc, db_session) -> Flask:  # type: ignore[no-untyped-def]
    configured = create_app({
        "TESTING": True, "SECRET_KEY": "test", "PUBLIC_BASE_URL": "http://localhost",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "OIDC_ISSUER": fake_oidc.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_PROVIDER_NAME": "Welwyn Hatfield Entra ID"})
    return configured


def _through_provider(http, fake) -> object:  # type: ignore[no-untyped-def]
    """Our /sign-in/oidc → the provider's /authorize (a real HTTP call) → back to our callback."""
    start = http.get("/sign-in/oidc?next=/account")
    assert start.status_code == 302
    authorize = start.headers["Location"]
    assert authorize.startswith(fake.issuer + "/authorize")
    query = parse_qs(urlparse(authorize).query)
    assert query["scope"] == ["openid email profile"] and query["nonce"][0]
    answer = requests.get(authorize, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = urlparse(answer.headers["Location"])
    assert back.path == "/sign-in/oidc/callback"
    return http.get(f"{back.path}?{back.query}")


def test_sign_in_through_the_provider_matches_the_account_by_email(oidc_app, fake_oidc) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(f.authority(), password=None)
    f.db.session.commit()
    fake_oidc.login_as = officer.email.upper()
    http = oidc_app.test_client()
    assert "Sign in with Welwyn Hatfield Entra ID" in http.get("/sign-in").text
    done = _through_provider(http, fake_oidc)
    assert done.status_code == 302 and done.headers["Location"] == "/account"
    assert officer.email in http.get("/account").text
    assert fake_oidc.token_requests and fake_oidc.token_requests[0]["grant_type"] == (
        "authorization_code")
    event = f.db.session.query(AuditEvent).filter_by(action="user.signed_in",
                                                     subject_id=str(officer.id)).one()
    assert event.details["method"] == "oidc"


def test_an_address_with_no_account_is_refused(oidc_app, fake_oidc) -> None:  # type: ignore[no-untyped-def]
    fake_oidc.login_as = "stranger@welhat.example"
    http = oidc_app.test_client()
    done = _through_provider(http, fake_oidc)
    assert done.status_code == 400 and "There is no account for that email" in done.text
    assert http.get("/account").status_code == 302


def test_an_unverified_address_is_refused(oidc_app, fake_oidc) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(f.authority())
    f.db.session.commit()
    fake_oidc.login_as, fake_oidc.email_verified = officer.email, False
    done = _through_provider(oidc_app.test_client(), fake_oidc)
    assert done.status_code == 400 and "not verified" in done.text


@pytest.mark.parametrize("tamper", ["unknown_key", "other_audience"])
def test_an_id_token_that_does_not_check_out_is_refused(oidc_app, fake_oidc, tamper) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(f.authority())
    f.db.session.commit()
    fake_oidc.login_as = officer.email
    if tamper == "unknown_key":
        fake_oidc.sign_with_unknown_key = True
    else:
        fake_oidc.audience = "someone-else"
    http = oidc_app.test_client()
    done = _through_provider(http, fake_oidc)
    assert done.status_code == 400 and "did not work" in done.text
    assert http.get("/account").status_code == 302


def test_a_callback_without_our_state_is_refused(oidc_app, fake_oidc) -> None:  # type: ignore[no-untyped-def]
    done = oidc_app.test_client().get("/sign-in/oidc/callback?code=abc&state=forged")
    assert done.status_code == 400


def test_the_provider_saying_no_is_refused(oidc_app, fake_oidc) -> None:  # type: ignore[no-untyped-def]
    fake_oidc.login_as = None
    done = _through_provider(oidc_app.test_client(), fake_oidc)
    assert done.status_code == 400


def test_a_second_factor_still_applies(oidc_app, fake_oidc) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(f.authority())
    totp.begin_enrolment(officer)
    officer.totp_confirmed_at = clock.now()
    f.db.session.commit()
    fake_oidc.login_as = officer.email
    http = oidc_app.test_client()
    done = _through_provider(http, fake_oidc)
    assert done.headers["Location"] == "/sign-in/code"
    assert http.get("/account").status_code == 302


def _sign_in(app: Flask, fake, email: str, subject: str) -> Any:  # type: ignore[no-untyped-def]
    """A fresh browser signs in at the provider as ``email`` with ``sub`` ``subject``; the
    browser is returned with the callback's answer (``.answer``)."""
    fake.login_as, fake.subject = email, subject
    http = app.test_client()
    http.answer = _through_provider(http, fake)  # type: ignore[attr-defined]
    return http


def _binding(user: User) -> tuple[str | None, str | None]:
    f.db.session.refresh(user)
    return user.oidc_issuer, user.oidc_subject


def _events(action: str, user: User) -> list[AuditEvent]:
    return f.db.session.query(AuditEvent).filter_by(action=action,
                                                    subject_id=str(user.id)).all()


def test_the_first_sign_in_binds_the_account_to_the_providers_subject(oidc_app, fake_oidc,  # type: ignore[no-untyped-def]
                                                                      ) -> None:
    officer = f.officer(f.authority())
    f.db.session.commit()
    http = _sign_in(oidc_app, fake_oidc, officer.email, "person-1")
    assert http.answer.headers["Location"] == "/account"
    assert _binding(officer) == (fake_oidc.issuer, "person-1")
    [linked] = _events("user.oidc_linked", officer)
    assert linked.details == {"issuer": fake_oidc.issuer, "subject": "person-1"}
    assert linked.ip_address == "127.0.0.1"
    # Signing in again (same iss + sub) is not a new binding.
    assert _sign_in(oidc_app, fake_oidc, officer.email, "person-1").answer.status_code == 302
    assert len(_events("user.oidc_linked", officer)) == 1


def test_an_email_change_at_the_provider_does_not_move_the_sign_in(oidc_app, fake_oidc,  # type: ignore[no-untyped-def]
                                                                   ) -> None:
    """person-1's address at the provider becomes another officer's: person-1 still signs in
    to their own account, never to the account that holds the new address."""
    authority = f.authority()
    mine, theirs = f.officer(authority), f.officer(authority)
    f.db.session.commit()
    _sign_in(oidc_app, fake_oidc, mine.email, "person-1")

    http = _sign_in(oidc_app, fake_oidc, theirs.email, "person-1")
    assert http.answer.headers["Location"] == "/account"
    page = http.get("/account").text
    assert mine.email in page and theirs.email not in page
    assert _binding(theirs) == (None, None)


def test_another_subject_claiming_a_bound_accounts_address_is_refused(oidc_app, fake_oidc,  # type: ignore[no-untyped-def]
                                                                      ) -> None:
    officer = f.officer(f.authority())
    f.db.session.commit()
    _sign_in(oidc_app, fake_oidc, officer.email, "person-1")

    http = _sign_in(oidc_app, fake_oidc, officer.email, "person-2")
    assert http.answer.status_code == 400
    assert "already linked to a different sign-in" in http.answer.text
    assert http.get("/account").status_code == 302
    assert _binding(officer) == (fake_oidc.issuer, "person-1")
    [refusal] = _events("user.oidc_sign_in_refused_other_identity", officer)
    assert refusal.details == {"issuer": fake_oidc.issuer, "subject": "person-2"}


@pytest.mark.parametrize("email_verified", [None, "true"], ids=["missing", "a string"])
def test_an_address_not_verified_as_json_true_is_refused(oidc_app, fake_oidc,  # type: ignore[no-untyped-def]
                                                         email_verified) -> None:
    officer = f.officer(f.authority())
    f.db.session.commit()
    fake_oidc.email_verified = email_verified
    http = _sign_in(oidc_app, fake_oidc, officer.email, "person-1")
    assert http.answer.status_code == 400 and "not verified" in http.answer.text
    assert http.get("/account").status_code == 302
    assert _binding(officer) == (None, None)


@pytest.mark.parametrize("bound", [False, True], ids=["first sign-in", "bound"])
def test_a_locked_account_cannot_sign_in_through_the_provider(oidc_app, fake_oidc,  # type: ignore[no-untyped-def]
                                                              bound) -> None:
    officer = f.officer(f.authority())
    f.db.session.commit()
    if bound:
        _sign_in(oidc_app, fake_oidc, officer.email, "person-1")
    officer.locked_until = clock.now() + timedelta(minutes=10)
    f.db.session.commit()

    http = _sign_in(oidc_app, fake_oidc, officer.email, "person-1")
    assert http.answer.status_code == 400 and "This account is locked" in http.answer.text
    assert http.get("/account").status_code == 302
    assert _binding(officer) == ((fake_oidc.issuer, "person-1") if bound else (None, None))
    [refusal] = _events("user.sign_in_refused_locked", officer)
    assert refusal.details == {"method": "oidc"}


def test_a_disabled_bound_account_cannot_sign_in_under_any_address(oidc_app, fake_oidc,  # type: ignore[no-untyped-def]
                                                                   ) -> None:
    """Disabled after binding: neither its own address nor an address that now belongs to
    another account at the provider gets person-1 in."""
    authority = f.authority()
    disabled, other = f.officer(authority), f.officer(authority)
    f.db.session.commit()
    _sign_in(oidc_app, fake_oidc, disabled.email, "person-1")
    disabled.active = False
    f.db.session.commit()

    for email in (disabled.email, other.email):
        http = _sign_in(oidc_app, fake_oidc, email, "person-1")
        assert http.answer.status_code == 400 and "There is no account" in http.answer.text
        assert http.get("/account").status_code == 302
    assert _binding(other) == (None, None)


def test_an_unusable_subject_is_refused(oidc_app, fake_oidc) -> None:  # type: ignore[no-untyped-def]
    """``sub`` is stored and looked up as sent: more than 255 characters, or control
    characters, are refused with a message, never a database error."""
    officer = f.officer(f.authority())
    f.db.session.commit()
    for subject in ("s" * 256, "person\x00one"):
        http = _sign_in(oidc_app, fake_oidc, officer.email, subject)
        assert http.answer.status_code == 400 and "did not say who you are" in http.answer.text
    assert _binding(officer) == (None, None)


def test_without_configuration_the_pages_do_not_exist(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/sign-in/oidc").status_code == 404
    assert "Sign in with" not in client.get("/sign-in").text
