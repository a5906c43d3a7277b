"""Prepare the benchmark database: migrate, add an authority, officers, a partner and a client;
print a bearer token for the load generators (JSON on stdout)."""
from __future__ import annotations

import json
import sys

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from referral_service.app import create_app
from referral_service.domain import admin, audit, clients
from referral_service.extensions import db
from referral_service.models import Authority

ACTOR = audit.Actor.system("benchmark")


def prepare(app: Flask) -> str:
    """Add what the load needs (once per database) and a new client; return a bearer token."""
    with app.app_context():
        if db.session.scalar(select(Authority).where(Authority.code == "E07000241")) is None:
            admin.create_authority(code="E07000241", name="Welwyn Hatfield", actor=ACTOR)
            for n in range(8):
                admin.create_user(email=f"officer{n}@bench.example", name=f"Officer {n}",
                                  role="officer", authority_code="E07000241", capacity=500,
                                  specialisms=["offending_history"] if n % 2 else [],
                                  actor=ACTOR)
            admin.create_organisation(name="Probation Service – Bench", type="probation",
                                      actor=ACTOR)
        issued = clients.create_client(organisation_name="Probation Service – Bench",
                                       scopes=["referrals:write", "referrals:read"], actor=ACTOR)
        db.session.commit()
        client_id, secret = issued.client.client_id, issued.client_secret
    response = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                      auth=(client_id, secret))
    if response.status_code != 200:
        sys.exit(f"could not get a token: {response.status_code} {response.get_data()!r}")
    return str(response.json["access_token"])


def main() -> None:
    app = create_app()
    with app.app_context():
        upgrade()
    json.dump({"token": prepare(app)}, sys.stdout)


if __name__ == "__main__":
    main()
