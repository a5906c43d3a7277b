"""Operational endpoints: liveness and readiness for load balancers and orchestrators."""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from notifications.broker import broker_ready
from referral_service.readiness import database_ready

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is alive. Nothing is checked and nothing can block here (no database, no
    broker, no rate-limit storage), so a slow database never gets a live process restarted."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Ready to serve: the database and the broker answer (API.md §4). 503 otherwise, so
    traffic goes elsewhere; within seconds even when the database never answers
    (``referral_service.readiness``)."""
    checks = {"database": "ok" if database_ready() else "unavailable",
              "broker": "ok" if broker_ready() else "unavailable"}
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), (200 if ready else 503)
