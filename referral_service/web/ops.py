"""Operational endpoints: liveness and readiness for load balancers and orchestrators."""
from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from notifications.broker import broker_ready
from referral_service.extensions import db

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is alive (no dependencies checked, so a slow database never kills it)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Ready to serve: the database and the broker answer (API.md §4). 503 otherwise, so
    traffic goes elsewhere."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        log.warning("readiness: database unavailable (%s)", type(exc).__name__)
        checks["database"] = "unavailable"
    finally:
        db.session.rollback()
    checks["broker"] = "ok" if broker_ready() else "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), (200 if ready else 503)
