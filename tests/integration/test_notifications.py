"""Who is told what, and the safety rules on anything for the applicant.

Messages are outbox rows written when the change's domain event is expanded (`messages()` expands
what is pending first, as the worker would after commit); these
tests read the rows. Reminders are rows with a due time that ``process_due`` fires once. Delivery
claims a row with a compare-and-set and sends it through a provider: the only stand-ins here are
tiny senders at that process boundary.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from integrations.ports import OPTED_OUT, Accepted, Email, PermanentError, RetryableError, Sms
from notifications import dispatch, due_reminders, outbox, policy, team_digest, templates
from referral_service import clock
from referral_service.domain import audit, casework, notes, reads
from referral_service.models import (
    Audience,
    AuditEvent,
    Authority,
    Channel,
    ContactAttemptResult,
    ContactChannel,
    MessageStatus,
    Organisation,
    OutboxMessage,
    Outcome,
    Referral,
    ReferralStatus,
    Reminder,
    SmsOptOut,
    User,
)
from tests import factories as f

S = ReferralStatus
CLIENT = audit.Actor.for_client("tests")

# Monday 23 November 2026, 10:00 GMT: a two-working-day referral is due Wednesday 25, 17:00.
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MONDAY_2PM = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
WEDNESDAY_3PM = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
WEDNESDAY_5PM = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
TEAM_PHONE = "+441707357000"
# Words that would hint at domestic abuse on a MARAC victim's phone, beyond policy.REVEALING.
ABUSE_HINTS = re.compile(r"\b(safe\w*|danger\w*|harm\w*|risk\w*|police|partner|refuge|abus\w*)\b",
                         re.IGNORECASE)
# Consent recorded before every moment these tests travel to (it may not be in the future).
CONSENT = {"recorded_at": "2026-01-05T10:00:00Z"}


@dataclass
class Desk:
    """One council's housing team, with a referral received Monday 10:00 and routed to Jo."""

    authority: Authority
    org: Organisation
    leader: User
    jo: User
    sam: User
    case: Referral
    clock: Any


@pytest.fixture
def clock_at(db_session) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY_10AM, tick=False) as traveller:
        yield traveller


@pytest.fixture
def desk(clock_at) -> Desk:  # type: ignore[no-untyped-def]
    authority = f.authority(team_phone="01707 357000")
    org = f.organisation()
    leader = f.team_leader(authority)
    jo = f.officer(authority, name="Jo Smith")
    case = f.referral(org, consent=CONSENT)
    sam = f.officer(authority, name="Sam Jones")
    assert case.status is S.ASSIGNED and case.named_officer is jo
    assert case.contact_due_by == WEDNESDAY_5PM
    return Desk(authority, org, leader, jo, sam, case, clock_at)


def refer(desk: Desk, person: dict[str, Any] | None = None, **overrides: Any) -> Referral:
    overrides.setdefault("consent", CONSENT)
    return f.referral(desk.org, person=f.unique_person(**(person or {})), **overrides)


def messages(referral: Referral | None = None, **where: Any) -> list[OutboxMessage]:
    """The outbox rows once the events so far are expanded (as the worker does after commit)."""
    f.expanded()
    query = select(OutboxMessage)
    if referral is not None:
        query = query.where(OutboxMessage.referral_id == referral.id)
    for column, value in where.items():
        query = query.where(getattr(OutboxMessage, column) == value)
    return list(f.db.session.scalars(query.order_by(OutboxMessage.created_at)))


def one(referral: Referral | None = None, **where: Any) -> OutboxMessage:
    found = messages(referral, **where)
    assert len(found) == 1, [(m.event, m.audience, m.to_address, m.status) for m in found]
    return found[0]


def to_applicant(referral: Referral, event: str = "referral_received") -> OutboxMessage:
    return one(referral, audience=Audience.APPLICANT, event=event)


def reloaded(message: OutboxMessage) -> OutboxMessage:
    """What the database now holds (delivery changes rows with compare-and-set updates)."""
    f.db.session.refresh(message)
    return message


NOT_SAFE = {"sms": False, "voicemail": True, "email": False, "letter": False,
            "instructions": "Call only"}
EMAIL_ONLY = {"sms": False, "voicemail": False, "email": True, "letter": False,
              "instructions": None}


# --- referral received ----------------------------------------------------------------------


def test_receipt_acknowledges_the_referrer_quoting_the_reference(desk: Desk) -> None:
    case = desk.case
    ack = one(case, audience=Audience.REFERRER)
    assert (ack.event, ack.channel, ack.status) == (
        "referral_received", Channel.EMAIL, MessageStatus.QUEUED)
    assert ack.to_address == case.referrer_email == "sam.patel@probation.example"
    assert ack.subject is not None and case.reference in ack.subject
    assert case.reference in ack.body and "Jo Smith" in ack.body
    assert ack.not_before == MONDAY_10AM


def test_receipt_texts_the_applicant_their_officer_team_phone_and_deadline(desk: Desk) -> None:
    case = desk.case
    sms = to_applicant(case)
    assert (sms.channel, sms.status, sms.template) == (
        Channel.SMS, MessageStatus.QUEUED, "applicant_received")
    assert sms.to_address == case.person_phone and sms.to_address.startswith("+447")
    assert sms.body.startswith("Welwyn Hatfield Council: Jo from our team will contact you by "
                               "Wed 25 Nov, 5pm.")
    assert case.reference in sms.body and TEAM_PHONE in sms.body
    assert "Smith" not in sms.body
    assert templates.sms_segments(sms.body) == 1
    assert sms.not_before == MONDAY_10AM
    assert sms.expires_at == MONDAY_10AM + outbox.APPLICANT_TEXT_LIFETIME


def test_receipt_into_the_team_queue_says_an_officer_will_be_in_touch(clock_at) -> None:  # type: ignore[no-untyped-def]
    f.authority()
    case = f.referral(f.organisation(), consent=CONSENT)  # no officers: the team queue
    assert case.status is S.UNASSIGNED
    assert "Someone from our team will contact you by" in to_applicant(case).body
    assert "team queue" in one(case, audience=Audience.REFERRER).body
    assert messages(case, audience=Audience.OFFICER) == []


def test_receipt_tells_the_named_officer(desk: Desk) -> None:
    email = one(desk.case, audience=Audience.OFFICER)
    assert (email.event, email.channel, email.to_address) == (
        "officer_named", Channel.EMAIL, desk.jo.email)
    assert email.subject == f"New referral {desk.case.reference} for you"


def test_receipt_emails_the_applicant_who_prefers_email(desk: Desk) -> None:
    case = refer(desk, {"email": "person@example.org", "preferred_contact_method": "email"})
    message = to_applicant(case)
    assert (message.channel, message.to_address, message.status) == (
        Channel.EMAIL, "person@example.org", MessageStatus.QUEUED)


def test_only_a_safe_route_is_used(desk: Desk) -> None:
    """A mobile that is not safe to text is passed over for the email that is safe."""
    case = refer(desk, {"email": "person@example.org", "preferred_contact_method": "phone",
                        "safe_contact": EMAIL_ONLY})
    message = to_applicant(case)
    assert (message.channel, message.to_address) == (Channel.EMAIL, "person@example.org")
    assert messages(case, channel=Channel.SMS) == []


def test_no_safe_route_suppresses_the_applicant_message_and_says_why(desk: Desk) -> None:
    case = refer(desk, {"email": "person@example.org", "preferred_contact_method": "phone",
                        "safe_contact": NOT_SAFE})
    message = to_applicant(case)
    assert message.status is MessageStatus.SUPPRESSED
    assert message.to_address not in {case.person_phone, case.person_email}
    assert "Text messages are not marked safe" in message.status_reason
    assert "Email is not marked safe" in message.status_reason
    # The referrer and the officer are still told.
    assert one(case, audience=Audience.REFERRER).status is MessageStatus.QUEUED
    assert one(case, audience=Audience.OFFICER).status is MessageStatus.QUEUED


def test_a_landline_is_never_texted(desk: Desk) -> None:
    case = refer(desk, {"phone": "01632 960 123", "preferred_contact_method": "phone"})
    assert case.safe_sms and case.person_phone == "+441632960123"
    message = to_applicant(case)
    assert message.status is MessageStatus.SUPPRESSED
    assert "No mobile number" in message.status_reason
    assert messages(to_address="+441632960123") == []


def test_a_number_that_opted_out_is_suppressed_with_the_reason(desk: Desk) -> None:
    f.db.session.add(SmsOptOut(phone="+447700900777", keyword="STOP"))
    f.db.session.flush()
    case = refer(desk, {"phone": "07700 900777"})
    message = to_applicant(case)
    assert (message.channel, message.to_address, message.status) == (
        Channel.SMS, "+447700900777", MessageStatus.SUPPRESSED)
    assert "opted out" in message.status_reason


def test_daily_cap_per_applicant_in_a_london_day(desk: Desk) -> None:
    phone = {"phone": "07700 900888"}
    for _ in range(policy.DAILY_CAP):
        assert to_applicant(refer(desk, phone)).status is MessageStatus.QUEUED
    over = to_applicant(refer(desk, phone))
    assert over.status is MessageStatus.SUPPRESSED
    assert f"Daily limit of {policy.DAILY_CAP}" in over.status_reason
    # A new London day starts a new count.
    desk.clock.move_to(MONDAY_10AM + timedelta(days=1))
    assert to_applicant(refer(desk, phone)).status is MessageStatus.QUEUED


def test_a_marac_case_message_gives_no_hint_of_abuse(desk: Desk) -> None:
    case = refer(desk, support_needs=["domestic_abuse", "mental_health"],
                 reason="Fleeing domestic abuse; perpetrator has her old address.",
                 current_location="Refuge in Hertford",
                 risk={"marac": True, "risk_to_staff": True,
                       "details": "MARAC 12 Nov; partner checks her phone"})
    assert case.risk_marac
    received = to_applicant(case)
    assert received.status is MessageStatus.QUEUED
    casework.accept(case, case.named_officer)
    casework.record_contact_attempt(case, case.named_officer, channel=ContactChannel.PHONE,
                                    result=ContactAttemptResult.NO_ANSWER)
    attempt = to_applicant(case, "contact_attempt_failed")
    for message in (received, attempt):
        assert policy.REVEALING.search(message.body) is None, message.body
        assert ABUSE_HINTS.search(message.body) is None, message.body
        assert "Hertford" not in message.body and "AL8" not in message.body


def test_text_that_would_reveal_circumstances_is_suppressed(desk: Desk) -> None:
    """The last check in policy, on the words themselves, whatever the template."""
    message = outbox.to_applicant(desk.case, event="test", template="test",
                                  text=templates.Text(None, "About your hospital discharge"))
    assert message.status is MessageStatus.SUPPRESSED
    assert "reveal" in message.status_reason


# --- quiet hours ----------------------------------------------------------------------------


@pytest.mark.parametrize(("received", "not_before"), [
    # 22:30 GMT → 08:00 GMT the next morning.
    (datetime(2026, 11, 23, 22, 30, tzinfo=UTC), datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
    # 22:30 BST (21:30 UTC) → 08:00 BST (07:00 UTC) the next morning.
    (datetime(2026, 6, 15, 21, 30, tzinfo=UTC), datetime(2026, 6, 16, 7, 0, tzinfo=UTC)),
    # 07:30 BST → 08:00 BST the same morning.
    (datetime(2026, 6, 16, 6, 30, tzinfo=UTC), datetime(2026, 6, 16, 7, 0, tzinfo=UTC)),
], ids=["winter-22:30", "summer-22:30", "summer-07:30"])
def test_quiet_hours_defer_applicant_messages_only(desk: Desk, received: datetime,
                                                   not_before: datetime) -> None:
    desk.clock.move_to(received)
    case = refer(desk)
    sms = to_applicant(case)
    assert sms.status is MessageStatus.QUEUED  # deferred, not dropped
    assert sms.not_before == not_before
    assert sms.expires_at is not None and sms.expires_at > not_before
    for audience in (Audience.REFERRER, Audience.OFFICER):
        assert one(case, audience=audience).not_before == received


def test_a_deferred_message_cannot_be_claimed_until_the_morning(desk: Desk) -> None:
    desk.clock.move_to(datetime(2026, 11, 23, 22, 30, tzinfo=UTC))
    sms = to_applicant(refer(desk))
    assert dispatch.claim(sms.id) is None
    assert reloaded(sms).status is MessageStatus.QUEUED
    desk.clock.move_to(datetime(2026, 11, 24, 7, 59, tzinfo=UTC))
    assert dispatch.claim(sms.id) is None
    desk.clock.move_to(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    assert dispatch.claim(sms.id) is not None


# --- officer named, reassigned, contact, outcome ---------------------------------------------


def test_claim_from_the_queue_tells_the_officer(desk: Desk) -> None:
    case = refer(desk)
    casework.return_to_queue(case, desk.leader, reason="test set-up")
    before = len(messages(case, audience=Audience.OFFICER))
    casework.claim(case, desk.sam)
    newest = messages(case, audience=Audience.OFFICER)
    assert len(newest) == before + 1
    assert newest[-1].to_address == desk.sam.email


def test_reassigning_an_accepted_referral_tells_the_new_officer_and_the_applicant(
        desk: Desk) -> None:
    case = desk.case
    casework.accept(case, desk.jo)
    casework.reassign(case, desk.sam, desk.leader, reason="Jo is on leave")
    assert case.status is S.ACCEPTED
    officer = one(case, audience=Audience.OFFICER, to_address=desk.sam.email)
    assert (officer.event, officer.template) == ("officer_named", "officer_assigned")
    changed = to_applicant(case, "officer_changed")
    assert (changed.channel, changed.to_address, changed.status) == (
        Channel.SMS, case.person_phone, MessageStatus.QUEUED)
    assert "Sam is now your contact" in changed.body and case.reference in changed.body
    assert "Jones" not in changed.body and "Jo " not in changed.body
    assert templates.sms_segments(changed.body) == 1


def test_a_failed_contact_attempt_texts_the_applicant(desk: Desk) -> None:
    case = desk.case
    casework.accept(case, desk.jo)
    casework.record_contact_attempt(case, desk.jo, channel=ContactChannel.PHONE,
                                    result=ContactAttemptResult.NO_ANSWER)
    sms = to_applicant(case, "contact_attempt_failed")
    assert (sms.channel, sms.to_address, sms.status) == (
        Channel.SMS, case.person_phone, MessageStatus.QUEUED)
    assert sms.body.startswith("Welwyn Hatfield Council: Jo tried to reach you today")
    assert TEAM_PHONE in sms.body


def test_a_failed_contact_attempt_is_not_texted_when_no_route_is_safe(desk: Desk) -> None:
    case = refer(desk, {"preferred_contact_method": "phone", "safe_contact": NOT_SAFE})
    casework.accept(case, case.named_officer)
    casework.record_contact_attempt(case, case.named_officer, channel=ContactChannel.PHONE,
                                    result=ContactAttemptResult.NO_ANSWER)
    assert to_applicant(case, "contact_attempt_failed").status is MessageStatus.SUPPRESSED


def referrer_update(referral: Referral, event: str) -> OutboxMessage:
    message = one(referral, audience=Audience.REFERRER, event=event)
    assert (message.channel, message.to_address, message.template) == (
        Channel.EMAIL, referral.referrer_email, "referrer_update")
    assert message.subject == f"Update on referral {referral.reference}"
    return message


def test_the_referrer_is_told_when_contact_is_made(desk: Desk) -> None:
    casework.accept(desk.case, desk.jo)
    casework.record_contact_made(desk.case, desk.jo, channel=ContactChannel.PHONE)
    assert "made contact with the person" in referrer_update(desk.case, "referrer_contacted").body


def test_the_referrer_is_told_the_outcome_when_the_referral_closes(desk: Desk) -> None:
    casework.accept(desk.case, desk.jo)
    casework.record_contact_made(desk.case, desk.jo, channel=ContactChannel.PHONE)
    casework.close(desk.case, desk.jo, outcome=Outcome.PREVENTION_DUTY)
    body = referrer_update(desk.case, "referrer_closed").body
    assert "the referral is closed. Outcome: prevention duty." in body


def test_the_referrer_is_told_their_withdrawal_was_recorded(desk: Desk) -> None:
    casework.withdraw(desk.case, organisation=desk.org, actor=CLIENT, reason="Moved away")
    assert "withdrawal" in referrer_update(desk.case, "referrer_withdrawn").body


def test_the_referrer_is_told_of_a_transfer(desk: Desk) -> None:
    elsewhere = f.authority(code="E07000242", name="East Hertfordshire")
    casework.accept(desk.case, desk.jo)
    casework.transfer(desk.case, elsewhere, desk.jo, reason="Local connection", person_agreed=True)
    body = referrer_update(desk.case, "referrer_transferred").body
    assert "transferred to another housing authority (East Hertfordshire)" in body


# --- reminders ------------------------------------------------------------------------------


def planned(referral: Referral) -> dict[str, datetime]:
    return {r.kind: r.due_at for r in f.db.session.scalars(
        select(Reminder).where(Reminder.referral_id == referral.id))}


def test_schedule_plans_the_reminders_a_referral_needs(desk: Desk) -> None:
    assert planned(desk.case) == {
        "accept_overdue": MONDAY_2PM,                    # received + 4 hours
        "deadline_approaching": WEDNESDAY_3PM,           # deadline - 2 hours
        "deadline_missed": WEDNESDAY_5PM,                # the deadline
    }


def test_accept_overdue_is_at_the_deadline_when_that_is_sooner(desk: Desk) -> None:
    desk.clock.move_to(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    urgent = refer(desk, at_risk_of_rough_sleeping_tonight=True)
    assert urgent.contact_due_by == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert planned(urgent)["accept_overdue"] == urgent.contact_due_by


@pytest.mark.parametrize(("received", "release", "eve"), [
    (MONDAY_10AM, "2026-11-27", datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
    # 09:00 BST is 08:00 UTC.
    (datetime(2026, 6, 15, 9, 0, tzinfo=UTC), "2026-06-19",
     datetime(2026, 6, 18, 8, 0, tzinfo=UTC)),
    # The day the clocks go back (Sunday 25 October, 02:00 BST): 09:00 is GMT again.
    (datetime(2026, 10, 19, 9, 0, tzinfo=UTC), "2026-10-26",
     datetime(2026, 10, 25, 9, 0, tzinfo=UTC)),
], ids=["winter", "summer", "clock-change"])
def test_release_tomorrow_is_at_9am_london_the_day_before(desk: Desk, received: datetime,
                                                         release: str, eve: datetime) -> None:
    desk.clock.move_to(received)
    case = refer(desk, release_or_discharge_date=release)
    assert planned(case)["release_tomorrow"] == eve


@pytest.mark.parametrize("release", [None, "2026-11-20", "2026-11-23"],
                         ids=["no-date", "past", "today"])
def test_no_release_reminder_without_a_future_date(desk: Desk, release: str | None) -> None:
    case = refer(desk, release_or_discharge_date=release)
    assert "release_tomorrow" not in planned(case)


@pytest.fixture
def leaders(desk: Desk) -> list[User]:
    """Every active team leader of the desk's authority; also an inactive one and another
    authority's, who must never be told."""
    second = f.team_leader(desk.authority)
    gone = f.team_leader(desk.authority)
    gone.active = False
    f.team_leader(f.authority(code="E07000242", name="East Hertfordshire"))
    f.db.session.flush()
    return [desk.leader, second]


def reminder_audits(referral: Referral) -> list[str]:
    return [e.action for e in f.db.session.scalars(
        select(AuditEvent).where(AuditEvent.referral_id == referral.id,
                                 AuditEvent.actor_label == "system:scheduler"))]


def fire(desk: Desk, at: datetime) -> int:
    desk.clock.move_to(at)
    return due_reminders.process_due()


def escalations(referral: Referral) -> list[OutboxMessage]:
    """The escalation digests (one per leader per tick) that name this referral."""
    return [m for m in messages(audience=Audience.TEAM_LEADER, event="escalation_digest")
            if referral.reference in m.body]


def test_nothing_fires_before_it_is_due(desk: Desk) -> None:
    assert fire(desk, MONDAY_2PM - timedelta(minutes=1)) == 0
    assert messages(desk.case, event="accept_overdue") == []


def test_accept_overdue_reminds_the_officer_and_escalates_to_every_team_leader(
        desk: Desk, leaders: list[User]) -> None:
    assert fire(desk, MONDAY_2PM) == 1
    reminder = one(desk.case, event="accept_overdue")
    assert (reminder.audience, reminder.to_address) == (Audience.OFFICER, desk.jo.email)
    assert reminder.subject == f"Referral {desk.case.reference} is waiting for you to accept it"
    told = escalations(desk.case)
    assert sorted(m.to_address for m in told) == sorted(u.email for u in leaders)
    assert {m.event for m in told} == {"escalation_digest"}
    assert reminder_audits(desk.case) == ["referral.accept_overdue"]


def test_deadline_approaching_reminds_the_officer_only(desk: Desk,
                                                      leaders: list[User]) -> None:
    casework.accept(desk.case, desk.jo)
    # accept_overdue is due too, but no longer relevant: only the warning fires.
    assert fire(desk, WEDNESDAY_3PM) == 1
    reminder = one(desk.case, event="deadline_approaching")
    assert (reminder.audience, reminder.to_address) == (Audience.OFFICER, desk.jo.email)
    assert escalations(desk.case) == []
    assert messages(desk.case, event="accept_overdue") == []
    assert reminder_audits(desk.case) == ["referral.deadline_approaching"]


def test_deadline_missed_reminds_the_officer_and_escalates(desk: Desk,
                                                          leaders: list[User]) -> None:
    casework.accept(desk.case, desk.jo)
    fire(desk, WEDNESDAY_3PM)
    assert fire(desk, WEDNESDAY_5PM) == 1
    reminder = one(desk.case, event="deadline_missed")
    assert (reminder.audience, reminder.to_address) == (Audience.OFFICER, desk.jo.email)
    assert reminder.subject == f"Contact deadline missed: {desk.case.reference}"
    told = escalations(desk.case)
    assert sorted(m.to_address for m in told) == sorted(u.email for u in leaders)
    assert {m.event for m in told} == {"escalation_digest"}
    assert f"{desk.case.reference} (Jo Smith): no contact attempt" in told[0].body
    assert reminder_audits(desk.case) == ["referral.deadline_approaching",
                                          "referral.deadline_missed"]


def test_release_tomorrow_reminds_the_officer(desk: Desk) -> None:
    case = refer(desk, release_or_discharge_date="2026-11-27")
    officer = case.named_officer
    assert officer is not None
    casework.accept(case, officer)
    casework.record_contact_made(case, officer, channel=ContactChannel.PHONE)
    # A minute early, only desk.case's three (overdue) reminders fire.
    assert fire(desk, datetime(2026, 11, 26, 8, 59, tzinfo=UTC)) == 3
    assert messages(case, event="release_tomorrow") == []
    assert fire(desk, datetime(2026, 11, 26, 9, 0, tzinfo=UTC)) == 1
    reminder = one(case, event="release_tomorrow")
    assert (reminder.audience, reminder.to_address) == (Audience.OFFICER, officer.email)
    assert "released or discharged tomorrow" in reminder.body
    assert reminder_audits(case) == ["referral.release_tomorrow"]


@pytest.mark.parametrize(("received", "release", "morning"), [
    (MONDAY_10AM, "2026-11-27", datetime(2026, 11, 27, 8, 0, tzinfo=UTC)),
    # 08:00 BST is 07:00 UTC.
    (datetime(2026, 6, 15, 9, 0, tzinfo=UTC), "2026-06-19",
     datetime(2026, 6, 19, 7, 0, tzinfo=UTC)),
], ids=["winter", "summer"])
def test_the_release_day_text_is_planned_for_8am_london_that_day(
        desk: Desk, received: datetime, release: str, morning: datetime) -> None:
    desk.clock.move_to(received)
    case = refer(desk, release_or_discharge_date=release)
    assert planned(case)["release_day"] == morning


def test_no_release_day_text_for_a_referral_received_after_8am_that_day(desk: Desk) -> None:
    case = refer(desk, release_or_discharge_date="2026-11-23")  # received Monday 10:00
    assert "release_day" not in planned(case)


def test_the_release_day_text_tells_the_applicant_who_can_help_even_after_contact(
        desk: Desk) -> None:
    case = refer(desk, release_or_discharge_date="2026-11-27")
    officer = case.named_officer
    assert officer is not None
    casework.accept(case, officer)
    casework.record_contact_made(case, officer, channel=ContactChannel.PHONE)
    fire(desk, datetime(2026, 11, 26, 9, 0, tzinfo=UTC))  # the officer's "tomorrow"
    assert fire(desk, datetime(2026, 11, 27, 7, 59, tzinfo=UTC)) == 0
    assert messages(case, event="release_day") == []
    assert fire(desk, datetime(2026, 11, 27, 8, 0, tzinfo=UTC)) == 1
    text = to_applicant(case, "release_day")
    assert (text.channel, text.to_address, text.status, text.template) == (
        Channel.SMS, case.person_phone, MessageStatus.QUEUED, "applicant_release_day")
    assert text.body == (f"Welwyn Hatfield Council: If you need help today, "
                         f"{templates.first_name(officer.name)} from our team is here. Call "
                         f"{TEAM_PHONE} or reply here (ref {case.reference}).")
    assert text.not_before == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert policy.REVEALING.search(text.body) is None
    assert messages(case, event="release_day", audience=Audience.OFFICER) == []
    assert reminder_audits(case) == ["referral.release_tomorrow", "referral.release_day"]


def test_the_release_day_text_goes_only_by_a_safe_route(desk: Desk) -> None:
    case = refer(desk, {"preferred_contact_method": "phone", "safe_contact": NOT_SAFE},
                 release_or_discharge_date="2026-11-27")
    fire(desk, datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    assert to_applicant(case, "release_day").status is MessageStatus.SUPPRESSED


def test_the_release_day_text_is_in_welsh_for_a_welsh_speaker(desk: Desk) -> None:
    case = refer(desk, {"language": "cy"}, release_or_discharge_date="2026-11-27")
    fire(desk, datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    assert to_applicant(case, "release_day").body.startswith(
        "Cyngor Welwyn Hatfield: Os oes angen help arnoch heddiw, mae ")


def test_no_release_day_text_once_the_referral_is_closed(desk: Desk) -> None:
    case = refer(desk, release_or_discharge_date="2026-11-27")
    casework.withdraw(case, organisation=desk.org, actor=CLIENT, reason="Moved away")
    assert not case.is_open
    fire(desk, datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    assert messages(case, event="release_day") == []


@pytest.mark.parametrize("late", [datetime(2026, 11, 27, 21, 0, tzinfo=UTC),
                                  datetime(2026, 11, 28, 9, 0, tzinfo=UTC)],
                         ids=["quiet-hours", "next-day"])
def test_a_release_day_text_too_late_for_today_is_dropped(desk: Desk, late: datetime) -> None:
    """It says "today": fired in quiet hours it would arrive tomorrow, so it is not written."""
    case = refer(desk, release_or_discharge_date="2026-11-27")
    fire(desk, late)
    assert messages(case, event="release_day") == []
    assert "referral.release_day" not in reminder_audits(case)


def test_an_unassigned_referral_escalates_without_an_officer(desk: Desk,
                                                            leaders: list[User]) -> None:
    casework.return_to_queue(desk.case, desk.leader, reason="test set-up")
    assert fire(desk, MONDAY_2PM) == 1
    assert messages(desk.case, audience=Audience.OFFICER, event="accept_overdue") == []
    assert len(escalations(desk.case)) == len(leaders)
    assert "(the team queue)" in escalations(desk.case)[0].body


def assert_all_done_and_silent(referral: Referral, before: int) -> None:
    assert len(messages(referral)) == before
    assert all(r.done_at is not None for r in f.db.session.scalars(
        select(Reminder).where(Reminder.referral_id == referral.id)))
    assert reminder_audits(referral) == []


def test_accepting_in_time_silences_accept_overdue(desk: Desk, leaders: list[User]) -> None:
    casework.accept(desk.case, desk.jo)
    before = len(messages(desk.case))
    assert fire(desk, MONDAY_2PM) == 0
    assert len(messages(desk.case)) == before
    done = f.db.session.scalar(select(Reminder).where(Reminder.referral_id == desk.case.id,
                                                      Reminder.kind == "accept_overdue"))
    assert done is not None and done.done_at == MONDAY_2PM
    assert reminder_audits(desk.case) == []


def test_a_contact_attempt_silences_the_deadline_reminders(desk: Desk,
                                                          leaders: list[User]) -> None:
    casework.accept(desk.case, desk.jo)
    casework.record_contact_attempt(desk.case, desk.jo, channel=ContactChannel.PHONE,
                                    result=ContactAttemptResult.NO_ANSWER)
    before = len(messages(desk.case))
    assert fire(desk, WEDNESDAY_5PM) == 0
    assert_all_done_and_silent(desk.case, before)


def test_a_closed_referral_gets_no_reminders(desk: Desk, leaders: list[User]) -> None:
    case = refer(desk, release_or_discharge_date="2026-11-27")
    casework.close(case, case.named_officer, outcome=Outcome.DUPLICATE)
    before = len(messages(case))
    assert fire(desk, datetime(2026, 11, 27, 9, 0, tzinfo=UTC)) == 3  # desk.case's reminders
    assert_all_done_and_silent(case, before)


def test_each_reminder_fires_at_most_once(desk: Desk, leaders: list[User]) -> None:
    assert fire(desk, WEDNESDAY_5PM) == 3
    count = len(messages(desk.case))
    assert due_reminders.process_due() == 0
    assert fire(desk, WEDNESDAY_5PM + timedelta(days=1)) == 0
    assert len(messages(desk.case)) == count
    assert sorted(reminder_audits(desk.case)) == ["referral.accept_overdue",
                                                  "referral.deadline_approaching",
                                                  "referral.deadline_missed"]


# --- delivery -------------------------------------------------------------------------------


@dataclass
class Provider:
    """A stand-in for Twilio and the SMTP server: records what it was given, answers as told."""

    fail_with: Exception | None = None
    status: str = "queued"
    sent: list[Sms | Email] = field(default_factory=list)

    def _answer(self, message: Sms | Email) -> Accepted:
        self.sent.append(message)
        if self.fail_with is not None:
            raise self.fail_with
        return Accepted(provider_id=f"SM{len(self.sent)}-{message.reference}",
                        status=self.status)

    def send_sms(self, message: Sms) -> Accepted:
        return self._answer(message)

    def send_email(self, message: Email) -> Accepted:
        return self._answer(message)


def senders(provider: Provider) -> dispatch.Senders:
    return dispatch.Senders(sms=provider, email=provider)


def test_claim_is_a_compare_and_set(desk: Desk) -> None:
    ack = one(desk.case, audience=Audience.REFERRER)
    assert dispatch.claim(ack.id) is not None
    assert dispatch.claim(ack.id) is None
    claimed = reloaded(ack)
    assert (claimed.status, claimed.attempts, claimed.claimed_at) == (
        MessageStatus.SENDING, 1, MONDAY_10AM)


def test_a_successful_send_records_the_providers_id(desk: Desk) -> None:
    sms = to_applicant(desk.case)
    provider = Provider()
    assert dispatch.deliver(sms.id, senders(provider)) is MessageStatus.SENT
    (sent,) = provider.sent
    assert isinstance(sent, Sms)
    assert (sent.to, sent.body, sent.reference) == (sms.to_address, sms.body, str(sms.id))
    done = reloaded(sms)
    assert done.status is MessageStatus.SENT and done.provider_id == f"SM1-{sms.id}"
    assert (done.provider_status, done.sent_at, done.attempts) == ("queued", MONDAY_10AM, 1)
    # Sent once: a second delivery of the same id is not ours to send.
    assert dispatch.deliver(sms.id, senders(provider)) is None
    assert len(provider.sent) == 1


def test_retryable_failures_back_off_then_give_up(desk: Desk) -> None:
    ack = one(desk.case, audience=Audience.REFERRER)
    provider = Provider(fail_with=RetryableError("Service Unavailable", code=503))
    for attempt in range(1, dispatch.MAX_ATTEMPTS):
        assert dispatch.deliver(ack.id, senders(provider)) is MessageStatus.QUEUED
        waiting = reloaded(ack)
        now = clock.now()
        assert waiting.status is MessageStatus.QUEUED
        assert waiting.attempts == attempt
        assert waiting.not_before == now + dispatch.backoff(attempt)
        assert waiting.not_before > now
        # Not before the backoff has passed.
        assert dispatch.deliver(ack.id, senders(provider)) is None
        desk.clock.move_to(waiting.not_before)
    assert dispatch.deliver(ack.id, senders(provider)) is MessageStatus.FAILED
    failed = reloaded(ack)
    assert failed.status is MessageStatus.FAILED and failed.attempts == dispatch.MAX_ATTEMPTS
    assert f"Gave up after {dispatch.MAX_ATTEMPTS} tries" in failed.status_reason
    assert len(provider.sent) == dispatch.MAX_ATTEMPTS


def test_backoff_doubles() -> None:
    assert [dispatch.backoff(n) for n in range(1, 6)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]


def test_a_refused_text_falls_back_to_a_safe_email(desk: Desk) -> None:
    case = refer(desk, {"email": "person@example.org"})
    assert case.safe_email
    sms = to_applicant(case)
    provider = Provider(fail_with=PermanentError("Unreachable", code=21614))
    assert dispatch.deliver(sms.id, senders(provider)) is MessageStatus.FAILED
    failed = reloaded(sms)
    assert failed.status is MessageStatus.FAILED and "21614" in failed.status_reason
    email = one(case, audience=Audience.APPLICANT, channel=Channel.EMAIL)
    assert (email.to_address, email.status, email.body) == (
        "person@example.org", MessageStatus.QUEUED, sms.body)
    assert messages(case, event="sms_unreachable") == []


def test_a_refused_text_with_no_safe_email_tells_the_officer(desk: Desk) -> None:
    case = refer(desk, {"email": "person@example.org",
                        "safe_contact": {"sms": True, "voicemail": False, "email": False,
                                         "letter": False, "instructions": None}})
    assert case.person_email and not case.safe_email
    sms = to_applicant(case)
    provider = Provider(fail_with=PermanentError("Unsubscribed recipient", code=21610,
                                                  kind=OPTED_OUT))
    assert dispatch.deliver(sms.id, senders(provider)) is MessageStatus.FAILED
    assert "21610" in reloaded(sms).status_reason
    assert messages(case, audience=Audience.APPLICANT, channel=Channel.EMAIL) == []
    told = one(case, event="sms_unreachable")
    assert (told.audience, told.to_address) == (Audience.OFFICER, case.named_officer.email)
    assert case.reference in told.subject


def test_a_refused_email_to_a_referrer_just_fails(desk: Desk) -> None:
    ack = one(desk.case, audience=Audience.REFERRER)
    before = len(messages(desk.case))
    provider = Provider(fail_with=PermanentError("Mailbox unavailable", code=550))
    assert dispatch.deliver(ack.id, senders(provider)) is MessageStatus.FAILED
    assert "550" in reloaded(ack).status_reason
    assert len(messages(desk.case)) == before


# --- routes across channels, and the officer change after the queue --------------------------


def test_an_opted_out_number_falls_back_to_a_safe_email(desk: Desk) -> None:
    f.db.session.add(SmsOptOut(phone="+447700900778", keyword="STOP"))
    f.db.session.flush()
    case = refer(desk, {"phone": "07700 900778", "email": "person778@example.org"})
    message = to_applicant(case)
    assert (message.channel, message.to_address, message.status) == (
        Channel.EMAIL, "person778@example.org", MessageStatus.QUEUED)


def test_the_daily_cap_counts_every_route_to_one_person(desk: Desk) -> None:
    person = {"phone": "07700 900889", "email": "person889@example.org"}
    for _ in range(policy.DAILY_CAP - 1):
        assert to_applicant(refer(desk, person)).status is MessageStatus.QUEUED
    f.db.session.add(SmsOptOut(phone="+447700900889", keyword="STOP"))
    f.db.session.flush()
    # Text is now refused, so the next goes by email: still this person's messages today.
    assert to_applicant(refer(desk, person)).channel is Channel.EMAIL
    over = to_applicant(refer(desk, person))
    assert over.status is MessageStatus.SUPPRESSED and "Daily limit" in over.status_reason


def test_a_new_officer_after_the_queue_is_named_to_the_applicant(desk: Desk) -> None:
    casework.return_to_queue(desk.case, desk.leader, reason="Jo is off sick")
    casework.claim(desk.case, desk.sam)
    changed = to_applicant(desk.case, event="officer_changed")
    assert "Sam" in changed.body and "Jo" not in changed.body


def test_the_same_officer_claiming_back_sends_no_change_message(desk: Desk) -> None:
    casework.return_to_queue(desk.case, desk.jo, reason="back to the queue by mistake")
    casework.claim(desk.case, desk.jo)
    assert messages(desk.case, audience=Audience.APPLICANT, event="officer_changed") == []


class Unsubscribed:
    def send_sms(self, message: Sms) -> Accepted:
        raise PermanentError("unsubscribed", code=21610, kind=OPTED_OUT)

    def send_email(self, message: Email) -> Accepted:
        return Accepted("email-1", "sent")


def test_twilio_unsubscribed_records_the_opt_out(desk: Desk) -> None:
    sms = to_applicant(desk.case)
    f.db.session.commit()
    desk.clock.move_to(MONDAY_10AM + timedelta(minutes=1))
    dispatch.deliver(sms.id, dispatch.Senders(sms=Unsubscribed(), email=Unsubscribed()))
    assert f.db.session.get(SmsOptOut, desk.case.person_phone) is not None


def test_an_applicant_text_of_unknown_fate_is_not_resent_and_the_officer_is_told(
        desk: Desk) -> None:
    from notifications import scheduler

    sms = to_applicant(desk.case)
    sms.status = MessageStatus.SENDING
    sms.claimed_at = MONDAY_10AM
    f.db.session.commit()
    later = MONDAY_10AM + scheduler.STUCK_AFTER + timedelta(minutes=1)
    desk.clock.move_to(later)
    assert scheduler.reconcile_stuck(later)["stuck_unknown"] == 1
    assert reloaded(sms).status is MessageStatus.FAILED
    notice = one(desk.case, event="sms_delivery_unknown")
    assert notice.to_address == desk.jo.email and "will not be sent again" in notice.body


# --- nobody misses an arrival (issue 15.5) -------------------------------------------------

QUEUE_MAILBOX = "housing@stevenage.example"


@pytest.fixture
def queue_desk(desk: Desk) -> Authority:
    """A council with a team mailbox and no officers: every referral lands in its team queue."""
    return f.authority(code="E07000243", name="Stevenage", team_email=QUEUE_MAILBOX)


def to_queue(desk: Desk, **overrides: Any) -> Referral:
    case = refer(desk, authority_code="E07000243", **overrides)
    assert case.status is S.UNASSIGNED
    return case


def mailbox_rows() -> list[OutboxMessage]:
    return messages(to_address=QUEUE_MAILBOX)


def test_an_urgent_arrival_tells_the_team_mailbox_at_once(desk: Desk, queue_desk: Authority,
                                                         ) -> None:
    case = to_queue(desk, at_risk_of_rough_sleeping_tonight=True)
    row = one(case, to_address=QUEUE_MAILBOX)
    assert (row.template, row.status, row.not_before) == (
        outbox.TEAM_ARRIVAL, MessageStatus.QUEUED, MONDAY_10AM)
    assert row.once_key == f"team_arrival:{case.id}"
    assert row.subject == f"URGENT: referral {case.reference} is in the team queue"
    assert case.person_first_name not in row.body and "/casework/queue" in row.body


def test_a_release_within_two_days_is_urgent_too(desk: Desk, queue_desk: Authority) -> None:
    case = to_queue(desk, release_or_discharge_date="2026-11-25")
    assert one(case, to_address=QUEUE_MAILBOX).template == outbox.TEAM_ARRIVAL


def test_other_arrivals_wait_for_one_digest_per_slot(desk: Desk, queue_desk: Authority) -> None:
    first, second = to_queue(desk), to_queue(desk)
    desk.clock.move_to(MONDAY_10AM + timedelta(minutes=10))
    third = to_queue(desk)
    held = mailbox_rows()
    assert {m.template for m in held} == {outbox.TEAM_ARRIVAL_HELD}
    slot_end = MONDAY_10AM + timedelta(minutes=30)
    assert {m.not_before for m in held} == {slot_end}
    # Not handed over before the digest, nor by the tick's enqueue job.
    assert team_digest.send_due(slot_end - timedelta(seconds=1))["team_digests"] == 0
    casework.claim(second, f.officer(queue_desk, name="Ali Khan"))  # taken: left out
    counts = team_digest.send_due(slot_end)
    assert counts == {"team_digests": 1, "team_digest_referrals": 2}
    rows = {m.referral_id: m for m in mailbox_rows()}
    digest = rows[first.id]
    assert digest.template == outbox.TEAM_ARRIVAL_DIGEST
    assert digest.status is MessageStatus.QUEUED
    assert digest.subject == "2 new referrals in the team queue"
    assert first.reference in digest.body and third.reference in digest.body
    assert second.reference not in digest.body
    assert rows[third.id].status is MessageStatus.SUPPRESSED
    assert rows[second.id].status is MessageStatus.SUPPRESSED
    assert team_digest.send_due(slot_end + timedelta(hours=1))["team_digests"] == 0


def test_the_digest_minutes_are_configurable(desk: Desk, queue_desk: Authority, app) -> None:  # type: ignore[no-untyped-def]
    app.config["ARRIVAL_DIGEST_MINUTES"] = 15
    try:
        to_queue(desk)
    finally:
        app.config["ARRIVAL_DIGEST_MINUTES"] = 30
    assert mailbox_rows()[0].not_before == MONDAY_10AM + timedelta(minutes=15)


def test_a_referral_back_in_the_queue_is_never_told_twice(desk: Desk,
                                                         queue_desk: Authority) -> None:
    case = to_queue(desk, at_risk_of_rough_sleeping_tonight=True)
    ali = f.officer(queue_desk, name="Ali Khan")
    casework.claim(case, ali)
    casework.return_to_queue(case, ali, reason="Off sick")
    outbox.notify("landed_in_team_queue", case)
    assert len(mailbox_rows()) == 1
    # The unique once-key is the backstop for a second writer.
    f.db.session.add(OutboxMessage(referral_id=case.id, channel=Channel.EMAIL,
                                   audience=Audience.OFFICER, event="x", template="x",
                                   to_address=QUEUE_MAILBOX, body="x",
                                   once_key=f"team_arrival:{case.id}"))
    with pytest.raises(IntegrityError):
        f.db.session.flush()
    f.db.session.rollback()


def test_a_referrers_note_tells_the_named_officer_and_the_councils_tells_the_referrer(
        desk: Desk) -> None:
    referrer_actor = audit.Actor.for_client("tests")
    notes.post(desk.case, side="referrer", author_name="Pat", body="Moved to a hostel: the "
               "secret words", actor=referrer_actor)
    told = one(desk.case, event="note_posted")
    assert (told.to_address, told.template) == (desk.jo.email, "note_for_officer")
    assert "secret" not in told.body and f"/casework/referrals/{desk.case.id}" in told.body
    notes.post(desk.case, side="council", author_name="Jo Smith", body="Thanks, secret",
               actor=audit.Actor.for_user(desk.jo))
    back = messages(desk.case, event="note_posted")[1]
    assert (back.to_address, back.template) == (desk.case.referrer_email, "note_for_referrer")
    assert "secret" not in back.body and f"/referrer/referrals/{desk.case.id}" in back.body


def test_unread_notes_are_marked_until_the_referral_is_viewed(desk: Desk) -> None:
    assert reads.with_unread(desk.jo, [desk.case.id]) == set()
    notes.post(desk.case, side="referrer", author_name="Pat", body="News",
               actor=audit.Actor.for_client("tests"))
    assert reads.with_unread(desk.jo, [desk.case.id]) == {desk.case.id}
    # The officer's own side's notes never count as unread for them.
    notes.post(desk.case, side="council", author_name="Jo", body="Reply",
               actor=audit.Actor.for_user(desk.jo))
    assert reads.viewed(desk.jo, desk.case.id) is None
    assert reads.with_unread(desk.jo, [desk.case.id]) == set()
    desk.clock.move_to(MONDAY_10AM + timedelta(minutes=5))
    notes.post(desk.case, side="referrer", author_name="Pat", body="More",
               actor=audit.Actor.for_client("tests"))
    assert reads.with_unread(desk.jo, [desk.case.id]) == {desk.case.id}
    assert reads.viewed(desk.jo, desk.case.id) == MONDAY_10AM
    assert reads.with_unread(desk.jo, [desk.case.id]) == set()


def test_one_escalation_digest_per_leader_for_many_referrals(desk: Desk,
                                                            leaders: list[User]) -> None:
    others = [refer(desk) for _ in range(3)]
    fire(desk, MONDAY_2PM)
    digests = messages(audience=Audience.TEAM_LEADER, event="escalation_digest")
    assert sorted(m.to_address for m in digests) == sorted(u.email for u in leaders)
    for digest in digests:
        assert digest.subject == "Escalation: 4 referrals need attention"
        for case in [desk.case, *others]:
            assert case.reference in digest.body
