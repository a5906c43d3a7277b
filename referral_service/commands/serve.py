"""``referrals serve``: the web app in one process, with waitress.

With ``BROKER_URL=embedded`` (the default) the same process also runs the message worker and
the scheduler as threads (``notifications.runtime.start_embedded``): one process, nothing else to
start. With Redis or RabbitMQ, run ``referrals worker`` and ``referrals scheduler`` beside it.
"""
from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from notifications import actors, broker, runtime
from referral_service.commands.common import CommandRefused, announce, json_lines_option


def _exit_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    # waitress stops cleanly on SystemExit, like on Ctrl+C; then the embedded worker finishes
    # the messages in hand instead of leaving them claimed for the reconciler.
    raise SystemExit(0)


def make_server(app: Flask, host: str, port: int, threads: int) -> Any:
    """The waitress server for ``app``, listening and not yet running.

    waitress would delete every ``X-Forwarded-*`` header it was not told to trust before the
    app saw it: the app could then neither find the client behind its proxies nor tell that a
    request from loopback had been relayed (so ``/metrics`` served the world through a proxy on
    this machine). The headers are passed on untouched and the app alone decides, with
    ``TRUSTED_PROXIES`` (``referral_service.proxies``).
    """
    import waitress

    return waitress.create_server(app, host=host, port=port, threads=threads, ident="referrals",
                                  clear_untrusted_proxy_headers=False)


def serve_app(app: Flask, host: str, port: int, threads: int, as_json: bool = False) -> None:
    embedded = broker.is_embedded(app)
    if embedded:
        try:  # as `referrals worker` does: no providers and no DEV_OUTBOX=on is a refusal now
            actors.check_senders(app.config)
        except RuntimeError as error:
            raise CommandRefused(str(error)) from error
        runtime.start_embedded(app)
    # From here a SIGTERM (or Ctrl+C) at any moment, even before the server runs, stops the
    # embedded worker in the finally below.
    try:
        if embedded:
            announce(as_json, "embedded_worker_started",
                     "Messages: embedded worker and scheduler running in this process.")
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
        server = make_server(app, host, port, threads)
        url = f"http://{host}:{port}/"
        announce(as_json, "serving", f"Serving on {url}  (Ctrl+C to stop)", url=url,
                 embedded_worker=embedded)
        server.run()
    finally:
        if embedded:
            runtime.stop_embedded()
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
