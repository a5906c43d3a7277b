"""Signing in and out of the web pages with a local account (email and password)."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from referral_service import unit_of_work
from referral_service.auth import accounts, session, totp
from referral_service.auth.guards import public, roles
from referral_service.models import Role, User
from referral_service.web import navigation

bp = Blueprint("signin", __name__)
EVERYONE = tuple(Role)


def safe_next(target: str | None) -> str | None:
    """A path on this site to return to after signing in; anything else is ignored (no open
    redirect to another site through ``?next=``)."""
    # Browsers drop tabs and newlines from a URL, so "/\t/evil.example" would become
    # "//evil.example": only printable paths are kept.
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or not target.isprintable()):
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@public("people sign in here")
def sign_in() -> ResponseReturnValue:
    next_path = safe_next(request.values.get("next"))
    user = session.current_user()
    if user is not None and request.method == "GET":
        return redirect(next_path or navigation.home_url(user))
    errors: dict[str, str] = {}
    email = request.form.get("email", "").strip()
    if request.method == "POST":
        password = request.form.get("password", "")
        if not email:
            errors["email"] = "Enter your email address."
        if not password:
            errors["password"] = "Enter your password."  # noqa: S105 (a message, not a secret)
        if not errors:
            try:
                user = accounts.authenticate(
                    accounts.Attempt(email, password, request.remote_addr))
            except accounts.SignInRefused as refused:
                unit_of_work.commit_refusal()  # the failure is counted (and a lock kept)
                errors["email"] = refused.message
            else:
                return after_first_factor(user, next_path, method="password")
    return render_template("signin/sign_in.html", errors=errors, email=email,
                           next_path=next_path), (400 if errors else 200)


def after_first_factor(user: User, next_path: str | None, *,
                       method: str) -> ResponseReturnValue:
    """The password (or the identity provider) checked out: a second factor if the person has
    one or their authority requires it, otherwise signed in."""
    if totp.enabled(user) or totp.required_for(user):
        session.begin_second_step(user, next_path, method=method)
        return redirect(url_for("two_factor.code" if totp.enabled(user) else "two_factor.set_up"))
    return complete_sign_in(user, next_path, method=method)


def complete_sign_in(user: User, next_path: str | None, *, method: str) -> ResponseReturnValue:
    """Every check has passed: start a fresh session and go where the person was going."""
    session.start(user)
    accounts.record_sign_in(user, request.remote_addr, method=method)
    return redirect(next_path or navigation.home_url(user))


@bp.post("/sign-out")
@public("signing out needs no role; a signed-out visitor is simply sent to the sign-in page")
def sign_out() -> ResponseReturnValue:
    user = session.current_user()
    if user is not None:
        accounts.record_sign_out(user, request.remote_addr)
    session.end(user)
    return redirect(url_for("signin.signed_out"))


@bp.get("/signed-out")
@public("the page after signing out")
def signed_out() -> ResponseReturnValue:
    return render_template("signin/signed_out.html")


@bp.get("/account")
@roles(*EVERYONE)
def account() -> ResponseReturnValue:
    """Who you are signed in as; the home page of roles without pages of their own yet."""
    return render_template("signin/account.html", user=session.current_user())
