"""In-process profile of authenticated ``POST /api/v1/referrals``: where each request's time goes.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/<db> SECRET_KEY=x \
        .venv/bin/python benchmarks/profile_post.py [--requests 300] [--dump out.prof]

The database must be migrated (``referrals db upgrade``); the authority, officers, organisation
and client of ``setup_data.py`` are added if missing. Requests go through the Flask test client
(no HTTP server), a different person on each (names differ by letters, as in the load tests).
Prints, per request: wall and CPU milliseconds, SQL statements and SQL compilations (statement
cache misses), and CPU milliseconds by area from cProfile (timer: process CPU time, so waiting
on PostgreSQL is excluded from the areas and shown as wall minus CPU).
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import time
from collections import Counter
from typing import Any

from people import referral_body
from setup_data import prepare
from sqlalchemy import event

from referral_service.app import create_app
from referral_service.domain import audit
from referral_service.extensions import db

ACTOR = audit.Actor.system("benchmark")

# (label, file path fragment, function name): cumulative CPU of that function per request.
AREAS = [
    ("whole request (Flask wsgi_app)", "flask/app.py", "wsgi_app"),
    ("  Flask-Limiter check", "flask_limiter", "_check_request_limit"),
    ("  before_request: JSON-only check", "api/__init__.py", "_json_only"),
    ("  bearer token (authlib acquire_token)", "resource_protector.py", "acquire_token"),
    ("    token query", "auth/bearer.py", "token_for"),
    ("  webargs parse (incl. marshmallow load)", "webargs/core.py", "parse"),
    ("    marshmallow load", "marshmallow/schema.py", "_do_load"),
    ("  view: post", "api/referrals.py", "post"),
    ("    intake.receive_referral", "domain/intake.py", "receive_referral"),
    ("      participating_authority", "domain/intake.py", "participating_authority"),
    ("      new_reference", "domain/references.py", "new_reference"),
    ("      duplicates", "domain/duplicates.py", "link_possible_duplicates"),
    ("      route", "domain/intake.py", "route"),
    ("        officers_with_load", "domain/routing.py", "officers_with_load"),
    ("        lifecycle.transition (flush)", "domain/lifecycle.py", "transition"),
    ("    commit", "sqlalchemy/orm/session.py", "commit"),
    ("    document()", "api/referrals.py", "document"),
    ("  response dump (marshmallow)", "marshmallow/schema.py", "dump"),
    ("  JSON encode", "flask/json/provider.py", "dumps"),
    ("SQL compile (all)", "sqlalchemy/sql/compiler.py", "__init__"),
    ("psycopg execute (all)", "psycopg/cursor.py", "execute"),
    ("pool checkout (pre-ping)", "sqlalchemy/pool/base.py", "_checkout"),
    ("copy.deepcopy (all)", "copy.py", "deepcopy"),
]


def body(n: int) -> dict[str, Any]:
    return referral_body(n, "Prof")


def setup(app: Any) -> str:
    return prepare(app)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (best is shown)")
    parser.add_argument("--no-profile", action="store_true", help="timings only")
    parser.add_argument("--dump", help="write the cProfile stats here")
    parser.add_argument("--top", type=int, default=0, help="also print the top N by tottime")
    parser.add_argument("--pyinstrument", action="store_true",
                        help="also print a pyinstrument tree (pip install pyinstrument)")
    args = parser.parse_args()
    os.environ.setdefault("API_RATE_LIMIT", "100000000 per minute")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    app = create_app()
    token = setup(app)
    http = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    statements: Counter[str] = Counter()

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "after_cursor_execute")
    def _count(conn: Any, cursor: Any, statement: str, params: Any, context: Any,
               executemany: bool) -> None:
        hit = getattr(context, "cache_hit", None)
        statements["statements"] += 1
        statements[f"cache:{hit}"] += 1
        if hit is not None and "MISS" in str(hit):
            statements["miss: " + " ".join(statement.split())[:110]] += 1
        statements["sql: " + " ".join(statement.split())[:70]] += 1

    n = 0

    def send() -> None:
        nonlocal n
        n += 1
        response = http.post("/api/v1/referrals", data=json.dumps(body(n)),
                             headers=headers, content_type="application/json")
        assert response.status_code == 201, response.get_data()

    for _ in range(50):  # warm-up: statement cache, pools, lazy imports
        send()
    statements.clear()
    count = args.requests
    rounds = []
    for _ in range(args.rounds):  # the machine is shared: take the quietest round
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for _ in range(count):
            send()
        rounds.append(((time.perf_counter() - wall0) / count * 1000,
                       (time.process_time() - cpu0) / count * 1000))
    wall, cpu = min(rounds, key=lambda r: r[1])
    stmts = {key: value / args.rounds for key, value in statements.items()}

    print(f"{count} requests x {args.rounds} rounds; best round, per request: wall {wall:.2f} ms, "
          f"CPU (this process) {cpu:.2f} ms, not on CPU (mostly PostgreSQL) {wall - cpu:.2f} ms; "
          f"all rounds' CPU: {', '.join(f'{c:.2f}' for _, c in rounds)}")
    print(f"SQL statements per request: {stmts.get('statements', 0) / count:.2f}")
    for key, value in sorted(stmts.items()):
        if key.startswith(("cache:", "miss:")):
            print(f"  {key}: {value / count:.2f}")
    for key, value in sorted(stmts.items()):
        if key.startswith("sql:"):
            print(f"  {value / count:.2f} x {key[5:]}")
    if args.no_profile:
        return
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(count):
        send()
    profiler.disable()
    if args.dump:
        profiler.dump_stats(args.dump)
    stats = pstats.Stats(profiler)
    print(f"Python function calls per request (steady, unlike timings): "
          f"{stats.total_calls / count:.0f}")  # type: ignore[attr-defined]
    print("\nCPU ms per request under cProfile (the profiler inflates these; compare ratios):")
    raw = stats.stats  # type: ignore[attr-defined]
    for label, fragment, name in AREAS:
        total = sum(ct for (file, _, func), (_, _, _, ct, _) in raw.items()
                    if func == name and fragment in file)
        print(f"  {label:<46} {total / count * 1000:7.2f}")
    if args.top:
        stats.sort_stats("tottime").print_stats(args.top)
    if args.pyinstrument:
        from pyinstrument import Profiler

        sampler = Profiler(interval=0.0002)
        sampler.start()
        for _ in range(count):
            send()
        sampler.stop()
        print(sampler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
