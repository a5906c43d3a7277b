"""Wiring the people-facing pages into the app: GOV.UK Frontend, CSRF and security headers,
sign-in, and what every template can use (the signed-in user, the navigation, form helpers)."""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app, url_for
from sqlalchemy.exc import SQLAlchemyError

from referral_service.auth import oidc
from referral_service.auth.session import current_user
from referral_service.web import (
    branding,
    consent_forms,
    forms,
    frontend,
    labels,
    navigation,
    security,
)
from referral_service.web.casework import bp as casework_bp
from referral_service.web.keyed_in import bp as keyed_in_bp
from referral_service.web.officer import bp as officer_bp
from referral_service.web.password import bp as password_bp
from referral_service.web.signin import bp as signin_bp
from referral_service.web.signin_oidc import bp as oidc_bp
from referral_service.web.team import bp as team_bp
from referral_service.web.transfer_link import bp as transfer_link_bp
from referral_service.web.two_factor import bp as two_factor_bp


def init_app(app: Flask) -> None:
    frontend.init_app(app)
    security.init_app(app)
    app.register_blueprint(signin_bp)
    app.register_blueprint(oidc_bp)
    oidc.init_app(app)
    app.register_blueprint(password_bp)
    app.register_blueprint(transfer_link_bp)
    app.register_blueprint(officer_bp)
    app.register_blueprint(casework_bp)
    app.register_blueprint(keyed_in_bp)
    app.register_blueprint(team_bp)
    app.register_blueprint(two_factor_bp)
    app.jinja_env.globals["errors_to_summary"] = forms.errors_to_summary
    app.jinja_env.globals["consent_rows"] = consent_forms.record_rows
    labels.register(app.jinja_env.globals, app.jinja_env.filters)
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
    app.context_processor(_template_context)


def _template_context() -> dict[str, Any]:
    try:
        user = current_user()
        brand = branding.for_user(user, current_app.config)
    except SQLAlchemyError:  # an error page while the database is down still renders
        user = None
        brand = branding.operator(current_app.config)
    return {
        "current_user": user,
        "service_name": current_app.config["SERVICE_NAME"],
        "branding": brand,
        "home_url": navigation.home_url(user) if user else url_for("public.index"),
        "navigation_items": navigation.items_for(user),
        "oidc_configured": _oidc_configured(),
        "oidc_provider_name": current_app.config.get("OIDC_PROVIDER_NAME"),
    }


def _oidc_configured() -> bool:
    return oidc.configured()
