"""Officers' pages through HTTP: lists, the referral page, and every action, each calling the
real domain; refusals come back as GOV.UK error summaries and change nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from referral_service.domain import casework
from referral_service.models import (
    AuditEvent,
    ContactAttemptResult,
    ContactChannel,
    ReferralMessage,
    ReferralStatus,
)
from tests import factories as f
from tests.statements import statements
from tests.web_helpers import make_team, post_form, sign_in

S = ReferralStatus


@pytest.fixture
def team(db_session):  # type: ignore[no-untyped-def]
    made = make_team()
    db_session.commit()
    return made


def _page(client, path: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def test_my_referrals_lists_open_referrals_nearest_deadline_first(client, team) -> None:  # type: ignore[no-untyped-def]
    urgent = f.referral(team.organisation, at_risk_of_rough_sleeping_tonight=True,
                        person=f.unique_person(first_name="Urgent", last_name="Case"))
    if urgent.named_officer_id != team.officer.id:
        casework.reassign(urgent, team.officer, team.leader, reason="test set-up")
    f.db.session.commit()
    assert urgent.contact_due_by < team.named.contact_due_by
    sign_in(client, team.officer)
    html = _page(client, "/casework/my-referrals")
    assert html.index(urgent.reference) < html.index(team.named.reference)
    assert team.queued.reference not in html and team.foreign.reference not in html
    assert "Urgent" in html and 'govuk-tag' in html


def test_signed_in_officer_lands_on_my_referrals(client, team) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, team.officer).headers["Location"] == "/casework/my-referrals"
    client.post("/sign-out", data={"csrf_token": _token(client)})
    assert sign_in(client, team.leader).headers["Location"] == "/team"


def _token(client) -> str:  # type: ignore[no-untyped-def]
    from tests.web_helpers import csrf_token

    return csrf_token(client, "/account")


def test_the_referral_page_shows_what_the_referrer_sent_and_safety_first(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.officer)
    html = _page(client, f"/casework/referrals/{team.named.id}")
    assert "Aoife Byrne" in html and team.named.reference in html
    assert html.index("Safe contact and risk") < html.index("The person")
    assert "Do not leave messages with partner" in html  # the safe-contact instructions
    assert "Section 21 notice expires" in html and "Sam Patel" in html
    assert "Accept referral" in html and "Timeline" in html
    assert "Received by Welwyn Hatfield" in html


def test_officer_journey_accept_attempt_contact_close(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.officer)
    page = f"/casework/referrals/{team.named.id}"
    response = post_form(client, f"{page}/accept", token_from=page)
    assert response.status_code == 302
    assert team.named.status is S.ACCEPTED

    missing = post_form(client, f"{page}/contact-attempt", {})
    assert missing.status_code == 400
    html = missing.get_data(as_text=True)
    assert "There is a problem" in html and 'href="#channel"' in html and 'href="#result"' in html
    assert team.named.status is S.ACCEPTED

    done = post_form(client, f"{page}/contact-attempt",
                     {"channel": "phone", "result": "no_answer", "notes": "rang twice"})
    assert done.status_code == 302
    f.db.session.refresh(team.named)
    assert team.named.status is S.CONTACT_ATTEMPTED
    assert "The contact attempt was recorded" in _page(client, page)

    assert post_form(client, f"{page}/contact-made", {"channel": "phone"}).status_code == 302
    f.db.session.refresh(team.named)
    assert team.named.status is S.CONTACTED

    close_page = _page(client, f"{page}/close")
    assert "Prevention duty owed" in close_page and "No contact could be made" not in close_page
    closed = post_form(client, f"{page}/close", {"outcome": "prevention_duty"})
    assert closed.status_code == 302
    f.db.session.refresh(team.named)
    assert team.named.status is S.CLOSED and team.named.outcome.value == "prevention_duty"
    assert "Prevention duty owed" in _page(client, page)


def test_a_refused_action_is_an_error_summary_and_changes_nothing(client, team) -> None:  # type: ignore[no-untyped-def]
    """Recording contact before accepting: the lifecycle refuses, in the domain's words."""
    sign_in(client, team.officer)
    page = f"/casework/referrals/{team.named.id}"
    response = post_form(client, f"{page}/contact-attempt",
                         {"channel": "phone", "result": "no_answer"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and "cannot become contact attempted" in html
    f.db.session.refresh(team.named)
    assert team.named.status is S.ASSIGNED and team.named.contact_attempts == []


def test_an_outcome_not_allowed_yet_is_refused(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.officer)
    page = f"/casework/referrals/{team.named.id}"
    post_form(client, f"{page}/accept", token_from=page)
    response = post_form(client, f"{page}/close", {"outcome": "prevention_duty"})
    assert response.status_code == 400
    f.db.session.refresh(team.named)
    assert team.named.status is S.ACCEPTED


def test_another_officer_cannot_act_on_a_named_referral(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.second_officer)
    page = f"/casework/referrals/{team.named.id}"
    html = _page(client, page)
    assert "Accept referral" not in html
    response = post_form(client, f"{page}/accept", token_from=page)
    assert response.status_code == 400
    assert "Only the named officer" in response.get_data(as_text=True)


def test_claim_from_the_team_queue(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.second_officer)
    queue = _page(client, "/casework/queue")
    assert team.queued.reference in queue and team.named.reference not in queue
    response = post_form(client, f"/casework/referrals/{team.queued.id}/claim",
                         token_from="/casework/queue")
    assert response.status_code == 302
    f.db.session.refresh(team.queued)
    assert team.queued.named_officer_id == team.second_officer.id
    assert team.queued.status is S.ASSIGNED
    again = post_form(client, f"/casework/referrals/{team.queued.id}/claim",
                      token_from="/casework/queue")
    assert again.status_code == 302
    assert "no longer in the team queue" in _page(client, "/casework/queue")


def test_reply_to_the_referrer(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.officer)
    page = f"/casework/referrals/{team.named.id}"
    empty = post_form(client, f"{page}/reply", {"reply": "  "}, token_from=page)
    assert empty.status_code == 400 and "Write the note." in empty.get_data(as_text=True)
    sent = post_form(client, f"{page}/reply", {"reply": "We will call on Monday."},
                     token_from=page)
    assert sent.status_code == 302
    note = f.db.session.query(ReferralMessage).filter_by(referral_id=team.named.id).one()
    assert note.author_side == "council" and note.body == "We will call on Monday."
    assert "We will call on Monday." in _page(client, page)


def test_transfer_to_another_authority(client, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.officer)
    page = f"/casework/referrals/{team.named.id}"
    missing = post_form(client, f"{page}/transfer", {"authority": "", "reason": ""})
    assert missing.status_code == 400
    assert 'href="#authority"' in missing.get_data(as_text=True)
    # The person's agreement to the new council is asked for, and refused when not given.
    unagreed = post_form(client, f"{page}/transfer",
                         {"authority": "E07000242", "reason": "Moved to Cheshunt"})
    assert unagreed.status_code == 400
    assert 'href="#person_agreed"' in unagreed.get_data(as_text=True)
    f.db.session.refresh(team.named)
    assert team.named.status is not S.TRANSFERRED
    moved = post_form(client, f"{page}/transfer", {
        "authority": "E07000242", "reason": "Moved to Cheshunt", "person_agreed": "yes"})
    assert moved.status_code == 302
    f.db.session.refresh(team.named)
    assert team.named.status is S.TRANSFERRED
    assert team.named.transferred_to_authority_id == team.other_authority.id
    ended = f.db.session.scalars(select(AuditEvent).where(
        AuditEvent.referral_id == team.named.id, AuditEvent.to_status == "transferred")).one()
    assert ended.details["person_agreed"] is True


def test_the_receiving_officer_sees_the_earlier_timeline_without_private_notes(client, team) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    casework.accept(team.named, team.officer)
    casework.record_contact_attempt(team.named, team.officer, channel=ContactChannel.PHONE,
                                    result=ContactAttemptResult.NO_ANSWER,
                                    notes="PRIVATE: sleeps in his car behind the station")
    made = casework.transfer(team.named, team.other_authority, team.officer,
                             reason="Local connection", person_agreed=True)
    f.db.session.commit()
    assert made is not None and made.named_officer_id == team.other_officer.id
    sign_in(client, team.other_officer)
    page = _page(client, f"/casework/referrals/{made.id}")
    # Labelled as the other council's, with its reference, and the attempt without its note.
    assert f"Earlier timeline at {team.authority.name}" in page
    assert (f'<a class="govuk-link" href="#earlier-heading">{team.authority.name}, referral '
            f'{team.named.reference}</a>') in page
    assert "Phone: no answer" in page and "The named officer accepted the referral." in page
    assert "PRIVATE" not in page
    viewed = f.db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "referral.earlier_timeline_viewed")).one()
    assert viewed.referral_id == team.named.id and viewed.actor_user_id == team.other_officer.id
    assert viewed.details == {"viewed_from": made.reference}
    # The council that held it sees where it went; its page reads nothing of the new council's.
    client.post("/sign-out", data={"csrf_token": _token(client)})
    sign_in(client, team.officer)
    earlier = _page(client, f"/casework/referrals/{team.named.id}")
    assert f"Broxbourne, referral {made.reference}" in earlier
    assert "Earlier timeline" not in earlier


def test_a_possible_duplicate_is_shown_and_decided(client, team) -> None:  # type: ignore[no-untyped-def]
    from referral_service.models import DuplicateDecision, PossibleDuplicate

    again = f.referral(team.organisation, person=f.unique_person(
        first_name="Aoife", last_name="Byrne", phone=team.named.person_phone))
    f.db.session.commit()
    link = f.db.session.query(PossibleDuplicate).filter_by(referral_id=again.id).one()
    sign_in(client, team.leader)
    page = f"/casework/referrals/{again.id}"
    html = _page(client, page)
    assert "Possible duplicates" in html and team.named.reference in html
    decided = post_form(client, f"{page}/duplicates/{link.id}", {"decision": "same"})
    assert decided.status_code == 302
    f.db.session.refresh(link)
    assert link.decision is DuplicateDecision.CONFIRMED
    twice = post_form(client, f"{page}/duplicates/{link.id}", {"decision": "same"})
    assert twice.status_code == 400 and "already been decided" in twice.text


def test_the_possible_duplicates_load_in_one_query_however_many(client, team) -> None:  # type: ignore[no-untyped-def]
    from referral_service.models import PossibleDuplicate

    def fresh():  # type: ignore[no-untyped-def]
        return f.referral(team.organisation, person=f.unique_person())

    one, five = fresh(), fresh()
    others = [fresh() for _ in range(6)]
    # Links both ways: the page shows the other referral whichever side this one is on.
    f.db.session.add(PossibleDuplicate(referral_id=one.id, existing_referral_id=others[0].id,
                                       matched_on=["phone"]))
    for n, other in enumerate(others[1:]):
        new, existing = (five, other) if n % 2 else (other, five)
        f.db.session.add(PossibleDuplicate(referral_id=new.id, existing_referral_id=existing.id,
                                           matched_on=["phone"]))
    f.db.session.commit()
    pages = {len(links): (f"/casework/referrals/{case.id}", [o.reference for o in links])
             for case, links in ((one, others[:1]), (five, others[1:]))}
    sign_in(client, team.leader)
    counts = {}
    for size, (page, references) in pages.items():
        f.db.session.expunge_all()  # nothing already loaded: the page asks for what it shows
        with statements() as seen:
            html = _page(client, page)
        assert all(reference in html for reference in references)
        counts[size] = len(seen)
    assert counts[5] == counts[1], counts


def test_phone_numbers_show_as_dialled_on_the_officer_and_referrer_pages(app, team) -> None:  # type: ignore[no-untyped-def]
    case = f.referral(team.organisation, person=f.unique_person(phone="07700 900123"),
                      referrer={"phone": "01632 960100"})
    f.db.session.commit()
    assert case.person_phone == "+447700900123" and case.referrer_phone == "+441632960100"
    for user, page in ((team.leader, f"/casework/referrals/{case.id}"),
                       (team.referrer, f"/referrer/referrals/{case.id}")):
        client = app.test_client()
        sign_in(client, user)
        html = _page(client, page)
        assert "07700 900123" in html and "01632 960100" in html, page
        assert "+447700900123" not in html and "+441632960100" not in html, page
