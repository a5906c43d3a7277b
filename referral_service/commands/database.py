"""``referrals db upgrade`` and ``referrals db current``: the schema, for operators.

Alembic through Flask-Migrate's configuration, with ``--json`` like every other command
(API.md §6): Flask-Migrate's own ``db`` group takes no ``--json``, so this group stands in its
place on ``referrals``. Its tools for writing migrations (``revision``, ``migrate``, ``downgrade``,
…) are for developers and stay on ``flask --app wsgi db``.
"""
from __future__ import annotations

from collections.abc import Sequence

import click
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError

from referral_service.commands.common import CommandRefused, emit, json_option, refusals
from referral_service.extensions import db


@click.group("db", help="The database schema (Alembic migrations).")
def db_group() -> None:
    pass


def _alembic_config() -> Config:
    config: Config = current_app.extensions["migrate"].migrate.get_config()
    return config


def _current() -> list[str]:
    try:
        with db.engine.connect() as connection:
            return sorted(MigrationContext.configure(connection).get_current_heads())
    except OperationalError as error:
        raise CommandRefused("Could not reach the database: check DATABASE_URL "
                             f"({type(error.orig).__name__}).") from None


def _lineage(script: ScriptDirectory, heads: Sequence[str]) -> list[str]:
    """Every revision up to ``heads``, oldest first."""
    if not heads:
        return []
    return [revision.revision for revision in script.iterate_revisions(tuple(heads), "base")
            if revision is not None][::-1]


@db_group.command("upgrade", help="Apply the migrations up to REVISION (default: the newest).")
@click.argument("revision", default="head")
@json_option
@with_appcontext
@refusals
def upgrade(revision: str, as_json: bool) -> None:
    config = _alembic_config()
    script = ScriptDirectory.from_config(config)
    before = _current()
    try:
        command.upgrade(config, revision)
    except CommandError as error:
        raise CommandRefused(f"Cannot upgrade to {revision!r}: {error}") from None
    after = _current()
    already = set(_lineage(script, before))
    applied = [rev for rev in _lineage(script, after) if rev not in already]
    emit(as_json, {"from": before, "to": after, "applied": applied},
         f"Applied {len(applied)} migration(s); the database is at {', '.join(after) or 'base'}."
         if applied else f"Nothing to apply; the database is at {', '.join(after) or 'base'}.")


@db_group.command("current", help="Show the database's revision and the newest one.")
@json_option
@with_appcontext
@refusals
def current(as_json: bool) -> None:
    heads = sorted(ScriptDirectory.from_config(_alembic_config()).get_heads())
    at = _current()
    up_to_date = at == heads
    emit(as_json, {"current": at, "heads": heads, "up_to_date": up_to_date},
         f"The database is at {', '.join(at) or 'base'}; the newest is {', '.join(heads)}"
         + ("." if up_to_date else ": run `referrals db upgrade`."))


def register(main: click.Group) -> None:
    main.add_command(db_group)
