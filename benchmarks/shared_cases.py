"""In-process cost of a panel system's reads: ``GET /api/v1/shared-cases`` and ``GET
/api/v1/shared-cases/{id}``, each including its access record (written and committed).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/<empty db> SECRET_KEY=x \\
        .venv/bin/python benchmarks/shared_cases.py [--cases 40] [--requests 300]

The database is migrated here and must be empty (a run adds an authority, an officer, a MARAC
panel, ``--cases`` shared referrals and a panel API client). Requests go through the Flask test
client with a real bearer token (no HTTP server), so the numbers are the application's own:
wall and CPU milliseconds and SQL statements per request. Prints one JSON document.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from referral_service import clock
from referral_service.app import create_app
from referral_service.domain import admin, audit, clients, intake, sharing
from referral_service.extensions import db
from referral_service.schemas.referral import ReferralSubmissionSchema

ACTOR = audit.Actor.system("benchmark")


def _payload(n: int) -> dict[str, Any]:
    return ReferralSubmissionSchema().load({
        "authority_code": "E07000241",
        "referrer": {"name": "Kim Walsh", "email": "kim.walsh@care.example"},
        "consent": {"given": True},
        "person": {"first_name": f"Person{n}", "last_name": "Bench", "phone": f"07700 9{n:05d}",
                   "preferred_contact_method": "sms",
                   "safe_contact": {"sms": True, "instructions": "Text only"}},
        "housing_situation": "homeless", "reason": "Fled the family home.",
        "support_needs": ["domestic_abuse"], "risk": {"marac": True, "details": "High risk."}})


def prepare(cases: int) -> str:
    admin.create_authority(code="E07000241", name="Welwyn Hatfield", actor=ACTOR)
    officer = admin.create_user(email="officer@bench.example", name="Bench Officer",
                                role="officer", authority_code="E07000241", capacity=500,
                                actor=ACTOR).record
    care = admin.create_organisation(name="Bench Care", type="adult_social_care",
                                     actor=ACTOR).record
    marac = admin.create_organisation(name="Bench MARAC", type="marac", actor=ACTOR).record
    for n in range(cases):
        referral = intake.receive_referral(_payload(n), organisation=care,
                                           actor=audit.Actor.for_client("bench"))
        sharing.share(referral, by=officer, panel_id=marac.id, lawful_basis="cda1998_s115",
                      purpose="Bench MARAC", next_meeting_on=clock.today_in_london()
                      + timedelta(days=7))
    issued = clients.create_client(organisation_name="Bench MARAC", scopes=["cases:shared"],
                                   actor=ACTOR)
    db.session.commit()
    return f"{issued.client.client_id}:{issued.client_secret}"


def measure(http: Any, path: str, headers: dict[str, str], requests: int) -> dict[str, float]:
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    for _ in range(10):  # warm up
        assert http.get(path, headers=headers).status_code == 200
    event.listen(db.engine, "before_cursor_execute", count)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        assert http.get(path, headers=headers).status_code == 200
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    event.remove(db.engine, "before_cursor_execute", count)
    return {"wall_ms": round(wall * 1000 / requests, 2), "cpu_ms": round(cpu * 1000 / requests, 2),
            "sql_per_request": round(statements / requests, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--requests", type=int, default=300)
    options = parser.parse_args()
    app = create_app({"API_RATE_LIMIT": "100000000 per minute",
                      "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark")})
    with app.app_context():
        upgrade()
        credentials = prepare(options.cases)
        client_id, secret = credentials.split(":", 1)
        http = app.test_client()
        token = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(client_id, secret)).json["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        one = http.get("/api/v1/shared-cases", headers=headers).json["items"][0]["id"]
        result = {
            "database": db.engine.dialect.name, "live_shares": options.cases,
            "requests": options.requests,
            "list": measure(http, "/api/v1/shared-cases", headers, options.requests),
            "view": measure(http, f"/api/v1/shared-cases/{one}", headers, options.requests),
        }
        db.session.remove()
        db.engine.dispose()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
