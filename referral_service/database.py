"""Time limits on the database, so that a database that stops answering costs seconds, not a
server: how long to wait for a connection (a new one, or a free one from the pool) and how long
one statement may run.

PostgreSQL takes them as connection parameters (``connect_timeout``, and ``statement_timeout``
through ``options``); SQLite, the embedded default, is a local file that waits on its own
``busy_timeout`` (``create_app``) and is left as it is.
"""
from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.engine import make_url


def postgres_connect_args(url: str, connect_seconds: int,
                          statement_seconds: int) -> dict[str, Any]:
    """psycopg's connection parameters for these limits, keeping any ``options`` in the URL."""
    options = f"-c statement_timeout={statement_seconds * 1000}"
    in_url = make_url(url).query.get("options")
    if isinstance(in_url, str) and in_url:
        options = f"{in_url} {options}"
    return {"connect_timeout": connect_seconds, "options": options}


def apply_timeouts(app: Flask) -> None:
    """Add the limits to the engine options, for the URL the app will really use; options the
    configuration already names win (an operator's or a test's explicit choice)."""
    config = app.config
    url = config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        return
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("pool_timeout", config["DATABASE_CONNECT_TIMEOUT"])
    options["connect_args"] = {
        **postgres_connect_args(url, config["DATABASE_CONNECT_TIMEOUT"],
                                config["DATABASE_STATEMENT_TIMEOUT"]),
        **options.get("connect_args", {})}
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options
