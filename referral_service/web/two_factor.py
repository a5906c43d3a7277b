"""The TOTP second factor: the code step at sign-in, setting up an authenticator app (at sign-in
when the authority requires it, or from the account page), and the authority's setting."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from referral_service import unit_of_work
from referral_service.auth import session, totp
from referral_service.auth.guards import public, roles, signed_in_user
from referral_service.domain.errors import DomainError
from referral_service.models import Role, User
from referral_service.web import forms, navigation
from referral_service.web.signin import EVERYONE, complete_sign_in

bp = Blueprint("two_factor", __name__)

navigation.add("Sign-in security", "two_factor.policy", Role.TEAM_LEADER, order=40)


def _check(user: User, confirm: bool) -> dict[str, str] | None:
    code = request.form.get("code", "")
    try:
        if confirm:
            totp.confirm_enrolment(user, code, ip_address=request.remote_addr)
        else:
            totp.check_code(user, code, ip_address=request.remote_addr)
    except DomainError as refused:  # counted: the caller commits it as a refusal
        return forms.from_domain_error(refused)
    return None


@bp.route("/sign-in/code", methods=["GET", "POST"])
@public("the second step of signing in: only a person who has just given the right password")
def code() -> ResponseReturnValue:
    user = session.pending_user()
    if user is None or not totp.enabled(user):
        return redirect(url_for("signin.sign_in"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors = _check(user, confirm=False) or {}
        if not errors:
            return complete_sign_in(user, session.pending_next(),
                                    method=session.pending_method() + "+totp")
        unit_of_work.commit_refusal()  # a wrong code is counted, as a wrong password is
    return render_template("signin/code.html", errors=errors), (400 if errors else 200)


def _enrol_page(user: User, errors: dict[str, str], *, at_sign_in: bool) -> ResponseReturnValue:
    secret = totp.begin_enrolment(user)
    if errors:
        unit_of_work.commit_refusal()  # the wrong code is counted; the secret shown is kept
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template("signin/set_up_code.html", errors=errors, secret=grouped,
                           qr_svg=totp.qr_svg(user), at_sign_in=at_sign_in,
                           required=totp.required_for(user)), (400 if errors else 200)


@bp.route("/sign-in/set-up-code", methods=["GET", "POST"])
@public("the authority requires a second factor: set up during sign-in, after the password")
def set_up() -> ResponseReturnValue:
    user = session.pending_user()
    if user is None:
        return redirect(url_for("signin.sign_in"))
    if totp.enabled(user):
        return redirect(url_for("two_factor.code"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors = _check(user, confirm=True) or {}
        if not errors:
            return complete_sign_in(user, session.pending_next(),
                                    method=session.pending_method() + "+totp")
    return _enrol_page(user, errors, at_sign_in=True)


@bp.route("/account/second-factor", methods=["GET", "POST"])
@roles(*EVERYONE)
def account() -> ResponseReturnValue:
    user = signed_in_user()
    if totp.enabled(user):
        return _on_page(user, {})
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors = _check(user, confirm=True) or {}
        if not errors:
            flash("Your authenticator app is set up. You will be asked for a code when you "
                  "sign in.", "success")
            return redirect(url_for("two_factor.account"))
    return _enrol_page(user, errors, at_sign_in=False)


@bp.post("/account/second-factor/remove")
@roles(*EVERYONE)
def remove() -> ResponseReturnValue:
    user = signed_in_user()
    try:
        totp.remove(user, password=request.form.get("password", ""),
                    code=request.form.get("code", ""), ip_address=request.remote_addr)
    except DomainError as refused:
        unit_of_work.commit_refusal()  # a wrong password or code is counted, as at sign-in
        return _on_page(user, forms.from_domain_error(refused))
    flash("The second factor was removed.", "success")
    return redirect(url_for("two_factor.account"))


def _on_page(user: User, errors: dict[str, str]) -> ResponseReturnValue:
    """The account's second factor is on: the form to remove it asks for the password again
    (or a code, for an account without a password)."""
    return render_template("signin/second_factor_on.html", errors=errors,
                           required=totp.required_for(user),
                           asks_password=bool(user.password_hash)), (400 if errors else 200)


@bp.route("/team/sign-in-security", methods=["GET", "POST"])
@roles(Role.TEAM_LEADER)
def policy() -> ResponseReturnValue:
    user = signed_in_user()
    authority = user.authority
    assert authority is not None
    if request.method == "POST":
        required = request.form.get("required") == "yes"
        totp.set_required(authority, required, by=user, ip_address=request.remote_addr)
        flash("Officers and team leaders must now use an authenticator app to sign in."
              if required else "An authenticator app is now optional.", "success")
        return redirect(url_for("two_factor.policy"))
    current = totp.policy_for(authority.id)
    return render_template("signin/policy.html", authority=authority,
                           required=bool(current and current.totp_required),
                           without=totp.users_with_policy(authority.id))
