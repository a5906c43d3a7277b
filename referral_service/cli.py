"""The ``referrals`` console script: administration without a browser (API.md §6).

Every command is non-interactive, prints a human sentence or, with ``--json``, one JSON document,
and refuses bad input with a clear message and a non-zero exit, changing nothing.
"""
from __future__ import annotations

import click
from flask.cli import FlaskGroup

from referral_service import create_app
from referral_service.commands import (
    clients,
    demo,
    drafts,
    org,
    people,
    reports,
    serve,
    sharing,
    workers,
)


@click.group(cls=FlaskGroup, create_app=create_app,
             help="Duty to Refer referral service: administration and serving.")
def main() -> None:
    pass


for _module in (org, people, clients, serve, demo, workers, drafts, reports, sharing):
    _module.register(main)
