"""Which database errors mean "try again later" (503) and which are faults in our SQL (500):
SQLite reports both as OperationalError."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from referral_service.web.unavailable import is_unavailable


def sqlite_error(words: str) -> OperationalError:
    return OperationalError("SELECT 1", {}, sqlite3.OperationalError(words))


@pytest.mark.parametrize("words", ["database is locked", "unable to open database file",
                                   "disk I/O error"])
def test_a_busy_or_missing_sqlite_file_is_unavailable(words: str) -> None:
    assert is_unavailable(sqlite_error(words))


@pytest.mark.parametrize("words", ["no such column: no_such_column", "no such table: x",
                                   'near "SELEC": syntax error'])
def test_a_fault_in_our_sql_on_sqlite_is_not_unavailable(words: str) -> None:
    assert not is_unavailable(sqlite_error(words))


def test_waiting_too_long_for_a_pooled_connection_is_unavailable() -> None:
    assert is_unavailable(PoolTimeout("QueuePool limit reached"))
