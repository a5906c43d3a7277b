"""Append-only rows written with one Core INSERT per table at the end of a hot operation.

Receiving a referral writes about eight rows besides the referral itself (audit events, outbox
messages, reminders) that nothing reads back in the same transaction. As ORM objects each costs
an instrumented constructor and a place in the unit of work's flush plan; as plain dicts, one
executemany per table, it costs a fraction of that (measured in benchmarks/README.md).

Inside ``with collecting():`` the functions that write those rows (``audit.record``,
``notifications.outbox``, ``notifications.reminders.schedule``) add a dict here instead of an
object to the session. On leaving the block without an error the session is flushed (the rows
refer to the referral) and the rows inserted, so the caller sees the same database state as
before, in the same transaction. Outside the block nothing changes.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Table, insert

from referral_service.extensions import Model, db

_KEY = "referral_service.rowbatch"


class RowBatch:
    def __init__(self) -> None:
        self.rows: dict[Table, list[dict[str, Any]]] = {}

    def add(self, model: type[Model], row: dict[str, Any]) -> None:
        """``row`` names every column (one executemany needs the same keys in every row)."""
        self.rows.setdefault(cast(Table, model.__table__), []).append(row)

    def write(self) -> None:
        db.session.flush()  # the referral (and any ORM rows) first: these rows refer to it
        for table, rows in self.rows.items():
            db.session.execute(insert(table), rows)
        self.rows.clear()


def current() -> RowBatch | None:
    """The batch being collected in this session, if any."""
    batch: RowBatch | None = db.session.info.get(_KEY)
    return batch


@contextmanager
def collecting() -> Iterator[RowBatch]:
    outer = current()
    if outer is not None:  # nested (a transfer receives a referral): the outer block writes
        yield outer
        return
    batch = RowBatch()
    db.session.info[_KEY] = batch
    try:
        yield batch
    finally:
        db.session.info.pop(_KEY, None)
    batch.write()
