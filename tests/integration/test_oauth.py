"""Partner authentication (API.md §1): the OAuth 2.0 authorization server, seen from a partner.

Tokens are obtained with a real OAuth client library (authlib's httpx ``OAuth2Client``) talking
to the app through ``httpx.WSGITransport``, with each of the three client authentication
methods; the token it holds is then used on the partner API. Every refusal is checked for its
status, its RFC 6749 ``error`` code and that nothing was stored. Time moves with time-machine.

Inside the ``db_session`` fixture the app's requests share the test's application context (and
so its session); the one test about what must survive a request that ends without a commit runs
against ``fresh_app``, where each request has its own context and session, as in production.
"""
from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import time_machine
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from click.testing import Result
from flask import Flask
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import func, select

from referral_service.domain import clients
from referral_service.domain.errors import DomainError
from referral_service.extensions import db
from referral_service.models import (
    AuditEvent,
    OAuthClient,
    OAuthToken,
    Referral,
    UsedClientAssertion,
)
from referral_service.models.oauth import digest
from tests import factories as f

with warnings.catch_warnings():
    # authlib 1.9 prefers the ``httpx2`` distribution and warns once, on import, when it finds
    # only ``httpx`` (which the project pins); the client behaves the same with either.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated",
                            category=DeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client, OAuthError

BASE = "http://localhost"  # PUBLIC_BASE_URL in tests
TOKEN_URL = BASE + "/oauth/token"
READ, WRITE, SHARED = "referrals:read", "referrals:write", "cases:shared"
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday morning
BEARER_CHALLENGE = 'Bearer realm="referrals", error="invalid_token"'


# --- fixtures and helpers --------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _fresh_rate_limits(app: Flask) -> None:
    """The token endpoint allows 60 requests a minute per address: each test starts afresh."""
    with app.app_context():
        for limiter in app.extensions.get("limiter", ()):
            limiter.reset()


@pytest.fixture
def org(db_session: Any) -> Any:
    f.authority()
    return f.organisation()


Connect = Callable[..., OAuth2Client]


@pytest.fixture
def connect(app: Flask) -> Iterator[Connect]:
    """A partner's OAuth client, talking to ``app`` in-process; ``.token_responses`` keeps every
    raw token endpoint response, so a refusal's status and headers can be checked too."""
    made: list[OAuth2Client] = []

    def make(client_id: str, credential: Any, method: Any = "client_secret_basic", *,
             to: Flask | None = None, **kwargs: Any) -> OAuth2Client:
        session = OAuth2Client(client_id, credential, token_endpoint_auth_method=method,
                               revocation_endpoint_auth_method=method,
                               transport=httpx.WSGITransport(app=to or app), base_url=BASE,
                               **kwargs)
        session.token_responses = []  # type: ignore[attr-defined]

        def keep(response: httpx.Response) -> httpx.Response:
            session.token_responses.append(response)  # type: ignore[attr-defined]
            return response

        session.register_compliance_hook("access_token_response", keep)
        made.append(session)
        return session

    yield make
    for session in made:
        session.close()


def with_secret(connect: Connect, issued: Any, method: str = "client_secret_basic",
                secret: str | None = None) -> OAuth2Client:
    return connect(issued.client.client_id, secret or issued.client_secret, method)


def with_key(connect: Connect, client_id: str, key: Any, audience: str = TOKEN_URL, *,
             to: Flask | None = None, **claims: Any) -> OAuth2Client:
    """private_key_jwt, registered the way authlib documents it (``claims`` override the
    assertion's own, e.g. ``jti`` or ``exp``)."""
    session = connect(client_id, key, "private_key_jwt", to=to)
    session.register_client_auth_method(PrivateKeyJWT(audience, claims=claims or None))
    return session


def refused(session: OAuth2Client, **kwargs: Any) -> tuple[str, httpx.Response]:
    """Ask for a token that must be refused: the ``error`` code and the raw response."""
    with pytest.raises(OAuthError) as caught:
        session.fetch_token(TOKEN_URL, **kwargs)
    return caught.value.error, session.token_responses[-1]  # type: ignore[attr-defined]


def count(session: Any, model: Any) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)))


def api(http: Any, token: str, method: str = "GET", path: str = "/api/v1/authorities",
        **kwargs: Any) -> Any:
    """Call the API with a raw bearer token (the Flask test client: no library to refresh it)."""
    return http.open(path, method=method, headers={"Authorization": f"Bearer {token}"},
                     **kwargs)


def assert_invalid_token(response: Any) -> None:
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == BEARER_CHALLENGE
    assert response.json["status"] == 401


def assert_invalid_client(error: str, response: httpx.Response) -> None:
    assert (error, response.status_code) == ("invalid_client", 401), response.text
    assert response.json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert response.headers["Cache-Control"] == "no-store"


def rsa_key(kid: str | None = None) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid} if kid else None)


def public_jwks(*keys: Any) -> dict[str, Any]:
    return {"keys": [key.as_dict(private=False) for key in keys]}


def introspect(session: OAuth2Client, token: str) -> httpx.Response:
    response = session.introspect_token("/oauth/introspect", token=token)
    assert response.status_code == 200, response.text
    return response


# --- obtaining tokens with each client authentication method --------------------------------

@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_a_secret_gets_a_token_that_the_api_accepts(org: Any, connect: Connect,
                                                    method: str) -> None:
    issued = f.api_client(org)
    session = with_secret(connect, issued, method)

    token = session.fetch_token(TOKEN_URL)
    sent = session.token_responses[-1].request  # type: ignore[attr-defined]
    body = sent.content.decode()
    if method == "client_secret_basic":
        assert sent.headers["Authorization"].startswith("Basic ")
        assert "client_secret" not in body
    else:
        assert "Authorization" not in sent.headers
        assert f"client_secret={issued.client_secret}" in body

    response = session.get("/api/v1/authorities")
    assert response.status_code == 200, response.text
    assert response.request.headers["Authorization"] == f"Bearer {token['access_token']}"
    assert response.json() == [{"code": "E07000241", "name": "Welwyn Hatfield"}]


def test_private_key_jwt_gets_a_token_that_the_api_accepts(org: Any, connect: Connect,
                                                           db_session: Any) -> None:
    key = rsa_key()
    issued = f.api_client(org, jwks=public_jwks(key), with_secret=False)
    assert issued.client_secret is None
    session = with_key(connect, issued.client.client_id, key)

    token = session.fetch_token(TOKEN_URL)
    sent = session.token_responses[-1].request  # type: ignore[attr-defined]
    assert "Authorization" not in sent.headers
    assert "client_assertion_type=urn" in sent.content.decode()
    assert token["scope"] == "referrals:read referrals:write"

    response = session.get("/api/v1/authorities")
    assert response.status_code == 200, response.text
    assert [a["code"] for a in response.json()] == ["E07000241"]
    assert count(db_session, UsedClientAssertion) == 1


def test_private_key_jwt_as_the_token_endpoint_auth_method_object(org: Any,
                                                                  connect: Connect) -> None:
    """The other documented way: the PrivateKeyJWT instance itself as the method."""
    key = rsa_key("partner-2026")
    issued = f.api_client(org, scopes=(READ,), jwks=public_jwks(key))
    session = connect(issued.client.client_id, key, PrivateKeyJWT(TOKEN_URL))
    assert session.fetch_token(TOKEN_URL)["scope"] == READ
    assert session.get("/api/v1/authorities").status_code == 200


def test_token_response_shape_and_default_scope(org: Any, connect: Connect,
                                                db_session: Any) -> None:
    issued = f.api_client(org)
    session = with_secret(connect, issued)

    token = session.fetch_token(TOKEN_URL)  # no scope asked for: every scope it was given
    raw = session.token_responses[-1]  # type: ignore[attr-defined]
    assert raw.status_code == 200
    assert set(raw.json()) == {"access_token", "token_type", "expires_in", "scope"}
    assert raw.json()["token_type"] == "Bearer"
    assert raw.json()["expires_in"] == 3600
    assert raw.json()["scope"] == "referrals:read referrals:write"
    assert len(token["access_token"]) >= 32
    assert raw.headers["Cache-Control"] == "no-store"
    assert raw.headers["Content-Type"].startswith("application/json")

    narrow = session.fetch_token(TOKEN_URL, scope=READ)
    assert narrow["scope"] == READ
    rows = db_session.scalars(select(OAuthToken).order_by(OAuthToken.scope)).all()
    assert [(r.client_id, r.scope, r.expires_in) for r in rows] == [
        (issued.client.client_id, READ, 3600),
        (issued.client.client_id, "referrals:read referrals:write", 3600)]


def test_tokens_and_secrets_are_stored_only_as_hashes(org: Any, connect: Connect,
                                                      db_session: Any) -> None:
    issued = f.api_client(org)
    token = with_secret(connect, issued).fetch_token(TOKEN_URL)["access_token"]
    db_session.expire_all()

    def everything_in(table: str) -> str:
        rows = db_session.execute(sa.text(f"SELECT * FROM {table}")).all()
        assert rows
        return " ".join(str(value) for row in rows for value in row)

    for table in ("oauth_tokens", "oauth_clients", "audit_events"):
        stored = everything_in(table)
        assert token not in stored, table
        assert issued.client_secret not in stored, table
    assert digest(token) in everything_in("oauth_tokens")
    assert issued.client.secret_hash == digest(issued.client_secret)


# --- token endpoint refusals: each on its own, nothing stored --------------------------------

@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_a_wrong_secret_is_invalid_client(org: Any, connect: Connect, db_session: Any,
                                          method: str) -> None:
    issued = f.api_client(org)
    error, response = refused(with_secret(connect, issued, method, secret="not-the-secret"))
    assert_invalid_client(error, response)
    assert count(db_session, OAuthToken) == 0


def test_an_unknown_client_is_invalid_client(org: Any, connect: Connect,
                                             db_session: Any) -> None:
    issued = f.api_client(org)
    error, response = refused(connect("dtr_nobody", issued.client_secret))
    assert_invalid_client(error, response)
    assert count(db_session, OAuthToken) == 0


def test_no_client_authentication_is_invalid_client(org: Any, client: Any,
                                                    db_session: Any) -> None:
    f.api_client(org)
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert count(db_session, OAuthToken) == 0


@pytest.mark.parametrize(("granted", "asked"), [
    ((READ, WRITE), "referrals:admin"),           # no such scope
    ((READ, WRITE), "referrals:read everything"),  # one good, one unknown: not silently dropped
    ((READ,), WRITE),                               # a real scope this client was not given
    ((READ,), "referrals:read referrals:write"),   # partly granted: not silently narrowed
    ((READ, WRITE), SHARED),                        # a panel's scope, asked by a referrer
])
def test_a_bad_scope_is_invalid_scope(org: Any, connect: Connect, db_session: Any,
                                      granted: tuple[str, ...], asked: str) -> None:
    issued = f.api_client(org, scopes=granted)
    error, response = refused(with_secret(connect, issued), scope=asked)
    assert (error, response.status_code) == ("invalid_scope", 400), response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert count(db_session, OAuthToken) == 0


@pytest.mark.parametrize("grant", [
    {"grant_type": "password", "username": "sam", "password": "hunter2"},
    {"grant_type": "authorization_code", "code": "abc123"},
    {"grant_type": "refresh_token", "refresh_token": "abc123"},
    {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "x.y.z"},
])
def test_other_grants_are_unsupported(org: Any, connect: Connect, db_session: Any,
                                      grant: dict[str, str]) -> None:
    issued = f.api_client(org)
    error, response = refused(with_secret(connect, issued), **grant)
    assert (error, response.status_code) == ("unsupported_grant_type", 400), response.text
    assert count(db_session, OAuthToken) == 0


def test_a_missing_grant_type_is_invalid_request(org: Any, client: Any,
                                                 db_session: Any) -> None:
    issued = f.api_client(org)
    response = client.post("/oauth/token", data={"scope": READ},
                           auth=(issued.client.client_id, issued.client_secret))
    assert response.status_code == 400
    # RFC 6749 §5.2: a missing required parameter is invalid_request.
    assert response.json["error"] == "invalid_request"
    assert response.headers["Cache-Control"] == "no-store"
    assert count(db_session, OAuthToken) == 0


# --- private_key_jwt refusals ----------------------------------------------------------------

@pytest.mark.parametrize("case", ["wrong key", "wrong key, same kid", "wrong audience",
                                  "look-alike audience", "expired", "another client's id",
                                  "EC key for an RSA client"])
def test_a_bad_client_assertion_is_invalid_client(org: Any, connect: Connect, db_session: Any,
                                                  case: str) -> None:
    key = rsa_key("k1")
    issued = f.api_client(org, jwks=public_jwks(key))
    client_id = issued.client.client_id
    if case == "wrong key":
        session = with_key(connect, client_id, rsa_key())
    elif case == "wrong key, same kid":
        session = with_key(connect, client_id, rsa_key("k1"))
    elif case == "wrong audience":
        session = with_key(connect, client_id, key, audience="https://other.example/oauth/token")
    elif case == "look-alike audience":
        session = with_key(connect, client_id, key, audience="http://localhost.example")
    elif case == "expired":  # past the 60 s leeway
        session = with_key(connect, client_id, key, exp=int(time.time()) - 120)
    elif case == "another client's id":
        victim = f.api_client(org, jwks=public_jwks(rsa_key("victim")))
        session = with_key(connect, victim.client.client_id, key)
    else:
        session = connect(client_id, ECKey.generate_key("P-256", parameters={"kid": "k1"}),
                          PrivateKeyJWT(TOKEN_URL, alg="ES256"))
    error, response = refused(session)
    assert_invalid_client(error, response)
    assert count(db_session, OAuthToken) == 0


def test_a_replayed_client_assertion_is_invalid_client(org: Any, connect: Connect,
                                                       db_session: Any) -> None:
    key = rsa_key()
    issued = f.api_client(org, jwks=public_jwks(key))
    session = with_key(connect, issued.client.client_id, key, jti="one-time-only")
    session.fetch_token(TOKEN_URL)
    assert count(db_session, OAuthToken) == 1

    error, response = refused(session)  # the very same jti again
    assert_invalid_client(error, response)
    assert count(db_session, OAuthToken) == 1
    # A fresh jti is fine: it is the assertion that is single-use, not the key.
    assert with_key(connect, issued.client.client_id, key).fetch_token(TOKEN_URL)
    assert count(db_session, OAuthToken) == 2


def test_an_assertion_with_a_nul_in_its_jti_is_invalid_client(org: Any, connect: Connect,
                                                               db_session: Any) -> None:
    """The jti is kept to refuse replays: a NUL in it could not be stored (a 500)."""
    key = rsa_key()
    issued = f.api_client(org, jwks=public_jwks(key))
    error, response = refused(with_key(connect, issued.client.client_id, key, jti="one\x00time"))
    assert_invalid_client(error, response)
    assert count(db_session, OAuthToken) == 0


def test_private_key_jwt_without_a_registered_jwks_is_invalid_client(
        org: Any, connect: Connect, db_session: Any) -> None:
    issued = f.api_client(org)  # a secret only
    error, response = refused(with_key(connect, issued.client.client_id, rsa_key()))
    assert_invalid_client(error, response)
    assert count(db_session, OAuthToken) == 0


def test_a_key_only_client_cannot_use_a_secret(org: Any, connect: Connect,
                                               db_session: Any) -> None:
    issued = f.api_client(org, jwks=public_jwks(rsa_key()), with_secret=False)
    error, response = refused(connect(issued.client.client_id, "anything"))
    assert_invalid_client(error, response)
    assert count(db_session, OAuthToken) == 0


def test_an_assertion_is_single_use_even_when_its_request_fails(fresh_app: Flask,
                                                                connect: Connect) -> None:
    """Each request has its own session here (as in production): an assertion spent on an
    introspection, or on a token request refused for its scope, stays spent."""
    key = rsa_key()
    with fresh_app.app_context():
        f.authority()
        issued = f.api_client(f.organisation(), scopes=(READ,), jwks=public_jwks(key))
        client_id = issued.client.client_id

    spent_on_introspection = with_key(connect, client_id, key, jti="first", to=fresh_app)
    assert introspect(spent_on_introspection, "not-a-token").json() == {"active": False}
    error, response = refused(spent_on_introspection)
    assert_invalid_client(error, response)

    spent_on_bad_scope = with_key(connect, client_id, key, jti="second", to=fresh_app)
    error, response = refused(spent_on_bad_scope, scope=WRITE)
    assert (error, response.status_code) == ("invalid_scope", 400)
    error, response = refused(spent_on_bad_scope, scope=READ)
    assert_invalid_client(error, response)

    with fresh_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OAuthToken)) == 0
        assert set(db.session.scalars(select(UsedClientAssertion.jti))) == {"first", "second"}
    assert with_key(connect, client_id, key, to=fresh_app).fetch_token(TOKEN_URL)


# --- using tokens on the API ----------------------------------------------------------------

def test_a_token_expires_after_one_hour(org: Any, connect: Connect, client: Any) -> None:
    issued = f.api_client(org)
    with time_machine.travel(START, tick=False) as traveller:
        token = with_secret(connect, issued).fetch_token(TOKEN_URL)["access_token"]
        traveller.shift(timedelta(seconds=3599))
        assert api(client, token).status_code == 200
        traveller.shift(timedelta(seconds=1))
        assert_invalid_token(api(client, token))


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Bearer not-a-real-token",
                                    "Basic c2FtOnNlY3JldA==", "Token abc", "Bearer a b"])
def test_a_missing_or_malformed_authorization_header_is_401(client: Any, org: Any,
                                                            header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = client.get("/api/v1/authorities", headers=headers)
    assert_invalid_token(response)


def test_a_client_secret_is_not_a_bearer_token(org: Any, client: Any) -> None:
    issued = f.api_client(org)
    assert_invalid_token(api(client, issued.client_secret))
    assert_invalid_token(api(client, digest(issued.client_secret)))


def test_a_token_without_the_scope_gets_403(org: Any, connect: Connect,
                                            db_session: Any) -> None:
    issued = f.api_client(org)
    reader = with_secret(connect, issued)
    reader.fetch_token(TOKEN_URL, scope=READ)

    response = reader.post("/api/v1/referrals", json=f.payload(person=f.unique_person()))
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "insufficient_scope" in response.headers["WWW-Authenticate"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert response.json()["status"] == 403
    assert count(db_session, Referral) == 0

    writer = with_secret(connect, issued)
    writer.fetch_token(TOKEN_URL, scope=WRITE)
    made = writer.post("/api/v1/referrals", json=f.payload(person=f.unique_person()))
    assert made.status_code == 201, made.text
    assert count(db_session, Referral) == 1


def test_a_panel_token_cannot_read_referrals(db_session: Any, connect: Connect) -> None:
    f.authority()
    panel = f.organisation(name="Kent MARAC", type="marac")
    session = with_secret(connect, f.api_client(panel, scopes=(SHARED,)))
    assert session.fetch_token(TOKEN_URL)["scope"] == SHARED
    response = session.get("/api/v1/referrals")
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert session.get("/api/v1/authorities").status_code == 200


# --- revocation (RFC 7009) -------------------------------------------------------------------

@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post",
                                    "private_key_jwt"])
def test_a_revoked_token_is_refused_at_once(org: Any, connect: Connect, client: Any,
                                            db_session: Any, method: str) -> None:
    key = rsa_key()
    issued = f.api_client(org, jwks=public_jwks(key))
    session = (with_key(connect, issued.client.client_id, key) if method == "private_key_jwt"
               else with_secret(connect, issued, method))
    token = session.fetch_token(TOKEN_URL)["access_token"]
    other = with_secret(connect, issued).fetch_token(TOKEN_URL)["access_token"]
    assert api(client, token).status_code == 200

    response = session.revoke_token("/oauth/revoke", token=token)
    assert response.status_code == 200, response.text
    assert_invalid_token(api(client, token))
    assert session.get("/api/v1/authorities").status_code == 401  # the library's own call
    assert api(client, other).status_code == 200  # only that token
    [row] = [t for t in db_session.scalars(select(OAuthToken)) if t.revoked_at is not None]
    assert row.access_token_hash == digest(token)


def test_revoking_another_clients_token_is_refused(org: Any, connect: Connect, client: Any,
                                                   db_session: Any) -> None:
    victim = f.api_client(org)
    token = with_secret(connect, victim).fetch_token(TOKEN_URL)["access_token"]
    intruder = with_secret(connect, f.api_client(f.organisation(name="Jobcentre Plus – Luton",
                                                                type="jobcentre")))
    response = intruder.revoke_token("/oauth/revoke", token=token)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert api(client, token).status_code == 200
    assert all(t.revoked_at is None for t in db_session.scalars(select(OAuthToken)))


def test_revocation_needs_client_authentication(org: Any, connect: Connect,
                                                client: Any) -> None:
    issued = f.api_client(org)
    token = with_secret(connect, issued).fetch_token(TOKEN_URL)["access_token"]
    anonymous = client.post("/oauth/revoke", data={"token": token})
    assert anonymous.status_code == 401
    assert anonymous.json["error"] == "invalid_client"
    wrong = client.post("/oauth/revoke", data={"token": token},
                        auth=(issued.client.client_id, "wrong"))
    assert wrong.status_code == 401
    assert api(client, token).status_code == 200


def test_revoking_an_unknown_token_is_a_quiet_200(org: Any, connect: Connect) -> None:
    session = with_secret(connect, f.api_client(org))
    response = session.revoke_token("/oauth/revoke", token="never-issued")
    assert response.status_code == 200  # RFC 7009 §2.2


def test_a_revoked_client_loses_its_tokens_and_gets_no_new_ones(org: Any, connect: Connect,
                                                                client: Any,
                                                                db_session: Any) -> None:
    key = rsa_key()
    issued = f.api_client(org, jwks=public_jwks(key))
    client_id = issued.client.client_id
    token = with_secret(connect, issued).fetch_token(TOKEN_URL)["access_token"]
    bystander = with_secret(connect, f.api_client(org)).fetch_token(TOKEN_URL)["access_token"]

    clients.revoke(client_id, actor=f.ACTOR)
    db_session.commit()

    assert_invalid_token(api(client, token))
    assert api(client, bystander).status_code == 200
    for session in (with_secret(connect, issued), with_secret(connect, issued,
                                                              "client_secret_post"),
                    with_key(connect, client_id, key)):
        error, response = refused(session)
        assert_invalid_client(error, response)
    assert count(db_session, OAuthToken) == 2
    with pytest.raises(DomainError):
        clients.rotate_secret(client_id, actor=f.ACTOR)


# --- secret rotation -------------------------------------------------------------------------

def test_both_secrets_work_during_the_grace_period_then_only_the_new(
        org: Any, connect: Connect, db_session: Any) -> None:
    issued = f.api_client(org)
    old = issued.client_secret
    with time_machine.travel(START, tick=False) as traveller:
        new = clients.rotate_secret(issued.client.client_id, grace_hours=24,
                                    actor=f.ACTOR).client_secret
        db_session.commit()
        assert new and new != old
        for secret in (old, new):
            assert with_secret(connect, issued, secret=secret).fetch_token(TOKEN_URL)

        traveller.shift(timedelta(hours=24) - timedelta(seconds=1))
        assert with_secret(connect, issued, secret=old).fetch_token(TOKEN_URL)

        traveller.shift(timedelta(seconds=1))
        for method in ("client_secret_basic", "client_secret_post"):
            error, response = refused(with_secret(connect, issued, method, secret=old))
            assert_invalid_client(error, response)
        assert with_secret(connect, issued, secret=new).fetch_token(TOKEN_URL)
    assert count(db_session, OAuthToken) == 4


def test_rotation_without_grace_stops_the_old_secret_at_once(org: Any, connect: Connect,
                                                             db_session: Any) -> None:
    issued = f.api_client(org)
    new = clients.rotate_secret(issued.client.client_id, grace_hours=0,
                                actor=f.ACTOR).client_secret
    db_session.commit()
    error, response = refused(with_secret(connect, issued, secret=issued.client_secret))
    assert_invalid_client(error, response)
    assert with_secret(connect, issued, secret=new).fetch_token(TOKEN_URL)
    assert issued.client.previous_secret_hash is None


def test_a_second_rotation_keeps_only_two_live_secrets(org: Any, connect: Connect,
                                                       db_session: Any) -> None:
    issued = f.api_client(org)
    first = issued.client_secret
    second = clients.rotate_secret(issued.client.client_id, actor=f.ACTOR).client_secret
    third = clients.rotate_secret(issued.client.client_id, actor=f.ACTOR).client_secret
    db_session.commit()
    error, response = refused(with_secret(connect, issued, secret=first))
    assert_invalid_client(error, response)
    for secret in (second, third):
        assert with_secret(connect, issued, secret=secret).fetch_token(TOKEN_URL)


def test_a_revoked_client_cannot_rotate(org: Any, db_session: Any) -> None:
    issued = f.api_client(org)
    clients.revoke(issued.client.client_id, actor=f.ACTOR)
    db_session.commit()
    with pytest.raises(DomainError):
        clients.rotate_secret(issued.client.client_id, actor=f.ACTOR)
    db_session.expire_all()
    assert issued.client.secret_hash == digest(issued.client_secret)
    assert issued.client.previous_secret_hash is None


# --- introspection (RFC 7662) ----------------------------------------------------------------

def test_introspecting_an_active_token(org: Any, connect: Connect) -> None:
    issued = f.api_client(org)
    with time_machine.travel(START, tick=False):
        session = with_secret(connect, issued)
        token = session.fetch_token(TOKEN_URL, scope=READ)["access_token"]
        answer = introspect(session, token)
    document = answer.json()
    assert document["active"] is True
    assert document["client_id"] == issued.client.client_id
    assert document["scope"] == READ
    assert document["token_type"] == "Bearer"
    assert document["iat"] == int(START.timestamp())
    assert document["exp"] == int(START.timestamp()) + 3600
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_gateway_client_of_the_same_organisation_may_introspect(org: Any,
                                                                  connect: Connect) -> None:
    key = rsa_key()
    token = with_secret(connect, f.api_client(org)).fetch_token(TOKEN_URL)["access_token"]
    gateway = f.api_client(org, scopes=(READ,), jwks=public_jwks(key), with_secret=False)
    answer = introspect(with_key(connect, gateway.client.client_id, key), token).json()
    assert answer["active"] is True


def test_inactive_tokens_introspect_as_just_active_false(org: Any, connect: Connect) -> None:
    issued = f.api_client(org)
    session = with_secret(connect, issued)
    with time_machine.travel(START, tick=False) as traveller:
        expired = session.fetch_token(TOKEN_URL)["access_token"]
        traveller.shift(timedelta(hours=1))
        revoked = session.fetch_token(TOKEN_URL)["access_token"]
        live = session.fetch_token(TOKEN_URL)["access_token"]
        assert session.revoke_token("/oauth/revoke", token=revoked).status_code == 200
        for token in (expired, revoked, "never-issued"):
            assert introspect(session, token).json() == {"active": False}
        assert introspect(session, live).json()["active"] is True


def test_another_organisations_client_learns_nothing(org: Any, connect: Connect) -> None:
    token = with_secret(connect, f.api_client(org)).fetch_token(TOKEN_URL)["access_token"]
    stranger = with_secret(connect, f.api_client(f.organisation(
        name="Luton Hospital", type="hospital_inpatient")))
    assert introspect(stranger, token).json() == {"active": False}


def test_introspection_needs_client_authentication(org: Any, connect: Connect,
                                                   client: Any) -> None:
    issued = f.api_client(org)
    token = with_secret(connect, issued).fetch_token(TOKEN_URL)["access_token"]
    anonymous = client.post("/oauth/introspect", data={"token": token})
    assert anonymous.status_code == 401
    assert anonymous.json["error"] == "invalid_client"
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic ")
    wrong = client.post("/oauth/introspect", data={"token": token},
                        auth=(issued.client.client_id, "wrong"))
    assert wrong.status_code == 401
    assert "active" not in wrong.json


# --- metadata (RFC 8414) ---------------------------------------------------------------------

def test_authorization_server_metadata(client: Any) -> None:
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    document = response.json
    assert document["issuer"] == BASE
    assert document["token_endpoint"] == TOKEN_URL
    assert document["revocation_endpoint"] == BASE + "/oauth/revoke"
    assert document["introspection_endpoint"] == BASE + "/oauth/introspect"
    assert sorted(document["scopes_supported"]) == sorted([READ, WRITE, SHARED])
    assert document["grant_types_supported"] == ["client_credentials"]
    assert {"client_secret_basic", "client_secret_post", "private_key_jwt"} <= set(
        document["token_endpoint_auth_methods_supported"])
    assert "RS256" in document["token_endpoint_auth_signing_alg_values_supported"]


# --- the admin CLI: referrals client … -------------------------------------------------------

Cli = Callable[..., Result]




def cli_json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def cli_counts(session: Any) -> tuple[int, int, list[tuple[str, Any, Any, Any]]]:
    session.expire_all()
    clients_now = [(c.client_id, c.secret_hash, c.previous_secret_hash, c.revoked_at)
                   for c in session.scalars(select(OAuthClient).order_by(OAuthClient.client_id))]
    return count(session, OAuthClient), count(session, AuditEvent), clients_now


def cli_refused(cli: Cli, session: Any, *args: str) -> dict[str, Any]:
    """A refusal: exit 1, a JSON error document, and nothing changed anywhere."""
    session.commit()
    before = cli_counts(session)
    result = cli(*args, "--json")
    assert result.exit_code == 1, result.output
    assert cli_counts(session) == before
    document = dict(json.loads(result.stdout))
    assert document["error"]
    return document


def test_cli_client_add_shows_the_secret_once(cli: Cli, org: Any, connect: Connect,
                                              db_session: Any) -> None:
    made = cli_json(cli, "client", "add", "--org", org.name, "--scopes",
                    "referrals:write referrals:read", "--name", "nDelius integration")
    assert made["client_id"].startswith("dtr_")
    secret = made["client_secret"]
    assert isinstance(secret, str) and len(secret) >= 32
    assert made["organisation"] == org.name
    assert sorted(made["scopes"]) == [READ, WRITE]

    stored = db_session.scalar(select(OAuthClient).where(
        OAuthClient.client_id == made["client_id"]))
    assert stored.secret_hash == digest(secret)
    assert stored.name == "nDelius integration"
    row = db_session.execute(sa.text("SELECT * FROM oauth_clients")).one()
    assert secret not in " ".join(str(v) for v in row)

    listed = cli(*["client", "list", "--json"])
    assert secret not in listed.stdout
    session = connect(made["client_id"], secret)
    assert session.fetch_token(TOKEN_URL)["scope"] == "referrals:read referrals:write"


def test_cli_client_add_with_a_public_jwks_and_no_secret(cli: Cli, org: Any, connect: Connect,
                                                         tmp_path: Path) -> None:
    key = rsa_key("ndelius-2026")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(public_jwks(key)))
    made = cli_json(cli, "client", "add", "--org", org.name, "--scopes", READ,
                    "--jwks", str(path), "--no-secret")
    assert made["client_secret"] is None
    assert made["private_key_jwt"] is True
    assert with_key(connect, made["client_id"], key).fetch_token(TOKEN_URL)["scope"] == READ


@pytest.mark.parametrize(("case", "field"), [
    ("unknown org", "org"),
    ("unknown scope", "scopes"),
    ("panel asks referrals:write", "scopes"),
    ("referrer asks cases:shared", "scopes"),
    ("JWKS not JSON", None),
    ("JWKS file missing", None),
    ("JWKS without keys", "jwks"),
    ("JWKS not a key set", "jwks"),
    ("JWKS with a private key", "jwks"),
    ("JWKS with a symmetric key", "jwks"),
    ("no secret and no JWKS", "jwks"),
])
def test_cli_client_add_refusals(cli: Cli, db_session: Any, tmp_path: Path, case: str,
                                 field: str | None) -> None:
    f.organisation()  # the default name, below
    f.organisation(name="Kent MAPPA", type="mappa")
    org_name, scopes, extra = "Probation Service – Kent", "referrals:write", []
    jwks_file = tmp_path / "jwks.json"
    if case == "unknown org":
        org_name = "Nobody Ltd"
    elif case == "unknown scope":
        scopes = "referrals:write referrals:delete"
    elif case == "panel asks referrals:write":
        org_name, scopes = "Kent MAPPA", "cases:shared referrals:write"
    elif case == "referrer asks cases:shared":
        scopes = "referrals:read cases:shared"
    elif case == "no secret and no JWKS":
        extra = ["--no-secret"]
    else:
        contents = {
            "JWKS not JSON": "this is not json",
            "JWKS without keys": json.dumps({"keys": []}),
            "JWKS not a key set": json.dumps({"kty": "RSA"}),
            "JWKS with a private key": json.dumps({"keys": [rsa_key().as_dict(private=True)]}),
            "JWKS with a symmetric key": json.dumps(
                {"keys": [{"kty": "oct", "k": "c2VjcmV0LXNoYXJlZC13aXRoLXRoZS1wYXJ0bmVy"}]}),
        }
        if case in contents:
            jwks_file.write_text(contents[case])
        extra = ["--jwks", str(jwks_file)]
    document = cli_refused(cli, db_session, "client", "add", "--org", org_name,
                           "--scopes", scopes, *extra)
    if field:
        assert field in document["errors"], document
    else:
        assert "JWKS" in document["error"]


def test_cli_rotate_secret(cli: Cli, org: Any, connect: Connect, db_session: Any) -> None:
    issued = f.api_client(org)
    client_id = issued.client.client_id
    with time_machine.travel(START, tick=False):
        rotated = cli_json(cli, "client", "rotate-secret", "--client-id", client_id)
        assert rotated["client_id"] == client_id
        assert rotated["previous_secret_valid_until"].startswith("2026-11-24 10:00")
        for secret in (issued.client_secret, rotated["client_secret"]):
            assert connect(client_id, secret).fetch_token(TOKEN_URL)

        again = cli_json(cli, "client", "rotate-secret", "--client-id", client_id,
                         "--grace-hours", "0")
        assert again["previous_secret_valid_until"] is None
        for secret in (issued.client_secret, rotated["client_secret"]):
            error, response = refused(connect(client_id, secret))
            assert_invalid_client(error, response)
        assert connect(client_id, again["client_secret"]).fetch_token(TOKEN_URL)
    stored = db_session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    assert stored.secret_hash == digest(again["client_secret"])


@pytest.mark.parametrize("args", [
    ("--client-id", "dtr_nobody"),
    ("--grace-hours", "-1"),
    ("--grace-hours", "100000"),
    ("revoked",),
])
def test_cli_rotate_secret_refusals(cli: Cli, org: Any, db_session: Any,
                                    args: tuple[str, ...]) -> None:
    issued = f.api_client(org)
    if args == ("revoked",):
        clients.revoke(issued.client.client_id, actor=f.ACTOR)
        args = ()
    if "--client-id" not in args:
        args = ("--client-id", issued.client.client_id, *args)
    cli_refused(cli, db_session, "client", "rotate-secret", *args)


def test_cli_revoke_and_list(cli: Cli, org: Any, connect: Connect, client: Any,
                             db_session: Any) -> None:
    issued = f.api_client(org)
    kept = f.api_client(org, scopes=(READ,))
    token = with_secret(connect, issued).fetch_token(TOKEN_URL)["access_token"]

    listed = cli_json(cli, "client", "list")["items"]
    assert {(c["client_id"], c["revoked"], c["client_secret"]) for c in listed} == {
        (issued.client.client_id, False, True), (kept.client.client_id, False, True)}
    assert issued.client_secret not in json.dumps(listed)

    revoked = cli_json(cli, "client", "revoke", "--client-id", issued.client.client_id)
    assert revoked["revoked"] is True
    assert_invalid_token(api(client, token))
    error, response = refused(with_secret(connect, issued))
    assert_invalid_client(error, response)

    events_before = count(db_session, AuditEvent)
    assert cli_json(cli, "client", "revoke", "--client-id", issued.client.client_id)["revoked"]
    assert count(db_session, AuditEvent) == events_before  # idempotent: nothing new to record

    listed = {c["client_id"]: c["revoked"] for c in cli_json(cli, "client", "list")["items"]}
    assert listed == {issued.client.client_id: True, kept.client.client_id: False}
    text = cli("client", "list")
    assert text.exit_code == 0
    assert f"{issued.client.client_id}  {org.name}" in text.output
    assert "(revoked)" in text.output

    cli_refused(cli, db_session, "client", "revoke", "--client-id", "dtr_nobody")
