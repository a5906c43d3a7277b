"""RFC 9457 problem documents, shared by every HTTP side (the API, OAuth, webhooks, pages)."""
from __future__ import annotations

from flask import Response, jsonify, request

FIELD_ERRORS_DETAIL = "Some fields need changing: 'errors' says which, and how."


def wants_json() -> bool:
    """Machine callers get problem+json; people get pages."""
    return request.path.startswith(("/api/", "/oauth/", "/webhooks/")) or (
        request.accept_mimetypes.best == "application/json"
    )


def problem(status: int, title: str, detail: str | None = None, **extra: object) -> Response:
    """An RFC 9457 problem document."""
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response
