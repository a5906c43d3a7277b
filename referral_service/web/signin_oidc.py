"""Signing in through the external OpenID Connect provider (when one is configured)."""
from __future__ import annotations

import logging

from authlib.integrations.base_client.errors import OAuthError
from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask import session as flask_session
from flask.typing import ResponseReturnValue
from joserfc.errors import JoseError
from requests import RequestException

from referral_service import unit_of_work
from referral_service.auth import oidc, oidc_accounts
from referral_service.auth.guards import public
from referral_service.web.signin import after_first_factor, safe_next

bp = Blueprint("oidc", __name__, url_prefix="/sign-in/oidc")
log = logging.getLogger(__name__)
NEXT_KEY = "oidc_next"


def _require_configured() -> None:
    if not oidc.configured():
        abort(404)


@bp.get("")
@public("starts sign-in at the external identity provider")
def start() -> ResponseReturnValue:
    _require_configured()
    flask_session[NEXT_KEY] = safe_next(request.args.get("next"))
    redirect_uri = current_app.config["PUBLIC_BASE_URL"] + url_for("oidc.callback")
    try:
        return oidc.client().authorize_redirect(redirect_uri)
    except RequestException as error:
        return _refused(f"could not reach the provider ({type(error).__name__})")


@bp.get("/callback")
@public("the identity provider sends the person back here; state, nonce and id_token checked")
def callback() -> ResponseReturnValue:
    _require_configured()
    next_path = safe_next(flask_session.pop(NEXT_KEY, None))
    try:
        token = oidc.client().authorize_access_token()
        user = oidc_accounts.user_for(token.get("userinfo"), request.remote_addr)
    except oidc_accounts.OidcRefused as refused:
        unit_of_work.commit_refusal()  # its audit events (a locked account, another identity)
        return _refused("no usable account", message=refused.message)
    except (OAuthError, JoseError, RequestException, ValueError) as error:
        return _refused(type(error).__name__)
    return after_first_factor(user, next_path, method="oidc")


def _refused(why: str, message: str | None = None) -> ResponseReturnValue:
    log.info("OIDC sign-in refused: %s", why)  # no personal data: the reason's kind only
    text = message or ("Signing in through your organisation did not work. Try again, or sign "
                       "in with your email address and password.")
    return render_template("signin/sign_in.html", errors={"": text}, email="",
                           next_path=None), 400
