"""In-process timing of the referrer's pages: a question page's Continue (which runs the whole
draft through the API's referral schema), the whole make-a-referral journey, and the list.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/<empty db> SECRET_KEY=x \\
        .venv/bin/python benchmarks/referrer_pages.py [--referrals 60] [--journeys 30]

Migrates the (empty) database, makes a council with an officer and a referrer whose
organisation has ``--referrals`` referrals, signs the referrer in through the real form, then
sends ``--journeys`` referrals through every question page, check your answers and Send
(Flask test client, no HTTP server). Prints JSON: per step, median and 95th-percentile wall
milliseconds, CPU milliseconds and SQL statements per request.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from referral_service.app import create_app
from referral_service.extensions import db
from tests import factories
from tests.integration.web_referrer_support import GOOD_ANSWERS


class Timings:
    def __init__(self, statements: list[int]) -> None:
        self.statements = statements
        self.seen: dict[str, list[tuple[float, float, int]]] = {}

    def time(self, step: str, request: Callable[[], Any], expect: int) -> None:
        sql, wall, cpu = self.statements[0], time.perf_counter(), time.process_time()
        status = request().status_code
        assert status == expect, (step, status)
        self.seen.setdefault(step, []).append(((time.perf_counter() - wall) * 1000,
                                               (time.process_time() - cpu) * 1000,
                                               self.statements[0] - sql))

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for step, rows in self.seen.items():
            walls = sorted(row[0] for row in rows)
            out[step] = {"median_ms": round(statistics.median(walls), 2),
                         "p95_ms": round(walls[max(int(len(walls) * 0.95) - 1, 0)], 2),
                         "cpu_ms": round(statistics.mean(row[1] for row in rows), 2),
                         "sql_per_request": round(statistics.mean(row[2] for row in rows), 1)}
        return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--referrals", type=int, default=60)
    parser.add_argument("--journeys", type=int, default=30)
    args = parser.parse_args()
    app = create_app({"API_RATE_LIMIT": "1000000 per minute"})
    with app.app_context():
        upgrade()
        council = factories.authority()
        factories.officer(council, capacity=500)
        org = factories.organisation()
        referrer = factories.partner_user(org, password=factories.PASSWORD)
        for _ in range(args.referrals):
            factories.referral(org)
        db.session.commit()
        email = referrer.email
        statements = [0]
        event.listen(db.engine, "before_cursor_execute",
                     lambda *a, **k: statements.__setitem__(0, statements[0] + 1))
    http = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"',  # type: ignore[union-attr]
                      http.get("/sign-in").get_data(as_text=True)).group(1)
    assert http.post("/sign-in", data={"email": email, "password": factories.PASSWORD,
                                       "csrf_token": token}).status_code == 302
    token = re.search(r'name="csrf_token" value="([^"]+)"',  # type: ignore[union-attr]
                      http.get("/referrer/new").get_data(as_text=True)).group(1)
    timings = Timings(statements)
    journey_ms = []
    for _ in range(args.journeys):
        started = time.perf_counter()
        for slug, answers in GOOD_ANSWERS.items():
            step = "consent (starts the draft)" if slug == "consent" else "question page Continue"
            timings.time(step, partial(http.post, f"/referrer/new/{slug}",
                                       data={**answers, "csrf_token": token}), 302)
        timings.time("check your answers", lambda: http.get("/referrer/new/check"), 200)
        timings.time("Send referral", lambda: http.post(
            "/referrer/new/check", data={"csrf_token": token}), 302)
        journey_ms.append((time.perf_counter() - started) * 1000)
    for _ in range(args.journeys):
        timings.time(f"your referrals ({args.referrals + args.journeys} made, page of 20)",
                     lambda: http.get("/referrer/referrals"), 200)
    print(json.dumps({"referrals": args.referrals, "journeys": args.journeys,
                      "database": app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0],
                      "whole_journey_median_ms": round(statistics.median(journey_ms), 1),
                      **timings.summary()}, indent=1))


if __name__ == "__main__":
    main()
