"""Believable demo data: two councils, partners of several kinds, panels, and a week of casework.

Every record goes through the same domain operations as real work (validation, routing,
deadlines, audit), with the clock moved back so the history reads like a real week. Names are
invented; phone numbers are Ofcom drama numbers and emails use example domains.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from notifications import expansion
from referral_service import clock
from referral_service.demo_sharing import add_shares
from referral_service.domain import (
    admin,
    audit,
    branding,
    casework,
    clients,
    consent,
    external_transfers,
    intake,
    keyed_in,
)
from referral_service.extensions import db
from referral_service.models import (
    Authority,
    ConsentScope,
    ContactAttemptResult,
    ContactChannel,
    MessageStatus,
    Organisation,
    OutboxMessage,
    Outcome,
    Referral,
    User,
    WithdrawalReason,
)
from referral_service.schemas.keyed_in import KeyedInSubmissionSchema
from referral_service.schemas.referral import ReferralSubmissionSchema

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105  (printed for the demo; never in production)
ACTOR = audit.Actor.system("demo")

AUTHORITIES: list[dict[str, Any]] = [
    {"code": "E07000241", "name": "Welwyn Hatfield", "team_phone": "01632 960100",
     "team_email": "housing.options@welhat.example"},
    {"code": "E07000242", "name": "East Hertfordshire", "team_phone": "01632 960200",
     "team_email": "housing@eastherts.example"},
    {"code": "E07000243", "name": "Stevenage", "participating": False},
]
# What each council's staff see in the header, titles and footer (never GOV.UK's branding).
BRANDING: dict[str, dict[str, str]] = {
    "E07000241": {"display_name": "Welwyn Hatfield Borough Council",
                  "accessibility_url": "https://www.welhat.example/accessibility",
                  "privacy_url": "https://www.welhat.example/privacy/housing",
                  "contact_url": "https://www.welhat.example/contact-housing"},
    "E07000242": {"display_name": "East Hertfordshire District Council",
                  "accessibility_url": "https://www.eastherts.example/accessibility",
                  "privacy_url": "https://www.eastherts.example/privacy"},
}
ORGANISATIONS = [
    ("Probation Service – Hertfordshire", "probation", None),
    ("HMP The Mount", "prison", None),
    ("Lister Hospital Emergency Department", "hospital_emergency_department", "RWH"),
    ("QEII Hospital Inpatient Wards", "hospital_inpatient", "RWH01"),
    ("Hertfordshire Adult Care Services", "adult_social_care", None),
    ("Jobcentre Plus Hatfield", "jobcentre", None),
    ("Hertfordshire MARAC", "marac", None),
    ("Hertfordshire MAPPA", "mappa", None),
]
# (email, name, role, authority or organisation, specialisms, patches, capacity)
PEOPLE: list[tuple[str, str, str, str, str, str, int | None]] = [
    ("jo.smith@welhat.example", "Jo Smith", "officer", "E07000241",
     "offending_history,prison_release", "AL7,AL8", 25),
    ("priya.shah@welhat.example", "Priya Shah", "officer", "E07000241",
     "domestic_abuse,mental_health,sexual_exploitation", "", 20),
    ("tom.evans@welhat.example", "Tom Evans", "officer", "E07000241",
     "hospital_discharge,physical_health,old_age", "AL10", 2),
    ("alex.green@welhat.example", "Alex Green", "officer", "E07000241",
     "rough_sleeping,drug_dependency,alcohol_dependency", "", 30),
    ("morgan.hughes@welhat.example", "Morgan Hughes", "team_leader", "E07000241", "", "", None),
    ("sam.okafor@eastherts.example", "Sam Okafor", "officer", "E07000242",
     "care_leaver,young_person", "SG", 3),
    ("chris.adeyemi@eastherts.example", "Chris Adeyemi", "officer", "E07000242", "", "", 15),
    ("dana.clarke@eastherts.example", "Dana Clarke", "team_leader", "E07000242", "", "", None),
    ("sam.patel@probation.example", "Sam Patel", "partner", "Probation Service – Hertfordshire",
     "", "", None),
    ("ward.coordinator@nhs.example", "Lee Morgan", "partner", "QEII Hospital Inpatient Wards",
     "", "", None),
    ("ed.nurse@nhs.example", "Ade Bello", "partner", "Lister Hospital Emergency Department",
     "", "", None),
    ("social.worker@hertscc.example", "Kim Walsh", "partner", "Hertfordshire Adult Care Services",
     "", "", None),
    ("work.coach@dwp.example", "Pat Byrne", "partner", "Jobcentre Plus Hatfield", "", "", None),
    ("marac.lead@herts.example", "Rowan Ellis", "panel_lead", "Hertfordshire MARAC", "", "", None),
    ("mappa.lead@herts.example", "Jordan Reid", "panel_lead", "Hertfordshire MAPPA", "", "", None),
    ("admin@council.example", "Demo Administrator", "admin", "", "", "", None),
]


@dataclass
class DemoSummary:
    logins: list[tuple[str, str]] = field(default_factory=list)
    referrals: dict[str, int] = field(default_factory=dict)
    # A partner API client for the probation service, so the API can be tried at once.
    api_client_id: str = ""
    api_client_secret: str = ""


def _payload(authority_code: str, referrer: tuple[str, str | None],
             schema: ReferralSubmissionSchema | None = None, **overrides: Any) -> dict[str, Any]:
    person = {
        "first_name": "Aoife", "last_name": "O'Neill", "date_of_birth": "1990-04-01",
        "phone": "07700 900123", "email": None,
        "address": {"line1": "Flat 2", "line2": "1 High Street", "town": "Welwyn Garden City",
                    "postcode": "AL8 6AB"},
        "preferred_contact_method": "sms",
        "safe_contact": {"sms": True, "voicemail": False, "email": False, "letter": False,
                         "instructions": "Do not leave messages with anyone else"},
    }
    person.update(overrides.pop("person", {}))
    payload = {
        "authority_code": authority_code,
        "referrer": {"name": referrer[0], "email": referrer[1], "job_title": "Caseworker"},
        # Consent is recorded with its time: the referrer asked the person just before sending.
        "consent": {"given": True, "notes": "Agreed to the referral and to this council.",
                    "recorded_at": (clock.now() - timedelta(minutes=20)).isoformat()},
        "person": person,
        "housing_situation": "threatened_with_homelessness",
        "reason": "Section 21 notice served; the tenancy ends in four weeks.",
        "support_needs": [],
    }
    payload.update(overrides)
    return (schema or ReferralSubmissionSchema()).load(payload)


def load_demo_data() -> DemoSummary:
    """Add the demo story to an empty, migrated database and commit it."""
    summary = DemoSummary()
    for spec in AUTHORITIES:
        admin.create_authority(actor=ACTOR, **spec)
    for code, settings in BRANDING.items():
        branding.set_authority_branding(code=code, actor=ACTOR, **settings)
    orgs: dict[str, Organisation] = {}
    for name, org_type, ods in ORGANISATIONS:
        orgs[name] = admin.create_organisation(name=name, type=org_type, ods_code=ods,
                                               actor=ACTOR).record
    users: dict[str, User] = {}
    for email, name, role, home, specialisms, patches, capacity in PEOPLE:
        at_authority = role in {"officer", "team_leader"}
        users[email] = admin.create_user(
            email=email, name=name, role=role,
            authority_code=home if at_authority else None,
            organisation_name=home if role in {"partner", "panel_lead"} else None,
            specialisms=[s for s in specialisms.split(",") if s],
            patches=[p for p in patches.split(",") if p],
            capacity=capacity, password=DEMO_PASSWORD, actor=ACTOR).record
        summary.logins.append((role, email))

    now = clock.now()
    casework.record_absence(users["alex.green@welhat.example"],
                            starts_on=(now - timedelta(days=1)).date(),
                            ends_on=(now + timedelta(days=6)).date(),
                            reason="annual leave", actor=ACTOR)

    def submit(org: str, partner: str, hours_ago: float, authority: str = "E07000241",
               **overrides: Any) -> Referral:
        user = users[partner]
        with clock.travel(now - timedelta(hours=hours_ago)):
            made = intake.receive_referral(
                _payload(authority, (user.name, user.email), **overrides),
                organisation=orgs[org], actor=audit.Actor.for_user(user),
                submitted_by_user_id=user.id)
            _expand_events()
            return made

    def later(hours_ago: float, action: Any, *args: Any, **kwargs: Any) -> Any:
        with clock.travel(now - timedelta(hours=hours_ago)):
            done = action(*args, **kwargs)
            _expand_events()
            return done

    probation, prison = "Probation Service – Hertfordshire", "HMP The Mount"
    ed, ward = "Lister Hospital Emergency Department", "QEII Hospital Inpatient Wards"
    care, jobcentre = "Hertfordshire Adult Care Services", "Jobcentre Plus Hatfield"
    sam, lee = "sam.patel@probation.example", "ward.coordinator@nhs.example"
    ade, kim = "ed.nurse@nhs.example", "social.worker@hertscc.example"
    pat = "work.coach@dwp.example"

    # 1. Released from prison last week, helped to keep a room: closed with a prevention duty.
    r1 = submit(probation, sam, 150, person={"first_name": "Daniel", "last_name": "Hughes",
                "date_of_birth": "1985-02-11", "phone": "07700 900201"},
                support_needs=["offending_history"], agency_reference="PRB-55121",
                release_or_discharge_date=(now - timedelta(days=5)).date().isoformat(),
                reason="Released on licence; approved premises place ends on Friday.")
    jo = users["jo.smith@welhat.example"]
    later(148, casework.accept, r1, jo)
    later(147, casework.record_contact_attempt, r1, jo, channel=ContactChannel.PHONE,
          result=ContactAttemptResult.NO_ANSWER)
    later(125, casework.record_contact_made, r1, jo, channel=ContactChannel.PHONE)
    later(30, casework.close, r1, jo, outcome=Outcome.PREVENTION_DUTY,
          notes="Prevention duty accepted; PHP agreed.")

    # 2. Hospital discharge in two days: urgent, to the hospital-discharge specialist.
    r2 = submit(ward, lee, 50, person={"first_name": "Margaret", "last_name": "Dunn",
                "date_of_birth": "1948-09-30", "phone": "07700 900202",
                "address": {"line1": "12 Parkway", "town": "Hatfield", "postcode": "AL10 0AA"}},
                support_needs=["physical_health", "old_age"],
                release_or_discharge_date=(now + timedelta(days=2)).date().isoformat(),
                reason="Cannot return home: stairs unsafe after a fall; landlord will not adapt.")
    tom = users["tom.evans@welhat.example"]
    later(49, casework.accept, r2, tom)
    later(48, casework.record_contact_attempt, r2, tom, channel=ContactChannel.PHONE,
          result=ContactAttemptResult.LEFT_MESSAGE)

    # 3. The same person referred again by the ED: linked as a possible duplicate, not merged.
    submit(ed, ade, 20, person={"first_name": "margaret", "last_name": "DUNN",
           "date_of_birth": "1948-09-30", "phone": "07700 900202"},
           support_needs=["physical_health"], reason="Attended ED after a fall; no safe home.")

    # 4. Domestic abuse, MARAC flagged: to the officer with that specialism, accepted.
    r4 = submit(care, kim, 30, person={"first_name": "Leah", "last_name": "Brown",
                "date_of_birth": "1996-07-14", "phone": "07700 900204",
                "safe_contact": {"sms": True, "instructions": "Only text; never call after 6pm"}},
                housing_situation="homeless", support_needs=["domestic_abuse"],
                risk={"marac": True, "details": "Perpetrator knows the current address."},
                reason="Fled the family home; staying with a friend for two nights only.")
    later(28, casework.accept, r4, users["priya.shah@welhat.example"])

    # 5. Rough sleeping tonight: same-day deadline; the specialist is on leave, so someone else.
    submit(ed, ade, 2, person={"first_name": "Kyle", "last_name": "Foster",
           "date_of_birth": "1999-12-02", "phone": "07700 900205", "address": None},
           housing_situation="homeless", at_risk_of_rough_sleeping_tonight=True,
           support_needs=["rough_sleeping", "alcohol_dependency"],
           reason="Slept in a car park last night; nowhere to go after discharge from ED.")

    # 6. Contact made, outcome not yet decided.
    r6 = submit(jobcentre, pat, 75, person={"first_name": "Nadia", "last_name": "Rahman",
                "date_of_birth": "1988-03-21", "phone": "07700 900206",
                "address": {"line1": "4 Moors Walk", "town": "Welwyn Garden City",
                            "postcode": "AL7 1AA"}},
                support_needs=["budgeting_debt"],
                reason="Rent arrears after a benefit change; possession hearing next month.")
    later(72, casework.accept, r6, r6.named_officer)
    later(70, casework.record_contact_made, r6, r6.named_officer, channel=ContactChannel.PHONE)
    # On the call the person asked for no more texts (their partner reads their phone): the
    # officer records the withdrawal of consent to texts; the referral stays open.
    later(69, consent.withdraw_by_officer, r6, by=r6.named_officer, scope=ConsentScope.TEXTS,
          reason=WithdrawalReason.PERSON_WITHDREW, notes="Partner reads their phone.")

    # 7. Withdrawn by the referrer: the person found a room with family.
    r7 = submit(jobcentre, pat, 40, person={"first_name": "Owen", "last_name": "Price",
                "date_of_birth": "1979-05-05", "phone": "07700 900207"},
                reason="Lodger arrangement ending this month.")
    later(20, casework.withdraw, r7, organisation=orgs[jobcentre],
          actor=audit.Actor.for_user(users[pat]), reason="Moved in with family.")

    # 8. Transferred to East Hertfordshire (local connection): a linked referral is made there.
    r8 = submit(probation, sam, 60, person={"first_name": "Ravi", "last_name": "Kumar",
                "date_of_birth": "1992-08-19", "phone": "07700 900208",
                "address": {"line1": "9 Fore Street", "town": "Hertford",
                            "postcode": "SG14 1AA"}},
                support_needs=["offending_history"],
                reason="Hostel place ends; family and work are in Hertford.")
    leader = users["morgan.hughes@welhat.example"]
    eh = db.session.scalar(db.select(Authority).where(Authority.code == "E07000242"))
    later(55, casework.transfer, r8, eh, leader, reason="Local connection to East Herts.",
          person_agreed=True)

    # 9. Transferred to a council that does not take referrals here (Luton): its housing
    # options team was emailed a one-time link, opened it and marked the referral received.
    r9 = submit(prison, sam, 90, person={"first_name": "Gary", "last_name": "Wells",
                "date_of_birth": "1975-01-30", "phone": "07700 900209"},
                support_needs=["offending_history"],
                release_or_discharge_date=(now + timedelta(days=20)).date().isoformat(),
                reason="Release in three weeks; no address to go to.")
    luton = external_transfers.destination("Luton Borough Council", "E06000032",
                                           "housing.options@luton.gov.uk")
    moved = later(80, external_transfers.transfer, r9, luton, leader,
                  reason="Person chose Luton instead: his brother lives there.",
                  person_agreed=True)
    later(60, external_transfers.view, moved, None)
    later(58, external_transfers.mark_received, moved, "Ravi Shah", None)

    # 10. No contact after repeated attempts: closed.
    r10 = submit(care, kim, 140, person={"first_name": "Ben", "last_name": "Carter",
                 "date_of_birth": "1983-10-10", "phone": "07700 900210"},
                 support_needs=["mental_health"], reason="Eviction notice after arrears.")
    later(139, casework.accept, r10, r10.named_officer)
    for hours in (138, 110, 80):
        later(hours, casework.record_contact_attempt, r10, r10.named_officer,
              channel=ContactChannel.PHONE, result=ContactAttemptResult.NO_ANSWER)
    later(10, casework.close, r10, r10.named_officer, outcome=Outcome.NO_CONTACT,
          notes="Three calls and a letter; referrer told.")

    # 11 to 14. East Hertfordshire: a care leaver to the specialist, then a full team so the last
    # referral waits in the team queue for someone to claim it.
    casework.record_absence(users["chris.adeyemi@eastherts.example"],
                            starts_on=(now - timedelta(days=2)).date(),
                            ends_on=(now + timedelta(days=3)).date(),
                            reason="sickness", actor=ACTOR)
    for index, (first, last, needs) in enumerate([
        ("Tia", "Morris", ["care_leaver", "young_person"]),
        ("Josh", "Reed", ["young_person"]),
        ("Ellie", "Ward", []),
        ("Marcus", "Lee", ["drug_dependency"]),
    ]):
        submit(probation, sam, 12 - index * 2, authority="E07000242",
               person={"first_name": first, "last_name": last,
                       "date_of_birth": f"200{index}-06-1{index}",
                       "phone": f"07700 90030{index}",
                       "address": {"line1": f"{index + 1} Station Road",
                                   "town": "Bishop's Stortford", "postcode": "CM23 3AA"}},
               support_needs=needs, reason="Asked to leave the family home.")

    # 15. Another at Welwyn Hatfield waiting for acceptance; due out in nine days, so on the team
    # leaders' "Upcoming releases" page with contact not yet made.
    submit(prison, sam, 5, person={"first_name": "Stefan", "last_name": "Novak",
           "date_of_birth": "1994-11-11", "phone": "07700 900215"},
           support_needs=["offending_history"],
           release_or_discharge_date=(now + timedelta(days=9)).date().isoformat(),
           reason="Release in nine days; previous tenancy lost while in custody.")

    # 16. A phone call from a prison not on the service, keyed in by the duty officer (issue
    # 15.4): the same intake, its source recorded, no email for the referrer so no
    # acknowledgement (the suppressed message says why on the timeline).
    with clock.travel(now - timedelta(hours=3)):
        keyed_in.key_in(
            _payload("E07000241", ("Dev Mistry", None), schema=KeyedInSubmissionSchema(),
                     person={"first_name": "Callum", "last_name": "Reid",
                             "date_of_birth": "1990-02-14", "phone": "07700 900216"},
                     support_needs=["offending_history"],
                     release_or_discharge_date=(now + timedelta(days=4)).date().isoformat(),
                     reason="Phoned in by the prison's resettlement team: release in four days, "
                            "no address."),
            {"channel": "phone", "organisation_id": None,
             "organisation_name": "HMP Bedford", "organisation_type": "prison"},
            officer=jo, actor=audit.Actor.for_user(jo))

    # MARAC and MAPPA: case 4 shared with the MARAC, a MAPPA case shared with the MAPPA panel.
    add_shares(users=users, orgs=orgs, marac_case=r4, submit=submit, later=later)

    issued = clients.create_client(organisation_name=probation,
                                   scopes=["referrals:write", "referrals:read"],
                                   name="Demo case-management system", actor=ACTOR)
    summary.api_client_id = issued.client.client_id
    summary.api_client_secret = issued.client_secret or ""

    _expand_events()
    db.session.commit()
    _settle_backdated_messages(now)
    for referral in db.session.scalars(db.select(Referral)):
        summary.referrals[referral.status.value] = summary.referrals.get(
            referral.status.value, 0) + 1
    return summary


def _expand_events() -> None:
    """Expand the story's events at the time they happen in it (the worker would have, then):
    its messages and reminders are written under the travelled clock, as they were."""
    db.session.flush()
    expansion.expand_pending(commit=False)


def _settle_backdated_messages(now: datetime) -> None:
    """The story's earlier messages went out at the time, in its fiction: show them delivered
    (through the development outbox) rather than queued days late and then expired."""
    backdated = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == MessageStatus.QUEUED)
        .where(OutboxMessage.created_at < now - timedelta(minutes=5)))
    for message in backdated:
        message.status = MessageStatus.DELIVERED
        message.provider_status = "delivered"
        message.provider_id = f"dev-{message.id}"
        message.sent_at = message.enqueued_at = message.not_before
    db.session.commit()
