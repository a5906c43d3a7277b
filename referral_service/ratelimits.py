"""Rate limits (Flask-Limiter): per API client on the partner API, per address elsewhere, and
tight ones on the pages that take a password, a reset request or a second-factor code.

The counters live in Redis when ``RATELIMIT_STORAGE_URI`` names it, so every web process shares
them; in the embedded default they are in memory (one process).
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import SQLAlchemyError

from referral_service import unit_of_work
from referral_service.auth import accounts, session
from referral_service.auth.bearer import presented_client_id
from referral_service.auth.views import bp as oauth_bp
from referral_service.extensions import db

log = logging.getLogger(__name__)


def client_or_address() -> str:
    """The API client when the request carries a valid token, else the caller's address."""
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
    # No X-RateLimit-* headers on every response (API.md asks only for Retry-After on 429):
    # Flask-Limiter reads each window back from its storage to write them, two more Redis
    # round trips per request when the counters are shared.
    limiter = Limiter(key_func=client_or_address, headers_enabled=False)
    limiter.init_app(app)
    limiter.request_filter(_exempt)

    @app.after_request
    def _retry_after(response: Response) -> Response:
        limit = limiter.current_limit if response.status_code == 429 else None
        if limit is not None and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(max(1, int(limit.reset_at - time.time())))
        return response


    # Token requests are keyed by address: a guessed client id must not exhaust a real client's.
    limiter.limit(app.config["TOKEN_RATE_LIMIT"], key_func=get_remote_address)(oauth_bp)
    _limit_sign_in_pages(app, limiter)
    # The transfer link page, opened and posted alike, per address: secrets cannot be guessed
    # at any rate, and the page shows personal data.
    link_page: Callable[..., Any] = app.view_functions["transfer_link.page"]
    app.view_functions["transfer_link.page"] = limiter.limit(
        app.config["TRANSFER_LINK_RATE_LIMIT"], key_func=get_remote_address,
        override_defaults=False)(link_page)
    return limiter


# --- the sign-in pages ---------------------------------------------------------------------------
# Only form posts are limited (the pages themselves can be opened freely), each on top of the
# default limit. A password or a code is counted only when the page refused it (400): a council
# office behind one address, signing in at nine, is not one person guessing. Refused passwords
# and codes are also counted per account (the email on the form, or the account half-way through
# signing in), so guesses spread over many addresses are stopped too. Every reset request is
# counted, by address and by the address it names (each sends an email).

def _refused(response: Response) -> bool:
    return response.status_code == 400


def _named_email() -> str:
    """The submitted email address, as a counter key: hashed (no addresses kept in the counters'
    storage), keyed with the secret so a key cannot be matched to an address outside."""
    email = request.form.get("email", "").strip().lower()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return "email:" + hashlib.blake2b(email.encode(), key=secret[:64], digest_size=16).hexdigest()


def _no_email() -> bool:
    return not request.form.get("email", "").strip()


def _pending_account() -> str:
    """The account half-way through signing in (its second step), as a counter key."""

    return f"account:{session.pending_user_id()}"


def _no_pending_account() -> bool:

    return session.pending_user_id() is None


def _audit_refusal(page: str) -> Callable[[RequestLimit], None]:
    """When a limit refuses an attempt that names an account (the email on the form, or the
    person half-way through signing in), the refusal is audited as a failed sign-in is; once per
    request. Nothing else is written: the page's own work never runs."""
    def on_breach(limit: RequestLimit) -> None:
        if g.get("_sign_in_limit_audited"):
            return
        g._sign_in_limit_audited = True
        log.warning("rate limit: %s refused an attempt (%s)", page, limit.limit)

        try:
            user = (session.pending_user() if page == "second_factor"
                    else accounts.find_by_email(request.form.get("email", "")))
            if user is not None:
                accounts.record_rate_limited(user, request.remote_addr, page=page,
                                             limit=str(limit.limit))
                unit_of_work.commit_refusal()  # the attempt is refused, and recorded
        except SQLAlchemyError:  # the refusal stands even when it cannot be recorded
            db.session.rollback()
            log.warning("rate limit: the refusal on %s could not be audited", page)

    return on_breach


def _limit_sign_in_pages(app: Flask, limiter: Limiter) -> None:
    config = app.config
    second_factor: list[dict[str, Any]] = [
        {"limit_value": config["SECOND_FACTOR_RATE_LIMIT"], "deduct_when": _refused,
         "page": "second_factor"},
        {"limit_value": config["SECOND_FACTOR_RATE_LIMIT"], "deduct_when": _refused,
         "page": "second_factor", "key_func": _pending_account,
         "exempt_when": _no_pending_account, "scope": "second-factor-account"}]
    limits: dict[str, list[dict[str, Any]]] = {
        "signin.sign_in": [
            {"limit_value": config["SIGN_IN_RATE_LIMIT"], "deduct_when": _refused,
             "page": "sign_in"},
            {"limit_value": config["SIGN_IN_RATE_LIMIT"], "deduct_when": _refused,
             "page": "sign_in", "key_func": _named_email, "exempt_when": _no_email,
             "scope": "sign-in-email"}],
        "two_factor.code": second_factor,
        "two_factor.set_up": second_factor,
        "password.ask": [
            {"limit_value": config["PASSWORD_RESET_RATE_LIMIT"], "page": "password_reset"},
            {"limit_value": config["PASSWORD_RESET_RATE_LIMIT"], "page": "password_reset",
             "key_func": _named_email, "exempt_when": _no_email,
             "scope": "password-reset-email"}],
    }
    for endpoint, wanted in limits.items():
        view: Callable[..., Any] = app.view_functions[endpoint]
        for one in wanted:
            options = {"key_func": get_remote_address,
                       **{name: value for name, value in one.items() if name != "page"}}
            view = limiter.limit(methods=["POST"], override_defaults=False,
                                 on_breach=_audit_refusal(one["page"]), **options)(view)
        app.view_functions[endpoint] = view
