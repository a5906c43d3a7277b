"""Optional sign-in through an external OpenID Connect provider (an authority's Entra ID, say),
with authlib's Flask client. Configured only from the environment (config.py): OIDC_ISSUER,
OIDC_CLIENT_ID, OIDC_CLIENT_SECRET. The provider's metadata, keys and token endpoint are read
from ``OIDC_ISSUER/.well-known/openid-configuration``.

The id_token's signature (the provider's JWKS), issuer, audience, expiry and nonce are checked
by authlib; which account the person then signs in to is decided in ``oidc_accounts``.
"""
from __future__ import annotations

from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

NAME = "oidc"
EXTENSION = "referrals_oidc"


def configured(app: Flask | None = None) -> bool:
    config = (app or current_app).config
    return bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID")
                and config.get("OIDC_CLIENT_SECRET"))


def init_app(app: Flask) -> None:
    """One authlib registry per app (it caches the client and the provider's metadata)."""
    if not configured(app):
        return
    oauth = OAuth(app)
    oauth.register(
        NAME, client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=app.config["OIDC_ISSUER"] + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile"})
    app.extensions[EXTENSION] = oauth


def client() -> Any:
    return current_app.extensions[EXTENSION].create_client(NAME)
