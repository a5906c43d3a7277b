"""A real SMTP server (aiosmtpd) on 127.0.0.1 for tests, and a handler that keeps what it is sent.

    from tests.fakes.smtp import Mailbox, smtp_servers

    @pytest.fixture
    def smtp_server() -> Iterator[StartServer]:
        yield from smtp_servers()          # then: port = smtp_server(Mailbox())
"""
from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import socket
from collections.abc import Callable, Iterator
from typing import Any

from aiosmtpd.controller import Controller


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts, or answers RCPT/DATA as told.

    ``after_data``: ``"drop"`` keeps the message and closes the connection without answering;
    ``"late"`` keeps it and answers only after ``late_seconds`` (the client gives up first).
    """

    def __init__(self, rcpt_reply: str | None = None, data_reply: str | None = None,
                 after_data: str | None = None, late_seconds: float = 5.0) -> None:
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.after_data = after_data
        self.late_seconds = late_seconds
        self.received: list[dict[str, Any]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        self.received.append({
            "mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
            "message": email.message_from_bytes(envelope.content, policy=email.policy.default),
            "tls": session.ssl is not None, "login": session.authenticated,
        })
        if self.after_data == "drop":
            server.transport.close()
        elif self.after_data == "late":
            # The server's own slowness, not the test's: an event nobody sets, with a cap.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.Event().wait(), self.late_seconds)
        return "250 Message accepted for delivery"


StartServer = Callable[..., int]


def smtp_servers() -> Iterator[StartServer]:
    """For a fixture: ``yield from smtp_servers()`` gives a function that starts a real aiosmtpd
    server on a free loopback port with a handler and returns the port; all are stopped after."""
    controllers: list[Controller] = []

    def start(handler: Mailbox, **smtp_parameters: Any) -> int:
        port = closed_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp_parameters)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        _let_sessions_end(controller)
        controller.stop()


def _let_sessions_end(controller: Controller, seconds: float = 2.0) -> None:
    """Wait (briefly) for the server's client sessions to finish before stopping it: a session
    still closing when the loop closes is destroyed pending, and its stream's ResourceWarning
    then fails whichever test is running (warnings are errors)."""
    async def sessions_ended() -> None:
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        if others:
            await asyncio.wait(others, timeout=seconds)

    asyncio.run_coroutine_threadsafe(sessions_ended(), controller.loop).result(seconds + 3)
