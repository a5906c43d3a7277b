"""The one request-level check for control characters in what people and partners type.

NUL cannot be stored in PostgreSQL's text (a NUL in a sign-in email, a note or a query was a
500), and no person types the other C0 controls or DEL. So a query string, a form post or a URL
path holding one is refused before any view reads it, naming each field, and nothing changes.
JSON bodies are judged field by field by the schemas (``schemas.referral.Text``), which also
refuse tabs and line breaks in one-line answers. Twilio's webhooks are left to their view: their
signature covers the form exactly as sent (web/webhooks.py strips the characters instead).
"""
from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from referral_service.problems import FIELD_ERRORS_DETAIL, problem, wants_json
from referral_service.validation import CONTROL_CHARACTER_MESSAGE, has_control_characters

FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
UNNAMED = "a field name"  # a name that itself holds a control character is not shown back
WEB_DETAIL = ("Nothing was saved. Some answers hold a control character (such as a null byte), "
              "which cannot be saved. Go back, remove it from these answers and try again:")


def _fields_with_control_characters() -> list[str]:
    """Names of the query and form fields (and uploads' file names) holding one, in order."""
    pairs: list[tuple[str, str]] = list(request.args.items(multi=True))
    if request.mimetype in FORM_TYPES:
        pairs += request.form.items(multi=True)
        pairs += [(name, upload.filename or "") for name, upload in
                  request.files.items(multi=True)]
    named: list[str] = []
    for name, value in pairs:
        if has_control_characters(name) or has_control_characters(value):
            shown = UNNAMED if has_control_characters(name) else name
            if shown not in named:
                named.append(shown)
    return named


def _refusal(names: Iterable[str]) -> ResponseReturnValue:
    names = list(names)
    if request.path.startswith("/oauth/"):  # RFC 6749 §5.2's shape for the OAuth endpoints
        response = jsonify({"error": "invalid_request", "error_description":
                            f"Control characters are not allowed in: {', '.join(names)}."})
        response.status_code = 400
        response.headers["Cache-Control"] = "no-store"
        return response
    if wants_json():
        return problem(400, "Bad Request", FIELD_ERRORS_DETAIL,
                       errors={name: [CONTROL_CHARACTER_MESSAGE] for name in names})
    return Response(render_template("error.html", status=400, title="There is a problem",
                                    detail=WEB_DETAIL, fields=names), 400)


def refuse_control_characters() -> ResponseReturnValue | None:
    if request.path.startswith("/webhooks/"):
        return None
    if has_control_characters(request.path):
        abort(404)  # no page has such an address (and a path part may reach a query)
    names = _fields_with_control_characters()
    return _refusal(names) if names else None


def init_app(app: Flask) -> None:
    """Registered before every other request hook (the rate limiter reads the sign-in email)."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_control_characters)
