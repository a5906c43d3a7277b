"""Every staff page refuses the wrong role (403), another authority's referral (404), and an
anonymous visitor (redirect to sign-in); tested page by page."""
from __future__ import annotations

import pytest

from tests.web_helpers import csrf_token, make_team, sign_in


@pytest.fixture
def team(db_session):  # type: ignore[no-untyped-def]
    made = make_team()
    db_session.commit()
    return made


# (path template, roles allowed); {r} is a referral of the team's own authority.
PAGES = [
    ("/casework/my-referrals", {"officer"}),
    ("/casework/queue", {"officer", "leader"}),
    ("/casework/referrals/{r}", {"officer", "leader"}),
    ("/casework/referrals/{r}/contact-attempt", {"officer", "leader"}),
    ("/casework/referrals/{r}/contact-made", {"officer", "leader"}),
    ("/casework/referrals/{r}/close", {"officer", "leader"}),
    ("/casework/referrals/{r}/transfer", {"officer", "leader"}),
    ("/team", {"leader"}),
    ("/team/referrals/{r}/reassign", {"leader"}),
    ("/team/absences", {"leader"}),
    ("/team/sign-in-security", {"leader"}),
    ("/account", {"officer", "leader", "referrer"}),
    ("/account/second-factor", {"officer", "leader", "referrer"}),
]
POSTS = [
    ("/casework/referrals/{r}/claim", {"officer"}),
    ("/casework/referrals/{r}/accept", {"officer", "leader"}),
    ("/casework/referrals/{r}/reply", {"officer", "leader"}),
]


def _as(app, team, who):  # type: ignore[no-untyped-def]
    http = app.test_client()
    if who:
        sign_in(http, {"officer": team.officer, "leader": team.leader,
                       "referrer": team.referrer}[who])
    return http


@pytest.mark.parametrize(("path", "allowed"), PAGES)
def test_each_page_by_role(app, team, path, allowed) -> None:  # type: ignore[no-untyped-def]
    own = path.format(r=team.named.id)
    assert _as(app, team, None).get(own).headers["Location"].startswith("/sign-in?next=")
    for who in ("officer", "leader", "referrer"):
        status = _as(app, team, who).get(own).status_code
        assert status == (200 if who in allowed else 403), (who, own, status)


@pytest.mark.parametrize(("path", "allowed"), [p for p in PAGES if "{r}" in p[0]] + POSTS)
def test_another_authoritys_referral_is_not_found(app, team, path, allowed) -> None:  # type: ignore[no-untyped-def]
    foreign = path.format(r=team.foreign.id)
    for who in sorted(allowed):
        http = _as(app, team, who)
        if path in {p for p, _ in POSTS}:
            response = http.post(foreign, data={"csrf_token": csrf_token(http, "/account"),
                                                "reply": "hello"})
        else:
            response = http.get(foreign)
        assert response.status_code == 404, (who, foreign, response.status_code)


@pytest.mark.parametrize(("path", "allowed"), POSTS)
def test_each_action_by_role(app, team, path, allowed) -> None:  # type: ignore[no-untyped-def]
    own = path.format(r=team.queued.id)
    for who in ("referrer",):
        http = _as(app, team, who)
        response = http.post(own, data={"csrf_token": csrf_token(http, "/account")})
        assert response.status_code == 403


def test_an_unknown_referral_id_is_not_found(app, team) -> None:  # type: ignore[no-untyped-def]
    http = _as(app, team, "officer")
    assert http.get("/casework/referrals/not-a-uuid").status_code == 404
    assert http.get("/casework/referrals/00000000-0000-0000-0000-000000000000").status_code == 404
