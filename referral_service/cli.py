"""The ``referrals`` console script: administration without a browser (API.md §6).

Every command is non-interactive, prints a human sentence or, with ``--json``, one JSON document
(JSON lines for the long-running ones), and refuses bad input with a clear message and a
non-zero exit, changing nothing.
"""
from __future__ import annotations

import click
from flask.cli import FlaskGroup

from referral_service.app import create_app
from referral_service.commands import (
    clients,
    database,
    demo,
    drafts,
    org,
    people,
    reports,
    serve,
    sharing,
    workers,
)


class OwnCommandsGroup(FlaskGroup):
    """Only the commands registered below, each of which takes ``--json``.

    FlaskGroup would also offer Flask's ``run``, ``shell`` and ``routes`` and the commands the
    extensions add to ``app.cli`` (Flask-Migrate's ``db``, ``limiter``, ``openapi``), none of
    which has ``--json``; developers reach those with ``flask --app wsgi …``.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(add_default_commands=False, **kwargs)  # type: ignore[arg-type]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return click.Group.get_command(self, ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)


@click.group(cls=OwnCommandsGroup, create_app=create_app,
             help="Duty to Refer referral service: administration and serving.")
def main() -> None:
    pass


for _module in (database, org, people, clients, serve, demo, workers, drafts, reports, sharing):
    _module.register(main)
