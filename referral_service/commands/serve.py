"""``referrals serve``: the web app in one process, with waitress."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


def serve_app(app: Flask, host: str, port: int, threads: int) -> None:
    import waitress

    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    waitress.serve(app, host=host, port=port, threads=threads, ident="referrals")


@click.command("serve", help="Serve the web app and API (production: gunicorn wsgi:app).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
@with_appcontext
def serve(host: str, port: int, threads: int) -> None:
    serve_app(current_app._get_current_object(), host, port, threads)  # type: ignore[attr-defined]


def register(group: click.Group) -> None:
    group.add_command(serve)
