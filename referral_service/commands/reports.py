"""``referrals reports``: the working-hours calendar, and the quarterly H-CLIC extract.

``calendar``: run it after upgrading the ``holidays`` package when a new bank holiday has been
announced (a one-off day, like a coronation): the figures then count that day as a holiday
everywhere, for past and future referrals alike. Idempotent.

``hclic``: the Duty to Refer extract of one authority's quarter (docs/hclic.md), as CSV on
standard output or into ``--output``; with ``--json``, the rows as JSON objects.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from referral_service.commands.common import CommandRefused, emit, json_option, refusals
from referral_service.domain import audit
from referral_service.domain.reports import calendar, hclic
from referral_service.domain.reports.export import csv_lines
from referral_service.extensions import db


@click.group("reports", help="The scrutiny figures.")
def reports_group() -> None:
    pass


@reports_group.command("calendar")
@json_option
@with_appcontext
@refusals
def rebuild_calendar(as_json: bool) -> None:
    """Rebuild the working-hours calendar from the bank holidays the service knows today."""
    hours = calendar.rebuild(db.session.connection())
    audit.record(audit.Actor.system("cli"), "reports.calendar_rebuilt",
                 subject_type="working_hours", subject_id="calendar", hours=hours,
                 first_day=calendar.FIRST_DAY.isoformat(), last_day=calendar.LAST_DAY.isoformat())
    db.session.commit()
    emit(as_json, {"hours": hours, "first_day": calendar.FIRST_DAY.isoformat(),
                   "last_day": calendar.LAST_DAY.isoformat()},
         f"Working-hours calendar rebuilt: {hours:,} hours from {calendar.FIRST_DAY} to "
         f"{calendar.LAST_DAY}.")


@reports_group.command("hclic")
@click.option("--quarter", required=True,
              help="Financial-year quarter, like 2026-Q3 (October to December 2026).")
@click.option("--authority", "authority_code", required=True, help="The authority's GSS code.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the CSV to this file (replaced whole, or not at all).")
@json_option
@with_appcontext
@refusals
def hclic_extract(quarter: str, authority_code: str, output: Path | None, as_json: bool) -> None:
    """The H-CLIC Duty to Refer extract: one row per referral received in the quarter."""
    if output is not None and not output.parent.is_dir():
        raise CommandRefused("Nothing written.", {"output": [
            f"The folder {output.parent} does not exist."]})
    period, scope = hclic.scope(quarter, authority_code)
    rows = hclic.rows(scope)
    hclic.record_export(audit.Actor.system("cli"), period, scope, len(rows), channel="cli")
    db.session.flush()
    if output is not None:
        _write_whole(output, "".join(csv_lines(hclic.COLUMNS, rows)))
    db.session.commit()
    summary: dict[str, Any] = {"quarter": period.key, "financial_year": period.financial_year,
               "starts_on": period.start.isoformat(), "ends_on": period.end.isoformat(),
               "authority": scope.authority_code, "rows": len(rows),
               "columns": list(hclic.COLUMNS),
               "output": str(output) if output is not None else None}
    if as_json:
        if output is None:
            summary["referrals"] = [dict(zip(hclic.COLUMNS, row, strict=True)) for row in rows]
        emit(True, summary, "")
    elif output is not None:
        click.echo(f"H-CLIC extract for {scope.authority_code}, {period.description}: "
                   f"{len(rows):,} referrals written to {output}.")
    else:
        click.echo("".join(csv_lines(hclic.COLUMNS, rows)), nl=False)


def _write_whole(path: Path, text: str) -> None:
    """Write beside the target, then rename over it: a reader never sees half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def register(main: click.Group) -> None:
    main.add_command(reports_group)
