"""A small OpenID Connect provider on 127.0.0.1, for authlib's real Flask client.

It serves discovery (``/.well-known/openid-configuration``), its signing keys (``/jwks``), an
authorization endpoint that signs in whichever email address the test chose (``login_as``) and
sends the browser back with a one-time code, and a token endpoint that checks the client's
credentials and the code, and returns an RS256-signed id_token carrying the nonce. Tests can
make it misbehave: sign with a key it does not publish (``sign_with_unknown_key``), say the
address is unverified (or leave ``email_verified`` out), or issue for another audience; and
choose the ``sub`` it issues (``subject``), as when a person's address changes at the provider
or an address is handed to someone else.
"""
from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "referrals-web"
CLIENT_SECRET = "fake-oidc-client-secret"


@dataclass
class FakeOidc:
    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    login_as: str | None = None
    subject: str | None = None  # the ``sub`` claim; by default one per email address
    email_verified: bool | str | None = True  # None leaves the claim out; "true" is no bool
    audience: str = CLIENT_ID
    sign_with_unknown_key: bool = False
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, Any]] = field(default_factory=list)

    def metadata(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"]}

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str]]:
        """Sign in ``login_as`` and send the browser back to the client with a code."""
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return 400, {}
        back = query["redirect_uri"]
        if self.login_as is None:
            refusal = urlencode({"error": "access_denied", "state": query.get("state", "")})
            return 302, {"Location": f"{back}?{refusal}"}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"email": self.login_as, "nonce": query.get("nonce"),
                            "sub": self.subject or f"sub-{self.login_as}", "redirect_uri": back}
        return 302, {"Location": f"{back}?{urlencode({'code': code, 'state': query['state']})}"}

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, Any]:
        self.token_requests.append(form)
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.audience, "sub": grant["sub"],
                  "email": grant["email"], "iat": now, "exp": now + 300, "nonce": grant["nonce"]}
        if self.email_verified is not None:
            claims["email_verified"] = self.email_verified
        key = RSAKey.generate_key(2048, parameters={"kid": "k1"}) if (
            self.sign_with_unknown_key) else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return 200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                     "expires_in": 300, "id_token": id_token}


def _handler(fake: FakeOidc) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
                  ) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._send(200, fake.metadata())
            elif url.path == "/jwks":
                self._send(200, {"keys": [fake.key.as_dict(private=False)]})
            elif url.path == "/authorize":
                status, headers = fake.authorize(query)
                self._send(status, None, headers)
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if urlparse(self.path).path == "/token":
                status, body = fake.token(form, self.headers.get("Authorization"))
                self._send(status, body, {"Cache-Control": "no-store"})
            else:
                self._send(404, {"error": "not_found"})

    return Handler


@pytest.fixture
def fake_oidc() -> Iterator[FakeOidc]:
    fake = FakeOidc()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
