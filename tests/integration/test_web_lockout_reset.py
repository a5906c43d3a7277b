"""Lockout after repeated wrong passwords, and password reset by an emailed one-time link."""
from __future__ import annotations

import re
from datetime import timedelta

import time_machine

from referral_service import clock
from referral_service.auth import accounts, reset
from referral_service.models import AuditEvent, OutboxMessage, PasswordResetToken
from tests import factories as f
from tests.emailed import Post, post  # noqa: F401 - the fixture
from tests.web_helpers import csrf_token, sign_in


def _try(client, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/sign-in", data={"email": email, "password": password,
                                         "csrf_token": csrf_token(client)})


def _actions(user) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.action for e in f.db.session.query(AuditEvent).filter_by(subject_id=str(user.id))
            .order_by(AuditEvent.occurred_at)]


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(app, client) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    start = clock.now()
    with time_machine.travel(start, tick=False):
        for _ in range(accounts.MAX_FAILURES - 1):
            assert "Enter a correct email" in _try(client, officer.email, "wrong password!").text
        locked = _try(client, officer.email, "wrong password!")
        assert "locked for 15 minutes" in locked.text
        # The right password does not get in while locked.
        assert "locked for 15 minutes" in _try(client, officer.email, f.PASSWORD).text
    assert _actions(officer).count("user.sign_in_failed") == accounts.MAX_FAILURES
    assert "user.locked" in _actions(officer) and "user.sign_in_refused_locked" in _actions(officer)
    with time_machine.travel(start + accounts.LOCK_FOR + timedelta(seconds=1), tick=False):
        http = app.test_client()
        assert sign_in(http, officer).status_code == 302
    f.db.session.refresh(officer)
    assert officer.failed_sign_ins == 0 and officer.locked_until is None


def test_failures_spread_beyond_the_window_do_not_lock(client) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    start = clock.now()
    for n in range(accounts.MAX_FAILURES + 2):
        with time_machine.travel(start + n * (accounts.FAILURE_WINDOW / 3), tick=False):
            _try(client, officer.email, "wrong password!")
    f.db.session.refresh(officer)
    assert officer.locked_until is None


def _reset_link(mail: Post, officer) -> str:  # type: ignore[no-untyped-def]
    """The link in the reset email, as the person receives it (the outbox row never holds it)."""
    [email] = mail.send_queued(event="password_reset", to_address=officer.email)
    found = re.search(r"http://localhost(/password-reset/\S+)", email)
    assert found, email
    return found.group(1)


def test_reset_by_emailed_link(app, client, post: Post) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    officer = f.officer(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    other_session = app.test_client()
    sign_in(other_session, officer)

    asked = client.post("/password-reset", data={"email": officer.email.upper(),
                                                 "csrf_token": csrf_token(client)})
    assert asked.headers["Location"] == "/password-reset/sent"
    link = _reset_link(post, officer)
    raw = link.rsplit("/", 1)[1]
    stored = f.db.session.query(PasswordResetToken).filter_by(user_id=officer.id).one()
    assert stored.token_hash == reset.digest(raw) and raw not in stored.token_hash

    form = client.get(link)
    assert form.status_code == 200 and "Choose a new password" in form.text
    short = client.post(link, data={"password": "short", "confirm": "short",
                                    "csrf_token": csrf_token(client, link)})
    assert short.status_code == 400 and "at least 12 characters" in short.text
    mismatch = client.post(link, data={"password": "a new long password", "confirm": "other",
                                       "csrf_token": csrf_token(client, link)})
    assert "do not match" in mismatch.text
    done = client.post(link, data={"password": "a new long password",
                                   "confirm": "a new long password",
                                   "csrf_token": csrf_token(client, link)})
    assert done.headers["Location"] == "/password-reset/done"

    assert other_session.get("/account").status_code == 302  # old sessions ended
    assert client.get(link).status_code == 404  # single use
    assert sign_in(app.test_client(), officer, "a new long password").status_code == 302
    assert "Enter a correct email" in _try(app.test_client(), officer.email, f.PASSWORD).text
    assert {"user.password_reset_requested", "user.password_reset"} <= set(_actions(officer))


def test_a_reset_link_expires(client, post: Post) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    officer = f.officer(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    client.post("/password-reset", data={"email": officer.email,
                                         "csrf_token": csrf_token(client)})
    link = _reset_link(post, officer)
    with time_machine.travel(clock.now() + reset.LIFETIME + timedelta(seconds=5)):
        assert client.get(link).status_code == 404


def test_asking_again_cancels_the_first_link(client, post: Post) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    officer = f.officer(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    for _ in range(2):
        client.post("/password-reset", data={"email": officer.email,
                                             "csrf_token": csrf_token(client)})
    bodies = post.send_queued(event="password_reset")
    first = re.search(r"(/password-reset/\S+)", bodies[0]).group(1)  # type: ignore[union-attr]
    second = re.search(r"(/password-reset/\S+)", bodies[1]).group(1)  # type: ignore[union-attr]
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


def test_an_unknown_address_gets_the_same_answer_and_no_email(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/password-reset", data={"email": "nobody@example.org",
                                                    "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/password-reset/sent"
    assert f.db.session.query(OutboxMessage).filter_by(event="password_reset").count() == 0


def test_a_made_up_link_does_not_work(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/password-reset/not-a-real-token").status_code == 404
