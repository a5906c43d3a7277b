"""Sending a partner's webhook: the address checks (SSRF), the pinned connection, the signature.

Imports nothing of ours. Every send:

1. parses the URL (``https`` only, ``http`` too when loopback is allowed: development/test);
2. resolves the host name *once* and refuses if any address it resolves to is private,
   link-local (169.254.169.254, the cloud metadata service), multicast, reserved, unspecified,
   or loopback (unless allowed);
3. connects to that resolved address itself, so a second DNS answer (rebinding) cannot move the
   request anywhere else, sending the name as ``Host`` and as TLS SNI and checking the
   certificate against the name;
4. waits at most ``timeout`` seconds for each step, reads at most a few KiB of the answer and
   follows no redirect: only a 2xx is a delivery.

Signatures follow Standard Webhooks: ``webhook-signature: v1,<base64 HMAC-SHA256 of
"{webhook-id}.{webhook-timestamp}.{body}">`` with the secret's bytes (``whsec_<base64>``).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import secrets
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SECRET_BYTES = 32
MAX_ANSWER_BYTES = 4096
USER_AGENT = "duty-to-refer-webhooks/1"

Resolver = Callable[..., list[tuple[Any, ...]]]


class Refused(ValueError):
    """The URL may not be called (scheme, address, port): the message says why."""


@dataclass(frozen=True)
class Result:
    delivered: bool
    status_code: int | None = None
    error: str | None = None


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address,
                     allow_loopback: bool) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _refused_address(address.ipv4_mapped, allow_loopback)
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private or not address.is_global:
        return "a private address"
    return None


class WebhookClient:
    """Checks and sends. ``resolve`` is ``socket.getaddrinfo`` (tests give their own DNS);
    ``ca_file`` adds trusted certificates (tests' own CA) to the system's."""

    def __init__(self, *, allow_loopback: bool = False, timeout: float = 10.0,
                 resolve: Resolver | None = None, ca_file: str | None = None) -> None:
        self.allow_loopback = allow_loopback
        self.timeout = timeout
        self.resolve = resolve or socket.getaddrinfo
        self.context = ssl.create_default_context()
        if ca_file:
            self.context.load_verify_locations(ca_file)

    def check(self, url: str) -> tuple[str, str, int, str]:
        """(scheme, host, port, the address to connect to), or :class:`Refused`."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise Refused("Not a valid URL.") from error
        allowed = ("https", "http") if self.allow_loopback else ("https",)
        if parts.scheme not in allowed:
            raise Refused("The URL must start with https://.")
        if not parts.hostname or parts.username or parts.password:
            raise Refused("Give a host name, without a user name or password.")
        host = parts.hostname
        port = port or (443 if parts.scheme == "https" else 80)
        try:
            answers = self.resolve(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise Refused("The host name does not resolve.") from error
        addresses = [ipaddress.ip_address(str(answer[4][0]).split("%")[0]) for answer in answers]
        if not addresses:
            raise Refused("The host name does not resolve.")
        for address in addresses:
            why = _refused_address(address, self.allow_loopback)
            if why:
                raise Refused(f"The host resolves to {why}: webhooks go to public addresses "
                              "only.")
        if parts.scheme == "http" and not all(address.is_loopback for address in addresses):
            raise Refused("The URL must start with https:// (plain http only to this machine, "
                          "in development).")
        return parts.scheme, host, port, str(addresses[0])

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Result:
        try:
            scheme, host, port, address = self.check(url)
        except Refused as error:
            return Result(False, error=str(error))
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = _pinned(scheme, host, port, address, self.timeout, self.context)
        try:
            connection.request("POST", target, body=body, headers={
                "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
            answer = connection.getresponse()
            answer.read(MAX_ANSWER_BYTES)
            code = answer.status
        except (OSError, http.client.HTTPException) as error:
            kind = "timed out" if isinstance(error, TimeoutError | socket.timeout) else (
                type(error).__name__)
            return Result(False, error=f"No answer: {kind}.")
        finally:
            connection.close()
        if 200 <= code < 300:
            return Result(True, status_code=code)
        if 300 <= code < 400:
            return Result(False, status_code=code, error="Redirects are not followed.")
        return Result(False, status_code=code, error=f"Answered {code}.")


def _pinned(scheme: str, host: str, port: int, address: str, timeout: float,
            context: ssl.SSLContext) -> http.client.HTTPConnection:
    """A connection to ``host`` (its Host header, SNI and certificate name) made to
    ``address`` only."""

    def connect_to_address(self: http.client.HTTPConnection) -> None:
        sock = socket.create_connection((address, port), timeout)
        if scheme == "https":
            sock = context.wrap_socket(sock, server_hostname=host)
        self.sock = sock

    if scheme == "https":
        class _PinnedHTTPS(http.client.HTTPSConnection):
            connect = connect_to_address

        return _PinnedHTTPS(host, port, timeout=timeout, context=context)

    class _PinnedHTTP(http.client.HTTPConnection):
        connect = connect_to_address

    return _PinnedHTTP(host, port, timeout=timeout)
