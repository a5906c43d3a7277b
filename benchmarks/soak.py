"""The soak: the whole service under mixed load for a long while, with three faults on the way.

    bash benchmarks/soak --minutes 30        (from the project root; try it with --minutes 3)

On PostgreSQL (a database of its own, ``soak`` by default, made afresh and dropped after) and
Redis (database 8 by default, as broker and rate-limit store), it starts gunicorn (the app),
``referrals worker`` and ``referrals scheduler`` as production runs them, with texts going to
the fake Twilio (tests/fakes/twilio.py) and emails to a real SMTP server (aiosmtpd), both in
this process. It measures the mix's maximum rate (``soak_load.py``), then keeps half of it for
``--minutes``, and on the way: at a quarter, SIGKILLs the worker and starts it again; at half,
takes the database away (``--pg-restart-command`` restarts the PostgreSQL server instead: only
on a machine of the soak's own, since every database on it goes down); at three quarters,
flushes its Redis database. Then it lets the outbox drain and checks every message was sent
exactly once, and how each process's resident memory grew after warm-up.

Writes benchmarks/results/soak.json and soak.md (the table for benchmarks/README.md); exits 1
when a target is missed.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import soak_delivery  # noqa: E402
import soak_report  # noqa: E402
import soak_stack  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from soak_load import Load, Target, summary  # noqa: E402
from soak_memory import MemorySampler  # noqa: E402

from tests.fakes.smtp import Mailbox, smtp_servers  # noqa: E402
from tests.fakes.twilio import FakeTwilio  # noqa: E402

OFFICER_PASSWORD = "correct horse battery staple"  # noqa: S105  (a throwaway database's)
TWILIO_FROM = "+447700900000"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30, help="length of the load")
    parser.add_argument("--probe-seconds", type=float, default=20,
                        help="how long the maximum rate is measured for")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database", default="soak", help="made afresh, dropped after")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--port", type=int, default=8108)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--worker-threads", type=int, default=8)
    parser.add_argument("--scheduler-interval", type=float, default=10.0)
    parser.add_argument("--outage-seconds", type=float, default=15,
                        help="how long the database is away (without --pg-restart-command)")
    parser.add_argument("--pg-restart-command",
                        help="e.g. 'pg_ctlcluster --skip-systemctl-redirect 15 main restart'")
    parser.add_argument("--drain-minutes", type=float, default=15,
                        help="longest wait for the outbox after the load (a killed worker's "
                             "texts are settled after 10 minutes)")
    parser.add_argument("--warm-up-minutes", type=float, default=None,
                        help="memory growth is judged after this (default: a tenth of the run)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results")
    return parser.parse_args()


def environment(args: argparse.Namespace, fake: FakeTwilio, smtp_port: int,
                logs: Path) -> dict[str, str]:
    metrics = logs / "prometheus"
    metrics.mkdir(exist_ok=True)
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "APP_ENV": "production", "SECRET_KEY": "soak-secret", "LOG_LEVEL": "WARNING",
        "DATABASE_URL": soak_stack.fresh_database(args.database),
        "BROKER_URL": args.redis_url, "RATELIMIT_STORAGE_URI": args.redis_url,
        "API_RATE_LIMIT": "100000000 per minute",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{args.port}",
        "TWILIO_ACCOUNT_SID": fake.account_sid, "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM": TWILIO_FROM, "TWILIO_API_BASE_URL": fake.url,
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "SMTP_STARTTLS": "false",
        "MAIL_FROM": "referrals@soak.example",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }


def prepare(env: dict[str, str]) -> tuple[str, str]:
    """Migrate, add the benchmark's authority, officers, partner and client
    (``setup_data.prepare``) and an officer who signs in; return a bearer token and the
    officer's email."""
    os.environ.update(env)
    from flask_migrate import upgrade
    from setup_data import ACTOR, prepare

    from referral_service.app import create_app
    from referral_service.domain import admin
    from referral_service.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
    token = prepare(app)
    email = "soak.officer@bench.example"
    with app.app_context():
        admin.create_user(email=email, name="Soak Officer", role="officer",
                          authority_code="E07000241", capacity=500, password=OFFICER_PASSWORD,
                          actor=ACTOR)
        db.session.commit()
        db.engine.dispose()
    return token, email


def inject_faults(args: argparse.Namespace, stack: soak_stack.Stack, seconds: float,
                  began: float, faults: dict[str, tuple[float, float]]) -> threading.Thread:
    """At a quarter, a half and three quarters of the load: worker killed (and started again),
    database away, Redis flushed. Each fault's window (seconds into the load) goes in
    ``faults``."""
    def at(fraction: float, name: str, action: Any) -> None:
        wait = began + seconds * fraction - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        start = time.monotonic() - began
        action()
        faults[name] = (start, time.monotonic() - began)
        print(f"{name} at {start:.0f} s", flush=True)

    def restart_worker() -> None:
        stack.kill_worker()
        stack.start_worker()

    def run() -> None:
        at(0.25, "worker killed", restart_worker)
        at(0.5, "database outage", lambda: soak_stack.database_outage(
            args.database, args.outage_seconds, args.pg_restart_command))
        at(0.75, "redis flushed", lambda: soak_stack.flush_redis(args.redis_url))

    thread = threading.Thread(target=run, name="soak-faults", daemon=True)
    thread.start()
    return thread


def main() -> None:
    args = arguments()
    args.out.mkdir(parents=True, exist_ok=True)
    logs = args.out / "soak-logs"
    logs.mkdir(exist_ok=True)
    fake = FakeTwilio().start()
    smtp = smtp_servers()
    mailbox = Mailbox()
    smtp_port = next(smtp)(mailbox)
    soak_stack.flush_redis(args.redis_url)
    env = environment(args, fake, smtp_port, logs)
    token, officer_email = prepare(env)
    target = Target(port=args.port, token=token, officer_email=officer_email,
                    officer_password=OFFICER_PASSWORD, twilio_auth_token=fake.auth_token)
    fake.on_accepted = lambda fields: target.accepted_texts.append(
        (fields["sid"], fields["StatusCallback"]))
    stack = soak_stack.Stack(env, args.port, logs, gunicorn_workers=args.gunicorn_workers,
                             worker_threads=args.worker_threads,
                             scheduler_interval=args.scheduler_interval)
    # Some 200 samples a run (every 5 s in 30 minutes, more often in a short trial).
    memory = MemorySampler(stack.pids, every=max(0.5, min(5.0, args.minutes * 60 / 200)))
    engine = sa.create_engine(env["DATABASE_URL"])
    try:
        stack.start()
        memory.start()
        load = Load(target, connections=args.connections)
        load.connect()
        print("measuring the mix's maximum rate", flush=True)
        max_rps = load.probe(args.probe_seconds)
        rate = max(1.0, max_rps / 2)
        seconds = args.minutes * 60
        print(f"maximum {max_rps:.0f}/s; soaking at {rate:.0f}/s for {args.minutes:g} min",
              flush=True)
        faults: dict[str, tuple[float, float]] = {}
        load_started = time.monotonic()
        memory_offset = load_started - memory.started_at
        faulting = inject_faults(args, stack, seconds, load_started + 1.0, faults)
        load.run(rate, seconds)
        faulting.join()
        load_seconds = time.monotonic() - load_started
        memory.stop()
        print("load done; draining the outbox", flush=True)
        drained = soak_delivery.drain(engine, args.drain_minutes)
        delivery = soak_delivery.check(
            soak_delivery.outbox(engine), fake.messages,
            [str(item["message"]["Message-ID"]) for item in mailbox.received])
        loaded = summary(load.outcomes)
        warm_up = (args.warm_up_minutes if args.warm_up_minutes is not None
                   else args.minutes / 10) * 60
        result: dict[str, Any] = {
            "finished_at": f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M}",
            "machine": f"{platform.node()}, {os.cpu_count()} cores",
            "load_average": round(os.getloadavg()[0], 1),
            "minutes": args.minutes, "max_rps": max_rps, "rate": rate,
            "gunicorn_workers": args.gunicorn_workers, "worker_threads": args.worker_threads,
            "scheduler_interval": args.scheduler_interval,
            "faults": faults, "load": loaded,
            "errors_by_window": soak_report.errors_by_window(loaded["unexpected"], faults),
            "drain_seconds": drained, "delivery": delivery,
            "memory": memory.growth(warm_up, memory_offset + load_seconds),
        }
    finally:
        memory.stop()
        stack.stop()
        engine.dispose()
        fake.stop()
        next(smtp, None)  # stops the SMTP server
        if not args.keep_database:
            soak_stack.drop_database(args.database)
    (args.out / "soak.json").write_text(json.dumps(result, indent=1))
    table = soak_report.markdown(result)
    (args.out / "soak.md").write_text(table)
    print(table)
    if not all(soak_report.verdicts(result).values()):
        sys.exit(1)  # a target missed: the verdicts above say which


if __name__ == "__main__":
    main()
