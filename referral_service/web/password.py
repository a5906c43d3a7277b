"""Forgotten password: ask for a link, then choose a new password from it."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from referral_service.auth import reset
from referral_service.auth.guards import public
from referral_service.web import forms

bp = Blueprint("password", __name__, url_prefix="/password-reset")


@bp.route("", methods=["GET", "POST"])
@public("people who cannot sign in ask for a reset link here")
def ask() -> ResponseReturnValue:
    errors: dict[str, str] = {}
    email = request.form.get("email", "").strip()
    if request.method == "POST":
        if not email:
            errors["email"] = "Enter your email address."
        else:
            reset.request_reset(email, ip_address=request.remote_addr)
            return redirect(url_for("password.sent"))
    return render_template("signin/reset_ask.html", errors=errors, email=email), (
        400 if errors else 200)


@bp.get("/sent")
@public("the confirmation after asking for a link (it says nothing about the account)")
def sent() -> ResponseReturnValue:
    return render_template("signin/reset_sent.html")


@bp.route("/<token>", methods=["GET", "POST"])
@public("the emailed one-time link: the token in the path is the credential")
def choose(token: str) -> ResponseReturnValue:
    if reset.valid_token(token) is None:
        return render_template("signin/reset_expired.html"), 404
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors = forms.attempt(lambda: reset.complete_reset(
            token, request.form.get("password", ""), request.form.get("confirm", ""),
            ip_address=request.remote_addr)) or {}
        if not errors:
            return redirect(url_for("password.done"))
    return render_template("signin/reset_choose.html", errors=errors), (400 if errors else 200)


@bp.get("/done")
@public("the confirmation after choosing a new password")
def done() -> ResponseReturnValue:
    return render_template("signin/reset_done.html")
