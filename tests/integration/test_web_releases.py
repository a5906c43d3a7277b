"""The "Upcoming releases and discharges" page for the monthly release panel."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from referral_service import clock
from referral_service.domain import audit, casework
from referral_service.models import AuditEvent, ContactChannel
from tests import factories as f
from tests.web_helpers import make_team, sign_in


@pytest.fixture
def team(db_session):  # type: ignore[no-untyped-def]
    made = make_team()
    db_session.commit()
    return made


def released(org, days: int, first: str, **kwargs):  # type: ignore[no-untyped-def]
    day = clock.today_in_london() + timedelta(days=days)
    return f.referral(org, release_or_discharge_date=day.isoformat(),
                      person=f.unique_person(first_name=first, last_name="Released"), **kwargs)


def test_shows_the_next_eight_weeks_by_referring_organisation(client, team) -> None:  # type: ignore[no-untyped-def]
    hospital = f.organisation(name="Lister Hospital – discharge team", type="hospital_inpatient")
    soon = released(team.organisation, 10, "Soon")
    last_day = released(hospital, 56, "Lastday")
    released(team.organisation, 57, "Toolate")
    released(team.organisation, -1, "Alreadyout")
    released(team.organisation, 12, "Elsewhere", authority_code=team.other_authority.code)
    gone = released(team.organisation, 20, "Withdrawn")
    casework.withdraw(gone, organisation=team.organisation, actor=audit.Actor.system("test"))
    f.db.session.commit()

    sign_in(client, team.leader)
    html = client.get("/team/releases").get_data(as_text=True)

    assert "Soon Released" in html and "Lastday Released" in html
    for absent in ("Toolate", "Alreadyout", "Elsewhere", "Withdrawn"):
        assert absent not in html
    # Grouped: the hospital's table (name order first), then the probation service's.
    by_org = html.index(team.organisation.name)
    assert html.index("Lister Hospital") < html.index("Lastday") < by_org
    assert html.index(team.organisation.name) < html.index("Soon Released")
    assert soon.reference in html and last_day.reference in html
    assert 'href="/team/releases"' in html  # in the navigation
    [viewed] = f.db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "releases.viewed")).all()
    assert viewed.details["referrals"] == 2


def test_shows_the_named_officer_and_whether_contact_is_made(client, team) -> None:  # type: ignore[no-untyped-def]
    waiting = released(team.organisation, 5, "Waiting")
    reached = released(team.organisation, 6, "Reached")
    officer = reached.named_officer
    assert officer is not None
    casework.accept(reached, officer)
    casework.record_contact_made(reached, officer, channel=ContactChannel.PHONE)
    f.db.session.commit()

    sign_in(client, team.leader)
    html = client.get("/team/releases").get_data(as_text=True)
    waiting_row = html.split("Waiting Released")[1].split("</tr>")[0]
    reached_row = html.split("Reached Released")[1].split("</tr>")[0]
    assert "Not yet" in waiting_row and officer.name in reached_row
    assert "Contact made" in reached_row
    assert waiting.reference in waiting_row


def test_officers_see_it(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.officer)
    assert client.get("/team/releases").status_code == 200


def test_referrers_do_not(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.referrer)
    assert client.get("/team/releases").status_code == 403


def test_says_so_when_nobody_is_due_out(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.leader)
    html = client.get("/team/releases").get_data(as_text=True)
    assert "No open referral has a release or discharge date" in html
