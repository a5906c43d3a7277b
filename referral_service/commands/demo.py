"""``referrals demo``: a fresh SQLite database with demo data, served for a newcomer to click."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask_migrate import upgrade

from referral_service import config, demo_webhooks
from referral_service.app import create_app
from referral_service.commands.common import json_option
from referral_service.commands.serve import serve_app
from referral_service.demo import DEMO_PASSWORD, DemoSummary, load_demo_data


@click.command("demo", help="Fresh demo database (SQLite), demo data, then serve it.")
@click.option("--database", "database_path", type=click.Path(dir_okay=False, path_type=Path),
              default=config.DEFAULT_INSTANCE_PATH / "demo.db", show_default=True,
              help="SQLite file to create anew (an existing one is replaced).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Load the data and stop (for scripts and tests).")
@json_option
def demo(database_path: Path, host: str, port: int, no_serve: bool, as_json: bool) -> None:
    database_path = database_path.resolve()
    database_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database_path}{suffix}").unlink(missing_ok=True)
    # The demo keeps its messages in the development outbox for people to read.
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database_path}",
                      **config.demo_settings()})
    with app.app_context():
        upgrade()
        summary = load_demo_data()
    base = f"http://{host}:{port}"
    if as_json:  # one line, so that the serving events (JSON lines) can follow it
        click.echo(json.dumps({
            "database": str(database_path), "referrals": summary.referrals,
            "accounts": [{"role": role, "email": email} for role, email in summary.logins],
            "password": DEMO_PASSWORD, "sign_in": f"{base}/sign-in",
            "api_client": {"client_id": summary.api_client_id,
                           "client_secret": summary.api_client_secret}}, default=str))
    else:
        _describe(summary, database_path, base, DEMO_PASSWORD)
    if no_serve:
        return
    # A partner's webhook endpoint on this machine: it prints each delivery it is sent.
    with app.app_context():
        receiver = demo_webhooks.start_receiver(
            lambda line: click.echo(line, err=as_json))
        demo_webhooks.subscribe("Probation Service – Hertfordshire", receiver)
    if not as_json:
        click.echo(f"\nThe probation service's webhook subscription sends to {receiver}: "
                   "its deliveries are printed here as officers work its referrals.")
        click.echo(f"\nOpen {base}/ in a browser.")
    serve_app(app, host, port, threads=8, as_json=as_json)


def _describe(summary: DemoSummary, database_path: Path, base: str, password: str) -> None:
    click.echo(f"\nDemo database ready: {database_path}")
    click.echo("Referrals by status: " + ", ".join(
        f"{status} {count}" for status, count in sorted(summary.referrals.items())))
    click.echo(f"\nDemo accounts (password for all: {password}; sign in at "
               f"{base}/sign-in):")
    for role, email in summary.logins:
        click.echo(f"  {role:12} {email}")
    click.echo(f"\nPartner API client for the probation service (try the API at {base}/api/docs):"
               f"\n  client_id:     {summary.api_client_id}"
               f"\n  client_secret: {summary.api_client_secret}"
               f"\n  curl -s -u '{summary.api_client_id}:{summary.api_client_secret}' "
               f"-d grant_type=client_credentials {base}/oauth/token")


def register(group: click.Group) -> None:
    group.add_command(demo)
