"""How receiving a referral writes: all at once at the end (``rowbatch``), the cached
authorities, and the reference drawn again when it is taken (benchmarks/README.md says why)."""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from notifications import outbox, reminders, templates
from referral_service import rowbatch
from referral_service.api.referrals import document
from referral_service.domain import audit, casework, intake, references, routing
from referral_service.domain.errors import ValidationFailed
from referral_service.extensions import db
from referral_service.models import (
    CASELOAD_STATUSES_LIST,
    Audience,
    AuditEvent,
    Authority,
    ContactAttemptResult,
    ContactChannel,
    DomainEvent,
    OutboxMessage,
    Outcome,
    PossibleDuplicate,
    Referral,
    ReferralStatus,
    Reminder,
    User,
)
from referral_service.schemas.referral import ReferralSubmissionSchema
from tests import factories as f
from tests.statements import statements


def writes(seen: list[str]) -> list[str]:
    return [s for s in seen if s.startswith(("INSERT", "UPDATE", "WITH", "DELETE"))]


@pytest.fixture
def desk(db_session):  # type: ignore[no-untyped-def]
    authority = f.authority()
    officer = f.officer(authority)
    org = f.organisation()
    db.session.commit()
    return authority, officer, org


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_received_referral_is_written_with_everything_about_it(desk) -> None:  # type: ignore[no-untyped-def]
    _, officer, org = desk
    with statements() as seen:
        made = f.referral(org, expand=False)
    assert made.status is ReferralStatus.ASSIGNED and made.named_officer is officer
    assert made.named_officer_id == officer.id  # the foreign key, as a flush would set it
    stored = db.session.execute(
        select(Referral.__table__.c.status, Referral.__table__.c.named_officer_id,
               Referral.__table__.c.version).where(Referral.__table__.c.id == made.id)).one()
    assert tuple(stored) == ("assigned", officer.id, 1)
    users = User.__table__.c
    assert officer.last_assigned_at is not None and not db.session.is_modified(officer)
    assert db.session.scalar(select(users.last_assigned_at).where(users.id == officer.id)) == (
        officer.last_assigned_at)
    assert count(AuditEvent) >= 2 and count(DomainEvent) == 1
    if db.session.get_bind().dialect.name == "postgresql":
        # The referral, its audit events and the officer: one statement; its domain event (whose
        # key the database numbers) a second. Messages and reminders are the expansion's.
        assert len(writes(seen)) == 2, writes(seen)
        assert writes(seen)[1].startswith("INSERT INTO domain_events"), writes(seen)
    f.expanded()
    assert count(Reminder) == 3
    assert count(OutboxMessage) == 3  # referrer, officer, applicant


def test_received_referral_is_loaded_and_clean(desk) -> None:  # type: ignore[no-untyped-def]
    _, _, org = desk
    made = f.referral(org)
    assert made in db.session and not db.session.is_modified(made)
    with statements() as seen:
        document(made)  # every column and the relationships the API shows
        db.session.flush()
    assert seen == []


def test_a_later_change_is_an_ordinary_update(desk) -> None:  # type: ignore[no-untyped-def]
    _, _, org = desk
    made = f.referral(org)
    made.agency_reference = "CHANGED-1"
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(Referral, made.id)
    assert again is not None and again.agency_reference == "CHANGED-1" and again.version == 2


def test_possible_duplicate_links_are_written_after_the_referral(desk) -> None:  # type: ignore[no-untyped-def]
    _, _, org = desk
    person = f.unique_person(nhs_number="9434765919")
    first = f.referral(org, person=person)
    second = f.referral(org, person={**f.unique_person(), "nhs_number": "9434765919"})
    link = db.session.scalar(select(PossibleDuplicate))
    assert link is not None
    assert (link.referral_id, link.existing_referral_id) == (second.id, first.id)
    assert link.matched_on == ["nhs_number"]


def test_nothing_is_written_when_the_block_fails(desk) -> None:  # type: ignore[no-untyped-def]
    before = (count(AuditEvent), count(Referral))
    with pytest.raises(RuntimeError), rowbatch.collecting():
        audit.record(audit.Actor.system("test"), "test.event", subject_type="test",
                     subject_id="1")
        raise RuntimeError("stop")
    assert rowbatch.current() is None
    db.session.flush()
    assert (count(AuditEvent), count(Referral)) == before


def test_outside_a_batch_rows_are_orm_objects(desk) -> None:  # type: ignore[no-untyped-def]
    event = audit.record(audit.Actor.system("test"), "test.event", subject_type="test",
                         subject_id="1")
    assert isinstance(event, AuditEvent) and event in db.session


INSTANT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def stored(model: type, *where: Any) -> list[dict[str, Any]]:
    """The rows as the database holds them (not as any object in the session says)."""
    table = model.__table__  # type: ignore[attr-defined]
    return [dict(row) for row in db.session.execute(select(table).where(*where)).mappings()]


def without(rows: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    return [{key: value for key, value in row.items() if key not in keys} for row in rows]


@time_machine.travel(INSTANT, tick=False)
def test_received_referral_row_holds_the_models_defaults(desk) -> None:  # type: ignore[no-untyped-def]
    """What the payload leaves out is written as the model's default, once: the row is what
    a flush of ``Referral(...)`` would have written."""
    _, _, org = desk
    person = f.unique_person()
    for optional in ("language", "interpreter_needed", "no_fixed_abode"):
        person.pop(optional, None)
    made = f.referral(org, person=person, household=None, support_needs=None)
    (row,) = stored(Referral, Referral.__table__.c.id == made.id)
    assert row["version"] == 1
    assert row["received_at"] == row["updated_at"] == INSTANT
    assert row["language"] == "en" and row["interpreter_needed"] is False
    assert row["no_fixed_abode"] is False and row["household"] == []
    assert row["support_needs"] == []
    # And a referral made through the ORM from the same columns holds the same defaults.
    orm = Referral(reference="DTR-ORM234", authority_id=made.authority_id,
                   referring_organisation_id=made.referring_organisation_id,
                   contact_due_by=made.contact_due_by, **intake._columns_from(
                       ReferralSubmissionSchema().load(f.payload(
                           person=person, household=None, support_needs=None))))
    db.session.add(orm)
    db.session.flush()
    (orm_row,) = stored(Referral, Referral.__table__.c.id == orm.id)
    differ = {"id", "reference", "status", "named_officer_id", "assigned_at", "urgent",
              "person_name_key", "person_first_name", "person_last_name", "person_email",
              "person_phone", "person_nhs_number", "person_date_of_birth"}
    assert without([row], *differ) == without([orm_row], *differ)


@time_machine.travel(INSTANT, tick=False)
def test_a_batch_writes_the_rows_the_orm_writes(desk) -> None:  # type: ignore[no-untyped-def]
    """The same audit event, message, reminders and link, made inside a batch and outside one:
    every column the same but the id (the one write path: defaults come from the model)."""
    _, officer, org = desk
    first, second = f.referral(org), f.referral(org)
    db.session.execute(Reminder.__table__.delete())
    actor = audit.Actor.system("test")
    text = templates.Text(subject="Subject", body="Body")

    def write_all(referral: Referral, other: Referral) -> None:
        audit.record(actor, "test.event", subject_type="referral", subject_id=first.id,
                     referral=first, to_status="assigned", detail=1)
        outbox.to_person(first, officer, event="test", template="test",
                         audience=Audience.OFFICER, text=text)
        reminders.schedule(referral)
        rowbatch.new(PossibleDuplicate, referral_id=referral.id, existing_referral_id=other.id)

    with rowbatch.collecting():
        write_all(second, first)
    write_all(first, second)
    db.session.flush()
    events = stored(AuditEvent, AuditEvent.action == "test.event")
    messages = stored(OutboxMessage, OutboxMessage.event == "test")
    links = stored(PossibleDuplicate)
    assert len(events) == len(messages) == len(links) == 2
    for rows in (events, messages):
        batch_row, orm_row = without(rows, "id")
        assert batch_row == orm_row
    batch_link, orm_link = without(links, "id", "referral_id", "existing_referral_id")
    assert batch_link == orm_link
    assert orm_link["decision"] == "pending" and orm_link["matched_on"] == []
    by_kind = {}
    for row in stored(Reminder):
        by_kind.setdefault(row["kind"], {})[row["referral_id"]] = row
    assert by_kind and all(set(pair) == {first.id, second.id} for pair in by_kind.values())
    for pair in by_kind.values():
        batch_row, orm_row = pair[second.id], pair[first.id]
        assert without([batch_row], "id", "referral_id", "due_at") == without(
            [orm_row], "id", "referral_id", "due_at")
        assert batch_row["done_at"] is None and batch_row["created_at"] == INSTANT


def test_rows_of_a_batch_are_detached_and_loaded(desk) -> None:  # type: ignore[no-untyped-def]
    with rowbatch.collecting():
        event = audit.record(audit.Actor.system("test"), "test.event", subject_type="test",
                             subject_id="1")
        assert event.id is not None and event.details == {}  # the model's defaults, at once
    assert event not in db.session and event.occurred_at is not None
    assert db.session.get(AuditEvent, event.id) is not event  # read back: the stored row
    # An unknown name is refused, as the constructor refuses it.
    with pytest.raises(TypeError), rowbatch.collecting():
        rowbatch.new(AuditEvent, no_such_column=1)


class TestAuthorityCache:
    def test_an_authority_changed_in_this_process_is_seen_at_once(self, desk) -> None:  # type: ignore[no-untyped-def]
        authority, _, org = desk
        f.referral(org)  # cached now
        authority.participating = False
        db.session.flush()
        with pytest.raises(ValidationFailed):
            f.referral(org)

    def test_an_unflushed_change_in_this_session_is_seen(self, desk) -> None:  # type: ignore[no-untyped-def]
        authority, _, org = desk
        f.referral(org)
        authority.participating = False  # not flushed: the session's object is used as it is
        with pytest.raises(ValidationFailed):
            f.referral(org)

    def test_a_change_by_another_process_waits_for_the_expiry(self, desk, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        """The documented change: withdrawn elsewhere, still accepted here until the entry
        expires (AUTHORITY_CACHE_SECONDS), then refused."""
        authority, _, org = desk
        f.referral(org)
        db.session.expunge(authority)  # this session no longer holds it: as in a new request
        # Another process withdraws it: no ORM event here (a Core UPDATE, as seen from here).
        db.session.execute(update(Authority.__table__).where(
            Authority.__table__.c.id == authority.id).values(participating=False))
        # Not expanded: the messages would load the authority into this session again, which
        # a new request's session would not hold.
        assert f.referral(org, expand=False).authority_id == authority.id
        monkeypatch.setattr(intake, "AUTHORITY_CACHE_SECONDS", 0.0)
        intake._authorities.clear()  # what the expiry does: the next look-up reads the table
        with pytest.raises(ValidationFailed):
            f.referral(org, expand=False)


class TestReferenceTaken:
    def draws(self, monkeypatch, *references_: str) -> None:  # type: ignore[no-untyped-def]
        """Make the generator's random draws spell these references, in order (the random
        source is the boundary here: references are otherwise unpredictable)."""
        letters = itertools.chain.from_iterable(r.removeprefix("DTR-") for r in references_)

        class Scripted:
            @staticmethod
            def choice(_: str) -> str:
                return next(letters)

        monkeypatch.setattr(references, "secrets", Scripted)

    def test_the_api_draws_again_when_a_reference_is_taken(self, client, desk, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        _, _, org = desk
        taken = f.referral(org).reference
        db.session.commit()
        headers = f.bearer_headers(client, f.api_client(org))
        events_before = count(AuditEvent)
        self.draws(monkeypatch, taken, "DTR-NEW234")
        response = client.post("/api/v1/referrals", json=f.payload(person=f.unique_person()),
                               headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.json["reference"] == "DTR-NEW234"
        assert count(Referral) == 2
        # The failed attempt left nothing behind: one receipt, one routing event.
        assert count(AuditEvent) == events_before + 2

    def test_the_constraint_is_recognised(self, desk, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        _, _, org = desk
        taken = f.referral(org).reference
        db.session.commit()
        self.draws(monkeypatch, taken)
        data = ReferralSubmissionSchema().load(f.payload(person=f.unique_person()))
        with pytest.raises(IntegrityError) as failed, db.session.begin_nested():
            intake.receive_referral(data, organisation=org, actor=audit.Actor.system("test"),
                                    check_reference=False)
        assert references.is_reference_taken(failed.value)

    def test_elsewhere_a_taken_reference_is_looked_up_first(self, desk, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        _, _, org = desk
        taken = f.referral(org).reference
        self.draws(monkeypatch, taken, "DTR-NEW234")
        assert f.referral(org).reference == "DTR-NEW234"

    def test_other_integrity_errors_are_not_mistaken_for_it(self, desk) -> None:  # type: ignore[no-untyped-def]
        authority, _, _ = desk
        with pytest.raises(IntegrityError) as failed, db.session.begin_nested():
            db.session.add(Authority(code=authority.code, name="Copy"))
            db.session.flush()
        assert not references.is_reference_taken(failed.value)


class TestOpenCaseloadCounter:
    """``users.open_caseload`` is kept by triggers (migration 20261201_0740): it must always
    equal the count routing used to make, whatever changes a referral."""

    def stored(self, *officers: User) -> list[int]:
        users = User.__table__.c
        counted = routing.open_caseloads([o.id for o in officers])
        kept = [db.session.scalar(select(users.open_caseload).where(users.id == o.id))
                for o in officers]
        assert kept == [counted[o.id] for o in officers]
        return kept  # type: ignore[return-value]

    def test_it_follows_receipt_reassignment_queue_and_closing(self, desk) -> None:  # type: ignore[no-untyped-def]
        authority, first, org = desk
        second = f.officer(authority, capacity=25)
        leader = f.team_leader(authority)
        made = [f.referral(org) for _ in range(4)]
        assert sum(self.stored(first, second)) == 4
        casework.reassign(made[0], second if made[0].named_officer is first else first,
                          leader, reason="Balancing the team")
        assert sum(self.stored(first, second)) == 4
        officer = made[1].named_officer
        assert officer is not None
        casework.return_to_queue(made[1], officer, reason="Going on leave")
        assert sum(self.stored(first, second)) == 3
        holder = made[2].named_officer
        assert holder is not None
        casework.accept(made[2], holder)
        assert sum(self.stored(first, second)) == 3
        casework.close(made[2], holder, outcome=Outcome.DUPLICATE)
        assert sum(self.stored(first, second)) == 2

    def everyone(self) -> None:
        """Every officer's kept caseload is the count ``routing.open_caseloads`` makes."""
        users = User.__table__.c
        kept = dict(db.session.execute(select(users.id, users.open_caseload)
                                       .where(users.role == "officer")).all())
        assert kept == routing.open_caseloads(list(kept))

    def test_it_follows_every_kind_of_casework(self, desk) -> None:  # type: ignore[no-untyped-def]
        """Receive, claim, accept, contact, close, reassign, withdraw, transfer (to an authority
        that takes referrals here, so the case is received and routed again there), an absence
        that routes the caseload again: the two definitions of a caseload never drift."""
        authority, first, org = desk
        second = f.officer(authority, capacity=25)
        leader = f.team_leader(authority)
        elsewhere = f.authority(code="E07000243", name="Stevenage")
        there = f.officer(elsewhere)
        client = audit.Actor.for_client("tests")
        made = [f.referral(org) for _ in range(7)]
        self.everyone()

        def holder(referral: Referral) -> User:
            assert referral.named_officer is not None
            return referral.named_officer

        casework.return_to_queue(made[0], holder(made[0]), reason="Going on leave")
        self.everyone()
        casework.claim(made[0], second)
        self.everyone()
        casework.accept(made[1], holder(made[1]))
        casework.record_contact_attempt(made[1], holder(made[1]), channel=ContactChannel.PHONE,
                                        result=ContactAttemptResult.NO_ANSWER)
        self.everyone()
        casework.record_contact_made(made[1], holder(made[1]), channel=ContactChannel.PHONE)
        self.everyone()
        casework.close(made[1], holder(made[1]), outcome=Outcome.DUPLICATE)
        self.everyone()
        casework.reassign(made[2], second if holder(made[2]) is first else first, leader,
                          reason="Balancing the team")
        self.everyone()
        casework.withdraw(made[3], organisation=org, actor=client, reason="Found a room")
        casework.accept(made[4], holder(made[4]))
        casework.withdraw(made[4], organisation=org, actor=client, reason="Moved away")
        self.everyone()
        moved = casework.transfer(made[5], elsewhere, holder(made[5]), reason="Moved to Stevenage",
            person_agreed=True)
        assert moved is not None and moved.named_officer is there
        self.everyone()
        casework.record_absence(second, starts_on=date.today(), ends_on=date.today(),
                                actor=audit.Actor.for_user(leader), by=leader,
                                reassign_open=True)
        self.everyone()
        db.session.commit()
        self.everyone()
        users = User.__table__.c
        assert db.session.scalar(select(func.sum(users.open_caseload))) == db.session.scalar(
            select(func.count()).select_from(Referral)
            .where(Referral.named_officer_id.is_not(None))
            .where(Referral.status.in_(CASELOAD_STATUSES_LIST)))

    def test_routing_reads_it(self, desk) -> None:  # type: ignore[no-untyped-def]
        authority, first, org = desk
        f.referral(org)
        [(officer, caseload, _)] = routing.officers_with_load(authority.id, date.today())
        assert officer is first and caseload == 1

    def test_the_migration_counts_the_statuses_routing_counts(self) -> None:
        """The triggers list the caseload statuses in SQL: they must be the model's."""
        migration = next(Path(__file__).parents[2].glob("migrations/versions/20261201_0740_*"))
        text = migration.read_text()
        listed = "(" + ", ".join(f"'{s.value}'" for s in CASELOAD_STATUSES_LIST) + ")"
        # Every status list in it (four in the PostgreSQL function, four in the SQLite triggers,
        # one in the back-fill) is exactly the model's.
        assert text.count("status IN (") == text.count("status IN " + listed) == 9
