"""CSRF on every form and the security headers on every response.

CSRF: Flask-WTF's token, checked before any POST/PUT/PATCH/DELETE except under ``/api/``,
``/oauth/`` and ``/webhooks/``. Those are called by systems, not browsers: they authenticate with
a bearer token, client credentials or a request signature, never a cookie, so a forged
cross-site request carries nothing that would let it through. Checking by path (rather than
listing views) means a new page's form is protected without anyone remembering to.

Headers: one Content-Security-Policy for every response, the API's Swagger UI page included, with
no inline script or style (pages load their script and styles as files from this origin), frame
denial, nosniff, a strict referrer policy, and HSTS when the service is reached over HTTPS.
"""
from __future__ import annotations

from flask import Flask, Response, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import Markup

csrf = CSRFProtect()
CSRF_EXEMPT_PREFIXES = ("/api/", "/oauth/", "/webhooks/")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"


def csrf_field() -> Markup:
    """The hidden input every form carries: ``{{ csrf_field() }}``."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(generate_csrf())


def _check_csrf() -> None:
    # Flask-WTF caches the token on ``g``, which lives as long as the app context. Each request
    # has its own in production; tests that hold one app context open across many requests and
    # clients would otherwise hand one client's token to the next.
    g.pop("csrf_token", None)
    # Only for a matched route: an unknown path or method still answers 404 or 405.
    if (request.method in UNSAFE_METHODS and request.url_rule is not None
            and not request.path.startswith(CSRF_EXEMPT_PREFIXES)):
        csrf.protect()


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if _over_https():
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.path.startswith(("/assets/", "/govuk/", "/swagger-ui/", "/static/")):
        return response
    # Pages show personal data: never kept by shared caches or the browser's back-forward cache
    # after signing out.
    if response.mimetype == "text/html":
        headers.setdefault("Cache-Control", "no-store")
    return response


def _over_https() -> bool:
    from flask import current_app

    return bool(current_app.config.get("SERVED_OVER_HTTPS")) or request.is_secure


def _csrf_refused(error: CSRFError) -> ResponseReturnValue:
    """A form without this session's token: an old tab, an expired session, or another site."""
    return render_template(
        "error.html", status=400, title="The form could not be sent",
        detail="The page was open too long, or the form did not come from this service. Go "
               "back, reload the page and try again."), 400


def init_app(app: Flask) -> None:
    # Checked by our before_request (by path), not Flask-WTF's own (every view unless exempted).
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    csrf.init_app(app)
    app.before_request(_check_csrf)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_field"] = csrf_field
