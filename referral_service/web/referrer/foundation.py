"""TEMPORARY: the web foundation's sign-in guard and CSRF field, until branch ``web`` is merged.

Mirrors the names of ``referral_service.auth.guards`` and ``referral_service.web.security`` so
that switching is one import line; deleted at the merge.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, redirect, request, session
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from markupsafe import Markup

from referral_service.extensions import db
from referral_service.models import Role, User

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> User | None:
    raw = session.get("user_id")
    return db.session.get(User, uuid.UUID(raw)) if raw else None


def roles(*allowed: Role) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(f"/sign-in?next={request.path}")
            if user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        guarded.allowed_roles = frozenset(allowed)  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def signed_in_user() -> User:
    user = current_user()
    if user is None:
        abort(401)
    return user


def csrf_field() -> Markup:
    return Markup("")


def init_app(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader([
        PackageLoader("referral_service"),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    app.jinja_env.globals.setdefault("csrf_field", csrf_field)
