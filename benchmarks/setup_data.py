"""Prepare the benchmark database: migrate, add an authority, officers, a partner and a client;
print a bearer token for the load generators (JSON on stdout)."""
from __future__ import annotations

import json
import sys

from flask_migrate import upgrade

from referral_service import create_app
from referral_service.domain import admin, audit, clients
from referral_service.extensions import db

ACTOR = audit.Actor.system("benchmark")


def main() -> None:
    app = create_app()
    with app.app_context():
        upgrade()
        admin.create_authority(code="E07000241", name="Welwyn Hatfield", actor=ACTOR)
        for n in range(8):
            admin.create_user(email=f"officer{n}@bench.example", name=f"Officer {n}",
                              role="officer", authority_code="E07000241", capacity=500,
                              specialisms=["offending_history"] if n % 2 else [], actor=ACTOR)
        admin.create_organisation(name="Probation Service – Bench", type="probation",
                                  actor=ACTOR)
        issued = clients.create_client(organisation_name="Probation Service – Bench",
                                       scopes=["referrals:write", "referrals:read"], actor=ACTOR)
        db.session.commit()
        client_id, secret = issued.client.client_id, issued.client_secret
    http = app.test_client()
    response = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                         auth=(client_id, secret))
    if response.status_code != 200:
        sys.exit(f"could not get a token: {response.status_code} {response.get_data()!r}")
    json.dump({"token": response.json["access_token"]}, sys.stdout)


if __name__ == "__main__":
    main()
