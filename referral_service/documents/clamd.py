"""A small client for ClamAV's ``clamd`` over its UNIX socket (the INSTREAM command).

Hand-written rather than pyclamd (0.4.0, unmaintained since 2017): the protocol is a command,
length-prefixed chunks and one reply line.
"""
from __future__ import annotations

import socket
import struct

CHUNK = 64 * 1024


class ScannerUnavailable(Exception):
    """clamd could not be reached, did not answer in time, or answered with an error."""


def scan(socket_path: str, data: bytes, *, timeout: float) -> str | None:
    """None if clamd found nothing; otherwise the name of what it found."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(socket_path)
            connection.sendall(b"zINSTREAM\0")
            for start in range(0, len(data), CHUNK):
                chunk = data[start:start + CHUNK]
                connection.sendall(struct.pack("!L", len(chunk)) + chunk)
            connection.sendall(struct.pack("!L", 0))
            reply = _read_reply(connection)
    except OSError as error:  # refused, missing socket, timeout, reset
        raise ScannerUnavailable(type(error).__name__) from error
    return _verdict(reply)


def _read_reply(connection: socket.socket) -> bytes:
    reply = b""
    while not reply.endswith(b"\0"):
        part = connection.recv(4096)
        if not part:
            break
        reply += part
        if len(reply) > 4096:
            break
    return reply.rstrip(b"\0")


def _verdict(reply: bytes) -> str | None:
    """``stream: OK``, ``stream: <name> FOUND``, or an ``... ERROR`` (such as a size limit)."""
    text = reply.decode("utf-8", "replace").strip()
    if text == "stream: OK":
        return None
    if text.startswith("stream: ") and text.endswith(" FOUND"):
        return text[len("stream: "):-len(" FOUND")].strip() or "unnamed"
    raise ScannerUnavailable(f"unexpected reply: {text[:100]!r}")
