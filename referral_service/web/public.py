"""The front page: for someone signed out, only a way to start a referral and a way to sign in.

Nothing about referrals, authorities or the deployment is shown before a person signs in; once
signed in, the front page is their role's own home page.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template
from flask.typing import ResponseReturnValue

from referral_service.auth.guards import public
from referral_service.auth.session import current_user
from referral_service.web import navigation

bp = Blueprint("public", __name__)


@bp.get("/")
@public("the front page: a start button and sign-in, nothing more")
def index() -> ResponseReturnValue:
    user = current_user()
    if user is not None:
        return redirect(navigation.home_url(user))
    return render_template("index.html")
