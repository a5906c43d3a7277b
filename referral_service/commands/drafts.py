"""``referrals drafts purge``: delete web-form drafts left unsent (personal data kept no longer
than needed). Run it daily, e.g. from cron; it is idempotent."""
from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext

from referral_service.commands.common import emit, json_option, refusals
from referral_service.domain import audit, drafts
from referral_service.extensions import db


@click.group("drafts", help="Referrals being written on the web form.")
def drafts_group() -> None:
    pass


@drafts_group.command("purge")
@click.option("--older-than-days", type=click.IntRange(1, 365), show_default=True,
              default=drafts.RETENTION.days, help="Delete drafts unchanged for this many days.")
@json_option
@with_appcontext
@refusals
def purge(older_than_days: int, as_json: bool) -> None:
    deleted = drafts.purge_stale(audit.Actor.system("cli"), timedelta(days=older_than_days))
    db.session.commit()
    emit(as_json, {"deleted": deleted, "older_than_days": older_than_days},
         f"Deleted {deleted} draft referral(s) unchanged for {older_than_days} days or more.")


def register(main: click.Group) -> None:
    main.add_command(drafts_group)
