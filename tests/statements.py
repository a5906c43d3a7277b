"""Counting the SQL a block runs: for tests that pin how many queries a page or operation makes."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from referral_service.extensions import db


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement the session's connection runs inside the block (requests made by the
    test client included: the test session shares its connection)."""
    seen: list[str] = []
    connection = db.session.connection()

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)
