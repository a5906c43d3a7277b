"""In-process timing of the officers' busiest pages: "My referrals" and one referral's page.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/<empty db> SECRET_KEY=x \\
        .venv/bin/python benchmarks/web_pages.py [--referrals 60] [--requests 200]

Migrates the (empty) database, makes one authority with one officer holding ``--referrals`` open
referrals (through the real intake), signs the officer in through the real form, and then
requests each page ``--requests`` times through the Flask test client (no HTTP server). Prints,
per page: median and 95th-percentile wall milliseconds, CPU milliseconds and SQL statements
per request, as JSON.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from referral_service.app import create_app
from referral_service.extensions import db
from tests import factories


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--referrals", type=int, default=60)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    app = create_app({"API_RATE_LIMIT": "1000000 per minute"})
    with app.app_context():
        upgrade()
        council = factories.authority()
        officer = factories.officer(council, capacity=500, password=factories.PASSWORD)
        org = factories.organisation()
        made = [factories.referral(org) for _ in range(args.referrals)]
        db.session.commit()
        email, referral_id = officer.email, made[0].id
        statements = [0]
        event.listen(db.engine, "before_cursor_execute",
                     lambda *a, **k: statements.__setitem__(0, statements[0] + 1))
    http = app.test_client()
    page = http.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert http.post("/sign-in", data={"email": email, "password": factories.PASSWORD,
                                       "csrf_token": token}).status_code == 302
    results = {}
    for name, path in (("my_referrals", "/casework/my-referrals"),
                       ("referral_page", f"/casework/referrals/{referral_id}")):
        walls, cpus, sqls = [], [], []
        for _ in range(args.requests):
            before_sql, wall, cpu = statements[0], time.perf_counter(), time.process_time()
            assert http.get(path).status_code == 200
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            sqls.append(statements[0] - before_sql)
        walls.sort()
        results[name] = {"median_ms": round(statistics.median(walls), 2),
                         "p95_ms": round(walls[int(len(walls) * 0.95) - 1], 2),
                         "cpu_ms": round(statistics.mean(cpus), 2),
                         "sql_per_request": round(statistics.mean(sqls), 1)}
    print(json.dumps({"referrals_open": args.referrals, "requests": args.requests,
                      "database": app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0],
                      **results}, indent=1))


if __name__ == "__main__":
    main()
