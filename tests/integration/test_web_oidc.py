"""Sign-in through an external OpenID Connect provider: authlib's real Flask client against a
fake provider on a local port (discovery, JWKS, token endpoint, signed id_token)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from flask import Flask

from referral_service import create_app
from referral_service.auth import totp
from referral_service.domain import clock
from referral_service.models import AuditEvent
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


def test_without_configuration_the_pages_do_not_exist(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/sign-in/oidc").status_code == 404
    assert "Sign in with" not in client.get("/sign-in").text
