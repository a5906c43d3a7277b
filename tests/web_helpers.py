"""Signing in and posting forms through the real pages, for page tests without a browser."""
from __future__ import annotations

import re
from typing import Any

from tests import factories

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: Any, path: str = "/sign-in") -> str:
    """The session's CSRF token, read from a page's form the way a browser would get it."""
    html = client.get(path).get_data(as_text=True)
    found = _TOKEN.search(html)
    assert found, f"no CSRF token in the form at {path}"
    return found.group(1)


def sign_in(client: Any, user: Any, password: str = factories.PASSWORD) -> Any:
    """Sign ``user`` in through /sign-in (the user must have been made with a password)."""
    response = client.post("/sign-in", data={"email": user.email, "password": password,
                                             "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def post_form(client: Any, path: str, data: dict[str, Any] | None = None,
              token_from: str | None = None) -> Any:
    """POST a form with the CSRF token (taken from ``token_from``, default the page itself)."""
    token = csrf_token(client, token_from or path)
    return client.post(path, data={**(data or {}), "csrf_token": token})
