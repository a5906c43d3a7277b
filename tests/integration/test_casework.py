"""What officers, team leaders and referrers do to a referral after it is received.

Every refused operation must leave everything as it was: ``refused`` checks the referral, the
officers and the audit trail before and after. Every change of status writes exactly one
``referral.transition`` event naming the actor and both statuses.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select

from referral_service import clock
from referral_service.domain import audit, casework, duplicates
from referral_service.domain.errors import (
    Conflict,
    DomainError,
    PermissionDenied,
    TransitionRefused,
    ValidationFailed,
)
from referral_service.models import (
    AuditEvent,
    Authority,
    ContactAttempt,
    ContactAttemptResult,
    ContactChannel,
    DuplicateDecision,
    OfficerAbsence,
    Organisation,
    Outcome,
    PossibleDuplicate,
    Referral,
    ReferralStatus,
    User,
)
from tests import factories as f

S = ReferralStatus
O = Outcome  # noqa: E741

# Monday 23 November 2026, 10:00 GMT, and later that week.
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MONDAY_2PM = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
TUESDAY_9AM = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

CLIENT = audit.Actor.for_client("tests")


@dataclass
class Desk:
    """One council's housing team and a referral routed to Jo."""

    authority: Authority
    org: Organisation
    leader: User
    jo: User
    sam: User
    case: Referral


@pytest.fixture
def desk(db_session) -> Desk:  # type: ignore[no-untyped-def]
    authority = f.authority()
    org = f.organisation()
    leader = f.team_leader(authority)
    jo = f.officer(authority, name="Jo Smith")
    case = f.referral(org)
    sam = f.officer(authority, name="Sam Jones")
    assert case.status is S.ASSIGNED and case.named_officer is jo
    return Desk(authority, org, leader, jo, sam, case)


@pytest.fixture
def elsewhere(db_session) -> Authority:  # type: ignore[no-untyped-def]
    return f.authority(code="E07000242", name="East Hertfordshire")


def queued(desk: Desk) -> Referral:
    """A referral waiting in the team queue."""
    made = f.referral(desk.org)
    casework.return_to_queue(made, desk.leader, reason="test set-up")
    assert made.status is S.UNASSIGNED and made.named_officer is None
    return made


# --- Audit and "nothing changed" helpers ---------------------------------------------------------


def _event_ids() -> set[uuid.UUID]:
    return set(f.db.session.scalars(select(AuditEvent.id)))


def _new_events(before: set[uuid.UUID]) -> list[AuditEvent]:
    return [e for e in f.db.session.scalars(select(AuditEvent)) if e.id not in before]


@contextmanager
def audited(*, transitions: int = 1) -> Iterator[list[AuditEvent]]:
    """Collect the audit events written inside the block; check how many were transitions."""
    before = _event_ids()
    written: list[AuditEvent] = []
    yield written
    written.extend(_new_events(before))
    assert [e.action for e in written].count("referral.transition") == transitions, written


def only_transition(events: list[AuditEvent]) -> AuditEvent:
    (event,) = [e for e in events if e.action == "referral.transition"]
    return event


def assert_transition(event: AuditEvent, referral: Referral, actor: User | str,
                      from_: ReferralStatus, to: ReferralStatus) -> None:
    assert event.referral_id == referral.id
    assert (event.from_status, event.to_status) == (from_.value, to.value)
    if isinstance(actor, User):
        assert (event.actor_user_id, event.actor_label) == (actor.id, actor.email)
    else:
        assert event.actor_label == actor


def _state(referrals: tuple[Referral, ...]) -> tuple[Any, ...]:
    session = f.db.session
    totals = tuple(session.scalar(select(func.count()).select_from(model))
                   for model in (AuditEvent, ContactAttempt, Referral, PossibleDuplicate,
                                  OfficerAbsence))
    officers = sorted(session.execute(select(User.id, User.last_assigned_at)).all())
    links = sorted(session.execute(
        select(PossibleDuplicate.id, PossibleDuplicate.decision, PossibleDuplicate.decided_by_id)
    ).all())
    cases = [
        (r.status, r.named_officer, r.outcome, r.closure_reason, r.closed_at,
         r.transferred_to_authority, r.assigned_at, r.acknowledged_at,
         r.first_contact_attempt_at, r.contacted_at, len(r.contact_attempts))
        for r in referrals
    ]
    return totals, officers, links, cases


@contextmanager
def refused(error: type[DomainError], *referrals: Referral,
            match: str | None = None) -> Iterator[pytest.ExceptionInfo[DomainError]]:
    """The operation raises exactly ``error`` and leaves everything as it was."""
    before = _state(referrals)
    with pytest.raises(error, match=match) as caught:
        yield caught
    assert type(caught.value) is error
    assert _state(referrals) == before


def bring_to(desk: Desk, status: ReferralStatus) -> Referral:
    """Jo's referral moved to ``status`` by the real operations; the queue for unassigned."""
    if status is S.UNASSIGNED:
        return queued(desk)
    case = desk.case
    if status in {S.ACCEPTED, S.CONTACT_ATTEMPTED, S.CONTACTED}:
        casework.accept(case, desk.jo)
    if status is S.CONTACT_ATTEMPTED:
        casework.record_contact_attempt(case, desk.jo, channel=ContactChannel.PHONE,
                                        result=ContactAttemptResult.NO_ANSWER)
    elif status is S.CONTACTED:
        casework.record_contact_made(case, desk.jo, channel=ContactChannel.PHONE)
    elif status is S.CLOSED:
        casework.close(case, desk.jo, outcome=O.DUPLICATE, notes="Same as DTR-AAAAAA")
    elif status is S.WITHDRAWN:
        casework.withdraw(case, organisation=desk.org, actor=CLIENT, reason="Found a room")
    elif status is S.TRANSFERRED:
        stevenage = f.authority(code="E07000243", name="Stevenage", participating=False)
        casework.transfer(case, stevenage, desk.leader, reason="Moved to Stevenage",
            person_agreed=True)
    assert case.status is status
    return case


def load_up(desk: Desk, officer: User, count: int) -> None:
    """Put ``count`` open referrals on ``officer``'s caseload, whoever routing first picked."""
    for _ in range(count):
        made = f.referral(desk.org)
        if made.named_officer is not officer:
            casework.reassign(made, officer, desk.leader, reason="set-up",
                              allow_over_capacity=True)


def status_id(value: object) -> str | None:
    return value.value if isinstance(value, ReferralStatus | Outcome) else None


# --- Accept --------------------------------------------------------------------------------------


@time_machine.travel(MONDAY_10AM, tick=False)
def test_named_officer_accepts(desk: Desk) -> None:
    with audited() as written:
        casework.accept(desk.case, desk.jo, ip_address="203.0.113.7")
    assert desk.case.status is S.ACCEPTED and desk.case.acknowledged_at == MONDAY_10AM
    event = only_transition(written)
    assert_transition(event, desk.case, desk.jo, S.ASSIGNED, S.ACCEPTED)
    assert event.ip_address == "203.0.113.7"


@pytest.mark.parametrize("who", ["colleague", "team_leader", "other_authority", "partner",
                                 "inactive_named_officer"])
def test_only_the_named_officer_accepts(desk: Desk, elsewhere: Authority, who: str) -> None:
    if who == "inactive_named_officer":
        desk.jo.active = False
    user = {"colleague": desk.sam, "team_leader": desk.leader,
            "other_authority": f.officer(elsewhere), "partner": f.partner_user(desk.org),
            "inactive_named_officer": desk.jo}[who]
    with refused(PermissionDenied, desk.case):
        casework.accept(desk.case, user)


def test_accepting_twice_is_refused(desk: Desk) -> None:
    casework.accept(desk.case, desk.jo)
    with refused(TransitionRefused, desk.case, match="accepted cannot become accepted"):
        casework.accept(desk.case, desk.jo)


# --- Claim from the team queue ------------------------------------------------------------------


@time_machine.travel(MONDAY_10AM, tick=False)
def test_officer_claims_from_the_queue(desk: Desk) -> None:
    waiting = queued(desk)
    with audited() as written:
        casework.claim(waiting, desk.sam)
    assert waiting.status is S.ASSIGNED and waiting.named_officer is desk.sam
    assert waiting.assigned_at == MONDAY_10AM and desk.sam.last_assigned_at == MONDAY_10AM
    event = only_transition(written)
    assert_transition(event, waiting, desk.sam, S.UNASSIGNED, S.ASSIGNED)
    assert event.details["officer_id"] == str(desk.sam.id)
    assert event.details["reason"] == "claimed from queue"


@pytest.mark.parametrize("who", ["team_leader", "other_authority", "partner", "inactive"])
def test_only_the_authoritys_officers_claim(desk: Desk, elsewhere: Authority, who: str) -> None:
    waiting = queued(desk)
    if who == "inactive":
        desk.sam.active = False
    user = {"team_leader": desk.leader, "other_authority": f.officer(elsewhere),
            "partner": f.partner_user(desk.org), "inactive": desk.sam}[who]
    with refused(PermissionDenied, waiting):
        casework.claim(waiting, user)


@pytest.mark.parametrize("status", [S.ASSIGNED, S.ACCEPTED, S.CLOSED, S.WITHDRAWN],
                         ids=status_id)
def test_claim_needs_the_referral_in_the_queue(desk: Desk, status: ReferralStatus) -> None:
    case = bring_to(desk, status)
    with refused(DomainError, case, match="no longer in the team queue"):
        casework.claim(case, desk.sam)


@pytest.mark.parametrize(("capacity", "load"), [(1, 1), (0, 0), (2, 3)],
                         ids=["full", "capacity-zero", "over"])
def test_claim_is_refused_at_capacity(desk: Desk, capacity: int, load: int) -> None:
    busy = f.officer(desk.authority, capacity=capacity)
    load_up(desk, busy, load)
    waiting = queued(desk)
    with refused(DomainError, waiting,
                 match=rf"at capacity \({load}/{capacity}\)\. Ask your team leader"):
        casework.claim(waiting, busy)


# --- Reassign (team leaders) ----------------------------------------------------------------------


@time_machine.travel(MONDAY_10AM, tick=False)
@pytest.mark.parametrize("status", [S.ASSIGNED, S.ACCEPTED, S.CONTACT_ATTEMPTED, S.CONTACTED],
                         ids=status_id)
def test_reassign_keeps_the_status_and_names_the_new_officer(desk: Desk,
                                                             status: ReferralStatus) -> None:
    case = bring_to(desk, status)
    with audited(transitions=0) as written:
        casework.reassign(case, desk.sam, desk.leader, reason="  Jo is on a course  ")
    assert case.status is status and case.named_officer is desk.sam
    assert desk.sam.last_assigned_at == MONDAY_10AM
    (event,) = written
    assert event.action == "referral.reassigned" and event.referral_id == case.id
    assert event.actor_label == desk.leader.email
    assert event.details == {"from_officer_id": str(desk.jo.id), "officer_id": str(desk.sam.id),
                             "reason": "Jo is on a course"}


def test_reassign_from_the_queue_is_a_transition(desk: Desk) -> None:
    waiting = queued(desk)
    with audited() as written:
        casework.reassign(waiting, desk.sam, desk.leader, reason="Sam knows the family")
    assert waiting.status is S.ASSIGNED and waiting.named_officer is desk.sam
    event = only_transition(written)
    assert_transition(event, waiting, desk.leader, S.UNASSIGNED, S.ASSIGNED)
    assert event.details["reason"] == "Sam knows the family"


@time_machine.travel(MONDAY_10AM, tick=False)
@pytest.mark.parametrize(
    ("case_name", "error", "field"),
    [
        ("by_an_officer", PermissionDenied, None),
        ("by_another_authoritys_leader", PermissionDenied, None),
        ("to_another_authoritys_officer", ValidationFailed, "officer"),
        ("to_a_team_leader", ValidationFailed, "officer"),
        ("to_an_inactive_officer", ValidationFailed, "officer"),
        ("to_an_absent_officer", ValidationFailed, "officer"),
        ("to_the_same_officer", ValidationFailed, "officer"),
        ("to_an_officer_at_capacity", ValidationFailed, "officer"),
        ("with_an_empty_reason", ValidationFailed, "reason"),
        ("with_a_blank_reason", ValidationFailed, "reason"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_reassign_refusals(desk: Desk, elsewhere: Authority, case_name: str,
                           error: type[DomainError], field: str | None) -> None:
    by, to, reason = desk.leader, desk.sam, "Balancing caseloads"
    if case_name == "by_an_officer":
        by = desk.jo
    elif case_name == "by_another_authoritys_leader":
        by = f.team_leader(elsewhere)
    elif case_name == "to_another_authoritys_officer":
        to = f.officer(elsewhere)
    elif case_name == "to_a_team_leader":
        to = f.team_leader(desk.authority)
    elif case_name == "to_an_inactive_officer":
        desk.sam.active = False
    elif case_name == "to_an_absent_officer":
        today = clock.today_in_london()
        casework.record_absence(desk.sam, starts_on=today - timedelta(days=1), ends_on=today,
                                actor=f.ACTOR)
    elif case_name == "to_the_same_officer":
        to = desk.jo
    elif case_name == "to_an_officer_at_capacity":
        to = f.officer(desk.authority, capacity=0)
    elif case_name == "with_an_empty_reason":
        reason = ""
    elif case_name == "with_a_blank_reason":
        reason = "   "
    with refused(error, desk.case) as caught:
        casework.reassign(desk.case, to, by, reason=reason)
    if field is not None:
        assert list(caught.value.errors) == [field]  # type: ignore[attr-defined]


def test_reassign_messages_say_why(desk: Desk) -> None:
    full = f.officer(desk.authority, capacity=1)
    load_up(desk, full, 1)
    with refused(ValidationFailed, desk.case) as caught:
        casework.reassign(desk.case, full, desk.leader, reason="Balancing")
    assert caught.value.errors == {"officer": ["That officer is at capacity (1/1)."]}
    with refused(ValidationFailed, desk.case) as caught:
        casework.reassign(desk.case, desk.jo, desk.leader, reason="Balancing")
    assert caught.value.errors == {"officer": ["That officer already has this referral."]}


def test_reassign_over_capacity_when_the_leader_says_so(desk: Desk) -> None:
    full = f.officer(desk.authority, capacity=0)
    casework.reassign(desk.case, full, desk.leader, reason="Only Alex speaks Polish",
                      allow_over_capacity=True)
    assert desk.case.named_officer is full and desk.case.status is S.ASSIGNED


@pytest.mark.parametrize("status", [S.CLOSED, S.WITHDRAWN, S.TRANSFERRED], ids=status_id)
def test_finished_referral_cannot_be_reassigned(desk: Desk, status: ReferralStatus) -> None:
    case = bring_to(desk, status)
    with refused(DomainError, case, match="cannot be reassigned"):
        casework.reassign(case, desk.sam, desk.leader, reason="Balancing")


# --- Return to the queue --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["named_officer", "team_leader"])
def test_return_to_queue(desk: Desk, who: str) -> None:
    user = desk.jo if who == "named_officer" else desk.leader
    with audited() as written:
        casework.return_to_queue(desk.case, user, reason="Conflict of interest")
    assert desk.case.status is S.UNASSIGNED and desk.case.named_officer is None
    f.db.session.flush()
    assert desk.case.named_officer_id is None
    event = only_transition(written)
    assert_transition(event, desk.case, user, S.ASSIGNED, S.UNASSIGNED)
    assert event.details == {"reason": "Conflict of interest",
                             "from_officer_id": str(desk.jo.id)}
    # Back in the queue, anyone may claim it, Jo included.
    casework.claim(desk.case, desk.sam)
    assert desk.case.named_officer is desk.sam


def test_return_to_queue_refused_for_another_officer(desk: Desk) -> None:
    with refused(PermissionDenied, desk.case):
        casework.return_to_queue(desk.case, desk.sam, reason="Not mine")


@pytest.mark.parametrize("status", [S.ACCEPTED, S.CONTACTED, S.CLOSED], ids=status_id)
def test_return_to_queue_refused_once_accepted(desk: Desk, status: ReferralStatus) -> None:
    case = bring_to(desk, status)
    with refused(TransitionRefused, case, match="cannot become unassigned"):
        casework.return_to_queue(case, desk.jo, reason="Too busy")


# --- Contact attempts and contact made ---------------------------------------------------------


def test_contact_attempts_are_stored_and_the_first_is_kept(desk: Desk) -> None:
    casework.accept(desk.case, desk.jo)
    with time_machine.travel(MONDAY_10AM, tick=False), audited() as written:
        first = casework.record_contact_attempt(
            desk.case, desk.jo, channel=ContactChannel.PHONE,
            result=ContactAttemptResult.NO_ANSWER, notes="Rang twice", ip_address="203.0.113.7")
    assert desk.case.status is S.CONTACT_ATTEMPTED
    assert desk.case.first_contact_attempt_at == MONDAY_10AM
    event = only_transition(written)
    assert_transition(event, desk.case, desk.jo, S.ACCEPTED, S.CONTACT_ATTEMPTED)
    assert event.details == {"attempt_id": str(first.id), "channel": "phone",
                             "result": "no_answer"}

    with time_machine.travel(MONDAY_2PM, tick=False), audited() as written:
        second = casework.record_contact_attempt(
            desk.case, desk.jo, channel=ContactChannel.SMS,
            result=ContactAttemptResult.MESSAGE_SENT)
    assert desk.case.status is S.CONTACT_ATTEMPTED
    assert desk.case.first_contact_attempt_at == MONDAY_10AM
    assert_transition(only_transition(written), desk.case, desk.jo, S.CONTACT_ATTEMPTED,
                      S.CONTACT_ATTEMPTED)

    f.db.session.expire_all()
    stored = list(f.db.session.scalars(
        select(ContactAttempt).where(ContactAttempt.referral_id == desk.case.id)
        .order_by(ContactAttempt.attempted_at)))
    assert [a.id for a in stored] == [first.id, second.id]
    assert [(a.channel, a.result, a.notes, a.successful, a.officer_id, a.attempted_at)
            for a in stored] == [
        (ContactChannel.PHONE, ContactAttemptResult.NO_ANSWER, "Rang twice", False, desk.jo.id,
         MONDAY_10AM),
        (ContactChannel.SMS, ContactAttemptResult.MESSAGE_SENT, None, False, desk.jo.id,
         MONDAY_2PM),
    ]


def test_team_leader_may_record_an_attempt(desk: Desk) -> None:
    casework.accept(desk.case, desk.jo)
    attempt = casework.record_contact_attempt(desk.case, desk.leader, channel=ContactChannel.EMAIL,
                                              result=ContactAttemptResult.MESSAGE_SENT)
    assert attempt.officer_id == desk.leader.id and desk.case.status is S.CONTACT_ATTEMPTED


@pytest.mark.parametrize("status", [S.ASSIGNED, S.CLOSED, S.WITHDRAWN, S.TRANSFERRED],
                         ids=status_id)
def test_contact_attempt_refused_before_acceptance_or_after_the_end(
        desk: Desk, status: ReferralStatus) -> None:
    case = bring_to(desk, status)
    with refused(TransitionRefused, case):
        casework.record_contact_attempt(case, desk.jo, channel=ContactChannel.PHONE,
                                        result=ContactAttemptResult.NO_ANSWER)
    with refused(TransitionRefused, case):
        casework.record_contact_made(case, desk.jo, channel=ContactChannel.PHONE)


def test_contact_refused_for_someone_else(desk: Desk) -> None:
    casework.accept(desk.case, desk.jo)
    with refused(PermissionDenied, desk.case):
        casework.record_contact_attempt(desk.case, desk.sam, channel=ContactChannel.PHONE,
                                        result=ContactAttemptResult.NO_ANSWER)
    with refused(PermissionDenied, desk.case):
        casework.record_contact_made(desk.case, desk.sam, channel=ContactChannel.PHONE)


def test_contact_made_after_an_attempt_keeps_the_first_attempt(desk: Desk) -> None:
    casework.accept(desk.case, desk.jo)
    with time_machine.travel(MONDAY_10AM, tick=False):
        casework.record_contact_attempt(desk.case, desk.jo, channel=ContactChannel.PHONE,
                                        result=ContactAttemptResult.LEFT_MESSAGE)
    with time_machine.travel(TUESDAY_9AM, tick=False), audited() as written:
        made = casework.record_contact_made(desk.case, desk.jo, channel=ContactChannel.PHONE,
                                            notes="Called back")
    assert desk.case.status is S.CONTACTED
    assert desk.case.contacted_at == TUESDAY_9AM
    assert desk.case.first_contact_attempt_at == MONDAY_10AM
    assert (made.successful, made.result, made.notes, made.attempted_at) == (
        True, None, "Called back", TUESDAY_9AM)
    event = only_transition(written)
    assert_transition(event, desk.case, desk.jo, S.CONTACT_ATTEMPTED, S.CONTACTED)
    assert event.details == {"attempt_id": str(made.id), "channel": "phone"}


@time_machine.travel(TUESDAY_9AM, tick=False)
def test_contact_made_at_once_is_also_the_first_attempt(desk: Desk) -> None:
    casework.accept(desk.case, desk.jo)
    casework.record_contact_made(desk.case, desk.jo, channel=ContactChannel.IN_PERSON)
    assert desk.case.contacted_at == desk.case.first_contact_attempt_at == TUESDAY_9AM


# --- Close with an outcome ---------------------------------------------------------------------

# Written out rather than read from lifecycle.CLOSING_OUTCOMES, so that a change to the table
# shows up here as a decision to make.
CLOSABLE: dict[ReferralStatus, set[Outcome]] = {
    S.UNASSIGNED: {O.DUPLICATE},
    S.ASSIGNED: {O.DUPLICATE},
    S.ACCEPTED: {O.DUPLICATE},
    S.CONTACT_ATTEMPTED: {O.NO_CONTACT, O.DECLINED, O.DUPLICATE},
    S.CONTACTED: {O.PREVENTION_DUTY, O.RELIEF_DUTY, O.ADVICE_ONLY, O.NOT_ELIGIBLE, O.DECLINED,
                  O.DUPLICATE},
}


@time_machine.travel(TUESDAY_9AM, tick=False)
@pytest.mark.parametrize("outcome", list(Outcome), ids=status_id)
@pytest.mark.parametrize("status", list(CLOSABLE), ids=status_id)
def test_close_outcomes_by_status(desk: Desk, status: ReferralStatus, outcome: Outcome) -> None:
    case = bring_to(desk, status)
    by = desk.leader if status is S.UNASSIGNED else desk.jo
    if outcome in CLOSABLE[status]:
        with audited() as written:
            casework.close(case, by, outcome=outcome, notes="Outcome agreed with the person")
        assert case.status is S.CLOSED and case.outcome is outcome
        assert case.closed_at == TUESDAY_9AM
        assert case.closure_reason == "Outcome agreed with the person"
        event = only_transition(written)
        assert_transition(event, case, by, status, S.CLOSED)
        assert event.details["outcome"] == outcome.value
    else:
        with refused(TransitionRefused, case, match="cannot be closed as"):
            casework.close(case, by, outcome=outcome, notes="Outcome agreed with the person")


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(S.ACCEPTED, O.PREVENTION_DUTY), (S.CONTACT_ATTEMPTED, O.PREVENTION_DUTY),
     (S.ACCEPTED, O.NO_CONTACT), (S.ASSIGNED, O.NO_CONTACT), (S.CONTACTED, O.NO_CONTACT),
     (S.CONTACTED, O.TRANSFERRED)],
    ids=["prevention-before-contact", "prevention-after-attempt-only",
         "no-contact-before-any-attempt", "no-contact-unaccepted", "no-contact-after-contact",
         "transferred-is-not-a-choice"],
)
def test_close_refusals_named(desk: Desk, status: ReferralStatus, outcome: Outcome) -> None:
    case = bring_to(desk, status)
    with refused(TransitionRefused, case):
        casework.close(case, desk.jo, outcome=outcome, notes="Should not be kept")
    assert case.closure_reason is None


def test_close_refused_for_another_officer(desk: Desk) -> None:
    with refused(PermissionDenied, desk.case):
        casework.close(desk.case, desk.sam, outcome=O.DUPLICATE)


@pytest.mark.parametrize("status", [S.CLOSED, S.WITHDRAWN, S.TRANSFERRED], ids=status_id)
def test_finished_referral_cannot_be_closed_again(desk: Desk, status: ReferralStatus) -> None:
    case = bring_to(desk, status)
    with refused(TransitionRefused, case):
        casework.close(case, desk.leader, outcome=O.DUPLICATE, notes="Overwrite?")


# --- Withdraw (the referring organisation) ---------------------------------------------------


@time_machine.travel(TUESDAY_9AM, tick=False)
@pytest.mark.parametrize("status", [S.UNASSIGNED, S.ASSIGNED, S.ACCEPTED, S.CONTACT_ATTEMPTED,
                                    S.CONTACTED], ids=status_id)
def test_referrer_withdraws(desk: Desk, status: ReferralStatus) -> None:
    case = bring_to(desk, status)
    with audited() as written:
        casework.withdraw(case, organisation=desk.org, actor=CLIENT, reason="Moved in with family")
    assert case.status is S.WITHDRAWN and case.closed_at == TUESDAY_9AM
    assert case.closure_reason == "Moved in with family" and case.outcome is None
    event = only_transition(written)
    assert_transition(event, case, "client:tests", status, S.WITHDRAWN)
    assert event.details["reason"] == "Moved in with family"


def test_only_the_referring_organisation_withdraws(desk: Desk) -> None:
    other = f.organisation(name="Jobcentre Plus Hatfield", type="jobcentre")
    with refused(PermissionDenied, desk.case):
        casework.withdraw(desk.case, organisation=other, actor=CLIENT, reason="Mistake")


@pytest.mark.parametrize("status", [S.CLOSED, S.WITHDRAWN, S.TRANSFERRED], ids=status_id)
def test_withdraw_refused_once_finished(desk: Desk, status: ReferralStatus) -> None:
    case = bring_to(desk, status)
    kept = case.closure_reason
    with refused(TransitionRefused, case, match="can no longer be withdrawn"):
        casework.withdraw(case, organisation=desk.org, actor=CLIENT, reason="Changed mind")
    assert case.closure_reason == kept


# --- Transfer to another authority ---------------------------------------------------------------


@time_machine.travel(TUESDAY_9AM, tick=False)
@pytest.mark.parametrize("status", [S.ASSIGNED, S.ACCEPTED, S.CONTACTED, S.UNASSIGNED],
                         ids=status_id)
def test_transfer_to_a_participating_authority_makes_a_linked_referral(
        desk: Desk, elsewhere: Authority, status: ReferralStatus) -> None:
    case = bring_to(desk, status)
    chris = f.officer(elsewhere, specialisms=["mental_health"])
    referrals_before = f.db.session.scalar(select(func.count(Referral.id)))
    with audited(transitions=2) as written:
        made = casework.transfer(case, elsewhere, desk.leader, reason=" Local connection ",
            person_agreed=True)
    assert made is not None and made.id != case.id
    # The original ends, pointing at where it went.
    assert case.status is S.TRANSFERRED and case.outcome is O.TRANSFERRED
    assert case.transferred_to_authority is elsewhere and case.closed_at == TUESDAY_9AM
    assert case.closure_reason == "Local connection"
    (ended,) = [e for e in written if e.referral_id == case.id]
    assert_transition(ended, case, desk.leader, status, S.TRANSFERRED)
    assert ended.details == {"outcome": "transferred", "to_authority": "E07000242",
                             "reason": "Local connection", "person_agreed": True}
    # The new one starts there, routed among that authority's officers only.
    assert f.db.session.scalar(select(func.count(Referral.id))) == referrals_before + 1
    assert made.transferred_from_id == case.id and made.reference != case.reference
    # Linked both ways: each end finds the other.
    assert made.transferred_from is case and case.transferred_to is made
    assert made.authority is elsewhere and made.referring_organisation is desk.org
    assert made.status is S.ASSIGNED and made.named_officer is chris
    assert made.received_at == TUESDAY_9AM
    received = next(e for e in written if e.referral_id == made.id
                    and e.action == "referral.received")
    assert received.details["transferred_from"] == case.reference
    assert received.actor_label == desk.leader.email
    # What the referrer told us goes with it.
    for column in ("person_first_name", "person_last_name", "person_date_of_birth",
                   "person_phone", "address_postcode", "support_needs", "reason",
                   "referrer_email", "consent_recorded_at", "safe_sms",
                   "safe_contact_instructions", "household", "housing_situation"):
        assert getattr(made, column) == getattr(case, column), column


def test_transfer_to_a_participating_authority_without_officers_queues_it(
        desk: Desk, elsewhere: Authority) -> None:
    made = casework.transfer(desk.case, elsewhere, desk.jo, reason="Local connection",
        person_agreed=True)
    assert made is not None and made.status is S.UNASSIGNED and made.named_officer is None


@time_machine.travel(TUESDAY_9AM, tick=False)
def test_transfer_to_a_non_participating_authority_only_records_it(desk: Desk) -> None:
    stevenage = f.authority(code="E07000243", name="Stevenage", participating=False)
    referrals_before = f.db.session.scalar(select(func.count(Referral.id)))
    with audited() as written:
        made = casework.transfer(desk.case, stevenage, desk.jo, reason="Chose Stevenage",
            person_agreed=True)
    assert made is None
    assert f.db.session.scalar(select(func.count(Referral.id))) == referrals_before
    assert desk.case.status is S.TRANSFERRED and desk.case.outcome is O.TRANSFERRED
    assert desk.case.transferred_to_authority is stevenage
    assert_transition(only_transition(written), desk.case, desk.jo, S.ASSIGNED, S.TRANSFERRED)


@pytest.mark.parametrize("case_name", ["same_authority", "empty_reason", "blank_reason",
                                       "person_not_agreed"])
def test_transfer_refusals(desk: Desk, elsewhere: Authority, case_name: str) -> None:
    to = desk.authority if case_name == "same_authority" else elsewhere
    reason = {"same_authority": "Moved", "empty_reason": "", "blank_reason": "  ",
              "person_not_agreed": "Moved"}[case_name]
    with refused(ValidationFailed, desk.case) as caught:
        casework.transfer(desk.case, to, desk.leader, reason=reason,
                          person_agreed=case_name != "person_not_agreed")
    field = {"same_authority": "authority_code",
             "person_not_agreed": "person_agreed"}.get(case_name, "reason")
    assert list(caught.value.errors) == [field]  # type: ignore[attr-defined]


def test_transfer_refused_for_another_officer(desk: Desk, elsewhere: Authority) -> None:
    with refused(PermissionDenied, desk.case):
        casework.transfer(desk.case, elsewhere, desk.sam, reason="Moved", person_agreed=True)


@pytest.mark.parametrize("status", [S.CLOSED, S.WITHDRAWN, S.TRANSFERRED], ids=status_id)
def test_finished_referral_cannot_be_transferred(desk: Desk, elsewhere: Authority,
                                                 status: ReferralStatus) -> None:
    case = bring_to(desk, status)
    with refused(TransitionRefused, case):
        casework.transfer(case, elsewhere, desk.leader, reason="Moved after all",
            person_agreed=True)


# --- Possible duplicates ---------------------------------------------------------------------


@pytest.fixture
def link(desk: Desk) -> PossibleDuplicate:
    f.referral(desk.org, person=f.unique_person(nhs_number="9434765919"))
    f.referral(desk.org, person=f.unique_person(nhs_number="9434765919"))
    found = f.db.session.scalar(select(PossibleDuplicate))
    assert found is not None and found.decision is DuplicateDecision.PENDING
    return found


@time_machine.travel(TUESDAY_9AM, tick=False)
@pytest.mark.parametrize(("is_duplicate", "decision"),
                         [(True, DuplicateDecision.CONFIRMED),
                          (False, DuplicateDecision.NOT_DUPLICATE)],
                         ids=["confirmed", "not-duplicate"])
@pytest.mark.parametrize("who", ["officer", "team_leader"])
def test_decide_possible_duplicate(desk: Desk, link: PossibleDuplicate, who: str,
                                   is_duplicate: bool, decision: DuplicateDecision) -> None:
    user = desk.sam if who == "officer" else desk.leader
    statuses = (link.referral.status, link.existing_referral.status)
    with audited(transitions=0) as written:
        duplicates.decide(link, is_duplicate=is_duplicate, by=user, ip_address="203.0.113.7")
    f.db.session.expire_all()
    assert link.decision is decision
    assert (link.decided_by_id, link.decided_at) == (user.id, TUESDAY_9AM)
    assert duplicates.pending_links(link.referral) == []
    # Deciding is not closing: the officer closes a confirmed duplicate as a separate step.
    assert (link.referral.status, link.existing_referral.status) == statuses
    (event,) = written
    assert event.action == "referral.duplicate_decided"
    assert (event.actor_label, event.ip_address) == (user.email, "203.0.113.7")
    assert event.referral_id == link.referral_id
    assert event.details == {"existing_referral": link.existing_referral.reference,
                             "decision": decision.value}


def test_decide_twice_is_a_conflict(desk: Desk, link: PossibleDuplicate) -> None:
    duplicates.decide(link, is_duplicate=True, by=desk.sam)
    with refused(Conflict, link.referral, link.existing_referral, match="already been decided"):
        duplicates.decide(link, is_duplicate=False, by=desk.leader)


@pytest.mark.parametrize("who", ["other_authority_officer", "other_authority_leader",
                                 "partner", "inactive_officer"])
def test_only_the_authoritys_staff_decide(desk: Desk, elsewhere: Authority,
                                          link: PossibleDuplicate, who: str) -> None:
    if who == "inactive_officer":
        desk.sam.active = False
    user = {"other_authority_officer": f.officer(elsewhere),
            "other_authority_leader": f.team_leader(elsewhere),
            "partner": f.partner_user(desk.org), "inactive_officer": desk.sam}[who]
    with refused(PermissionDenied, link.referral, link.existing_referral):
        duplicates.decide(link, is_duplicate=True, by=user)


# --- Recording an absence -------------------------------------------------------------------------


def test_team_leader_records_an_absence(desk: Desk) -> None:
    with audited(transitions=0) as written:
        absence, moved = casework.record_absence(
            desk.jo, starts_on=date(2026, 12, 21), ends_on=date(2027, 1, 1), by=desk.leader,
            actor=audit.Actor.for_user(desk.leader), reason="annual leave")
    assert moved == [] and desk.case.named_officer is desk.jo
    assert (absence.user, absence.reason) == (desk.jo, "annual leave")
    assert desk.jo.is_absent_on(date(2026, 12, 25)) and not desk.jo.is_absent_on(date(2027, 1, 2))
    (event,) = written
    assert (event.action, event.actor_label) == ("officer.absence_recorded", desk.leader.email)
    assert event.details == {"starts_on": "2026-12-21", "ends_on": "2027-01-01"}


@pytest.mark.parametrize("case_name", ["by_an_officer", "by_another_authoritys_leader",
                                       "for_a_team_leader", "ending_before_it_starts"])
def test_absence_refusals(desk: Desk, elsewhere: Authority, case_name: str) -> None:
    by, officer, ends_on = desk.leader, desk.jo, date(2026, 12, 24)
    error: type[DomainError] = ValidationFailed
    if case_name == "by_an_officer":
        by, error = desk.sam, PermissionDenied
    elif case_name == "by_another_authoritys_leader":
        by, error = f.team_leader(elsewhere), PermissionDenied
    elif case_name == "for_a_team_leader":
        officer = f.team_leader(desk.authority)
    else:
        ends_on = date(2026, 12, 20)
    with refused(error, desk.case):
        casework.record_absence(officer, starts_on=date(2026, 12, 21), ends_on=ends_on, by=by,
                                actor=audit.Actor.for_user(by), reassign_open=True)
    assert officer.absences == []
