"""Fixtures for the page tests (``test_web_*.py``)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.oidc import fake_oidc  # noqa: F401  (the fake OpenID provider fixture)
from tests.web_helpers import cheap_password_hashing


@pytest.fixture(autouse=True)
def _cheap_hashes_for_page_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """Page tests sign people in hundreds of times: argon2id with the cheapest parameters (still
    argon2id, still verified by the real code). Other tests keep the production cost."""
    if not request.module.__name__.rsplit(".", 1)[-1].startswith("test_web"):
        yield
        return
    with cheap_password_hashing():
        yield
