"""A small fake of Twilio's Messages REST API on 127.0.0.1, for the real ``twilio`` client.

It answers ``POST /2010-04-01/Accounts/{sid}/Messages.json`` as Twilio does: HTTP Basic auth
checked against the configured sid and token (401, code 20003, otherwise), Twilio's own
validation of To/From/Body (400 with 21604/21603/21602), a Twilio-shaped 201 JSON with a fresh
``SM…`` sid and ``"status": "queued"``. Tests can make the next requests fail (``fail_next``) or
hang until the client gives up (``hang_next``). Every request is recorded (``requests``); the
messages it accepted are in ``messages``.

    from tests.fakes.twilio import fake_twilio  # the fixture
"""
from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

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


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it: the path, whether its Basic auth was right, the form."""

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
    _release: threading.Event = field(default_factory=threading.Event, repr=False)
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    # --- what tests read and steer -----------------------------------------------------------
    @property
    def messages(self) -> list[dict[str, str]]:
        """The form fields of each message accepted (201), oldest first, plus its ``sid``."""
        with self._lock:
            return [dict(message) for message in self._messages]

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request that reached the fake, accepted or not."""
        with self._lock:
            return list(self._requests)

    def fail_next(self, status: int, code: int | None = None, times: int = 1) -> None:
        """Answer the next ``times`` message requests with HTTP ``status`` and Twilio ``code``."""
        with self._lock:
            self._failures.append(_Failure(status, code, times))

    def hang_next(self, seconds: float = 5.0, times: int = 1) -> None:
        """Hold the next ``times`` requests without answering, for up to ``seconds``."""
        with self._lock:
            self._hangs += times
            self._hang_seconds = seconds

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> FakeTwilio:
        fake = self

        class Handler(_Handler):
            twilio = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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


class _Handler(BaseHTTPRequestHandler):
    twilio: FakeTwilio
    server_version = "FakeTwilio/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest output stays readable."""

    def do_GET(self) -> None:
        self._answer(405, _error_body(405, None, "Method not allowed"))

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
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else {}
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
        message = {**form, "sid": sid}
        return 201, _message_body(self.twilio.account_sid, sid, form), message

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


def _message_body(account_sid: str, sid: str, form: dict[str, str]) -> dict[str, Any]:
    now = format_datetime(datetime.now(UTC), usegmt=True)
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"
    return {
        "account_sid": account_sid, "api_version": API_VERSION, "body": form.get("Body"),
        "date_created": now, "date_sent": None, "date_updated": now,
        "direction": "outbound-api", "error_code": None, "error_message": None,
        "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
        "num_media": "0", "num_segments": "1", "price": None, "price_unit": "GBP",
        "sid": sid, "status": "queued", "to": form.get("To"), "uri": uri,
        "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
    }


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A running fake Twilio API: ``.url``, ``.account_sid``, ``.auth_token``, ``.messages``,
    ``.requests``, ``.fail_next(status, code=None, times=1)``, ``.hang_next(seconds)``."""
    fake = FakeTwilio().start()
    try:
        yield fake
    finally:
        fake.stop()
