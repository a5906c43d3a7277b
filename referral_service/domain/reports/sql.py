"""SQL pieces the figures share, each giving the same answer on PostgreSQL and SQLite.

- ``epoch_seconds(t)``: whole seconds since 1970 UTC (SQLite stores naive UTC text).
- ``working_clock(t, hour)``: working seconds in the calendar up to ``t``, given the
  ``working_hours`` row of the hour ``t`` falls in (joined on ``utc_hour(t)``).
- ``percentiles(...)``: PERCENTILE_CONT on PostgreSQL; on SQLite, the same linear interpolation
  between the two nearest ranks computed with window functions.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from referral_service.extensions import db


class epoch_seconds(FunctionElement[int]):  # a SQL function, named as one
    type = sa.BigInteger()
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(arg, **kw)})) AS BIGINT)"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"CAST(strftime('%s', {compiler.process(arg, **kw)}) AS INTEGER)"


class days_before(FunctionElement[Any]):  # a SQL function, named as one
    """``t`` minus a whole number of days, comparable with the column (an index can use it)."""

    inherit_cache = True

    def __init__(self, moment: Any, days: int) -> None:
        self.days = days
        super().__init__(moment)
        self.type = moment.type


@compiles(days_before, "postgresql")
def _days_before_pg(element: days_before, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"({compiler.process(arg, **kw)} - INTERVAL '{int(element.days)} days')"


@compiles(days_before, "sqlite")
def _days_before_sqlite(element: days_before, compiler: Any, **kw: Any) -> str:
    # datetime() drops the microseconds: 'YYYY-MM-DD HH:MM:SS' sorts just before the stored
    # 'YYYY-MM-DD HH:MM:SS.ffffff' of the same second, so ">=" keeps that second in.
    (arg,) = list(element.clauses)
    return f"datetime({compiler.process(arg, **kw)}, '-{int(element.days)} days')"


def tune_for_reports() -> None:
    """For the rest of this transaction on PostgreSQL: no JIT, and room to sort in memory.

    The figures join computed keys, which the planner cannot estimate; it then guesses millions
    of rows, and JIT compilation alone took 60-75% of a figure's time on a million referrals.
    ``SET LOCAL`` ends with the transaction, so nothing else is affected.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))
        db.session.execute(sa.text("SET LOCAL work_mem = '32MB'"))


def utc_hour(moment: Any) -> sa.ColumnElement[int]:
    """The ``working_hours.hour`` key of an instant: integer division, exact on both."""
    return sa.cast(epoch_seconds(moment) // 3600, sa.Integer)


def working_clock(moment: Any, hour: Any) -> sa.ColumnElement[int]:
    """W(t): working seconds from the calendar's start to ``t``; ``hour`` holds the columns of
    t's calendar row (``seconds_before``, ``hour``, ``working``)."""
    return hour.seconds_before + (epoch_seconds(moment) - hour.hour * 3600) * hour.working


def percentiles(values: sa.Subquery | sa.CTE, columns: tuple[str, ...], fractions: tuple[float, ...]
                ) -> dict[str, tuple[int, list[float | None]]]:
    """For each column: how many non-NULL values, and their continuous percentiles
    (``fractions`` in 0..1). One statement on PostgreSQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        selected: list[sa.ColumnElement[Any]] = []
        for column in columns:
            x = values.c[column]
            selected.append(sa.func.count(x))
            selected.extend(sa.func.percentile_cont(f).within_group(x) for f in fractions)
        row = list(db.session.execute(sa.select(*selected)).one())
        out = {}
        for n, column in enumerate(columns):
            count, *found = row[n * (len(fractions) + 1):(n + 1) * (len(fractions) + 1)]
            out[column] = (count, [None if v is None else float(v) for v in found])
        return out
    return {column: _sqlite_percentiles(values.c[column], fractions) for column in columns}


def _sqlite_percentiles(x: sa.ColumnElement[Any], fractions: tuple[float, ...]
                        ) -> tuple[int, list[float | None]]:
    ranked = sa.select(
        x.label("x"),
        (sa.func.row_number().over(order_by=x) - 1).label("i"),
        sa.func.count().over().label("n"),
    ).where(x.is_not(None)).subquery()
    selected: list[sa.ColumnElement[Any]] = [sa.func.count()]
    for f in fractions:
        # Rank (n - 1) * f, 0-based: interpolate between floor and floor + 1, as PostgreSQL does.
        position = (ranked.c.n - 1) * f
        low = sa.cast(position, sa.Integer)
        selected += [sa.func.max(sa.case((ranked.c.i == low, ranked.c.x))),
                     sa.func.max(sa.case((ranked.c.i == low + 1, ranked.c.x))),
                     sa.func.max(position - low)]
    count, *found = db.session.execute(sa.select(*selected)).one()
    out: list[float | None] = []
    for n in range(len(fractions)):
        lo, hi, frac = found[3 * n:3 * n + 3]
        if lo is None:
            out.append(None)
        elif hi is None:
            out.append(float(lo))
        else:
            out.append(float(lo) + (float(hi) - float(lo)) * float(frac))
    return count, out
