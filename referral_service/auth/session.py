"""Who is signed in to the web pages: the signed Flask session cookie names the user and the
``session_version`` they signed in with.

Flask's session is a signed cookie, not a server-side record, so three things are done by hand:
signing in clears whatever the session held before (nothing planted beforehand survives, and the
CSRF token is renewed: no session fixation); signing out raises the user's
``session_version``, which ends every copy of every cookie they had at once; and a session ends
``SESSION_ABSOLUTE_LIFETIME`` after signing in however busy it is (the cookie's own lifetime,
``PERMANENT_SESSION_LIFETIME``, is renewed by every request, so it only ends idle sessions).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask import current_app, flash, g, request, session

from referral_service import clock
from referral_service.extensions import db
from referral_service.models import User

USER_KEY = "user_id"
VERSION_KEY = "session_version"
SIGNED_IN_AT_KEY = "signed_in_at"
# The user is cached on the request (its WSGI environ), not on ``g``: ``g`` belongs to the app
# context, which a test's outer app context keeps alive across requests.
_CACHE = "referral_service.current_user"


def _forget_csrf_token() -> None:
    """Flask-WTF caches the token on ``g``; after the session is cleared it must make a new one."""
    g.pop("csrf_token", None)


def start(user: User) -> None:
    """Begin a fresh session for ``user`` (after every check, including a second factor)."""
    session.clear()
    session[USER_KEY] = str(user.id)
    session[VERSION_KEY] = user.session_version
    session[SIGNED_IN_AT_KEY] = clock.now().isoformat()
    session.permanent = True
    _forget_csrf_token()
    request.environ[_CACHE] = user


def unknown_for_this_response() -> None:
    """Render this response as if nobody were signed in, without reading the database (a page
    saying the database is unavailable); the session itself is kept."""
    request.environ[_CACHE] = None


def end(user: User | None) -> None:
    """Sign out here and everywhere: the caller commits the raised version."""
    if user is not None:
        user.session_version += 1
        db.session.flush()
    session.clear()
    _forget_csrf_token()
    request.environ[_CACHE] = None


def current_user() -> User | None:
    """The signed-in, active user of this request, or None (loaded once per request)."""
    if _CACHE in request.environ:
        return request.environ[_CACHE]
    user = None
    raw_id = session.get(USER_KEY)
    if raw_id:
        try:
            user = db.session.get(User, uuid.UUID(str(raw_id)))
        except ValueError:
            user = None
        if user is not None and (not user.active
                                 or session.get(VERSION_KEY) != user.session_version):
            user = None
        if user is not None and _past_absolute_lifetime():
            user = None
            session.clear()
            flash(_ended_message())  # shown on the sign-in page the guard sends the person to
        elif user is None:
            session.clear()
    request.environ[_CACHE] = user
    return user


def _past_absolute_lifetime() -> bool:
    """Signed in longer ago than the absolute lifetime allows (or at an unknown time)."""
    try:
        signed_in_at = clock.as_utc(datetime.fromisoformat(str(session.get(SIGNED_IN_AT_KEY))))
    except ValueError:
        return True
    lifetime = timedelta(seconds=current_app.config["SESSION_ABSOLUTE_LIFETIME"])
    return clock.now() >= signed_in_at + lifetime


def _ended_message() -> str:
    seconds = int(current_app.config["SESSION_ABSOLUTE_LIFETIME"])
    hours, minutes = divmod(seconds // 60, 60)
    span = (f"{hours} hour{'s' if hours != 1 else ''}" if not minutes
            else f"{seconds // 60} minutes")
    return f"You have been signed out because you signed in more than {span} ago. Sign in again."


PENDING_USER_KEY = "pending_user_id"
PENDING_VERSION_KEY = "pending_session_version"
PENDING_NEXT_KEY = "pending_next"
PENDING_METHOD_KEY = "pending_method"


def begin_second_step(user: User, next_path: str | None, *, method: str) -> None:
    """The password was right; the second factor is still to come. Nothing is signed in yet:
    only these keys are kept (in a fresh session), and every page still needs sign-in."""
    session.clear()
    session[PENDING_USER_KEY] = str(user.id)
    session[PENDING_VERSION_KEY] = user.session_version
    session[PENDING_NEXT_KEY] = next_path
    session[PENDING_METHOD_KEY] = method
    _forget_csrf_token()


def pending_user_id() -> str | None:
    """The id of the account half-way through signing in, as the session holds it (unchecked)."""
    raw_id = session.get(PENDING_USER_KEY)
    return str(raw_id) if raw_id else None


def pending_user() -> User | None:
    raw_id = pending_user_id()
    if not raw_id:
        return None
    try:
        user = db.session.get(User, uuid.UUID(str(raw_id)))
    except ValueError:
        return None
    if user is None or not user.active or session.get(PENDING_VERSION_KEY) != user.session_version:
        return None
    return user


def pending_next() -> str | None:
    value = session.get(PENDING_NEXT_KEY)
    return str(value) if value else None


def pending_method() -> str:
    return str(session.get(PENDING_METHOD_KEY) or "password")
