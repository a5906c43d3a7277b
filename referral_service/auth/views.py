"""OAuth endpoints: metadata, token, revocation, introspection."""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from referral_service.auth import oauth2

bp = Blueprint("oauth", __name__)


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> ResponseReturnValue:
    return jsonify(oauth2.metadata())


@bp.post("/oauth/token")
def token() -> ResponseReturnValue:
    return oauth2.authorization.create_token_response()


@bp.post("/oauth/revoke")
def revoke() -> ResponseReturnValue:
    return oauth2.authorization.create_endpoint_response(oauth2.Revocation.ENDPOINT_NAME)


@bp.post("/oauth/introspect")
def introspect() -> ResponseReturnValue:
    return oauth2.authorization.create_endpoint_response(oauth2.Introspection.ENDPOINT_NAME)
