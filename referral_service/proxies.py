"""Which address a request comes from, when reverse proxies stand in front of the app.

Behind a proxy every request arrives from the proxy's address, so one person refused at sign-in
would block everyone and all partners would share one rate limit. ``TRUSTED_PROXIES`` says how
many proxies in front of the app append to ``X-Forwarded-For`` (and set ``X-Forwarded-Proto``):
werkzeug's ``ProxyFix`` then takes the client from that many hops back, so the limiter, audit
records and the ``/metrics`` loopback rule all see the real client through ``request.remote_addr``.
With 0 (the default) no forwarding header is believed: anyone can write one.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def init_app(app: Flask) -> None:
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            _addresses_only(app.wsgi_app), x_for=hops, x_proto=hops)


def _addresses_only(wsgi_app: WSGIApp) -> WSGIApp:
    """Inside ProxyFix: a forwarded client that is not an IP address (a proxy passing on what a
    client wrote, or a misconfigured hop count) is not believed; the peer's address stands.
    Audit records keep addresses in a 45-character column that PostgreSQL enforces."""
    def checked(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            ipaddress.ip_address(environ.get("REMOTE_ADDR") or "")
        except ValueError:
            original = environ.get("werkzeug.proxy_fix.orig", {})
            environ["REMOTE_ADDR"] = original.get("REMOTE_ADDR")
        return wsgi_app(environ, start_response)
    return checked


def _forwarded_hops() -> int:
    """How many proxies say they relayed this request (all ``X-Forwarded-For`` entries)."""
    entries = ",".join(request.headers.getlist("X-Forwarded-For")).split(",")
    return sum(1 for entry in entries if entry.strip())


def from_this_machine() -> bool:
    """The client is on this machine: its address, as the trusted proxies report it, is
    loopback, and no proxy beyond those trusted relayed the request (a proxy on this machine
    that we were not told to trust makes every request look local)."""
    try:
        loopback = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False
    if "Forwarded" in request.headers:  # RFC 7239: a relay we do not read, so not local
        return False
    return loopback and _forwarded_hops() <= current_app.config["TRUSTED_PROXIES"]
