"""Team leaders' pages: caseloads, overdue and escalated referrals, reassignment, absences."""
from __future__ import annotations

from datetime import timedelta

import pytest

from notifications import due_reminders
from referral_service import clock
from referral_service.domain import audit
from referral_service.models import AuditEvent, OfficerAbsence
from tests import factories as f
from tests.statements import statements
from tests.web_helpers import csrf_token, make_team, post_form, sign_in


@pytest.fixture
def team(db_session):  # type: ignore[no-untyped-def]
    made = make_team()
    db_session.commit()
    return made


def test_overview_shows_caseload_and_capacity_per_officer(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.leader)
    html = client.get("/team").get_data(as_text=True)
    assert "Jo Smith" in html and "Sam Lee" in html and "Lee Other" not in html
    assert "Caseload and capacity" in html and "Available" in html
    assert team.queued.reference in html  # the team queue, on the same page
    assert team.foreign.reference not in html


def test_overdue_and_escalated_referrals(client, team) -> None:  # type: ignore[no-untyped-def]
    # The scheduler's tick after the deadline escalates it to team leaders; the deadline itself
    # is moved into the past (a session cookie cannot survive a jump of days in the clock).
    due_reminders.process_due(now=clock.as_utc(team.named.contact_due_by) + timedelta(hours=1))
    team.named.contact_due_by = clock.now() - timedelta(hours=1)
    f.db.session.commit()
    sign_in(client, team.leader)
    html = client.get("/team").get_data(as_text=True)
    overdue = html.split("<h2 class=\"govuk-heading-m\">Overdue</h2>")[1].split("Escalated")[0]
    assert team.named.reference in overdue and "Overdue" in overdue
    escalated = html.split("Escalated</h2>")[1].split("Team queue</h2>")[0]
    assert team.named.reference in escalated


def test_reassign(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.leader)
    page = f"/team/referrals/{team.named.id}/reassign"
    form = client.get(page).get_data(as_text=True)
    assert "Sam Lee" in form and "Lee Other" not in form
    missing = post_form(client, page, {"officer": "", "reason": ""})
    assert missing.status_code == 400 and 'href="#officer"' in missing.get_data(as_text=True)
    foreign = post_form(client, page, {"officer": str(team.other_officer.id), "reason": "x"})
    assert foreign.status_code == 400  # another council's officer is not a choice
    done = post_form(client, page, {"officer": str(team.second_officer.id),
                                    "reason": "Jo is on leave next week"})
    assert done.status_code == 302
    f.db.session.refresh(team.named)
    assert team.named.named_officer_id == team.second_officer.id


def test_the_reassign_page_loads_the_team_officers_once(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.leader)
    page = f"/team/referrals/{team.named.id}/reassign"
    token = csrf_token(client, page)
    for send in (lambda: client.get(page),
                 lambda: client.post(page, data={"officer": "", "reason": "",
                                                 "csrf_token": token})):
        with statements() as seen:
            response = send()
        assert "Sam Lee (0 of" in response.get_data(as_text=True)
        officers = [s for s in seen if "FROM users" in s and "users.role" in s
                    and "users.authority_id" in s]
        assert len(officers) == 1, (response.request.method, officers)


def test_record_and_end_an_absence(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.leader)
    today = clock.today_in_london()
    later = today + timedelta(days=3)
    bad = post_form(client, "/team/absences", {
        "officer": str(team.officer.id), "starts_on-day": "31", "starts_on-month": "2",
        "starts_on-year": "2026", "ends_on-day": "", "ends_on-month": "", "ends_on-year": ""})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "must be a real date" in html and "Enter the last day of absence." in html
    done = post_form(client, "/team/absences", {
        "officer": str(team.officer.id),
        "starts_on-day": str(today.day), "starts_on-month": str(today.month),
        "starts_on-year": str(today.year),
        "ends_on-day": str(later.day), "ends_on-month": str(later.month),
        "ends_on-year": str(later.year), "reason": "annual leave", "reassign": "yes"})
    assert done.status_code == 302
    absence = f.db.session.query(OfficerAbsence).filter_by(user_id=team.officer.id).one()
    f.db.session.refresh(team.named)
    assert team.named.named_officer_id == team.second_officer.id  # routed again
    listing = client.get("/team/absences").get_data(as_text=True)
    assert "Jo Smith" in listing and "annual leave" in listing
    ended = post_form(client, f"/team/absences/{absence.id}/end", token_from="/team/absences")
    assert ended.status_code == 302
    assert f.db.session.query(OfficerAbsence).filter_by(user_id=team.officer.id).count() == 0
    actions = {e.action for e in f.db.session.query(AuditEvent).filter_by(
        subject_id=str(team.officer.id))}
    assert {"officer.absence_recorded", "officer.absence_cancelled"} <= actions


def _absence(officer, first, last) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The absence form for ``officer`` from ``first`` to ``last``, open referrals routed again."""
    days = {f"{name}-{part}": str(getattr(day, part)) for name, day in
            (("starts_on", first), ("ends_on", last)) for part in ("day", "month", "year")}
    return {"officer": str(officer.id), **days, "reassign": "yes"}


def test_a_refused_absence_shows_why_and_records_nothing(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.leader)
    today = clock.today_in_london()
    refused = post_form(client, "/team/absences",
                        _absence(team.officer, today, today - timedelta(days=3)))
    assert refused.status_code == 400
    assert "The last day must be on or after the first day." in refused.get_data(as_text=True)
    assert f.db.session.query(OfficerAbsence).count() == 0
    f.db.session.refresh(team.named)
    assert team.named.named_officer_id == team.officer.id  # nothing routed again
    done = post_form(client, "/team/absences", _absence(team.officer, today, today))
    assert done.status_code == 302
    assert "1 open referral(s) routed again." in client.get("/team/absences").get_data(
        as_text=True)


def test_ending_a_started_absence_makes_yesterday_the_last_day(client, team) -> None:  # type: ignore[no-untyped-def]
    from referral_service.domain import casework

    today = clock.today_in_london()
    absence, _ = casework.record_absence(
        team.officer, starts_on=today - timedelta(days=2), ends_on=today + timedelta(days=2),
        actor=audit.Actor.system("tests"))
    f.db.session.commit()
    sign_in(client, team.leader)
    post_form(client, f"/team/absences/{absence.id}/end", token_from="/team/absences")
    f.db.session.refresh(absence)
    assert absence.ends_on == today - timedelta(days=1)
    assert not team.officer.is_absent_on(today)


def test_another_authoritys_absence_is_not_found(client, team) -> None:  # type: ignore[no-untyped-def]
    from referral_service.domain import casework

    today = clock.today_in_london()
    absence, _ = casework.record_absence(team.other_officer, starts_on=today, ends_on=today,
                                         actor=audit.Actor.system("tests"))
    f.db.session.commit()
    sign_in(client, team.leader)
    response = post_form(client, f"/team/absences/{absence.id}/end",
                         token_from="/team/absences")
    assert response.status_code == 404
