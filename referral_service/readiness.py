"""Is the database answering? ``/readyz`` asks here, on a connection of its own, with a deadline.

Not through the requests' pool: when the database hangs, a probe must neither queue behind
the requests waiting for connections nor hold one of theirs, and it must answer within the
probe's time rather than the database's. The check runs in a thread of its own and is given
up on at the deadline; while one is still stuck, later probes wait on that same check (again
no longer than the deadline) instead of starting more (a load balancer asks every few seconds).
"""
from __future__ import annotations

import logging
import threading
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.pool import NullPool

from referral_service.database import postgres_connect_args

log = logging.getLogger(__name__)
CHECK_SECONDS = 2  # to connect, and for the SELECT; the probe waits one second more


class DatabaseProbe:
    def __init__(self, url: str) -> None:
        connect_args: dict[str, Any] = (
            postgres_connect_args(url, CHECK_SECONDS, CHECK_SECONDS)
            if url.startswith("postgresql") else {})
        # NullPool: no connection is kept between probes, so none goes stale or leaks.
        self.engine = sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
        self._lock = threading.Lock()
        self._running: threading.Thread | None = None
        self._answer = threading.Event()
        self._ok = False

    def ready(self) -> bool:
        with self._lock:
            if self._running is None or not self._running.is_alive():
                self._answer.clear()
                self._running = threading.Thread(target=self._check, daemon=True,
                                                 name="readiness-check")
                self._running.start()
            answer = self._answer
        return answer.wait(CHECK_SECONDS + 1) and self._ok

    def _check(self) -> None:
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            self._ok = True
        except sa.exc.SQLAlchemyError as exc:
            log.warning("readiness: database unavailable (%s)", type(exc).__name__)
            self._ok = False
        finally:
            self._answer.set()


def init_app(app: Flask) -> None:
    app.extensions["database_probe"] = DatabaseProbe(app.config["SQLALCHEMY_DATABASE_URI"])


def database_ready() -> bool:
    probe: DatabaseProbe = current_app.extensions["database_probe"]
    return probe.ready()
