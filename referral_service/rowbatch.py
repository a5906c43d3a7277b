"""New rows written all at once at the end of a hot operation: on PostgreSQL in one statement.

Receiving a referral writes the referral, two or three audit events, possible-duplicate links
and the routed officer's ``last_assigned_at`` (its domain event follows the batch; its messages
and reminders, written here too before issue 14, are now the event's expansion, which uses
``new`` outside a batch). Written by the ORM's unit of work, and then one INSERT per table, that
was five round trips and most of the request's CPU time (benchmarks/README.md). Inside
``with collecting():``

- ``add_object(obj)`` keeps a new ORM object out of the session until the end. Its column
  defaults are applied at once, as a flush would apply them (from the model's Column
  definitions: a default lives only on the model), so its id and defaults can be read before it
  is written;
- ``new(Model, **values)``, used by ``audit.record``, ``notifications.outbox``,
  ``notifications.reminders.schedule`` and duplicate links, makes the same object inside a
  batch as outside one (where it is ``Model(**values)`` added to the session);
- ``update(...)`` records a column change to an existing row whose object the caller has
  already given the new value (``set_committed_value``).

On leaving the block without an error everything is written, each row taken from its object
through the mapper: on PostgreSQL as one statement (each insert and update a data-modifying
CTE; foreign keys are checked at the end of the statement, so the referral and the rows about it
go in together), elsewhere one statement per table in order. The objects are then persistent,
fully loaded objects of the session, exactly as after a flush (those made by ``new``: detached,
fully loaded). Nothing is written if the block raises.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import Executable, Table, bindparam, insert, literal_column, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipDirection, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict

from referral_service.extensions import Model, db

_KEY = "referral_service.rowbatch"
M = TypeVar("M", bound=Model)

# Told of every batch written, as a flush's listeners would be of the objects it wrote: rows
# written here never pass through the unit of work (metrics counts them through this).
Observer = Callable[[Sequence[tuple[Table, list[dict[str, Any]]]]], None]
_observers: list[Observer] = []


def observe(callback: Observer) -> None:
    """Call ``callback(inserts)`` after each batch is written (inserts: (table, rows) pairs)."""
    if callback not in _observers:
        _observers.append(callback)


class RowBatch:
    def __init__(self) -> None:
        self.objects: list[Model] = []
        self.attach: list[Model] = []
        self.updates: list[tuple[Table, uuid.UUID, dict[str, Any]]] = []

    def add_object(self, obj: Model, *, attach: bool = True) -> None:
        """A new object: its column defaults applied now, written at the end and then attached
        to the session as persistent, or (``attach=False``) left detached: attaching cascades
        through everything the object refers to, which costs more than writing it."""
        _apply_defaults(obj)
        self.objects.append(obj)
        if attach:
            self.attach.append(obj)

    def update(self, model: type[Model], ident: uuid.UUID, values: dict[str, Any]) -> None:
        self.updates.append((cast(Table, model.__table__), ident, values))

    def write(self) -> None:
        db.session.flush()  # anything already in the session first (nothing, usually)
        # One entry per table, in the order each table was first added (parents first).
        by_table: dict[Table, list[dict[str, Any]]] = {}
        for obj in self.objects:
            by_table.setdefault(cast(Table, type(obj).__table__), []).append(
                _column_values(obj))
        inserts = list(by_table.items())
        if db.session.get_bind().dialect.name == "postgresql":
            statement, params = _combined(inserts, self.updates)
            db.session.execute(statement, params)
        else:
            for table, rows in inserts:
                db.session.execute(insert(table), rows)
            for table, ident, values in self.updates:
                db.session.execute(update(table).where(table.c.id == ident).values(values))
        for callback in _observers:
            callback(inserts)
        # Every object detached before any is attached: attaching one cascades to the objects
        # it refers to, which must not be taken for new ones.
        for obj in self.objects:
            make_transient_to_detached(obj)  # every column was set: nothing left to load
        db.session.add_all(self.attach)
        self.objects.clear()
        self.attach.clear()
        self.updates.clear()


def new(model: type[M], **values: Any) -> M:
    """A new ``model(**values)`` for the session, or, while a batch is collecting, for the
    batch: written at its end and left detached (a row about the operation, such as an audit
    event, that nothing reads back through the session).

    In a batch the object is built without the ORM's attribute events (nothing needs its
    history: the batch writes every column): an outbox message in 1.6 µs, not the
    constructor's 48 µs."""
    batch = current()
    if batch is None:
        obj = model(**values)
        db.session.add(obj)
        return obj
    if not _settable(model, frozenset(values)):
        obj = model(**values)  # an unknown name raises TypeError; a back-populated relationship
    else:
        obj = cast(M, sa_inspect(model).class_manager.new_instance())
        instance_dict(obj).update(values)
    batch.add_object(obj, attach=False)
    return obj


@cache
def _settable(model: type[Model], keys: frozenset[str]) -> bool:
    """Whether every key is a column attribute or a many-to-one relationship that nothing
    populates back: values the batch can put straight into a new object's state."""
    mapper = sa_inspect(model)
    plain = {attr.key for attr in mapper.column_attrs} | {
        rel.key for rel in mapper.relationships
        if rel.direction is RelationshipDirection.MANYTOONE and not rel.back_populates
        and not rel.backref and not rel._reverse_property}
    return keys <= plain


def _apply_defaults(obj: Model) -> None:
    """Each column not given its model default (or None), as a flush would, and many-to-one
    foreign keys synced from objects given: readable before the object is written."""
    given = instance_dict(obj)
    foreign_keys, columns = _plan(type(obj))
    _sync_foreign_keys(given, foreign_keys)
    for key, _, wrapped, default in columns:
        if key not in given:
            # Straight into the state: a transient object's column needs no history.
            given[key] = default(None) if wrapped else default


def _sync_foreign_keys(given: dict[str, Any],
                       foreign_keys: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]) -> None:
    for relationship, pairs in foreign_keys:
        if relationship in given:
            target = given[relationship]
            for local, remote in pairs:
                given[local] = None if target is None else getattr(target, remote)


def _column_values(obj: Model) -> dict[str, Any]:
    """Every column of an object of the batch by column key, foreign keys synced again (a
    many-to-one relationship may have been set since it was added)."""
    given = instance_dict(obj)
    foreign_keys, columns = _plan(type(obj))
    _sync_foreign_keys(given, foreign_keys)
    return {column_key: given[key] for key, column_key, _, _ in columns}


@cache
def _plan(model: type[Model]) -> tuple[
        tuple[tuple[str, tuple[tuple[str, str], ...]], ...],
        tuple[tuple[str, str, bool, Any], ...]]:
    """Per model, worked out once: the many-to-one relationships with their (local, remote)
    attribute names, and each column's attribute, column key and default (a value, or a
    callable taking the execution context as SQLAlchemy wraps it, flagged)."""
    mapper = sa_inspect(model)
    foreign_keys = tuple(
        (rel.key, tuple((mapper.get_property_by_column(local).key,
                         rel.mapper.get_property_by_column(remote).key)
                        for local, remote in rel.local_remote_pairs))
        for rel in mapper.relationships if rel.direction is RelationshipDirection.MANYTOONE)
    columns = []
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        default = column.default
        scalar = default is not None and getattr(default, "is_scalar", False)
        wrapped = default is not None and getattr(default, "is_callable", False)
        columns.append((attr.key, column.key, wrapped,
                        default.arg if (scalar or wrapped) and default is not None else None))
    return foreign_keys, tuple(columns)


def _combined(inserts: list[tuple[Table, list[dict[str, Any]]]],
              updates: list[tuple[Table, uuid.UUID, dict[str, Any]]],
              ) -> tuple[Executable, dict[str, Any]]:
    shape = (tuple((table, len(rows), tuple(rows[0])) for table, rows in inserts),
             tuple((table, tuple(values)) for table, _, values in updates))
    insert_names, update_names = _parameter_names(shape)
    params: dict[str, Any] = {}
    # Values by column key, not dict order: a row listing its columns in another order (or
    # missing one, a KeyError) cannot put a value in the wrong column.
    for (_, rows), (_, _, keys), names in zip(inserts, shape[0], insert_names, strict=True):
        for row, row_names in zip(rows, names, strict=True):
            params.update(zip(row_names, [row[key] for key in keys], strict=True))
    for (_, ident, values), (_, keys), (id_name, value_names) in zip(
            updates, shape[1], update_names, strict=True):
        params[id_name] = ident
        params.update(zip(value_names, [values[key] for key in keys], strict=True))
    return _combined_statement(shape), params


@cache
def _parameter_names(shape: Any) -> tuple[tuple[tuple[tuple[str, ...], ...], ...],
                                          tuple[tuple[str, tuple[str, ...]], ...]]:
    """The bound parameters' names of ``_combined_statement(shape)``, in row order."""
    inserts, updates = shape
    return (
        tuple(tuple(tuple(f"i{i}_{j}_{key}" for key in keys) for j in range(count))
              for i, (_, count, keys) in enumerate(inserts)),
        tuple((f"u{k}_id", tuple(f"u{k}_{key}" for key in keys))
              for k, (_, keys) in enumerate(updates)),
    )


@cache
def _combined_statement(shape: tuple[tuple[tuple[Table, int, tuple[str, ...]], ...],
                                     tuple[tuple[Table, tuple[str, ...]], ...]]) -> Executable:
    """WITH i0_0 AS (INSERT ...), i1_0 AS (INSERT ...), ..., u0 AS (UPDATE ...) SELECT 1:
    built once per shape (tables, row counts, columns), every value bound. One CTE per row: a
    multi-row VALUES has no cache key in SQLAlchemy, so it would be compiled on every call."""
    inserts, updates = shape
    ctes = []
    for i, (table, count, keys) in enumerate(inserts):
        for j in range(count):
            ctes.append(insert(table).values(
                {key: bindparam(f"i{i}_{j}_{key}", type_=table.c[key].type) for key in keys}
            ).cte(f"i{i}_{j}"))
    for k, (table, keys) in enumerate(updates):
        ctes.append(update(table)
                    .where(table.c.id == bindparam(f"u{k}_id", type_=table.c.id.type))
                    .values({key: bindparam(f"u{k}_{key}", type_=table.c[key].type)
                             for key in keys})
                    .cte(f"u{k}"))
    return select(literal_column("1")).add_cte(*ctes)


def current() -> RowBatch | None:
    """The batch being collected in this session, if any."""
    batch: RowBatch | None = db.session.info.get(_KEY)
    return batch


@contextmanager
def collecting() -> Iterator[RowBatch]:
    outer = current()
    if outer is not None:  # nested: the outer block writes
        yield outer
        return
    batch = RowBatch()
    db.session.info[_KEY] = batch
    try:
        yield batch
    finally:
        db.session.info.pop(_KEY, None)
    batch.write()
