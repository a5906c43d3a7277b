"""Wiring the people-facing pages into the app: GOV.UK Frontend, CSRF and security headers,
sign-in, and what every template can use (the signed-in user, the navigation, form helpers)."""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app, url_for
from sqlalchemy.exc import SQLAlchemyError

from referral_service.auth.session import current_user
from referral_service.web import forms, frontend, navigation, security


def init_app(app: Flask) -> None:
    from referral_service.web.signin import bp as signin_bp

    frontend.init_app(app)
    security.init_app(app)
    app.register_blueprint(signin_bp)
    app.jinja_env.globals["errors_to_summary"] = forms.errors_to_summary
    app.context_processor(_template_context)


def _template_context() -> dict[str, Any]:
    try:
        user = current_user()
    except SQLAlchemyError:  # an error page while the database is down still renders
        user = None
    return {
        "current_user": user,
        "service_name": current_app.config["SERVICE_NAME"],
        "home_url": navigation.home_url(user) if user else url_for("public.index"),
        "navigation_items": navigation.items_for(user),
    }
