"""Rate limits (Flask-Limiter): per API client on the partner API, per address elsewhere.

The counters live in Redis when ``RATELIMIT_STORAGE_URI`` names it, so every web process shares
them; in the embedded default they are in memory (one process).
"""
from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def client_or_address() -> str:
    """The API client when the request carries a valid token, else the caller's address."""
    from referral_service.auth.bearer import presented_client_id

    client_id = presented_client_id()
    return f"client:{client_id}" if client_id else f"ip:{get_remote_address()}"


def _exempt() -> bool:
    return request.path in {"/healthz", "/readyz", "/metrics"}


def init_app(app: Flask) -> Limiter:
    app.config.setdefault("RATELIMIT_DEFAULT", app.config["API_RATE_LIMIT"])
    # One Limiter per application. Flask-Limiter keeps the default limits, the storage and the
    # blueprint limits on the Limiter instance and only takes RATELIMIT_DEFAULT from the first
    # app it is given, so a module-level one made every later app (a second create_app) run on
    # the first app's API_RATE_LIMIT and swapped its counters' storage under the others.
    limiter = Limiter(key_func=client_or_address, headers_enabled=True)
    limiter.init_app(app)
    limiter.request_filter(_exempt)
    from referral_service.auth.views import bp as oauth_bp

    # Token requests are keyed by address: a guessed client id must not exhaust a real client's.
    limiter.limit(app.config["TOKEN_RATE_LIMIT"], key_func=get_remote_address)(oauth_bp)
    return limiter
