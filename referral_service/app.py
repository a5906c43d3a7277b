"""The Flask application factory: settings, database, the web, API and auth blueprints, and the
messaging runtime (``notifications.runtime``), put together."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event

from notifications import languages, runtime
from referral_service import (
    api,
    config,
    database,
    metrics,
    models,  # noqa: F401  (registers every table on the metadata)
    proxies,
    ratelimits,
    readiness,
    unit_of_work,
)
from referral_service import document_http as uploads
from referral_service.auth import oauth2
from referral_service.auth.views import bp as oauth_bp
from referral_service.documents import storage as document_storage
from referral_service.extensions import db, migrate
from referral_service.web import control_characters
from referral_service.web.dashboard import bp as dashboard_bp
from referral_service.web.dev_outbox import bp as dev_outbox_bp
from referral_service.web.errors import register_error_handlers
from referral_service.web.ops import bp as ops_bp
from referral_service.web.pages import init_app as init_pages
from referral_service.web.public import bp as public_bp
from referral_service.web.referrer import bp as referrer_bp
from referral_service.web.sharing import register as register_sharing_pages
from referral_service.web.unavailable import register as register_unavailable
from referral_service.web.webhooks import bp as webhooks_bp

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; ``overrides`` replace settings read from the environment (tests use it)."""
    app = unit_of_work.App(__name__, instance_path=str(config.DEFAULT_INSTANCE_PATH))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(config.load(Path(app.instance_path)))
    if overrides:
        app.config.update(overrides)
    app.config["APP_ENV"] = config.environment(app.config.get("APP_ENV"))
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    # Before anything else: a council's wording file that cannot be used stops the start.
    languages.configure(app.config.get("MESSAGE_TEMPLATES_DIR"))

    database.apply_timeouts(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    _enable_sqlite_pragmas(app)

    uploads.init_app(app)
    document_storage.init_app(app)
    control_characters.init_app(app)
    oauth2.init_app(app)
    init_pages(app)
    register_sharing_pages(app)
    app.register_blueprint(ops_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(oauth_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(referrer_bp)
    if config.dev_outbox_page(app.config):
        app.register_blueprint(dev_outbox_bp)
    api.init_app(app)
    ratelimits.init_app(app)
    register_error_handlers(app)
    register_unavailable(app)
    metrics.init_app(app)
    app.register_blueprint(dashboard_bp)
    runtime.configure(app)
    readiness.init_app(app)
    proxies.init_app(app)
    return app


def _enable_sqlite_pragmas(app: Flask) -> None:
    """Make SQLite behave like the production database where it matters.

    WAL lets readers and one writer work at once; foreign keys are off in SQLite by default; and
    pysqlite's own transaction handling is replaced by an explicit BEGIN IMMEDIATE so that
    SAVEPOINTs and transactional DDL (a failed migration leaves nothing half-done) work as on
    PostgreSQL, and concurrent writers wait for each other instead of failing.
    """
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    in_memory = ":memory:" in app.config["SQLALCHEMY_DATABASE_URI"] or app.config[
        "SQLALCHEMY_DATABASE_URI"] == "sqlite://"
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            # IMMEDIATE: take the write lock at the start. A deferred transaction that reads and
            # then writes fails at once ("database is locked", no waiting) if another thread
            # wrote in between, which the embedded worker and web threads do all the time;
            # waiting for the lock (busy_timeout) is what we want instead.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
