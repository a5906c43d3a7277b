"""``referrals serve``: the web app in one process, with waitress.

With ``BROKER_URL=embedded`` (the default) the same process also runs the message worker and
the scheduler as threads (``notifications.broker.start_embedded``): one process, nothing else to
start. With Redis or RabbitMQ, run ``referrals worker`` and ``referrals scheduler`` beside it.
"""
from __future__ import annotations

import signal
import threading
from types import FrameType

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from referral_service.commands.common import announce, json_lines_option


def _exit_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    # waitress stops cleanly on SystemExit, like on Ctrl+C; then the embedded worker finishes
    # the messages in hand instead of leaving them claimed for the reconciler.
    raise SystemExit(0)


def serve_app(app: Flask, host: str, port: int, threads: int, as_json: bool = False) -> None:
    import waitress

    from notifications import broker

    embedded = broker.is_embedded(app)
    if embedded:
        broker.start_embedded(app)
        announce(as_json, "embedded_worker_started",
                 "Messages: embedded worker and scheduler running in this process.")
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    url = f"http://{host}:{port}/"
    announce(as_json, "serving", f"Serving on {url}  (Ctrl+C to stop)", url=url,
             embedded_worker=embedded)
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="referrals")
    finally:
        if embedded:
            broker.stop_embedded()
            announce(as_json, "embedded_worker_stopped", "Embedded worker and scheduler stopped.")


@click.command("serve", help="Serve the web app and API (production: gunicorn wsgi:app). With "
                             "BROKER_URL=embedded also sends messages and runs the scheduler.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
@json_lines_option
@with_appcontext
def serve(host: str, port: int, threads: int, as_json: bool) -> None:
    serve_app(current_app._get_current_object(), host, port, threads,  # type: ignore[attr-defined]
              as_json)


def register(group: click.Group) -> None:
    group.add_command(serve)
