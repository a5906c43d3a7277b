"""The optional TOTP second factor, and the authority setting that makes it mandatory."""
from __future__ import annotations

from datetime import timedelta

import pyotp
import time_machine

from referral_service import clock
from referral_service.auth import accounts, totp
from referral_service.models import AuditEvent
from tests import factories as f
from tests.web_helpers import csrf_token, post_form, sign_in


def _password(client, user):  # type: ignore[no-untyped-def]
    return client.post("/sign-in", data={"email": user.email, "password": f.PASSWORD,
                                         "csrf_token": csrf_token(client)})


def _enrol(client, user) -> str:  # type: ignore[no-untyped-def]
    """Set up an authenticator app from the account page; returns the secret."""
    page = client.get("/account/second-factor").text
    assert "<svg" in page and "QR code" in page
    f.db.session.refresh(user)
    secret = user.totp_secret
    assert secret and " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in page
    done = post_form(client, "/account/second-factor",
                     {"code": pyotp.TOTP(secret).at(clock.now())})
    assert done.status_code == 302
    return secret


def test_enrol_then_sign_in_needs_a_code(app, client) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    sign_in(client, officer)
    secret = _enrol(client, officer)
    assert totp.enabled(officer)

    http = app.test_client()
    first = _password(http, officer)
    assert first.headers["Location"] == "/sign-in/code"
    assert http.get("/account").status_code == 302  # not signed in yet
    wrong = http.post("/sign-in/code", data={"code": "000000",
                                             "csrf_token": csrf_token(http, "/sign-in/code")})
    assert wrong.status_code == 400 and "6-digit code" in wrong.text
    later = clock.now() + timedelta(seconds=60)  # a new time step (the enrolment used one)
    with time_machine.travel(later, tick=False):
        code = pyotp.TOTP(secret).at(later)
        ok = http.post("/sign-in/code", data={"code": code,
                                              "csrf_token": csrf_token(http, "/sign-in/code")})
        assert ok.status_code == 302
        assert http.get("/account").status_code == 200
        # The same code cannot be used twice.
        again = app.test_client()
        assert _password(again, officer).headers["Location"] == "/sign-in/code"
        replay = again.post("/sign-in/code", data={
            "code": code, "csrf_token": csrf_token(again, "/sign-in/code")})
        assert replay.status_code == 400
    actions = {e.action for e in f.db.session.query(AuditEvent).filter_by(
        subject_id=str(officer.id))}
    assert "user.totp_enabled" in actions


def test_wrong_codes_count_towards_the_lock(app, db_session) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    totp.begin_enrolment(officer)
    officer.totp_confirmed_at = clock.now()
    f.db.session.commit()
    http = app.test_client()
    _password(http, officer)
    for _ in range(accounts.MAX_FAILURES):
        response = http.post("/sign-in/code", data={
            "code": "123456", "csrf_token": csrf_token(http, "/sign-in/code")})
    assert "locked" in response.text
    f.db.session.refresh(officer)
    assert accounts.is_locked(officer)


def test_the_code_page_needs_the_password_first(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/sign-in/code").headers["Location"] == "/sign-in"
    assert client.get("/sign-in/set-up-code").headers["Location"] == "/sign-in"


def test_an_authority_can_make_it_mandatory(app, client) -> None:  # type: ignore[no-untyped-def]
    council = f.authority()
    leader = f.team_leader(council, password=f.PASSWORD)
    officer = f.officer(council, password=f.PASSWORD)
    referrer = f.partner_user(f.organisation(), password=f.PASSWORD)
    f.db.session.commit()
    sign_in(client, leader)
    page = client.get("/team/sign-in-security").text
    assert officer.name in page  # listed as without an app
    saved = post_form(client, "/team/sign-in-security", {"required": "yes"})
    assert saved.status_code == 302
    assert totp.required_for(officer) and not totp.required_for(referrer)

    http = app.test_client()
    assert _password(http, officer).headers["Location"] == "/sign-in/set-up-code"
    set_up = http.get("/sign-in/set-up-code")
    assert "Your authority requires a second factor" in set_up.text
    assert http.get("/casework/my-referrals").status_code == 302  # still not signed in
    f.db.session.refresh(officer)
    done = http.post("/sign-in/set-up-code", data={
        "code": pyotp.TOTP(officer.totp_secret).at(clock.now()),
        "csrf_token": csrf_token(http, "/sign-in/set-up-code")})
    assert done.status_code == 302 and done.headers["Location"] == "/casework/my-referrals"
    assert totp.enabled(officer)
    # Required: it cannot be removed.
    refused = post_form(http, "/account/second-factor/remove", {"password": f.PASSWORD},
                        token_from="/account")
    assert refused.status_code == 400 and "requires a second factor" in refused.text
    assert totp.enabled(officer)
    # A referrer is not affected by an authority's setting.
    assert _password(app.test_client(), referrer).headers["Location"] != "/sign-in/set-up-code"


def test_only_team_leaders_change_the_setting(client) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    sign_in(client, officer)
    assert client.get("/team/sign-in-security").status_code == 403
    assert post_form(client, "/team/sign-in-security", {"required": "yes"},
                     token_from="/account").status_code == 403


def test_an_optional_factor_can_be_removed_with_the_password(client) -> None:  # type: ignore[no-untyped-def]
    officer = f.officer(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    sign_in(client, officer)
    _enrol(client, officer)
    page = client.get("/account/second-factor")
    assert 'name="password"' in page.text and 'autocomplete="current-password"' in page.text
    removed = post_form(client, "/account/second-factor/remove", {"password": f.PASSWORD},
                        token_from="/account/second-factor")
    assert removed.status_code == 302
    f.db.session.refresh(officer)
    assert not totp.enabled(officer) and officer.totp_secret is None
    assert "user.totp_removed" in {e.action for e in f.db.session.query(AuditEvent).filter_by(
        subject_id=str(officer.id))}


def test_removing_it_with_a_wrong_password_changes_nothing_and_counts(client) -> None:  # type: ignore[no-untyped-def]
    """Someone at an unattended signed-in screen cannot take the second factor off."""
    officer = f.officer(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    sign_in(client, officer)
    _enrol(client, officer)
    for given, message in (("", "Enter your password."),
                           ("not the password", "The password is not right.")):
        refused = post_form(client, "/account/second-factor/remove", {"password": given},
                            token_from="/account/second-factor")
        assert refused.status_code == 400
        assert "There is a problem" in refused.text and 'href="#password"' in refused.text
        assert message in refused.text and refused.text.count(message) == 2  # summary, field
    f.db.session.refresh(officer)
    assert totp.enabled(officer)
    assert officer.failed_sign_ins == 1  # the wrong password, as at sign-in
    actions = [e.action for e in f.db.session.query(AuditEvent).filter_by(
        subject_id=str(officer.id))]
    assert actions.count("user.sign_in_failed") == 1 and "user.totp_removed" not in actions
    # Enough wrong passwords lock the account, as at sign-in.
    for _ in range(accounts.MAX_FAILURES - 1):
        refused = post_form(client, "/account/second-factor/remove",
                            {"password": "not the password"}, token_from="/account/second-factor")
    assert "locked for 15 minutes" in refused.text
    f.db.session.refresh(officer)
    assert accounts.is_locked(officer) and totp.enabled(officer)


def test_an_account_without_a_password_removes_it_with_a_code(client) -> None:  # type: ignore[no-untyped-def]
    """Someone who signs in through their organisation's provider has no password to give."""
    officer = f.officer(f.authority(), password=f.PASSWORD)
    f.db.session.commit()
    sign_in(client, officer)
    secret = _enrol(client, officer)
    officer.password_hash = None
    f.db.session.commit()
    page = client.get("/account/second-factor")
    assert 'name="code"' in page.text and 'name="password"' not in page.text
    wrong = post_form(client, "/account/second-factor/remove", {"code": "000000"},
                      token_from="/account/second-factor")
    assert wrong.status_code == 400 and "6-digit code" in wrong.text
    later = clock.now() + timedelta(seconds=60)  # a new time step (the enrolment used one)
    with time_machine.travel(later, tick=False):
        removed = post_form(client, "/account/second-factor/remove",
                            {"code": pyotp.TOTP(secret).at(later)},
                            token_from="/account/second-factor")
    assert removed.status_code == 302
    f.db.session.refresh(officer)
    assert not totp.enabled(officer)
