"""The soak's mixed load, to 127.0.0.1 only, bounded in time and in count.

Four kinds of request, in a fixed rotation (of every 10: 3 referrals, 3 API reads, 2 officer
pages, 2 Twilio status callbacks):

- ``POST /api/v1/referrals`` with a bearer token, a different person every time;
- ``GET /api/v1/referrals`` and ``GET /api/v1/referrals/{id}`` (ids of referrals just made);
- an officer's "My referrals" and a referral's page, signed in through the real form;
- ``POST /webhooks/twilio/status`` for texts the fake Twilio accepted, signed as Twilio signs
  (``RequestValidator``), at the callback address the app gave Twilio.

``probe`` finds the maximum (closed loop: every connection sends its next request as soon as
the last is answered); ``run`` keeps a fixed rate (open loop, as ``loadgen.py``: a request's
latency counts from when it was due, so queueing is not hidden).
"""
from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from loadgen import percentile
from people import referral_body
from twilio.request_validator import RequestValidator

ROTATION = ("referral", "api_read", "page", "referral", "webhook", "api_read", "referral",
            "page", "api_read", "webhook")
EXPECTED = {"referral": 201, "api_read": 200, "page": 200, "webhook": 204}
TIMEOUT_SECONDS = 30


@dataclass
class Target:
    """What the load needs to know about the app under test."""

    port: int
    token: str
    officer_email: str
    officer_password: str
    twilio_auth_token: str
    # (sid, status callback URL) of texts the fake Twilio accepted, oldest first.
    accepted_texts: deque[tuple[str, str]] = field(default_factory=deque)


@dataclass
class Outcome:
    kind: str
    status: int  # 0: no answer (connection refused or reset, timed out)
    started: float  # seconds since the run began
    latency_ms: float


class Session:
    """One connection's worth of client: an HTTP/1.1 connection and a signed-in officer's
    cookies (held here, so the session cookie's Secure flag does not stop them on loopback)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.cookies: dict[str, str] = {}
        self.connection = self._connect()
        self.n = 0
        self.referral_ids: deque[str] = deque(maxlen=200)
        self.delivered: deque[tuple[str, str]] = deque(maxlen=50)

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.target.port, timeout=TIMEOUT_SECONDS)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = self._connect()
            return 0, b""
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        if response.will_close:
            self.connection.close()
            self.connection = self._connect()
        return response.status, data

    def sign_in(self) -> None:
        status, page = self.request("GET", "/sign-in")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if status != 200 or token is None:
            raise SystemExit(f"the sign-in page did not load ({status})")
        form = urlencode({"email": self.target.officer_email,
                          "password": self.target.officer_password,
                          "csrf_token": token.group(1).decode()}).encode()
        status, _ = self.request("POST", "/sign-in", form,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise SystemExit(f"the officer could not sign in ({status})")

    # --- the four kinds ---------------------------------------------------------------------
    def referral(self, n: int) -> int:
        status, data = self.request(
            "POST", "/api/v1/referrals", json.dumps(referral_body(n, "Soak")).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {self.target.token}"})
        if status == 201:
            self.referral_ids.append(json.loads(data)["id"])
        return status

    def api_read(self, n: int) -> int:
        path = (f"/api/v1/referrals/{self.referral_ids[-1 - n % len(self.referral_ids)]}"
                if self.referral_ids and n % 3 else "/api/v1/referrals?limit=20")
        return self.request("GET", path,
                            headers={"Authorization": f"Bearer {self.target.token}"})[0]

    def page(self, n: int) -> int:
        path = (f"/casework/referrals/{self.referral_ids[-1]}"
                if self.referral_ids and n % 2 else "/casework/my-referrals")
        return self.request("GET", path)[0]

    def webhook(self, n: int) -> int:
        """'delivered' for the oldest text not yet called back; with none waiting, the same
        again for one already called back (Twilio repeats callbacks), or, before any text was
        sent, for a message that is not ours (answered as any callback: 204)."""
        try:
            sid, url = self.target.accepted_texts.popleft()
        except IndexError:
            if self.delivered:
                sid, url = self.delivered[n % len(self.delivered)]
            else:
                sid = "SM" + "0" * 32
                url = f"http://127.0.0.1:{self.target.port}/webhooks/twilio/status"
        form = {"MessageSid": sid, "MessageStatus": "delivered"}
        signature = RequestValidator(self.target.twilio_auth_token).compute_signature(url, form)
        parts = urlsplit(url)
        status = self.request("POST", parts.path + (f"?{parts.query}" if parts.query else ""),
                              urlencode(form).encode(),
                              {"Content-Type": "application/x-www-form-urlencoded",
                               "X-Twilio-Signature": signature})[0]
        if parts.query:
            self.delivered.append((sid, url))
        return status

    def send(self, kind: str, n: int) -> int:
        return {"referral": self.referral, "api_read": self.api_read, "page": self.page,
                "webhook": self.webhook}[kind](n)


@dataclass
class Load:
    """``connections`` sessions, each signed in once (before any clock starts) and kept for the
    probe and the run."""

    target: Target
    connections: int = 16
    outcomes: list[Outcome] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next: int = 0

    def _take(self, limit: int) -> int | None:
        with self._lock:
            if self._next >= limit:
                return None
            self._next += 1
            return self._next - 1

    def _go(self, body: Callable[[Session], None]) -> None:
        threads = [threading.Thread(target=body, args=(session,), name=f"soak-load-{i}")
                   for i, session in enumerate(self.sessions)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _one(self, session: Session, n: int, due: float, began: float) -> None:
        kind = ROTATION[n % len(ROTATION)]
        status = session.send(kind, n)
        finished = time.monotonic()
        with self._lock:
            self.outcomes.append(Outcome(kind, status, due - began, (finished - due) * 1000))

    def connect(self) -> None:
        self.sessions = [Session(self.target) for _ in range(self.connections)]
        self._go(Session.sign_in)

    def probe(self, seconds: float) -> float:
        """Requests per second of the mix with every connection busy: the maximum. What the
        probe sent is not kept in ``outcomes``."""
        began = time.monotonic()
        stop = began + seconds

        def body(session: Session) -> None:
            while (now := time.monotonic()) < stop:
                n = self._take(10**9)
                assert n is not None
                self._one(session, n, now, began)

        self._go(body)
        rate = len(self.outcomes) / (time.monotonic() - began)
        self.outcomes, self._next = [], 0
        return rate

    def run(self, rate: float, seconds: float) -> None:
        """``rate`` requests per second for ``seconds``: ``rate * seconds`` requests, no more,
        and none started later than a minute after the end (a request gives up after 30 s), so
        the run ends by itself however slow the app gets."""
        total = int(rate * seconds)
        began = time.monotonic() + 1.0
        last_start = began + seconds + 60

        def body(session: Session) -> None:
            while time.monotonic() < last_start and (n := self._take(total)) is not None:
                due = began + n / rate
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
                self._one(session, n, due, began)

        self._go(body)


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    """Requests served and latency by kind; every answer that was not the expected one, by
    kind and status, with when (seconds into the run) it happened."""
    by_kind: dict[str, Any] = {}
    for kind in EXPECTED:
        mine = [o for o in outcomes if o.kind == kind]
        if not mine:
            continue
        latencies = [o.latency_ms for o in mine]
        by_kind[kind] = {
            "requests": len(mine),
            "ok": sum(o.status == EXPECTED[kind] for o in mine),
            "statuses": dict(Counter(str(o.status) for o in mine)),
            "p50_ms": round(percentile(latencies, 50), 1),
            "p99_ms": round(percentile(latencies, 99), 1)}
    errors = [o for o in outcomes if o.status != EXPECTED[o.kind]]
    return {"requests": len(outcomes), "by_kind": by_kind,
            "unexpected": [(round(o.started, 1), o.kind, o.status) for o in errors]}
