"""Optional sign-in through an external OpenID Connect provider (an authority's Entra ID, say),
with authlib's Flask client. Configured only from the environment (config.py): OIDC_ISSUER,
OIDC_CLIENT_ID, OIDC_CLIENT_SECRET. The provider's metadata, keys and token endpoint are read
from ``OIDC_ISSUER/.well-known/openid-configuration``.

The id_token's signature (the provider's JWKS), issuer, audience, expiry and nonce are checked
by authlib; we then match the person by email address to an existing, active account (nobody
gets an account by signing in). An address the provider says is unverified is refused.
"""
from __future__ import annotations

from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

from referral_service.auth import accounts
from referral_service.domain.errors import DomainError
from referral_service.models import User

NAME = "oidc"
EXTENSION = "referrals_oidc"
NO_ACCOUNT = ("There is no account for that email address here. Ask your team leader to add "
              "you, or sign in with your email address and password.")


class OidcRefused(DomainError):
    """The provider said no, the answer did not check out, or nobody here has that address."""


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


def user_for(userinfo: dict[str, Any] | None) -> User:
    """The account the verified id_token's email address belongs to."""
    if not userinfo or not userinfo.get("email"):
        raise OidcRefused("Your organisation's sign-in did not say your email address.")
    if userinfo.get("email_verified") is False:
        raise OidcRefused("Your organisation's sign-in says your email address is not verified.")
    user = accounts.find_by_email(str(userinfo["email"]))
    if user is None or not user.active:
        raise OidcRefused(NO_ACCOUNT)
    return user
