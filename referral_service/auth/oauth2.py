"""The OAuth 2.0 authorization server (authlib): client credentials only.

Clients authenticate with ``client_secret_basic``, ``client_secret_post`` or ``private_key_jwt``
(RFC 7523, against the client's registered JWKS). Tokens are stored hashed; revocation (RFC 7009)
and introspection (RFC 7662) are offered to the client that owns a token, and introspection also
to other clients of the same organisation (a partner's gateway).
"""
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    grants,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Flask, Response, current_app
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from referral_service import clock, unit_of_work
from referral_service.auth import scopes
from referral_service.auth.bearer import TOKEN_BY_HASH
from referral_service.extensions import db
from referral_service.models import OAuthClient, OAuthToken, UsedClientAssertion
from referral_service.models.oauth import digest
from referral_service.validation import has_control_characters

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
TOKEN_LIFETIME = 3600
# A private_key_jwt assertion is valid for at most this long (exp - iat, and exp - now plus the
# clock leeway): a leaked one is useful only briefly, and its stored jti can be purged soon.
MAX_ASSERTION_LIFETIME = 300
MAX_JTI_LENGTH = 255  # UsedClientAssertion.jti


def token_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"] + "/oauth/token"


def query_client(client_id: str) -> OAuthClient | None:
    # A NUL (from Basic auth or an assertion's claims: the request hook sees only forms and
    # queries) cannot be compared on PostgreSQL: it was a 500. No client has such an id.
    if not isinstance(client_id, str) or has_control_characters(client_id, multiline=False):
        return None
    return db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))


def query_token(token_string: str) -> OAuthToken | None:
    """The token with its client and organisation, in one query (introspection, revocation)."""
    return db.session.scalar(TOKEN_BY_HASH, {"token_hash": digest(token_string)})


def save_token(token: dict[str, Any], request: Any) -> None:
    db.session.add(OAuthToken(
        access_token_hash=digest(token["access_token"]),
        client_id=request.client.client_id,
        scope=token.get("scope", ""),
        issued_at=clock.now(),
        expires_in=token["expires_in"],
    ))


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def validate_requested_scope(self) -> None:
        """Refuse, rather than silently drop, a scope that is unknown or not granted."""
        super().validate_requested_scope()
        asked = set((self.request.payload.scope or "").split())
        not_granted = asked - set(self.request.client.scopes)
        if not_granted:
            raise InvalidScopeError(
                description=f"This client has not been given: {' '.join(sorted(not_granted))}.")
        if not asked and not self.request.client.scopes:
            raise InvalidScopeError(description="This client has no scopes.")


class PrivateKeyJWT(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self) -> list[str]:
        return [token_url(), current_app.config["PUBLIC_BASE_URL"]]

    def resolve_client_public_key(self, client: OAuthClient) -> KeySet:
        # A client registered with a secret only has no JWKS: importing None raised a TypeError
        # that authlib retries with another signature, so such an assertion answered 500.
        if not client.jwks:
            raise InvalidClientError(
                description="This client has no registered keys for private_key_jwt.")
        return KeySet.import_key_set(client.jwks)  # type: ignore[arg-type]

    def verify_claims(self, claims: dict[str, Any]) -> None:
        # Before authlib's own checks, which store the jti with its expiry: an exp past what a
        # datetime holds was a 500, and a jti longer than its column a database error.
        refusal = assertion_limits_refusal(claims, clock.now().timestamp(), self.leeway)
        if refusal:
            raise InvalidClientError(description=refusal)
        super().verify_claims(claims)

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        """Each assertion is single-use: a replayed one is refused (the unique constraint)."""
        # Kept a little past the assertion's own expiry (clock leeway), then purgeable.
        expires_at = datetime.fromtimestamp(claims["exp"], UTC) + timedelta(minutes=5)
        try:
            with db.session.begin_nested():
                db.session.add(UsedClientAssertion(client_id=str(claims["sub"]), jti=str(jti),
                                                   expires_at=expires_at))
            # Spent now, whatever happens next: a refused token request (e.g. invalid_scope)
            # rolls back, so without this the same assertion could be replayed after it.
            unit_of_work.commit_refusal()
        except IntegrityError:
            return False
        return True


def assertion_limits_refusal(claims: dict[str, Any], now: float, leeway: int) -> str | None:
    """Why a signed private_key_jwt assertion is out of bounds, or None: it needs an exp, at
    most five minutes after its iat (when it has one) and after now; and a jti of 1 to 255
    printable characters."""
    exp, iat, jti = claims.get("exp"), claims.get("iat"), claims.get("jti")
    if not _is_numeric_date(exp) or ("iat" in claims and not _is_numeric_date(iat)):
        return "The client assertion needs a numeric exp (and iat, if given)."
    if exp - now > MAX_ASSERTION_LIFETIME + leeway or (
            iat is not None and exp - iat > MAX_ASSERTION_LIFETIME):
        return (f"A client assertion may be valid for at most {MAX_ASSERTION_LIFETIME // 60} "
                "minutes: make exp at most that long after iat and after now.")
    if not (isinstance(jti, str) and 0 < len(jti) <= MAX_JTI_LENGTH and jti.isprintable()):
        return f"The client assertion needs a jti of 1 to {MAX_JTI_LENGTH} printable characters."
    return None


def _is_numeric_date(value: object) -> TypeGuard[int | float]:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> OAuthToken | None:
        return query_token(token_string)

    def revoke_token(self, token: OAuthToken, request: Any) -> None:
        token.revoked_at = clock.now()


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> OAuthToken | None:
        return query_token(token_string)

    def check_permission(self, token: OAuthToken, client: OAuthClient, request: Any) -> bool:
        return token.client.organisation_id == client.organisation_id

    def introspect_token(self, token: OAuthToken) -> dict[str, Any]:
        return {
            "active": True,
            "client_id": token.client_id,
            "token_type": "Bearer",
            "scope": token.scope,
            "iat": int(token.issued_at.timestamp()),
            "exp": int(token.expires_at.timestamp()),
            "iss": current_app.config["PUBLIC_BASE_URL"],
        }


class Server(AuthorizationServer):
    def create_token_response(self, request: Any = None) -> Response:
        # RFC 6749 §5.2: a request missing a required parameter is ``invalid_request``;
        # authlib answered a missing grant_type with ``unsupported_grant_type``.
        oauth_request = self.create_oauth2_request(request)
        if not oauth_request.payload.grant_type:
            return self.handle_error_response(
                oauth_request, InvalidRequestError(description="Missing grant_type."))
        return super().create_token_response(request)

    def validate_requested_scope(self, scope: str | None) -> None:
        if scope and not set(scope.split()) <= set(scopes.ALL):
            unknown = " ".join(sorted(set(scope.split()) - set(scopes.ALL)))
            raise InvalidScopeError(description=f"Unknown scope: {unknown}.")

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
        return normalise(super().handle_response(status, body, headers))


def normalise(response: Response) -> Response:
    """RFC 6749 §5.2 shapes: a failed client authentication is always 401 ``invalid_client``
    (authlib answers 400 for some methods), with a challenge; errors are never cached."""
    if response.status_code >= 400 and response.is_json:
        error = (response.get_json(silent=True) or {}).get("error")
        if error == "invalid_client":
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Basic realm="referrals", charset="UTF-8"'
        response.headers["Cache-Control"] = "no-store"
    return response


authorization = Server()


def init_app(app: Flask) -> None:
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", list(scopes.ALL))
    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {"client_credentials": TOKEN_LIFETIME})
    authorization.init_app(app, query_client=query_client, save_token=save_token)
    authorization.register_grant(ClientCredentialsGrant)
    authorization.register_client_auth_method("private_key_jwt", PrivateKeyJWT())
    authorization.register_endpoint(Revocation)
    authorization.register_endpoint(Introspection)


def metadata() -> dict[str, Any]:
    """RFC 8414 authorization server metadata."""
    base = current_app.config["PUBLIC_BASE_URL"]
    algorithms = ["RS256", "PS256", "ES256"]
    return {
        "issuer": base,
        "token_endpoint": token_url(),
        "revocation_endpoint": base + "/oauth/revoke",
        "introspection_endpoint": base + "/oauth/introspect",
        "scopes_supported": list(scopes.ALL),
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": algorithms,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": algorithms,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": algorithms,
        "service_documentation": base + "/api/docs",
    }
