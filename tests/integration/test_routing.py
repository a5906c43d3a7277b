"""Routing a referral to a named officer, or to the team queue, and saying why.

Most tests receive the referral while nobody can take it (so it waits in the queue), then set up
the officers and ask ``choose_officer`` whom it would pick: the choice alone, with nothing else
moving. Tests about what routing records go through the real intake.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from referral_service import clock
from referral_service.domain import audit, casework, routing
from referral_service.models import (
    AuditEvent,
    Authority,
    ContactAttemptResult,
    ContactChannel,
    Organisation,
    Outcome,
    Referral,
    ReferralStatus,
    User,
)
from tests import factories as f

S = ReferralStatus

# Monday 23 November 2026, 10:00 GMT.
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)


@dataclass
class Setting:
    authority: Authority
    org: Organisation


@pytest.fixture
def setting(db_session) -> Setting:  # type: ignore[no-untyped-def]
    return Setting(f.authority(), f.organisation())


@pytest.fixture
def leader(setting: Setting) -> User:
    return f.team_leader(setting.authority)


def give(officer: User, leader: User, org: Organisation, count: int = 1) -> list[Referral]:
    """Put ``count`` open referrals on ``officer``'s caseload, whoever routing first picked."""
    made = []
    for _ in range(count):
        referral = f.referral(org)
        if referral.named_officer_id != officer.id:
            casework.reassign(referral, officer, leader, reason="test set-up",
                              allow_over_capacity=True)
        made.append(referral)
    return made


def transitions(referral: Referral) -> list[AuditEvent]:
    return list(f.db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.referral_id == referral.id)
        .where(AuditEvent.action == "referral.transition")
    ))


def events(referral: Referral, action: str) -> list[AuditEvent]:
    return list(f.db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.referral_id == referral.id)
        .where(AuditEvent.action == action)
    ))


def absent(officer: User, starts_on: date, ends_on: date) -> None:
    casework.record_absence(officer, starts_on=starts_on, ends_on=ends_on, actor=f.ACTOR)


# --- Who may be chosen at all ----------------------------------------------------------------


def test_officer_of_another_authority_is_never_chosen(setting: Setting) -> None:
    elsewhere = f.authority(code="E07000242", name="East Hertfordshire")
    # A perfect match in every way but the authority.
    f.officer(elsewhere, specialisms=["mental_health", "domestic_abuse"], patches=["AL8"])
    made = f.referral(setting.org)
    assert made.status is S.UNASSIGNED and made.named_officer is None
    local = f.officer(setting.authority)
    assert routing.choose_officer(made).officer is local


def test_inactive_officer_is_never_chosen(setting: Setting) -> None:
    made = f.referral(setting.org)
    gone = f.officer(setting.authority, specialisms=["mental_health", "domestic_abuse"],
                     patches=["AL8"])
    plain = f.officer(setting.authority)
    assert routing.choose_officer(made).officer is gone
    gone.active = False
    assert routing.choose_officer(made).officer is plain
    plain.active = False
    decision = routing.choose_officer(made)
    assert decision.officer is None
    assert decision.reason == "no officers set up for this authority: team queue"


def test_team_leaders_are_never_routed_cases(setting: Setting, leader: User) -> None:
    made = f.referral(setting.org)
    assert made.status is S.UNASSIGNED and made.named_officer is None
    assert routing.choose_officer(made).considered == 0


@time_machine.travel(MONDAY_10AM, tick=False)
@pytest.mark.parametrize(
    ("starts", "ends", "is_absent"),
    [
        (0, 0, True),
        (-3, 4, True),
        (-7, 0, True),
        (0, 10, True),
        (-7, -1, False),
        (1, 7, False),
    ],
    ids=["today-only", "spans-today", "ends-today", "starts-today", "ended-yesterday",
         "starts-tomorrow"],
)
def test_absent_officer_is_never_chosen(setting: Setting, starts: int, ends: int,
                                        is_absent: bool) -> None:
    made = f.referral(setting.org)
    specialist = f.officer(setting.authority, specialisms=["mental_health"])
    other = f.officer(setting.authority)
    absent(specialist, TODAY + timedelta(days=starts), TODAY + timedelta(days=ends))
    decision = routing.choose_officer(made)
    assert decision.officer is (other if is_absent else specialist)
    assert decision.refused == ({"absent": 1} if is_absent else {})


@time_machine.travel(datetime(2027, 6, 30, 23, 30, tzinfo=UTC), tick=False)
def test_absence_is_judged_by_the_date_in_london(setting: Setting) -> None:
    # 23:30 UTC on 30 June is 00:30 BST on 1 July: an absence from 1 July has begun.
    made = f.referral(setting.org)
    away = f.officer(setting.authority, specialisms=["mental_health"])
    other = f.officer(setting.authority)
    absent(away, date(2027, 7, 1), date(2027, 7, 14))
    assert routing.choose_officer(made).officer is other


def test_an_explicit_day_is_used_for_absence(setting: Setting) -> None:
    made = f.referral(setting.org)
    away = f.officer(setting.authority, specialisms=["mental_health"])
    other = f.officer(setting.authority)
    absent(away, date(2030, 1, 7), date(2030, 1, 11))
    assert routing.choose_officer(made, today=date(2030, 1, 6)).officer is away
    assert routing.choose_officer(made, today=date(2030, 1, 7)).officer is other


@pytest.mark.parametrize(("capacity", "load", "eligible"),
                         [(2, 1, True), (2, 2, False), (2, 3, False), (1, 0, True)],
                         ids=["below", "at", "over", "empty"])
def test_officer_at_capacity_is_never_chosen(setting: Setting, leader: User, capacity: int,
                                             load: int, eligible: bool) -> None:
    made = f.referral(setting.org)
    busy = f.officer(setting.authority, specialisms=["mental_health"], capacity=capacity)
    give(busy, leader, setting.org, load)
    decision = routing.choose_officer(made)
    if eligible:
        assert decision.officer is busy
        assert decision.reason.endswith(f"caseload {load}/{capacity}")
    else:
        assert decision.officer is None
        assert decision.refused == {"at_capacity": 1}


def test_capacity_zero_means_never_routed(setting: Setting) -> None:
    made = f.referral(setting.org)
    f.officer(setting.authority, specialisms=["mental_health", "domestic_abuse"], capacity=0)
    decision = routing.choose_officer(made)
    assert decision.officer is None
    assert decision.refused == {"at_capacity": 1}


def test_no_capacity_set_means_no_limit(setting: Setting, leader: User) -> None:
    made = f.referral(setting.org)
    unlimited = f.officer(setting.authority)
    unlimited.capacity = None  # admin gives every officer a default; older rows may have none
    give(unlimited, leader, setting.org, 3)
    decision = routing.choose_officer(made)
    assert decision.officer is unlimited
    assert decision.reason == "caseload 3 (no capacity set)"


def _put_in(status: ReferralStatus, referral: Referral, officer: User, leader: User,
            org: Organisation) -> None:
    """Move a referral named to ``officer`` into ``status`` by the real operations."""
    if status in {S.ACCEPTED, S.CONTACT_ATTEMPTED, S.CONTACTED}:
        casework.accept(referral, officer)
    if status is S.CONTACT_ATTEMPTED:
        casework.record_contact_attempt(referral, officer, channel=ContactChannel.PHONE,
                                        result=ContactAttemptResult.NO_ANSWER)
    elif status is S.CONTACTED:
        casework.record_contact_made(referral, officer, channel=ContactChannel.PHONE)
    elif status is S.CLOSED:
        casework.close(referral, officer, outcome=Outcome.DUPLICATE)
    elif status is S.WITHDRAWN:
        casework.withdraw(referral, organisation=org, actor=audit.Actor.for_client("tests"))
    elif status is S.TRANSFERRED:
        other = f.authority(code="E07000242", name="East Hertfordshire", participating=False)
        casework.transfer(referral, other, leader, reason="moved away", person_agreed=True)
    elif status is S.UNASSIGNED:
        # No operation leaves an officer named on a queued referral, but the count must not
        # rely on that: the status alone decides.
        referral.status = S.UNASSIGNED
        f.db.session.flush()
    assert referral.status is status and referral.named_officer_id == officer.id


@pytest.mark.parametrize(
    ("status", "counts"),
    [
        (S.ASSIGNED, True),
        (S.ACCEPTED, True),
        (S.CONTACT_ATTEMPTED, True),
        (S.CONTACTED, True),
        (S.CLOSED, False),
        (S.WITHDRAWN, False),
        (S.TRANSFERRED, False),
        (S.UNASSIGNED, False),
    ],
    ids=lambda value: value.value if isinstance(value, ReferralStatus) else str(value),
)
def test_capacity_counts_only_open_casework(setting: Setting, leader: User,
                                            status: ReferralStatus, counts: bool) -> None:
    solo = f.officer(setting.authority, capacity=1)
    (held,) = give(solo, leader, setting.org)
    _put_in(status, held, solo, leader, setting.org)
    assert routing.open_caseloads([solo.id]) == {solo.id: 1 if counts else 0}
    made = f.referral(setting.org)
    if counts:
        assert made.status is S.UNASSIGNED and made.named_officer is None
    else:
        assert made.status is S.ASSIGNED and made.named_officer is solo


# --- Ranking the eligible ----------------------------------------------------------------------


def test_more_matching_specialisms_beat_fewer(setting: Setting, leader: User) -> None:
    made = f.referral(setting.org)  # mental_health and domestic_abuse
    one = f.officer(setting.authority, specialisms=["mental_health"], patches=["AL8"])
    both = f.officer(setting.authority, specialisms=["domestic_abuse", "mental_health"])
    f.officer(setting.authority, patches=["AL8"])
    # The better match wins even with the heavier caseload and no patch.
    give(both, leader, setting.org, 3)
    decision = routing.choose_officer(made)
    assert decision.officer is both
    assert decision.reason == "specialism domestic_abuse, mental_health; caseload 3/25"
    assert routing.choose_officer(made, exclude=frozenset({both.id})).officer is one


def test_unmatched_specialisms_count_for_nothing(setting: Setting) -> None:
    made = f.referral(setting.org, support_needs=["refugee"])
    f.officer(setting.authority, specialisms=["mental_health", "domestic_abuse", "care_leaver"],
              patches=["SG"])
    patched = f.officer(setting.authority, patches=["AL8"])
    assert routing.choose_officer(made).officer is patched


@pytest.mark.parametrize("band", ["care_leaver_18_20", "care_leaver_21_24",
                                  "care_leaver_25_plus"])
def test_a_banded_care_leaver_suits_a_care_leaver_specialist(setting: Setting, band: str) -> None:
    made = f.referral(setting.org, support_needs=[band])
    specialist = f.officer(setting.authority, specialisms=["care_leaver"])
    f.officer(setting.authority, patches=["AL8"])
    decision = routing.choose_officer(made)
    assert decision.officer is specialist
    assert decision.reason == "specialism care_leaver; caseload 0/25"
    # And an officer who specialises in that very band suits it more.
    banded = f.officer(setting.authority, specialisms=[band, "care_leaver"])
    assert routing.choose_officer(made).officer is banded


CUSTODIAL = ["prison", "youth_offender_institution", "secure_training_centre", "secure_college",
             "probation", "youth_offending_team"]
HEALTH = ["hospital_emergency_department", "urgent_treatment_centre", "hospital_inpatient",
          "mental_health_service"]


@pytest.mark.parametrize(
    ("org_type", "dated", "need"),
    [(t, True, routing.PRISON_RELEASE) for t in CUSTODIAL]
    + [(t, True, routing.HOSPITAL_DISCHARGE) for t in HEALTH]
    + [(t, False, None) for t in ("prison", "probation", "hospital_inpatient")]
    + [(t, True, None) for t in ("jobcentre", "adult_social_care", "armed_forces")],
    ids=lambda value: {True: "dated", False: "undated", None: "neither"}.get(value, value),
)
def test_release_and_discharge_specialisms(db_session, org_type: str, dated: bool,  # type: ignore[no-untyped-def]
                                           need: str | None) -> None:
    authority = f.authority()
    org = f.organisation(name=f"A {org_type}", type=org_type)
    made = f.referral(org, support_needs=[],
                      release_or_discharge_date="2026-12-20" if dated else None)
    prison = f.officer(authority, specialisms=[routing.PRISON_RELEASE])
    hospital = f.officer(authority, specialisms=[routing.HOSPITAL_DISCHARGE])
    assert routing.routing_needs(made) == ({need} if need else set())
    decision = routing.choose_officer(made)
    if need is None:
        assert decision.reason == "caseload 0/25"
    else:
        assert decision.officer is {routing.PRISON_RELEASE: prison,
                                    routing.HOSPITAL_DISCHARGE: hospital}[need]
        assert decision.reason == f"specialism {need}; caseload 0/25"


def test_release_specialism_adds_to_the_support_needs(setting: Setting) -> None:
    made = f.referral(setting.org, support_needs=["offending_history"],
                      release_or_discharge_date="2026-12-20")
    f.officer(setting.authority, specialisms=["offending_history"])
    both = f.officer(setting.authority, specialisms=["offending_history", "prison_release"])
    decision = routing.choose_officer(made)
    assert decision.officer is both
    assert decision.reason == "specialism offending_history, prison_release; caseload 0/25"


@pytest.mark.parametrize(
    ("patch", "district", "covers"),
    [
        ("AL8", "AL8", True),
        ("al8", "AL8", True),
        ("AL", "AL8", True),
        ("AL", "AL10", True),
        ("AL1", "AL10", False),
        ("AL10", "AL1", False),
        ("AL8", "AL7", False),
        ("A", "AL8", False),
        ("S", "SG1", False),
        ("SG", "SG1", True),
        ("S", "S1", True),
        ("SG1", "SG14", False),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_patch_covers(patch: str, district: str, covers: bool) -> None:
    assert routing.patch_covers(patch, district) is covers


@pytest.mark.parametrize(
    ("postcode", "patch", "matches"),
    [
        ("AL8 6AB", "AL8", True),
        ("AL8 6AB", "AL", True),
        ("AL10 9AB", "AL", True),
        ("AL10 9AB", "AL1", False),
        ("AL8 6AB", "A", False),
        ("SG1 1AA", "S", False),
        ("SG1 1AA", "SG", True),
    ],
    ids=lambda value: value.replace(" ", "") if isinstance(value, str) else None,
)
def test_patch_ranks_before_caseload(setting: Setting, leader: User, postcode: str,
                                     patch: str, matches: bool) -> None:
    made = f.referral(setting.org, support_needs=[],
                      person=f.unique_person(address={"line1": "1 Road", "postcode": postcode}))
    patched = f.officer(setting.authority, patches=[patch])
    lighter = f.officer(setting.authority)
    give(patched, leader, setting.org, 2)
    decision = routing.choose_officer(made)
    if matches:
        assert decision.officer is patched
        assert decision.reason == f"patch {patch}; caseload 2/25"
    else:
        assert decision.officer is lighter
        assert decision.reason == "caseload 0/25"


def test_no_postcode_matches_no_patch(setting: Setting, leader: User) -> None:
    made = f.referral(setting.org, support_needs=[],
                      person=f.unique_person(address=None, no_fixed_abode=True))
    patched = f.officer(setting.authority, patches=["AL", "SG"])
    lighter = f.officer(setting.authority)
    give(patched, leader, setting.org)
    assert routing.choose_officer(made).officer is lighter


def test_specialism_ranks_before_patch(setting: Setting) -> None:
    made = f.referral(setting.org)
    f.officer(setting.authority, patches=["AL8"])
    specialist = f.officer(setting.authority, specialisms=["domestic_abuse"], patches=["SG"])
    assert routing.choose_officer(made).officer is specialist
    # With the specialism level, the patch decides.
    both = f.officer(setting.authority, specialisms=["domestic_abuse"], patches=["AL"])
    decision = routing.choose_officer(made)
    assert decision.officer is both
    assert decision.reason == "specialism domestic_abuse; patch AL; caseload 0/25"


def test_lightest_caseload_wins_among_equals(setting: Setting, leader: User) -> None:
    made = f.referral(setting.org)
    heavy = f.officer(setting.authority, specialisms=["mental_health"])
    light = f.officer(setting.authority, specialisms=["mental_health"])
    give(heavy, leader, setting.org, 3)
    give(light, leader, setting.org, 2)
    # Last given a case long ago, the heavier officer still loses: caseload comes first.
    heavy.last_assigned_at = datetime(2020, 1, 1, tzinfo=UTC)
    decision = routing.choose_officer(made)
    assert decision.officer is light
    assert decision.reason == "specialism mental_health; caseload 2/25"


def _by_id(officer: User) -> str:
    return str(officer.id)


@pytest.mark.parametrize(
    ("winner_last", "loser_last"),
    [
        (None, datetime(2026, 11, 1, tzinfo=UTC)),
        (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)),
        (datetime(2026, 11, 1, 9, 0, tzinfo=UTC), datetime(2026, 11, 1, 9, 1, tzinfo=UTC)),
    ],
    ids=["never-assigned-first", "earlier-first", "a-minute-earlier-first"],
)
def test_ties_go_to_least_recently_assigned(setting: Setting, winner_last: datetime | None,
                                            loser_last: datetime) -> None:
    made = f.referral(setting.org)
    # The winner is the one the stable order would put last, so only the times can pick it.
    loser, winner = sorted((f.officer(setting.authority), f.officer(setting.authority)),
                           key=_by_id)
    winner.last_assigned_at, loser.last_assigned_at = winner_last, loser_last
    f.db.session.flush()
    f.db.session.expire_all()  # read the times back as stored
    assert routing.choose_officer(made).officer is winner


@pytest.mark.parametrize("assigned", [None, datetime(2026, 11, 1, tzinfo=UTC)],
                         ids=["never-assigned", "same-time"])
def test_complete_ties_are_broken_deterministically(setting: Setting,
                                                    assigned: datetime | None) -> None:
    made = f.referral(setting.org)
    # Add officers until the first one set up is not the lowest id: the choice must then follow
    # the ids, not the order the database happens to return the officers in.
    officers = [f.officer(setting.authority)]
    while min(officers, key=_by_id) is officers[0]:
        officers.append(f.officer(setting.authority))
    for officer in officers:
        officer.last_assigned_at = assigned
    expected = min(officers, key=_by_id)
    assert {routing.choose_officer(made).officer for _ in range(3)} == {expected}


def test_equal_officers_take_turns(setting: Setting) -> None:
    first = f.officer(setting.authority)
    second = f.officer(setting.authority)
    names = [f.referral(setting.org).named_officer for _ in range(4)]
    assert names[0] is not names[1] and names[:2] == names[2:]
    assert set(names) == {first, second}


# --- What routing records ------------------------------------------------------------------------


@time_machine.travel(MONDAY_10AM, tick=False)
def test_assignment_is_audited_with_the_reason(setting: Setting) -> None:
    officer = f.officer(setting.authority, specialisms=["offending_history"])
    made = f.referral(setting.org, support_needs=["offending_history"])
    assert made.status is S.ASSIGNED and made.named_officer is officer
    assert made.assigned_at == MONDAY_10AM
    (event,) = transitions(made)
    assert (event.from_status, event.to_status) == ("received", "assigned")
    assert event.actor_label == "system:routing"
    assert event.details["officer_id"] == str(officer.id)
    assert event.details["reason"] == "specialism offending_history; caseload 0/25"


@time_machine.travel(MONDAY_10AM, tick=False)
def test_assignment_updates_last_assigned_at(setting: Setting) -> None:
    officer = f.officer(setting.authority)
    other = f.officer(setting.authority, capacity=0)
    assert officer.last_assigned_at is None
    f.referral(setting.org)
    f.db.session.expire_all()
    assert officer.last_assigned_at == MONDAY_10AM
    assert other.last_assigned_at is None


@time_machine.travel(MONDAY_10AM, tick=False)
def test_none_eligible_goes_to_the_team_queue_with_the_counts(setting: Setting) -> None:
    f.officer(setting.authority, capacity=0)
    f.officer(setting.authority, capacity=0)
    away = f.officer(setting.authority)
    absent(away, TODAY, TODAY)
    made = f.referral(setting.org)
    assert made.status is S.UNASSIGNED and made.named_officer is None
    assert made.assigned_at is None
    (event,) = transitions(made)
    assert (event.from_status, event.to_status) == ("received", "unassigned")
    assert event.actor_label == "system:routing"
    assert event.details["reason"] == (
        "no eligible officer (3 considered: 1 absent, 2 at capacity): team queue")


def test_no_officers_at_all_goes_to_the_team_queue(setting: Setting, leader: User) -> None:
    made = f.referral(setting.org)
    assert made.status is S.UNASSIGNED and made.named_officer is None
    (event,) = transitions(made)
    assert event.details["reason"] == "no officers set up for this authority: team queue"


def test_choose_officer_changes_nothing(setting: Setting, leader: User) -> None:
    made = f.referral(setting.org)
    officer = f.officer(setting.authority, specialisms=["mental_health"])
    give(f.officer(setting.authority), leader, setting.org)
    f.db.session.flush()
    last = officer.last_assigned_at
    event_count = f.db.session.scalar(select(func.count(AuditEvent.id)))
    decision = routing.choose_officer(made)
    assert decision.officer is officer
    assert not f.db.session.new and not f.db.session.dirty
    assert officer.last_assigned_at == last
    assert (made.status, made.named_officer_id) == (S.UNASSIGNED, None)
    assert f.db.session.scalar(select(func.count(AuditEvent.id))) == event_count


# --- Routing again when an officer goes absent --------------------------------------------------


@pytest.fixture
def team(setting: Setting, leader: User) -> tuple[User, User]:
    """An officer with two assigned referrals, and a colleague with none."""
    going = f.officer(setting.authority, specialisms=["mental_health"])
    f.referral(setting.org)
    f.referral(setting.org)
    staying = f.officer(setting.authority)
    return going, staying


def today() -> date:
    return clock.today_in_london()


def _caseload(officer: User) -> list[Referral]:
    return list(f.db.session.scalars(
        select(Referral).where(Referral.named_officer_id == officer.id)))


@time_machine.travel(MONDAY_10AM, tick=False)
def test_absence_moves_assigned_referrals_to_an_eligible_officer(setting: Setting, leader: User,
                                                                  team: tuple[User, User]) -> None:
    going, staying = team
    held = _caseload(going)
    assert len(held) == 2 and all(r.status is S.ASSIGNED for r in held)
    _, moved = casework.record_absence(going, starts_on=TODAY, ends_on=TODAY + timedelta(days=4),
                                       by=leader, actor=audit.Actor.for_user(leader),
                                       reassign_open=True)
    assert set(moved) == set(held)
    for referral in held:
        assert referral.named_officer is staying and referral.status is S.ASSIGNED
        (event,) = events(referral, "referral.reassigned")
        assert event.actor_label == leader.email
        assert event.details["from_officer_id"] == str(going.id)
        assert event.details["officer_id"] == str(staying.id)
        assert event.details["reason"].startswith(f"{going.name} absent; caseload ")
    assert staying.last_assigned_at == MONDAY_10AM


def test_absence_spreads_the_caseload_by_load(setting: Setting, leader: User,
                                              team: tuple[User, User]) -> None:
    going, staying = team
    third = f.officer(setting.authority)
    held = _caseload(going)
    casework.record_absence(going, starts_on=today(), ends_on=today() + timedelta(days=4),
                            actor=f.ACTOR, reassign_open=True)
    assert {r.named_officer_id for r in held} == {staying.id, third.id}


def test_absence_without_reassign_moves_nothing(setting: Setting, team: tuple[User, User]) -> None:
    going, _ = team
    held = _caseload(going)
    _, moved = casework.record_absence(going, starts_on=today(), ends_on=today(),
                                       actor=f.ACTOR)
    assert moved == []
    assert all(r.named_officer is going and r.status is S.ASSIGNED for r in held)


def test_absence_starting_later_still_moves_work_away_now(setting: Setting,
                                                          team: tuple[User, User]) -> None:
    # The officer is not absent yet, and is the better match, but asked to move the work now,
    # routing must not give it straight back.
    going, staying = team
    held = _caseload(going)
    casework.record_absence(going, starts_on=date(2099, 1, 1), ends_on=date(2099, 1, 2),
                            actor=f.ACTOR, reassign_open=True)
    assert all(r.named_officer is staying for r in held)


def test_absence_sends_assigned_work_back_to_the_queue_when_nobody_is_free(
        setting: Setting, team: tuple[User, User]) -> None:
    going, staying = team
    staying.capacity = 0
    held = _caseload(going)
    casework.record_absence(going, starts_on=today(), ends_on=today(), actor=f.ACTOR,
                            reassign_open=True)
    for referral in held:
        assert referral.status is S.UNASSIGNED and referral.named_officer is None
        (event,) = [e for e in transitions(referral) if e.to_status == "unassigned"]
        assert event.from_status == "assigned"
        assert event.actor_label == f.ACTOR.label
        assert event.details["from_officer_id"] == str(going.id)
        assert event.details["reason"] == (
            f"{going.name} absent; no eligible officer "
            "(2 considered: 1 at capacity, 1 excluded): team queue")
    assert _caseload(going) == []


def test_absence_moves_accepted_work_with_its_status(setting: Setting,
                                                     team: tuple[User, User]) -> None:
    going, staying = team
    first, second = _caseload(going)
    casework.accept(first, going)
    transitions_before = len(transitions(first))
    casework.record_absence(going, starts_on=today(), ends_on=today(), actor=f.ACTOR,
                            reassign_open=True)
    assert first.status is S.ACCEPTED and first.named_officer is staying
    assert len(events(first, "referral.reassigned")) == 1
    assert len(transitions(first)) == transitions_before
    assert second.status is S.ASSIGNED and second.named_officer is staying


def test_absence_leaves_accepted_work_in_place_when_nobody_is_free(
        setting: Setting, team: tuple[User, User]) -> None:
    going, staying = team
    staying.active = False
    accepted, assigned = _caseload(going)
    casework.accept(accepted, going)
    transitions_before = len(transitions(accepted))
    casework.record_absence(going, starts_on=today(), ends_on=today(), actor=f.ACTOR,
                            reassign_open=True)
    assert accepted.status is S.ACCEPTED and accepted.named_officer is going
    assert len(transitions(accepted)) == transitions_before
    (needed,) = events(accepted, "referral.reassignment_needed")
    assert needed.details["reason"].startswith(f"{going.name} absent; no eligible officer")
    assert assigned.status is S.UNASSIGNED and assigned.named_officer is None


def test_absence_does_not_touch_finished_referrals(setting: Setting,
                                                   team: tuple[User, User]) -> None:
    going, staying = team
    finished, open_one = _caseload(going)
    casework.close(finished, going, outcome=Outcome.DUPLICATE)
    casework.record_absence(going, starts_on=today(), ends_on=today(), actor=f.ACTOR,
                            reassign_open=True)
    assert finished.status is S.CLOSED and finished.named_officer is going
    assert events(finished, "referral.reassigned") == []
    assert open_one.named_officer is staying
