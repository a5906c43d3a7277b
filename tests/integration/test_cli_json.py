"""``--json`` on every ``referrals`` command (API.md §6), and ``referrals db upgrade --json``.

The walk below goes through the CLI as the console script resolves it (the app's own commands
included), so a command added without ``--json`` fails here rather than in an operator's script.
"""
from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask
from flask.cli import ScriptInfo

from referral_service.cli import main
from tests.fakes.smtp import closed_port
from tests.integration.test_demo import REFERRALS, run
from tests.support_live import serve_command_environment

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def leaf_commands(app: Flask) -> Iterator[tuple[str, click.Command]]:
    def walk(command: click.Command, path: str, ctx: click.Context) -> Iterator[
            tuple[str, click.Command]]:
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None, f"{path} {name}"
                yield from walk(sub, f"{path} {name}".strip(),
                                click.Context(sub, info_name=name, parent=ctx))
        else:
            yield path, command

    root = click.Context(main, info_name="referrals",
                         obj=ScriptInfo(create_app=lambda: app, set_debug_flag=False))
    with root:
        yield from walk(main, "", root)


def test_every_command_takes_json(app: Flask) -> None:
    commands = dict(leaf_commands(app))
    without = [path for path, command in commands.items()
               if not any("--json" in getattr(param, "opts", ()) for param in command.params)]
    assert without == []
    # The walk reached the whole tree, the schema commands included.
    assert {"db upgrade", "db current", "serve", "worker", "scheduler", "demo", "authority add",
            "client add", "user add", "drafts purge"} <= set(commands)


def revisions_oldest_first() -> list[str]:
    script = ScriptDirectory(str(MIGRATIONS))
    return [revision.revision for revision in script.walk_revisions()][::-1]


def test_db_upgrade_json_says_what_it_applied(fresh_database: str, tmp_path: Path) -> None:
    every = revisions_oldest_first()

    first = run("db", "upgrade", "--json", cwd=tmp_path, DATABASE_URL=fresh_database)
    assert first.returncode == 0, first.stdout + first.stderr
    assert json.loads(first.stdout) == {"from": [], "to": [every[-1]], "applied": every}

    again = run("db", "upgrade", "--json", cwd=tmp_path, DATABASE_URL=fresh_database)
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(again.stdout) == {"from": [every[-1]], "to": [every[-1]], "applied": []}

    current = run("db", "current", "--json", cwd=tmp_path, DATABASE_URL=fresh_database)
    assert json.loads(current.stdout) == {"current": [every[-1]], "heads": [every[-1]],
                                          "up_to_date": True}


def test_db_upgrade_in_steps_and_a_sentence_without_json(fresh_database: str,
                                                          tmp_path: Path) -> None:
    every = revisions_oldest_first()
    partway = run("db", "upgrade", every[1], "--json", cwd=tmp_path, DATABASE_URL=fresh_database)
    assert json.loads(partway.stdout)["applied"] == every[:2]
    behind = run("db", "current", cwd=tmp_path, DATABASE_URL=fresh_database)
    assert behind.returncode == 0 and "run `referrals db upgrade`" in behind.stdout

    rest = run("db", "upgrade", cwd=tmp_path, DATABASE_URL=fresh_database)
    assert rest.returncode == 0, rest.stdout + rest.stderr
    assert rest.stdout.strip() == (f"Applied {len(every) - 2} migration(s); the database is at "
                                   f"{every[-1]}.")


def test_db_upgrade_to_an_unknown_revision_is_refused_and_changes_nothing(
        fresh_database: str, tmp_path: Path) -> None:
    result = run("db", "upgrade", "no-such-revision", "--json", cwd=tmp_path,
                 DATABASE_URL=fresh_database)
    assert result.returncode == 1
    assert "no-such-revision" in json.loads(result.stdout)["error"]
    engine = sa.create_engine(fresh_database)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_worker_and_scheduler_refusals_are_json(cli: Any) -> None:
    for args in (("worker", "--json"), ("scheduler", "--json")):
        result = cli(*args)
        assert result.exit_code == 1
        assert "BROKER_URL is 'embedded'" in json.loads(result.stdout)["error"]


def test_demo_json_is_one_document(tmp_path: Path) -> None:
    result = run("demo", "--no-serve", "--json", "--database", str(tmp_path / "demo.db"),
                 cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["api_client"]["client_id"] and summary["api_client"]["client_secret"]
    assert {"officer", "partner"} <= {account["role"] for account in summary["accounts"]}


def test_serve_json_reports_each_event_as_a_json_line(fresh_app: Flask, tmp_path: Path) -> None:
    port = closed_port()
    environment = serve_command_environment(fresh_app.config["SQLALCHEMY_DATABASE_URI"])
    server = subprocess.Popen(  # noqa: S603  (our own console script, fixed arguments)
        [str(REFERRALS), "serve", "--port", str(port), "--json"], cwd=tmp_path,
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        started = [json.loads(server.stdout.readline()) for _ in range(2)]
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert started == [{"event": "embedded_worker_started"},
                       {"event": "serving", "url": f"http://127.0.0.1:{port}/",
                        "embedded_worker": True}]
    assert [json.loads(line) for line in out.splitlines()] == [
        {"event": "embedded_worker_stopped"}]
