"""Scrutiny figures on 1,000,000 referrals: one command, `.venv/bin/python benchmarks/reports.py`.

1. Makes (or reuses, with --reuse) the database `referrals_bench_reports` on 127.0.0.1:5432,
   migrates it, and fills it with `reports_data.sql` (generate_series in PostgreSQL: no ORM
   objects), then VACUUM ANALYZE.
2. Times each dashboard figure for one authority and one year (target < 500 ms), the CSV of the
   referral-level data, the officer's "My referrals" and the team queue (target < 50 ms), and a
   /metrics scrape; each run several times, median and worst reported.
3. Writes every SQL statement's EXPLAIN (ANALYZE, BUFFERS) plan to
   benchmarks/results/reports_plans.md and the timings to benchmarks/results/reports.json.

Results and plans for the record go in benchmarks/README.md by hand, with date and machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from referral_service.app import create_app  # noqa: E402
from referral_service.domain.reports import FIGURES, export, scope_for  # noqa: E402
from referral_service.extensions import db  # noqa: E402
from referral_service.models import Authority, Referral, Role, User  # noqa: E402

DB_NAME = os.environ.get("BENCH_REPORTS_DB", "referrals_bench_reports")
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
RESULTS = ROOT / "benchmarks" / "results"
YEAR = {"start": date(2025, 1, 1), "end": date(2025, 12, 31)}


def ensure_database() -> str:
    """The benchmark's own database (never another engineer's), created if missing."""
    admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                             {"name": DB_NAME}) is None:
            connection.exec_driver_sql(f'CREATE DATABASE "{DB_NAME}"')
    admin.dispose()
    return f"{SERVER}/{DB_NAME}"


BULK_TABLES = ("referrals", "audit_events", "outbox_messages", "possible_duplicates")


def generate(n: int) -> float:
    """Empty the tables and fill them in SQL; returns seconds taken.

    The secondary indexes are dropped for the load and built again afterwards (one sorted
    build each, in parallel workers) rather than updated row by row: the same indexes the
    migrations make, from their own definitions.
    """
    started = time.perf_counter()
    sql = (ROOT / "benchmarks" / "reports_data.sql").read_text().replace(":n", str(n))
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "TRUNCATE referrals, audit_events, outbox_messages, possible_duplicates, reminders, "
            "contact_attempts, users, organisations, authorities CASCADE")
        indexes = connection.execute(sa.text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
            "AND i.tablename = ANY(:tables) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname)"), {"tables": list(BULK_TABLES)}).all()
        for name, _ in indexes:
            connection.exec_driver_sql(f'DROP INDEX "{name}"')
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute(sql.encode())
        connection.exec_driver_sql("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            connection.exec_driver_sql(definition)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - started


class Capture:
    """The SQL statements (and parameters) a piece of code sends, for EXPLAIN afterwards."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []

    def __enter__(self) -> Capture:
        sa.event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        self.statements.append((statement, parameters))


def explain(statements: list[tuple[str, Any]]) -> list[str]:
    plans = []
    connection = db.session.connection()
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    for statement, parameters in statements:
        if statement.startswith("SET "):  # the figures' own settings: apply, do not explain
            cursor.execute(statement, parameters)
            continue
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plans.append("\n".join(row[0] for row in cursor.fetchall()))
    cursor.close()
    return plans


def timed(run: Callable[[], Any], repeat: int) -> dict[str, Any]:
    run()  # warm: the plan cache and the pages this query reads
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    with Capture() as capture:
        run()
    db.session.rollback()
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
            "statements": capture.statements}


# The web branch's own queries behind "My referrals", the team queue and the team leader's
# page (referral_service/domain/queues.py), called as the pages call them.
def my_referrals(officer: User) -> list[Any]:
    from referral_service.domain import queues

    return queues.officers_open_referrals(officer)


def team_queue(authority_id: Any) -> list[Any]:
    from referral_service.domain import queues

    return queues.team_queue(authority_id)


def team_leader_lists(authority_id: Any) -> tuple[Any, ...]:
    from referral_service.domain import queues

    return queues.caseloads(authority_id), queues.overdue(authority_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the data if the database already has that many referrals")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    url = ensure_database()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark",
                      "LOG_LEVEL": "WARNING", "METRICS_TOKEN": "bench"})
    results: dict[str, Any] = {"figures": {}, "pages": {}}
    with app.app_context():
        upgrade()
        have = db.session.scalar(sa.select(sa.func.count()).select_from(Referral))
        db.session.rollback()
        if args.reuse and have == args.referrals:
            print(f"reusing {have:,} referrals")
        else:
            seconds = generate(args.referrals)
            results["generate_seconds"] = round(seconds, 1)
            print(f"generated {args.referrals:,} referrals and their events in {seconds:.0f} s")
        counts = {table: db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))  # noqa: S608
                  for table in ("referrals", "audit_events", "outbox_messages",
                                "possible_duplicates")}
        results["rows"] = counts
        authority = db.session.scalar(sa.select(Authority).order_by(Authority.code).limit(1))
        assert authority is not None
        leader = db.session.scalar(sa.select(User).where(User.role == Role.TEAM_LEADER,
                                                         User.authority_id == authority.id))
        officer = db.session.scalar(sa.select(User).where(User.role == Role.OFFICER,
                                                          User.authority_id == authority.id))
        assert leader is not None and officer is not None
        scope = scope_for(leader, **YEAR)
        in_scope = db.session.scalar(sa.select(sa.func.count()).select_from(Referral).where(
            Referral.authority_id == authority.id, Referral.received_at >= scope.starts_at,
            Referral.received_at < scope.ends_at))
        results["cohort"] = in_scope
        print(f"{counts}; one authority-year: {in_scope:,} referrals")
        ids = {"officer": officer.id, "authority": authority.id}
        db.session.rollback()

        for key, figure in FIGURES.items():
            results["figures"][key] = timed(lambda f=figure: f(scope), args.repeat)
        results["figures"]["referrals_csv"] = timed(
            lambda: sum(1 for _ in export.referrals_csv(scope)), 1)
        results["pages"]["my_referrals"] = timed(
            lambda: my_referrals(db.session.get(User, ids["officer"])), args.repeat * 4)
        results["pages"]["team_queue"] = timed(lambda: team_queue(ids["authority"]),
                                               args.repeat * 4)
        results["pages"]["team_leader_caseloads_and_overdue"] = timed(
            lambda: team_leader_lists(ids["authority"]), args.repeat * 4)
        results["rows_shown"] = {
            "my_referrals": len(my_referrals(db.session.get(User, ids["officer"]))),
            "team_queue": len(team_queue(ids["authority"]))}
        db.session.rollback()
        plans = {}
        for group in ("figures", "pages"):
            for key, result in results[group].items():
                plans[key] = explain(result.pop("statements"))
                db.session.rollback()
    http = app.test_client()
    scrapes = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        scrape = http.get("/metrics", headers={"Authorization": "Bearer bench"})
        assert scrape.status_code == 200, scrape.status_code
        scrapes.append((time.perf_counter() - started) * 1000)
    results["pages"]["metrics_scrape"] = {"median_ms": round(statistics.median(scrapes), 1),
                                          "max_ms": round(max(scrapes), 1)}

    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    results["machine"] = f"{platform.node()} ({cpu}, {os.cpu_count()} cores)"
    results["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "reports.json").write_text(json.dumps(results, indent=2, default=str))
    with (RESULTS / "reports_plans.md").open("w") as out:
        for key, statement_plans in plans.items():
            for n, plan in enumerate(statement_plans, 1):
                out.write(f"### {key} (statement {n})\n\n```\n{plan}\n```\n\n")
    print(f"\n{results['date']} on {results['machine']}")
    print("| measured | target | median ms | worst ms |\n|---|---|---|---|")
    for key, result in results["figures"].items():
        target = "" if key == "referrals_csv" else "< 500 ms"
        print(f"| figure `{key}` | {target} | {result['median_ms']} | {result['max_ms']} |")
    for key, result in results["pages"].items():
        target = "< 50 ms" if key in {"my_referrals", "team_queue"} else ""
        print(f"| `{key}` | {target} | {result['median_ms']} | {result.get('max_ms', '')} |")


if __name__ == "__main__":
    main()
