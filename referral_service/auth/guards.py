"""Who may open each page: every web view is either ``@roles(...)`` or ``@public("why")``
(tests/integration/test_route_security.py fails for a route that is neither), and the scoping
helpers keep people to their own authority's or organisation's referrals.

- Not signed in: redirected to the sign-in page, and brought back afterwards.
- Signed in with the wrong role: 403.
- A referral of another authority or organisation: 404, as if it did not exist (its reference
  is not confirmed to someone who may not see it).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, request, url_for
from sqlalchemy import Select, select

from referral_service.auth.session import current_user
from referral_service.extensions import db
from referral_service.models import Referral, Role, User

F = TypeVar("F", bound=Callable[..., Any])
STAFF = (Role.OFFICER, Role.TEAM_LEADER)


def roles(*allowed: Role) -> Callable[[F], F]:
    """Only signed-in people with one of ``allowed`` roles may use the view."""
    if not allowed:
        raise ValueError("roles() needs at least one role; use @public for open pages")

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("signin.sign_in", next=_local_path()))
            if user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        guarded.allowed_roles = frozenset(allowed)  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def public(reason: str) -> Callable[[F], F]:
    """Open to anyone on purpose; the reason is read by the route-security test and reviewers."""
    if not reason.strip():
        raise ValueError("say why the page is public")

    def decorate(view: F) -> F:
        view.public_reason = reason  # type: ignore[attr-defined]
        return view

    return decorate


def _local_path() -> str | None:
    """Where to come back to after signing in: this page's path (never a full URL). None for a
    form post: its page cannot be opened again with GET, so the person starts from home."""
    return request.full_path.rstrip("?") if request.method == "GET" else None


def signed_in_user() -> User:
    """The user a ``@roles`` view is running for (the guard has already checked there is one)."""
    user = current_user()
    if user is None:  # pragma: no cover - only reachable from a view without @roles
        abort(401)
    return user


def staff_referrals(user: User) -> Select[Any]:
    """Referrals an officer or team leader may see: those held by their own authority."""
    if user.role not in STAFF or user.authority_id is None:
        return select(Referral).where(Referral.id.is_(None))
    return select(Referral).where(Referral.authority_id == user.authority_id)


def organisation_referrals(user: User) -> Select[Any]:
    """Referrals a referrer may see: those made by their own organisation."""
    if user.role is not Role.PARTNER or user.organisation_id is None:
        return select(Referral).where(Referral.id.is_(None))
    return select(Referral).where(Referral.referring_organisation_id == user.organisation_id)


def _one(query: Select[Any], referral_id: uuid.UUID | str) -> Referral:
    try:
        wanted = referral_id if isinstance(referral_id, uuid.UUID) else uuid.UUID(referral_id)
    except ValueError:
        abort(404)
    referral = db.session.scalar(query.where(Referral.id == wanted))
    if referral is None:
        abort(404)
    return referral


def staff_referral(referral_id: uuid.UUID | str, user: User | None = None) -> Referral:
    """One referral of the signed-in officer's or team leader's authority, or 404."""
    return _one(staff_referrals(user or signed_in_user()), referral_id)


def organisation_referral(referral_id: uuid.UUID | str, user: User | None = None) -> Referral:
    """One referral of the signed-in referrer's organisation, or 404."""
    return _one(organisation_referrals(user or signed_in_user()), referral_id)
