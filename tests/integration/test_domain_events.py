"""One domain event per state change, expanded after commit once per consumer (issue 14.1).

The domain writes the referral, its audit events and one ``domain_events`` row; the expansion
(``notifications.expansion``) writes messages, reminders and metrics, each consumer in a
transaction of its own that first claims its ``event_expansions`` row. These tests read the rows.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select

from notifications import expansion, runtime
from referral_service.domain import audit, casework, events, notes, referral_changes
from referral_service.models import (
    Audience,
    Authority,
    ContactAttemptResult,
    ContactChannel,
    DomainEvent,
    EventExpansion,
    EventType,
    MessageStatus,
    Organisation,
    OutboxMessage,
    Outcome,
    Referral,
    Reminder,
    User,
)
from referral_service.schemas.referral_change import load_changed_person
from tests import factories as f

# Monday 23 November 2026, 10:00 GMT (a working morning: no quiet hours).
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CONSENT = {"recorded_at": "2026-01-05T10:00:00Z"}
# Every consumer of the running app: the three of notifications.expansion and partner webhooks.
CONSUMERS = {"messages", "reminders", "metrics", "webhooks"}


@dataclass
class Team:
    authority: Authority
    org: Organisation
    leader: User
    jo: User
    sam: User
    clock: Any


@pytest.fixture
def team(db_session) -> Iterator[Team]:  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY_10AM, tick=False) as traveller:
        authority = f.authority(team_phone="01707 357000")
        org = f.organisation()
        leader = f.team_leader(authority)
        jo = f.officer(authority, name="Jo Smith")
        sam = f.officer(authority, name="Sam Jones")
        yield Team(authority, org, leader, jo, sam, traveller)


def refer(team: Team, **overrides: Any) -> Referral:
    overrides.setdefault("consent", CONSENT)
    return f.referral(team.org, expand=False, **overrides)


def owner_and_other(team: Team, case: Referral) -> tuple[User, User]:
    """The officer routing named, and the other one."""
    owner = case.named_officer
    assert owner in (team.jo, team.sam)
    return owner, team.sam if owner is team.jo else team.jo


def events_of(referral: Referral) -> list[DomainEvent]:
    f.db.session.flush()
    return list(f.db.session.scalars(select(DomainEvent).where(
        DomainEvent.referral_id == referral.id).order_by(DomainEvent.sequence)))


def rows(model: Any, referral: Referral) -> int:
    return f.db.session.scalar(select(func.count()).select_from(model).where(
        model.referral_id == referral.id)) or 0


def expansions(event: DomainEvent) -> set[str]:
    return set(f.db.session.scalars(select(EventExpansion.consumer).where(
        EventExpansion.event_sequence == event.sequence)))


# --- one event per change --------------------------------------------------------------------


def test_receiving_a_referral_records_one_event_and_writes_no_messages_or_reminders(
        team: Team) -> None:
    case = refer(team)
    [received] = events_of(case)
    assert received.type == EventType.RECEIVED
    assert received.data == {"officer_id": str(case.named_officer_id), "queued": False,
                             "urgent": False}
    # Nothing else: the expansion writes them.
    assert rows(OutboxMessage, case) == 0 and rows(Reminder, case) == 0
    assert received.expanded_at is None


def test_a_referral_nobody_can_take_is_received_queued_in_one_event(team: Team) -> None:
    for officer in (team.jo, team.sam):
        officer.active = False
    case = refer(team, at_risk_of_rough_sleeping_tonight=True)
    [received] = events_of(case)
    assert received.type == EventType.RECEIVED
    assert received.data == {"queued": True, "urgent": True}


def test_each_change_records_exactly_one_event(team: Team) -> None:
    case = refer(team)
    jo, sam = owner_and_other(team, case)
    steps: list[tuple[Any, EventType, dict[str, Any]]] = [
        (lambda: casework.accept(case, jo), EventType.ACCEPTED, {}),
        (lambda: casework.record_contact_attempt(
            case, jo, channel=ContactChannel.PHONE, result=ContactAttemptResult.NO_ANSWER),
         EventType.CONTACT_ATTEMPTED, {"channel": "phone", "result": "no_answer"}),
        (lambda: casework.reassign(case, sam, team.leader, reason="Jo is on leave"),
         EventType.ASSIGNED, {"officer_id": str(sam.id),
                              "previous_officer_id": str(jo.id)}),
        (lambda: notes.post(case, side="referrer", author_name="Ann", body="He has a new phone",
                            actor=audit.Actor.for_client("tests")),
         EventType.NOTE_ADDED, {"side": "referrer", "private": False}),
        (lambda: referral_changes.change_details(
            case, {"release_or_discharge_date": MONDAY_10AM.date() + timedelta(days=3)},
            organisation=team.org, actor=audit.Actor.for_client("tests"),
            check_person=load_changed_person),
         EventType.CHANGED, {"fields": ["release_or_discharge_date"]}),
        (lambda: casework.record_contact_made(case, sam, channel=ContactChannel.PHONE),
         EventType.CONTACT_MADE, {"channel": "phone"}),
        (lambda: casework.close(case, sam, outcome=Outcome.PREVENTION_DUTY),
         EventType.CLOSED, {"outcome": "prevention_duty"}),
    ]
    for step, expected_type, expected_data in steps:
        before = len(events_of(case))
        step()
        after = events_of(case)
        assert len(after) == before + 1, expected_type
        newest = after[-1]
        assert newest.type == expected_type
        assert expected_data.items() <= newest.data.items(), (expected_type, newest.data)
    # Free text (the reassignment's reason, the note) stays out of every event.
    for event in events_of(case):
        assert "Jo is on leave" not in str(event.data) and "phone" not in str(
            event.data.get("note_id", ""))


def test_claim_withdraw_and_transfer_each_record_one_event(team: Team) -> None:
    queued = refer(team)
    owner, other = owner_and_other(team, queued)
    casework.return_to_queue(queued, owner, reason="test set-up")
    assert [e.type for e in events_of(queued)] == [EventType.RECEIVED, EventType.QUEUED]
    casework.claim(queued, other)
    assert events_of(queued)[-1].type == EventType.ASSIGNED
    assert events_of(queued)[-1].data["officer_id"] == str(other.id)

    withdrawn = refer(team)
    casework.withdraw(withdrawn, organisation=team.org, actor=audit.Actor.for_client("tests"),
                      reason="He found a room")
    assert [e.type for e in events_of(withdrawn)] == [EventType.RECEIVED, EventType.WITHDRAWN]

    moving = refer(team)
    elsewhere = f.authority(code="E07000242", name="East Hertfordshire")
    f.officer(elsewhere, name="Kim Lee")
    owner, _ = owner_and_other(team, moving)
    casework.accept(moving, owner)
    new = casework.transfer(moving, elsewhere, owner, reason="Local connection",
                            person_agreed=True)
    assert new is not None
    transferred = events_of(moving)[-1]
    assert (transferred.type, transferred.data) == (
        EventType.TRANSFERRED, {"outcome": "transferred", "to_authority": "E07000242"})
    [received] = events_of(new)
    assert received.data["transferred_from_id"] == str(moving.id)


# --- the data allow-list ---------------------------------------------------------------------


def test_event_data_takes_only_allowed_keys_and_plain_values(team: Team) -> None:
    case = refer(team)
    with pytest.raises(ValueError, match="keys not allowed in event data: body"):
        events.record(case, EventType.NOTE_ADDED, note_id=case.id, body="He is sleeping rough")
    with pytest.raises(ValueError, match="not an id, code, flag"):
        events.record(case, EventType.CHANGED, fields={"person.phone": "07700 900123"})
    assert len(events_of(case)) == 1


# --- expansion -------------------------------------------------------------------------------


def test_expansion_writes_the_messages_and_reminders_once_however_often_it_runs(
        team: Team) -> None:
    case = refer(team)
    [received] = events_of(case)
    assert expansion.expand_pending(commit=False) == 1
    outbox_rows, reminder_rows = rows(OutboxMessage, case), rows(Reminder, case)
    # The officer, the referrer and the applicant; accept-overdue and the two deadline ones.
    assert (outbox_rows, reminder_rows) == (3, 3)
    assert expansions(received) == CONSUMERS
    f.db.session.refresh(received)
    assert received.expanded_at is not None
    # Again, by sequence (the actor handed it twice, the sweep racing it): nothing new.
    assert expansion.expand([received.sequence], commit=False) == 1
    assert expansion.expand_pending(commit=False) == 0
    assert (rows(OutboxMessage, case), rows(Reminder, case)) == (outbox_rows, reminder_rows)


def test_each_consumer_commits_on_its_own_and_a_failed_one_is_retried_by_the_sweep(
        team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    case = refer(team)
    [received] = events_of(case)
    f.db.session.commit()
    calls: list[int] = []

    def flaky(event: DomainEvent) -> None:
        calls.append(event.sequence)
        f.db.session.add(Reminder(referral_id=event.referral_id, kind="flaky",
                                  due_at=MONDAY_10AM))
        if len(calls) == 1:
            raise RuntimeError("partner system down")

    monkeypatch.setitem(expansion.CONSUMERS, "flaky", flaky)
    # The real path: a transaction per consumer, committed (SAVEPOINTs of the test's own).
    assert expansion.expand([received.sequence]) == 0
    assert expansions(received) == CONSUMERS  # the others' work stands...
    assert rows(OutboxMessage, case) == 3
    kinds = set(f.db.session.scalars(select(Reminder.kind).where(Reminder.referral_id == case.id)))
    assert "flaky" not in kinds  # ...and the failed one's is rolled back, its claim with it
    f.db.session.refresh(received)
    assert received.expanded_at is None

    # The sweep leaves a fresh event to the actor; past the grace it expands it itself.
    assert expansion.sweep(MONDAY_10AM) == 0
    assert expansion.sweep(MONDAY_10AM + expansion.SWEEP_GRACE + timedelta(seconds=1)) == 1
    assert calls == [received.sequence, received.sequence]
    assert expansions(received) == CONSUMERS | {"flaky"}
    assert rows(OutboxMessage, case) == 3  # the messages were not written twice
    f.db.session.refresh(received)
    assert received.expanded_at is not None


def test_a_request_commits_the_event_and_the_response_names_the_officer(
        team: Team, client: Any) -> None:
    issued = f.api_client(team.org)
    headers = f.bearer_headers(client, issued)
    answer = client.post("/api/v1/referrals", json=f.payload(consent=CONSENT), headers=headers)
    assert answer.status_code == 201, answer.get_json()
    case = f.db.session.get(Referral, uuid.UUID(answer.get_json()["id"]))
    assert case is not None and case.named_officer is not None
    assert answer.get_json()["named_officer"]["name"] == case.named_officer.name
    [received] = events_of(case)
    # The tests' app expands before the response leaves (EVENTS_EXPAND_INLINE).
    assert expansions(received) == CONSUMERS
    assert {m.audience for m in f.db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.referral_id == case.id))} == {
        Audience.OFFICER, Audience.REFERRER, Audience.APPLICANT}


def test_the_safety_rules_run_at_expansion(team: Team) -> None:
    """Quiet hours are judged when the event is expanded, closer to sending: an event of 20:50
    expanded at 21:10 queues the applicant's text for 08:00."""
    team.clock.move_to(datetime(2026, 11, 23, 20, 50, tzinfo=UTC))
    case = refer(team)
    team.clock.move_to(datetime(2026, 11, 23, 21, 10, tzinfo=UTC))
    expansion.expand_pending(commit=False)
    [sms] = f.db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.referral_id == case.id, OutboxMessage.audience == Audience.APPLICANT))
    assert sms.status is MessageStatus.QUEUED
    assert sms.not_before == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_the_embedded_worker_expands_what_a_commit_hands_it(fresh_app: Any) -> None:
    """The embedded default end to end: a commit hands the event to the ``expand_events``
    actor, the in-process worker expands it, and the officer's email it wrote is then sent."""
    from tests.worker_processes import poll

    with fresh_app.app_context():
        authority = f.authority()
        f.officer(authority)
        org = f.organisation()
        f.db.session.commit()
    try:
        # The scheduler's sweep waits SWEEP_GRACE: the actor is first.
        assert runtime.start_embedded(fresh_app, scheduler_interval=3600)
        with fresh_app.app_context():
            case_id = f.referral(org, consent=CONSENT, expand=False).id
            f.db.session.commit()

        def officer_told() -> bool:
            with fresh_app.app_context():
                statuses = set(f.db.session.scalars(select(OutboxMessage.status).where(
                    OutboxMessage.referral_id == case_id,
                    OutboxMessage.audience == Audience.OFFICER)))
                f.db.session.rollback()
                return statuses == {MessageStatus.DELIVERED}

        assert poll(officer_told, seconds=20)
    finally:
        runtime.stop_embedded()
    with fresh_app.app_context():
        [received] = f.db.session.scalars(select(DomainEvent).where(
            DomainEvent.referral_id == case_id))
        assert received.expanded_at is not None and expansions(received) == CONSUMERS
        assert rows(OutboxMessage, f.db.session.get(Referral, case_id)) == 3
