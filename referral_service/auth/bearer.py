"""Protecting API routes with bearer tokens and scopes.

``@require_scope(...)`` marks a view with the scope it needs (``None``: any valid token), so a
test can prove no route is left open, and the OpenAPI document can say so.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import Response, g, request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from referral_service.extensions import db
from referral_service.models import OAuthClient, OAuthToken, Organisation
from referral_service.models.oauth import digest
from referral_service.problems import problem

F = TypeVar("F", bound=Callable[..., Any])
ANY_TOKEN = None


class _Validator(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> OAuthToken | None:
        return token_for(token_string)


def token_for(token_string: str) -> OAuthToken | None:
    """Look a bearer token up once per request (the rate limiter asks first, then the view)."""
    # Kept on the request itself, not on ``g``: an application context can outlive a request
    # (tests, CLI), and a token revoked between two requests must be looked up afresh.
    cache: dict[str, OAuthToken | None] = request.environ.setdefault(
        "referral_service.bearer_tokens", {})
    if token_string not in cache:
        cache[token_string] = db.session.scalar(
            TOKEN_BY_HASH, {"token_hash": digest(token_string)})
    return cache[token_string]


# The token with only what an API call reads of its client (id, revocation, organisation) and
# the organisation: not the client's secrets, keys and scopes, which psycopg would describe and
# the ORM load on every call (anything else is still loaded if asked for). Built once; the
# introspection and revocation endpoints look tokens up with it too.
TOKEN_BY_HASH = (
    select(OAuthToken)
    .where(OAuthToken.access_token_hash == bindparam("token_hash"))
    .options(joinedload(OAuthToken.client)
             .load_only(OAuthClient.client_id, OAuthClient.organisation_id,
                        OAuthClient.revoked_at)
             .joinedload(OAuthClient.organisation))
)


def presented_client_id() -> str | None:
    """The client behind this request's bearer token, if it is valid now; else None."""
    header = request.headers.get("Authorization", "")
    kind, _, token_string = header.partition(" ")
    if kind.lower() != "bearer" or not token_string.strip():
        return None
    token = token_for(token_string.strip())
    if token is None or token.is_expired() or token.is_revoked():
        return None
    return token.client_id


protector = ResourceProtector()
protector.register_token_validator(_Validator())


def _refusal(error: OAuth2Error) -> Response:
    """401 with ``Bearer error="invalid_token"`` for any token problem (missing, unknown,
    expired, revoked, malformed), 403 with ``insufficient_scope`` for a missing scope (API.md)."""
    if error.error == "insufficient_scope":
        response = problem(403, "Forbidden",
                           "This token does not have the scope this request needs.")
        response.headers["WWW-Authenticate"] = (
            'Bearer realm="referrals", error="insufficient_scope"')
    else:
        response = problem(401, "Unauthorized",
                           "Send a valid, unexpired bearer token: Authorization: Bearer <token>.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="referrals", error="invalid_token"'
    return response


def require_scope(scope: str | None) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                token = protector.acquire_token([scope] if scope else None)
            except OAuth2Error as error:
                return _refusal(error)
            g.oauth_token = token
            return view(*args, **kwargs)

        # Say it in the OpenAPI document too (flask-smorest reads ``_apidoc``).
        apidoc = copy.deepcopy(getattr(view, "_apidoc", {}))
        manual = apidoc.setdefault("manual_doc", {})
        manual["security"] = [{"partnerOAuth": [scope] if scope else []}]
        manual.setdefault("responses", {}).update({
            "401": {"description": "Missing, unknown, expired or revoked token."},
            "403": {"description": "The token lacks the scope this operation needs."},
            "429": {"description": "Too many requests: see Retry-After."},
        })
        wrapped._apidoc = apidoc  # type: ignore[attr-defined]
        wrapped.required_scope = scope  # type: ignore[attr-defined]
        wrapped.requires_token = True  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def current_client() -> OAuthClient:
    return g.oauth_token.client


def current_organisation() -> Organisation:
    return current_client().organisation
