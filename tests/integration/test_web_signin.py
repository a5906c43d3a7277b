"""Signing in and out of the web pages with a local account."""
from __future__ import annotations

from referral_service.models import AuditEvent, Role
from tests import factories as f
from tests.web_helpers import csrf_token, sign_in


def _officer():  # type: ignore[no-untyped-def]
    return f.officer(f.authority(), password=f.PASSWORD)


def test_sign_in_with_the_right_password_lands_on_the_role_home(client) -> None:  # type: ignore[no-untyped-def]
    officer = _officer()
    f.db.session.commit()
    response = sign_in(client, officer)
    assert response.headers["Location"] != "/sign-in"
    page = client.get("/account")
    assert page.status_code == 200 and officer.email in page.get_data(as_text=True)
    actions = [e.action for e in f.db.session.query(AuditEvent).filter_by(
        subject_id=str(officer.id))]
    assert "user.signed_in" in actions


def test_wrong_password_and_unknown_email_get_the_same_message(client) -> None:  # type: ignore[no-untyped-def]
    officer = _officer()
    f.db.session.commit()
    token = csrf_token(client)
    wrong = client.post("/sign-in", data={"email": officer.email, "password": "nope nope nope",
                                          "csrf_token": token})
    unknown = client.post("/sign-in", data={"email": "nobody@example.org",
                                            "password": "nope nope nope", "csrf_token": token})
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "Enter a correct email address and password" in response.get_data(as_text=True)
        assert "There is a problem" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_empty_fields_are_named(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/sign-in", data={"email": "", "password": "",
                                             "csrf_token": csrf_token(client)})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'href="#email"' in html and "Enter your email address." in html
    assert 'href="#password"' in html and "Enter your password." in html


def test_signing_in_starts_a_fresh_session(client) -> None:  # type: ignore[no-untyped-def]
    """No session fixation: whatever the session held before signing in is gone after."""
    officer = _officer()
    f.db.session.commit()
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
    old_token = csrf_token(client)
    sign_in(client, officer)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after.get("csrf_token") != old_token


def test_signing_out_ends_every_copy_of_the_session(app, client) -> None:  # type: ignore[no-untyped-def]
    officer = _officer()
    f.db.session.commit()
    sign_in(client, officer)
    stolen = client.get_cookie("session").value
    response = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 302 and response.headers["Location"] == "/signed-out"
    other = app.test_client()
    other.set_cookie("session", stolen)
    assert other.get("/account").status_code == 302


def test_next_returns_to_the_page_asked_for_but_never_off_site(app, client) -> None:  # type: ignore[no-untyped-def]
    officer = _officer()
    f.db.session.commit()
    redirect = client.get("/account")
    assert redirect.headers["Location"] == "/sign-in?next=/account"
    for target, expected in (("/account", "/account"), ("//evil.example/x", None),
                             ("https://evil.example/", None), ("/\\evil.example", None),
                             # Browsers drop the tab: "//evil.example/" once followed.
                             ("/\t/evil.example/", None), ("/\n/evil.example/", None)):
        client = app.test_client()
        response = client.post("/sign-in", data={"email": officer.email, "password": f.PASSWORD,
                                                 "next": target, "csrf_token": csrf_token(client)})
        location = response.headers["Location"]
        if expected:
            assert location == expected
        else:
            assert "evil" not in location


def test_a_deactivated_account_is_signed_out(client) -> None:  # type: ignore[no-untyped-def]
    officer = _officer()
    f.db.session.commit()
    sign_in(client, officer)
    officer.active = False
    f.db.session.commit()
    assert client.get("/account").status_code == 302


def test_every_role_can_open_its_account_page(client) -> None:  # type: ignore[no-untyped-def]
    council = f.authority()
    org = f.organisation()
    people = [f.officer(council, password=f.PASSWORD), f.team_leader(council, password=f.PASSWORD),
              f.partner_user(org, password=f.PASSWORD)]
    f.db.session.commit()
    for person in people:
        sign_in(client, person)
        page = client.get("/account")
        assert page.status_code == 200
        assert person.role.value.replace("_", " ") in page.get_data(as_text=True).lower()
        assert person.role in set(Role)
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})


def _each_role() -> dict[str, object]:
    from referral_service.domain import admin
    from tests import panel_factories as pf

    council = f.authority()
    return {
        "/casework/my-referrals": f.officer(council, password=f.PASSWORD),
        "/team": f.team_leader(council, password=f.PASSWORD),
        "/referrer/referrals": f.partner_user(f.organisation(), password=f.PASSWORD),
        "/panel/cases": pf.panel_lead(pf.panel("marac"), password=f.PASSWORD),
        "/dashboard": admin.create_user(email="admin@council.example", name="Ada Admin",
                                        role="admin", password=f.PASSWORD,
                                        actor=f.ACTOR).record,
    }


def test_each_role_lands_on_its_own_home_page(app, db_session) -> None:  # type: ignore[no-untyped-def]
    people = _each_role()
    f.db.session.commit()
    for home, person in people.items():
        client = app.test_client()
        assert sign_in(client, person).headers["Location"] == home, person
        assert client.get(home).status_code == 200, home
