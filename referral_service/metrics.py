"""Prometheus metrics at ``GET /metrics`` (text format), for operators, never the public.

Two kinds, chosen so that the numbers are right however many gunicorn workers serve them:

- **Counters and histograms in process** (``prometheus_client``): referrals received, status
  transitions, deadline breaches, messages reaching each status, request latency. They are
  counted from SQLAlchemy session events *after a commit*, so a rolled-back change is never
  counted and no hot path had to change. Under gunicorn set ``PROMETHEUS_MULTIPROC_DIR`` (an
  empty directory) and use ``-c python:referral_service.gunicorn_conf``: every worker writes its
  values there and a scrape of any worker sums them all (prometheus_client's multiprocess mode).
- **Gauges from the database at scrape time**: open referrals by authority and status, open
  referrals past their deadline with no attempt, messages queued or sending, and queue lag (age
  of the oldest queued message that is due). One small indexed query each, the same answer
  from every worker.

Access: with ``METRICS_TOKEN`` set, a scrape needs ``Authorization: Bearer <token>``. Without
it, in production there is no ``/metrics`` (404); elsewhere only a client on this machine may
scrape (loopback, as the trusted proxies report it: ``referral_service.proxies``). See
docs/reports.md.
"""
from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, g, request
from flask.typing import ResponseReturnValue
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from referral_service import clock, rowbatch
from referral_service.auth.guards import public
from referral_service.extensions import db
from referral_service.models import (
    OPEN_STATUSES_LIST,
    AuditEvent,
    Authority,
    Channel,
    MessageStatus,
    OutboxMessage,
    Referral,
    Reminder,
)
from referral_service.problems import problem
from referral_service.proxies import from_this_machine

bp = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)

REFERRALS_RECEIVED = Counter("referrals_received", "Referrals received (committed).")
TRANSITIONS = Counter("referral_transitions", "Referral status changes (committed), by the "
                      "status reached.", ["to_status"])
DEADLINE_BREACHES = Counter("referral_deadline_breaches", "Contact deadlines passed with no "
                            "contact attempt, counted when the scheduler escalates them.")
MESSAGES = Counter("outbox_messages", "Outbox messages reaching a status (committed).",
                   ["channel", "status"])
LATENCY = Histogram("http_request_duration_seconds", "Time to answer a request, by endpoint.",
                    ["endpoint", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
# Statuses whose referrals have had no contact attempt yet (contact_attempted implies one).
UNATTEMPTED = ["received", "assigned", "unassigned", "accepted"]
PENDING = "metrics_pending"


# -- Counting committed changes from the unit of work ------------------------------------------

def _new_value(obj: object, attribute: str) -> Any:
    """The value this flush writes to ``attribute``, or None when it is unchanged."""
    history = sa.inspect(obj).attrs[attribute].history
    return history.added[0] if history.added else None


def _after_flush(session: Session, _context: object) -> None:
    pending = session.info.setdefault(PENDING, [])
    for obj in session.new:
        if isinstance(obj, Referral):
            pending.append((REFERRALS_RECEIVED, ()))
        elif isinstance(obj, AuditEvent) and obj.action == "referral.transition":
            pending.append((TRANSITIONS, (obj.to_status or "unknown",)))
        elif isinstance(obj, OutboxMessage):
            pending.append((MESSAGES, (obj.channel.value, MessageStatus(obj.status).value)))
    for obj in session.dirty:
        if isinstance(obj, OutboxMessage):
            status = _new_value(obj, "status")
            if status is not None:
                pending.append((MESSAGES, (obj.channel.value, MessageStatus(status).value)))
        elif (isinstance(obj, Reminder) and obj.kind == "deadline_missed"
              and _new_value(obj, "done_at") is not None):
            # The scheduler marks the reminder done when the deadline passes; it is a breach
            # if the referral is still open with no attempt (what the escalation is about).
            referral = sa.inspect(obj).attrs.referral.loaded_value
            if (isinstance(referral, Referral) and referral.is_open
                    and referral.first_contact_attempt_at is None):
                pending.append((DEADLINE_BREACHES, ()))


def _rows_written(inserts: Sequence[tuple[sa.Table, list[dict[str, Any]]]]) -> None:
    """The same counts for rows written in one statement by ``rowbatch`` (intake)."""
    pending = db.session.info.setdefault(PENDING, [])
    for table, rows in inserts:
        if table is Referral.__table__:
            pending.extend((REFERRALS_RECEIVED, ()) for _ in rows)
        elif table is AuditEvent.__table__:
            pending.extend((TRANSITIONS, (row["to_status"] or "unknown",)) for row in rows
                           if row["action"] == "referral.transition")
        elif table is OutboxMessage.__table__:
            pending.extend((MESSAGES, (Channel(row["channel"]).value,
                                       MessageStatus(row["status"]).value)) for row in rows)


def _after_commit(session: Session) -> None:
    for metric, labels in session.info.pop(PENDING, []):
        (metric.labels(*labels) if labels else metric).inc()


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


def _listen() -> None:
    for name, handler in (("after_flush", _after_flush), ("after_commit", _after_commit),
                          ("after_rollback", _after_rollback)):
        if not event.contains(Session, name, handler):
            event.listen(Session, name, handler)
    rowbatch.observe(_rows_written)


# -- Gauges read from the database at scrape time ----------------------------------------------

class DatabaseCollector(Collector):
    """Business state now, from the database: the same from every worker process."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = clock.now()
        session = db.session  # the request's own: read only, removed at teardown
        open_ = GaugeMetricFamily("referrals_open", "Open referrals now, by authority and "
                                  "status.", labels=["authority", "status"])
        for code, status, n in session.execute(
                sa.select(Authority.code, Referral.status, sa.func.count()).select_from(Referral)
                .join(Authority, Authority.id == Referral.authority_id)
                .where(Referral.status.in_(OPEN_STATUSES_LIST))
                .group_by(Authority.code, Referral.status)):
            open_.add_metric([code, status.value], n)
        yield open_
        overdue = GaugeMetricFamily(
            "referrals_overdue", "Open referrals past their contact deadline with no "
            "contact attempt, by authority.", labels=["authority"])
        for code, n in session.execute(
                sa.select(Authority.code, sa.func.count()).select_from(Referral)
                .join(Authority, Authority.id == Referral.authority_id)
                .where(Referral.status.in_(UNATTEMPTED), Referral.contact_due_by < now)
                .group_by(Authority.code)):
            overdue.add_metric([code], n)
        yield overdue
        waiting = GaugeMetricFamily("outbox_messages_waiting", "Messages queued or being "
                                    "sent now.", labels=["channel", "status"])
        for channel, message_status, n in session.execute(
                sa.select(OutboxMessage.channel, OutboxMessage.status, sa.func.count())
                .where(OutboxMessage.status.in_([MessageStatus.QUEUED,
                                                 MessageStatus.SENDING]))
                .group_by(OutboxMessage.channel, OutboxMessage.status)):
            waiting.add_metric([channel.value, message_status.value], n)
        yield waiting
        oldest = session.scalar(
            sa.select(sa.func.min(OutboxMessage.not_before))
            .where(OutboxMessage.status == MessageStatus.QUEUED,
                   OutboxMessage.not_before <= now))
        lag = 0.0 if oldest is None else (now - clock.as_utc(oldest)).total_seconds()
        yield GaugeMetricFamily("outbox_queue_lag_seconds", "How long the oldest due, queued "
                                "message has been waiting (0 when none is).", value=lag)


# -- The endpoint and request timing ---------------------------------------------------------

def _problem(status: int, title: str, detail: str) -> Response:
    return problem(status, title, detail)


def _allowed() -> Response | None:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        supplied = request.headers.get("Authorization", "")
        if hmac.compare_digest(supplied.encode(), f"Bearer {token}".encode()):
            return None
        refused = _problem(401, "Unauthorized", "Send the metrics token as a bearer token.")
        refused.headers["WWW-Authenticate"] = 'Bearer realm="metrics", error="invalid_token"'
        return refused
    if current_app.config["APP_ENV"] == "production":
        # Production needs the token: "this machine" is whatever the proxies make it look like.
        raise NotFound()
    if from_this_machine():
        return None
    return _problem(403, "Forbidden", "Metrics are served to this machine only; set "
                    "METRICS_TOKEN to scrape from elsewhere.")


@bp.get("/metrics")
@public("not public: a METRICS_TOKEN bearer token, or this machine only; checked inside "
        "(tests/integration/test_metrics.py)")
def metrics() -> ResponseReturnValue:
    refused = _allowed()
    if refused is not None:
        return refused
    if current_app.config.get("PROMETHEUS_MULTIPROC_DIR"):
        in_process = CollectorRegistry()
        multiprocess.MultiProcessCollector(in_process)
    else:
        in_process = REGISTRY
    from_database = CollectorRegistry(auto_describe=False)
    from_database.register(DatabaseCollector())
    body = generate_latest(in_process) + generate_latest(from_database)
    return Response(body, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
        LATENCY.labels(endpoint, request.method).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    if app.config["APP_ENV"] == "production" and not app.config.get("METRICS_TOKEN"):
        log.warning("METRICS_TOKEN is not set: /metrics answers 404 in production.")
    _listen()
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.after_request(_observe)
