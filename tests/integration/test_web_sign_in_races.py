"""Sign-in limits hold when the attempts arrive at the same moment: many wrong passwords still
lock the account, and a second-factor code or a reset link is accepted exactly once.

Real concurrency: threads post to the app served over HTTP (tests/support_live.py) on a
database of its own, so every request has its own connection and commits for real.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pyotp
import pytest
import requests
import sqlalchemy as sa

from notifications import one_time_links
from referral_service import clock
from referral_service.auth import accounts, reset, totp
from referral_service.domain import admin
from referral_service.extensions import db
from referral_service.models import AuditEvent, PasswordResetToken, User
from tests import factories as f
from tests.support_live import LiveServer, own_database, serve
from tests.web_helpers import cheap_password_hashing

PARALLEL = 12
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the module: each test signs in as an officer of its own."""
    with (cheap_password_hashing(), own_database(tmp_path_factory.mktemp("races"), "races") as url,
          serve(url) as server):
        yield server


def make_officer(live: LiveServer) -> str:
    """An officer with a password; returns their email address."""
    with live.data():
        return f.officer(f.authority(), password=f.PASSWORD).email


def the_user(live: LiveServer, email: str) -> User:
    with live.app.app_context():
        user = accounts.find_by_email(email)
        assert user is not None
        db.session.expunge(user)
        db.session.remove()
        return user


def actions(live: LiveServer, email: str) -> list[str]:
    user = the_user(live, email)
    with live.app.app_context():
        found = list(db.session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.subject_id == str(user.id))))
        db.session.remove()
        return found


def browser(live: LiveServer, path: str = "/sign-in") -> tuple[requests.Session, str]:
    """A client with its own cookies, and the CSRF token of the form at ``path``."""
    http = requests.Session()
    return http, browser_token(http, live.url + path)


def browser_token(http: requests.Session, url: str) -> str:
    found = _TOKEN.search(http.get(url, timeout=30).text)
    assert found, f"no form at {url}"
    return found.group(1)


def at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run every call on its own thread, released together; the responses in call order."""
    start = threading.Barrier(len(calls))
    responses: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        responses[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(response is not None for response in responses)
    return responses


def post(http: requests.Session, url: str, data: dict[str, str]) -> Callable[[], Any]:
    return lambda: http.post(url, data=data, allow_redirects=False, timeout=60)


def test_many_wrong_passwords_at_once_lock_the_account(live: LiveServer) -> None:
    email = make_officer(live)
    calls = []
    for _ in range(PARALLEL):
        http, token = browser(live)
        calls.append(post(http, live.url + "/sign-in", {
            "email": email, "password": "wrong wrong wrong", "csrf_token": token}))

    responses = at_once(calls)

    assert [r.status_code for r in responses] == [400] * PARALLEL
    user = the_user(live, email)
    assert accounts.is_locked(user)
    # Only as many passwords were checked as the lock allows; the rest were refused unchecked.
    done = actions(live, email)
    assert done.count("user.sign_in_failed") == accounts.MAX_FAILURES
    assert done.count("user.locked") == 1
    assert done.count("user.sign_in_refused_locked") == PARALLEL - accounts.MAX_FAILURES
    assert sum("locked for 15 minutes" in r.text for r in responses) == (
        PARALLEL - accounts.MAX_FAILURES + 1)
    # Locked: even the right password does not get in now.
    http, token = browser(live)
    right = http.post(live.url + "/sign-in", data={
        "email": email, "password": f.PASSWORD, "csrf_token": token}, allow_redirects=False)
    assert right.status_code == 400 and "locked for 15 minutes" in right.text


def test_a_second_factor_code_is_accepted_once_when_sent_at_once(live: LiveServer) -> None:
    email = make_officer(live)
    with live.data():
        user = accounts.find_by_email(email)
        assert user is not None
        secret = totp.begin_enrolment(user)
        user.totp_confirmed_at = clock.now()
    forms = []
    for _ in range(PARALLEL):
        http, token = browser(live)
        to_code = http.post(live.url + "/sign-in", data={
            "email": email, "password": f.PASSWORD, "csrf_token": token}, allow_redirects=False)
        assert to_code.headers["Location"] == "/sign-in/code"
        forms.append((http, browser_token(http, live.url + "/sign-in/code")))
    code = pyotp.TOTP(secret).now()  # the previous, current and next steps are all accepted

    responses = at_once([post(http, live.url + "/sign-in/code", {
        "code": code, "csrf_token": token}) for http, token in forms])

    assert sorted(r.status_code for r in responses) == [302] + [400] * (PARALLEL - 1)
    assert actions(live, email).count("user.signed_in") == 1


def test_a_reset_link_works_once_when_used_at_once(live: LiveServer) -> None:
    email = make_officer(live)
    with live.data():
        reset.request_reset(email, ip_address=None)
    with live.app.app_context():
        # The link the email carries (made at send time from the token's id and the secret key).
        token_id = db.session.scalar(sa.select(PasswordResetToken.id).where(
            PasswordResetToken.user_id == the_user(live, email).id,
            PasswordResetToken.used_at.is_(None)))
        links = [one_time_links.RESET_PATH + one_time_links.reset_secret(token_id)]
    forms = []
    for n in range(PARALLEL):
        http, token = browser(live, links[0])
        forms.append((http, token, f"new password number {n}"))

    responses = at_once([post(http, live.url + links[0], {
        "password": words, "confirm": words, "csrf_token": token})
        for http, token, words in forms])

    done = [n for n, r in enumerate(responses) if r.status_code == 302]
    assert len(done) == 1, [r.status_code for r in responses]
    assert all("expired or has already been used" in r.text
               for r in responses if r.status_code != 302)
    assert actions(live, email).count("user.password_reset") == 1
    # The password is the one chosen by the request that used the link.
    chosen = forms[done[0]][2]
    with live.app.app_context():
        assert admin.verify_password(the_user(live, email), chosen)
