"""A small, fully known set of referrals for the scrutiny figures, built row by row.

The rows are written directly (not through intake) so that every timestamp, status and message
is exactly what the test comments say; the deadlines still come from the real rule
(``deadlines.contact_due_by``). January 2026: London time is UTC, and 1 January is the only bank
holiday nearby. "Now" for the figures is Tuesday 20 January 2026, 12:00.

Authority A (E07000241), period Monday 5 to Sunday 18 January 2026:

ref: agency, situation; received (London); due (the rule); first attempt; contact made; end
- R0: probation, threatened; Sun 4 Jan 12:00 (before the period); open, assigned to Ada
- R1: probation, threatened; Mon 5 Jan 10:00; due Wed 7 17:00; attempt Mon 5 11:00;
  contact Tue 6 10:00; closed prevention_duty Tue 6 12:00
- R2: probation, homeless; Mon 5 Jan 18:00; due Thu 8 17:00; contact (the first attempt too)
  Tue 6 09:30; open (contacted), Ada
- R3: hospital ED, homeless, urgent; Sat 10 Jan 12:00; due Mon 12 10:00; attempt Thu 15 10:00;
  closed no_contact Fri 16 12:00
- R4: jobcentre, threatened; Tue 13 Jan 09:00; due Thu 15 17:00; open (assigned), Ada
- R5: probation, threatened; Wed 14 Jan 11:00; due Fri 16 17:00; withdrawn Wed 14 12:00
- R6: hospital ED, threatened; Thu 15 Jan 14:00; due Mon 19 17:00; closed duplicate Thu 15 15:00

R5 is R1's person again (same NHS number, name and date of birth); R6 is R4's person, linked to
R4 as a possible duplicate and confirmed. Authority B (E07000242) has one referral, RB, from
probation on Wed 7 Jan 10:00, assigned to its officer Cai.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from referral_service.domain import deadlines
from referral_service.extensions import db
from referral_service.models import (
    Audience,
    Authority,
    Channel,
    DuplicateDecision,
    HousingSituation,
    MessageStatus,
    Organisation,
    OrganisationType,
    OutboxMessage,
    Outcome,
    PossibleDuplicate,
    Referral,
    ReferralSource,
    ReferralStatus,
    Role,
    User,
)

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
_refs = itertools.count(1)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


@dataclass
class Fixture:
    a: Authority
    b: Authority
    referrals: dict[str, Referral]
    leader_a: User
    admin: User


PERSON_1 = {"person_first_name": "Aoife", "person_last_name": "O'Neill",
            "person_name_key": "aoife oneill", "person_nhs_number": "9434765919",
            "person_date_of_birth": datetime(1990, 4, 1).date()}
PERSON_4 = {"person_first_name": "Bob", "person_last_name": "Jones",
            "person_name_key": "bob jones", "person_nhs_number": None,
            "person_date_of_birth": datetime(1985, 6, 2).date()}


def _referral(authority: Authority, org: Organisation, received: datetime, *,
              officer: User | None, status: ReferralStatus, urgent: bool = False,
              situation: HousingSituation = HousingSituation.THREATENED_WITH_HOMELESSNESS,
              person: dict[str, Any] | None = None, **columns: Any) -> Referral:
    n = next(_refs)
    who = person or {"person_first_name": f"Person{n}", "person_last_name": "Fixture",
                     "person_name_key": f"person{n} fixture", "person_nhs_number": None,
                     "person_date_of_birth": None}
    referral = Referral(
        reference=f"DTR-FX{n:04d}", status=status, authority_id=authority.id,
        referring_organisation_id=org.id, named_officer_id=officer.id if officer else None,
        referrer_name="Sam Patel", referrer_email="sam.patel@probation.example",
        consent_given=True, housing_situation=situation, reason="Fixture reason.",
        urgent=urgent, received_at=received,
        contact_due_by=deadlines.contact_due_by(received, urgent=urgent), **who, **columns)
    db.session.add(referral)
    return referral


def _message(referral: Referral, channel: Channel, status: MessageStatus) -> None:
    db.session.add(OutboxMessage(
        referral_id=referral.id, channel=channel, audience=Audience.APPLICANT,
        event="fixture", template="fixture", to_address="07700900123", body="Fixture.",
        status=status, created_at=referral.received_at, not_before=referral.received_at))


def build() -> Fixture:
    S = ReferralStatus
    a = Authority(code="E07000241", name="Welwyn Hatfield")
    b = Authority(code="E07000242", name="East Herts")
    probation = Organisation(name="Probation Service – Kent", type=OrganisationType.PROBATION)
    hospital = Organisation(name="Lister Hospital ED",
                            type=OrganisationType.HOSPITAL_EMERGENCY_DEPARTMENT)
    jobcentre = Organisation(name="Jobcentre Plus Welwyn", type=OrganisationType.JOBCENTRE)
    db.session.add_all([a, b, probation, hospital, jobcentre])
    db.session.flush()
    ada = User(email="ada@a.example", name="Ada Officer", role=Role.OFFICER, authority_id=a.id,
               capacity=10)
    ben = User(email="ben@a.example", name="Ben Officer", role=Role.OFFICER, authority_id=a.id,
               capacity=5)
    gone = User(email="gone@a.example", name="Gone Officer", role=Role.OFFICER,
                authority_id=a.id, capacity=5, active=False)
    cai = User(email="cai@b.example", name="Cai Officer", role=Role.OFFICER, authority_id=b.id,
               capacity=25)
    leader_a = User(email="lead@a.example", name="Lee Leader", role=Role.TEAM_LEADER,
                    authority_id=a.id)
    admin = User(email="admin@example.org", name="Ann Admin", role=Role.ADMIN)
    db.session.add_all([ada, ben, gone, cai, leader_a, admin])
    db.session.flush()

    r: dict[str, Referral] = {}
    r["R0"] = _referral(a, probation, at(4, 12), officer=ada, status=S.ASSIGNED)
    r["R1"] = _referral(a, probation, at(5, 10), officer=ada, status=S.CLOSED, person=PERSON_1,
                        first_contact_attempt_at=at(5, 11), contacted_at=at(6, 10),
                        closed_at=at(6, 12), outcome=Outcome.PREVENTION_DUTY)
    r["R2"] = _referral(a, probation, at(5, 18), officer=ada, status=S.CONTACTED,
                        situation=HousingSituation.HOMELESS,
                        first_contact_attempt_at=at(6, 9, 30), contacted_at=at(6, 9, 30))
    r["R3"] = _referral(a, hospital, at(10, 12), officer=ada, status=S.CLOSED, urgent=True,
                        source=ReferralSource.API,
                        situation=HousingSituation.HOMELESS,
                        first_contact_attempt_at=at(15, 10), closed_at=at(16, 12),
                        outcome=Outcome.NO_CONTACT)
    r["R4"] = _referral(a, jobcentre, at(13, 9), officer=ada, status=S.ASSIGNED,
                        person=PERSON_4, source=ReferralSource.PHONE, keyed_in_by_id=ada.id,
                        keyed_in_at=at(13, 9))
    r["R5"] = _referral(a, probation, at(14, 11), officer=ada, status=S.WITHDRAWN,
                        person=PERSON_1, closed_at=at(14, 12))
    r["R6"] = _referral(a, hospital, at(15, 14), officer=ada, status=S.CLOSED, person=PERSON_4,
                        closed_at=at(15, 15), outcome=Outcome.DUPLICATE)
    r["RB"] = _referral(b, probation, at(7, 10), officer=cai, status=S.ASSIGNED)
    db.session.flush()
    db.session.add(PossibleDuplicate(referral_id=r["R6"].id, existing_referral_id=r["R4"].id,
                                     matched_on=["name_and_date_of_birth"],
                                     decision=DuplicateDecision.CONFIRMED))
    M = MessageStatus
    for ref, channel, status in (
        ("R1", Channel.SMS, M.DELIVERED), ("R1", Channel.SMS, M.FAILED),
        ("R1", Channel.EMAIL, M.SENT), ("R2", Channel.SMS, M.DELIVERED),
        ("R2", Channel.EMAIL, M.SENT), ("R2", Channel.EMAIL, M.FAILED),
        ("R3", Channel.SMS, M.SUPPRESSED), ("R3", Channel.EMAIL, M.QUEUED),
        # Outside the cohort: another authority's referral, and one before the period.
        ("RB", Channel.SMS, M.FAILED), ("R0", Channel.EMAIL, M.FAILED),
    ):
        _message(r[ref], channel, status)
    db.session.flush()
    return Fixture(a=a, b=b, referrals=r, leader_a=leader_a, admin=admin)
