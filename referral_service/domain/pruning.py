"""Bounded deletes: at most ``limit`` rows per statement, oldest first, so that a backlog of
expired rows is worked off over several scheduler ticks instead of one long lock.

The rows are chosen by an indexed predicate in a subquery and deleted by primary key, which
SQLite and PostgreSQL both accept (neither has ``DELETE … LIMIT`` in common). Nothing commits:
the caller does.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, delete, select

from referral_service.extensions import db


def delete_oldest(model: Any, where: ColumnElement[bool], oldest_first: Any,
                  limit: int | None = None) -> int:
    """Delete the rows of ``model`` matching ``where`` (at most ``limit``); return how many."""
    if limit is None:
        statement = delete(model).where(where)
    else:
        chosen = select(model.id).where(where).order_by(oldest_first).limit(limit)
        statement = delete(model).where(model.id.in_(chosen.scalar_subquery()))
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]
