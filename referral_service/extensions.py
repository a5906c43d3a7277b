"""Flask extensions: created once here, bound to an app in ``create_app``."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so Alembic can alter and drop them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay readable after commit: a request commits once and then only renders what it
# wrote, so reloading every attribute from the database would be wasted round trips.
SESSION_OPTIONS = {"expire_on_commit": False}
db = SQLAlchemy(model_class=Base, session_options=dict(SESSION_OPTIONS))

# Models subclass ``Model``: Flask-SQLAlchemy's ``db.Model`` at run time (table names, binds),
# and the declarative base it derives from for type checkers, which cannot see ``db.Model``.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate(render_as_batch=True, compare_type=True)


def _cache_wide_statements() -> None:
    """Let psycopg keep its parsed form of statements of up to 400 parameters and 32 KiB, not
    50 parameters and 4 KiB.

    psycopg converts each statement's ``%(name)s`` placeholders to ``$n`` with a regular
    expression, and remembers the result (in a bounded LRU cache, 128 statements) only for
    small statements. Receiving a referral writes everything in one statement of about 170
    parameters and 9 KiB (``rowbatch``), which was parsed afresh on every referral: a
    fifth of the request's CPU time. The conversion is a pure function of the statement text;
    caching it changes nothing else. A psycopg without the settings (they are not public API)
    is left as it is.
    """
    try:
        from psycopg import _queries
    except ImportError:  # pragma: no cover - SQLite-only installs
        return
    if getattr(_queries, "MAX_CACHED_STATEMENT_PARAMS", 400) < 400:
        _queries.MAX_CACHED_STATEMENT_PARAMS = 400
    if getattr(_queries, "MAX_CACHED_STATEMENT_LENGTH", 32768) < 32768:
        _queries.MAX_CACHED_STATEMENT_LENGTH = 32768


_cache_wide_statements()
