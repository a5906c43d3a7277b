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

from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


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
