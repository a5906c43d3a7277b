"""A small fake of Twilio's Messages REST API on 127.0.0.1, for the real ``twilio`` client.

It answers ``POST /2010-04-01/Accounts/{sid}/Messages.json`` as Twilio does: HTTP Basic auth
checked against the configured sid and token (401, code 20003, otherwise), Twilio's own
validation of To/From/Body (400 with 21604/21603/21602), a Twilio-shaped 201 JSON with a fresh
``SM…`` sid and ``"status": "queued"``. ``GET …/Messages.json`` lists what it accepted, newest
first, filtered by ``To`` and ``From`` and paged (``PageSize``, ``Page``, ``next_page_uri``) as
Twilio's list API is, so the client's ``messages.page()``/``stream()`` work against it. Tests can
make the next requests fail (``fail_next``), hang until the client gives up (``hang_next``), or
take the message and then answer too late (``answer_late_next``) or not at all (``drop_next``).
Every request is recorded (``requests``); the messages it accepted are in ``messages``.

    from tests.fakes.twilio import fake_twilio  # the fixture
    python -m tests.fakes.twilio                # a process of its own (prints its settings)
"""
from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

API_VERSION = "2010-04-01"
_MESSAGES_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<sid>[^/]+)/Messages\.json$")
_ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    21211: "The 'To' number is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the "
           "'To' number.",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable via SMS.",
    21614: "'To' number is not a valid mobile number",
}
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Twilio API"'}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it: the path, whether its Basic auth was right, the form
    (for a GET, the query)."""

    method: str
    path: str
    authorised: bool
    form: dict[str, str]
    status: int  # what the fake answered (0: hung, no answer)


@dataclass
class _Failure:
    status: int
    code: int | None
    times: int


@dataclass
class FakeTwilio:
    account_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _requests: list[RecordedRequest] = field(default_factory=list, repr=False)
    _messages: list[dict[str, str]] = field(default_factory=list, repr=False)
    _failures: list[_Failure] = field(default_factory=list, repr=False)
    _hangs: int = 0
    _hang_seconds: float = 0.0
    _lates: int = 0
    _late_seconds: float = 0.0
    _drops: int = 0
    _release: threading.Event = field(default_factory=threading.Event, repr=False)
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _connections: set[socket.socket] = field(default_factory=set, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    # Called with each accepted message (its form fields and sid) before the answer goes back:
    # Twilio's first status callback can reach us before its answer to the send does.
    on_accepted: Callable[[dict[str, str]], None] | None = field(default=None, repr=False)

    # --- what tests read and steer -----------------------------------------------------------
    @property
    def messages(self) -> list[dict[str, str]]:
        """The form fields of each message accepted (201), oldest first, plus its ``sid``."""
        with self._lock:
            return [{key: value for key, value in message.items() if not key.startswith("_")}
                    for message in self._messages]

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request that reached the fake, accepted or not."""
        with self._lock:
            return list(self._requests)

    def fail_next(self, status: int, code: int | None = None, times: int = 1) -> None:
        """Answer the next ``times`` message requests with HTTP ``status`` and Twilio ``code``."""
        with self._lock:
            self._failures.append(_Failure(status, code, times))

    def set_status(self, sid: str, status: str, error_code: int | None = None) -> None:
        """What the list API says of an accepted message from now on (e.g. "undelivered"), and
        its Twilio ``error_code`` (e.g. 21610; none by default)."""
        with self._lock:
            for message in self._messages:
                if message["sid"] == sid:
                    message["_status"] = status
                    message.pop("_error_code", None)
                    if error_code is not None:
                        message["_error_code"] = str(error_code)

    def hang_next(self, seconds: float = 5.0, times: int = 1) -> None:
        """Hold the next ``times`` requests without answering, for up to ``seconds``."""
        with self._lock:
            self._hangs += times
            self._hang_seconds = seconds

    def answer_late_next(self, seconds: float = 5.0, times: int = 1) -> None:
        """Accept the next ``times`` messages (they are in ``messages``) but hold each answer
        back for up to ``seconds``: Twilio took it, and the client gives up first."""
        with self._lock:
            self._lates += times
            self._late_seconds = seconds

    def drop_next(self, times: int = 1) -> None:
        """Accept the next ``times`` messages, then close the connection without answering."""
        with self._lock:
            self._drops += times

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> FakeTwilio:
        fake = self

        class Handler(_Handler):
            twilio = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="fake-twilio", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # let any hung request finish
        if self._server is not None:
            self._server.shutdown()
            # Clients keep connections alive (HTTP/1.1): end them, so the handler threads that
            # wait for a next request finish and server_close() can join them.
            with self._lock:
                open_connections = list(self._connections)
            for connection in open_connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- used by the handler -------------------------------------------------------------------
    def _take_hang(self) -> float:
        with self._lock:
            if self._hangs <= 0:
                return 0.0
            self._hangs -= 1
            return self._hang_seconds

    def _take_late_or_drop(self) -> str | None:
        with self._lock:
            if self._lates > 0:
                self._lates -= 1
                return "late"
            if self._drops > 0:
                self._drops -= 1
                return "drop"
            return None

    def _take_failure(self) -> _Failure | None:
        with self._lock:
            if not self._failures:
                return None
            failure = self._failures[0]
            failure.times -= 1
            if failure.times <= 0:
                self._failures.pop(0)
            return failure

    def _record(self, request: RecordedRequest, message: dict[str, str] | None) -> None:
        with self._lock:
            self._requests.append(request)
            if message is not None:
                self._messages.append(message)

    def _list_page(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        """One page of the accepted messages, newest first, as Twilio's list API answers."""
        try:
            size = min(1000, max(1, int(query.get("PageSize", "50"))))
            page = max(0, int(query.get("Page", "0")))
        except ValueError:
            size, page = 50, 0
        with self._lock:
            matching = [message for message in reversed(self._messages)
                        if query.get("To") in (None, message.get("To"))
                        and query.get("From") in (None, message.get("From"))]
        chunk = matching[page * size:(page + 1) * size]
        kept = {key: value for key, value in query.items() if key in {"To", "From"}}

        def uri(number: int) -> str:
            return f"{path}?{urlencode({**kept, 'PageSize': size, 'Page': number})}"

        return {
            "messages": [_message_body(self.account_sid, message["sid"], message,
                                       created=message["_created"]) for message in chunk],
            "page": page, "page_size": size, "uri": uri(page), "first_page_uri": uri(0),
            "previous_page_uri": uri(page - 1) if page else None,
            "next_page_uri": uri(page + 1) if len(matching) > (page + 1) * size else None,
            "start": page * size, "end": page * size + len(chunk) - 1,
        }

    def _authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[len("Basic "):], validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        sid, _, token = decoded.partition(":")
        return (secrets.compare_digest(sid, self.account_sid)
                and secrets.compare_digest(token, self.auth_token))


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer (a killed worker, a timed-out request) is what
        tests do on purpose: say nothing. Anything else is a bug in the fake: print it."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    twilio: FakeTwilio
    server_version = "FakeTwilio/1.0"
    # Keep-alive, as api.twilio.com does: the client's pooled connections are reused.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and
    # the client's delayed ACK hold each answer back ~40 ms on a kept-alive connection.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        with self.twilio._lock:
            self.twilio._connections.add(self.connection)

    def finish(self) -> None:
        with self.twilio._lock:
            self.twilio._connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest output stays readable."""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        match = _MESSAGES_PATH.match(parts.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        authorised = self.twilio._authorised(self.headers.get("Authorization"))
        if not authorised:
            status, body, headers = 401, _error_body(401, 20003), _CHALLENGE
        elif match is None or match["sid"] != self.twilio.account_sid:
            status, body, headers = 404, _error_body(404, 20404), {}
        else:
            status, body, headers = 200, self.twilio._list_page(parts.path, query), {}
        self.twilio._record(RecordedRequest("GET", self.path, authorised, query, status), None)
        self._answer(status, body, headers)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        form = {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}
        authorised = self.twilio._authorised(self.headers.get("Authorization"))
        hang = self.twilio._take_hang()
        if hang:
            self.twilio._record(RecordedRequest("POST", self.path, authorised, form, 0), None)
            self.twilio._release.wait(hang)
            self.close_connection = True
            return
        status, body, message = self._respond_to(form, authorised)
        self.twilio._record(RecordedRequest("POST", self.path, authorised, form, status), message)
        if message is not None and self.twilio.on_accepted is not None:
            self.twilio.on_accepted({**form, "sid": message["sid"]})
        trouble = self.twilio._take_late_or_drop() if message is not None else None
        if trouble == "late":
            self.twilio._release.wait(self.twilio._late_seconds)
        elif trouble == "drop":
            self.close_connection = True
            return
        headers = _CHALLENGE if status == 401 else {}
        self._answer(status, body, headers)

    def _respond_to(self, form: dict[str, str], authorised: bool
                    ) -> tuple[int, dict[str, Any], dict[str, str] | None]:
        match = _MESSAGES_PATH.match(self.path)
        if not authorised:
            return 401, _error_body(401, 20003), None
        if match is None or match["sid"] != self.twilio.account_sid:
            return 404, _error_body(404, 20404), None
        failure = self.twilio._take_failure()
        if failure is not None:
            return failure.status, _error_body(failure.status, failure.code), None
        if not form.get("To"):
            return 400, _error_body(400, 21604), None
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return 400, _error_body(400, 21603), None
        if not form.get("Body"):
            return 400, _error_body(400, 21602), None
        sid = "SM" + secrets.token_hex(16)
        created = datetime.now(UTC).isoformat()
        message = {**form, "sid": sid, "_created": created}
        return 201, _message_body(self.twilio.account_sid, sid, form, created=created), message

    def _answer(self, status: int, body: dict[str, Any],
                headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def _error_body(status: int, code: int | None, message: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status,
                            "message": message or _ERROR_MESSAGES.get(code or 0, "Error")}
    if code is not None:
        body["code"] = code
        body["more_info"] = f"https://www.twilio.com/docs/errors/{code}"
    return body


def _message_body(account_sid: str, sid: str, form: dict[str, str], *,
                  created: str) -> dict[str, Any]:
    now = format_datetime(datetime.fromisoformat(created), usegmt=True)
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"
    error_code = int(form["_error_code"]) if "_error_code" in form else None  # set_status
    return {
        "account_sid": account_sid, "api_version": API_VERSION, "body": form.get("Body"),
        "date_created": now, "date_sent": None, "date_updated": now,
        "direction": "outbound-api", "error_code": error_code, "error_message": None,
        "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
        "num_media": "0", "num_segments": "1", "price": None, "price_unit": "GBP",
        "sid": sid, "status": form.get("_status", "queued"), "to": form.get("To"), "uri": uri,
        "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
    }


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A running fake Twilio API: ``.url``, ``.account_sid``, ``.auth_token``, ``.messages``,
    ``.requests``, ``.fail_next(status, code=None, times=1)``, ``.hang_next(seconds)``,
    ``.answer_late_next(seconds)``, ``.drop_next()``."""
    fake = FakeTwilio().start()
    try:
        yield fake
    finally:
        fake.stop()


def main() -> None:
    """Serve a fake on a free port until SIGTERM or SIGINT; print its settings as one JSON line
    (``url``, ``account_sid``, ``auth_token``) so another process can point a client at it."""
    fake = FakeTwilio().start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    print(json.dumps({"url": fake.url, "account_sid": fake.account_sid,
                      "auth_token": fake.auth_token}), flush=True)
    stop.wait()
    fake.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
