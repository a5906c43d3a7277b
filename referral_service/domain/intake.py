"""Receiving a referral: from validated input to a stored, deadlined, routed case.

The input is what ``ReferralSubmissionSchema`` loads; the referring organisation comes from who
is calling (the API client's or the signed-in referrer's organisation), never from the payload.
"""
from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import bindparam, event, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from referral_service import clock, rowbatch
from referral_service.domain import (
    audit,
    consent,
    deadlines,
    duplicates,
    events,
    lifecycle,
    routing,
)
from referral_service.domain.errors import DomainError, ValidationFailed
from referral_service.domain.references import new_reference
from referral_service.extensions import db
from referral_service.models import (
    Authority,
    EventType,
    HousingSituation,
    Organisation,
    Referral,
    ReferralSource,
    ReferralStatus,
    User,
)

# Participating authorities, per process: every referral names one, and they change a few
# times a year. An entry lives AUTHORITY_CACHE_SECONDS, and any insert, update or delete of an
# authority through the ORM in this process empties the cache at once. The one change in
# behaviour: an authority withdrawn (or renamed) by another process (``referrals authority``
# on another machine) is still accepted by this one for up to that long.
AUTHORITY_CACHE_SECONDS = 30.0
_authorities: dict[str, tuple[float, dict[str, Any]]] = {}
_BY_CODE = select(Authority).where(Authority.code == bindparam("code"))


def participating_authority(code: str) -> Authority:
    wanted = code.strip().upper()
    authority = _cached_authority(wanted)
    if authority is None:
        authority = db.session.scalar(_BY_CODE, {"code": wanted})
        if authority is not None:
            _authorities[wanted] = (time.monotonic() + AUTHORITY_CACHE_SECONDS, {
                attr.key: getattr(authority, attr.key)
                for attr in sa_inspect(Authority).column_attrs})
    if authority is None or not authority.participating:
        raise ValidationFailed(
            {"authority_code": [
                f"No participating housing authority has the code '{code}'. "
                "GET /api/v1/authorities lists the codes."
            ]}
        )
    return authority


def _cached_authority(code: str) -> Authority | None:
    """The cached authority as a persistent object of this session, without a query."""
    hit = _authorities.get(code)
    if hit is None or hit[0] < time.monotonic():
        return None
    values = hit[1]
    # Already in this session (perhaps with changes not yet flushed): that object, as it is.
    present = db.session.identity_map.get(db.session.identity_key(Authority, values["id"]))
    if present is not None:
        return present
    authority = Authority(**values)
    make_transient_to_detached(authority)
    db.session.add(authority)
    return authority


@event.listens_for(Authority, "after_insert")
@event.listens_for(Authority, "after_update")
@event.listens_for(Authority, "after_delete")
def _forget_authorities(*_: object) -> None:
    _authorities.clear()


def policy_for(authority: Authority) -> deadlines.DeadlinePolicy:
    return deadlines.DeadlinePolicy(
        working_days=authority.contact_working_days, due_time=authority.contact_due_time,
        release_days_before=authority.release_days_before,
    )


def receive_referral(
    data: dict[str, Any],
    *,
    organisation: Organisation,
    actor: audit.Actor,
    submitted_by_user_id: uuid.UUID | None = None,
    submitted_by_client_id: str | None = None,
    transferred_from: Referral | None = None,
    check_reference: bool = True,
    source: ReferralSource | None = None,
    keyed_in_by: User | None = None,
) -> Referral:
    """Store a new referral, link possible duplicates and route it. Flushes; the caller commits.

    ``source``: how it arrived; by default ``transfer``, ``api`` (an API client) or ``web``. A
    referral keyed in by an officer (``domain/keyed_in.py``) names its channel and the officer.

    ``check_reference=False``: the new reference is not looked up first; a caller that passes it
    rolls back and retries when ``references.is_reference_taken`` (the API does)."""
    if organisation.type.is_panel:
        raise DomainError(
            "MARAC and MAPPA panels receive shared cases; they do not make referrals."
        )
    authority = participating_authority(data["authority_code"])
    if source is None:
        source = (ReferralSource.TRANSFER if transferred_from is not None
                  else ReferralSource.API if submitted_by_client_id else ReferralSource.WEB)
    with rowbatch.collecting():
        referral = _receive(data, authority, organisation, actor, submitted_by_user_id,
                            submitted_by_client_id, transferred_from, check_reference, source,
                            keyed_in_by)
    # After the batch is written (the event's foreign key names the referral).
    events.record(referral, EventType.RECEIVED, officer_id=referral.named_officer_id,
                  queued=referral.named_officer_id is None, urgent=referral.urgent,
                  transferred_from_id=transferred_from.id if transferred_from else None)
    return referral


def _receive(data: dict[str, Any], authority: Authority, organisation: Organisation,
             actor: audit.Actor, submitted_by_user_id: uuid.UUID | None,
             submitted_by_client_id: str | None, transferred_from: Referral | None,
             check_reference: bool, source: ReferralSource,
             keyed_in_by: User | None) -> Referral:
    received_at = clock.now()
    referral = Referral(
        reference=new_reference(check=check_reference),
        authority=authority,
        referring_organisation=organisation,
        submitted_by_user_id=submitted_by_user_id,
        submitted_by_client_id=submitted_by_client_id,
        transferred_from_id=transferred_from.id if transferred_from is not None else None,
        received_at=received_at,
        source=source,
        keyed_in_by_id=keyed_in_by.id if keyed_in_by is not None else None,
        keyed_in_at=received_at if keyed_in_by is not None else None,
        **_columns_from(data),
    )
    batch = rowbatch.current()
    assert batch is not None  # receive_referral's
    # Written at the end, with everything about it. Its id, foreign keys and the model's
    # defaults are set now: routing and duplicate look-ups read them before anything is written.
    batch.add_object(referral)
    referral.urgent = deadlines.is_urgent(
        at_risk_of_rough_sleeping_tonight=referral.at_risk_of_rough_sleeping_tonight,
        release_or_discharge_date=referral.release_or_discharge_date,
        received_at=received_at,
    )
    referral.contact_due_by = deadlines.contact_due_by(
        received_at, urgent=referral.urgent, policy=policy_for(authority),
        release_or_discharge_date=referral.release_or_discharge_date,
    )
    consent.record_at_intake(referral, data["consent"], recorded_by_name=referral.referrer_name,
                             organisation=organisation, user_id=submitted_by_user_id,
                             client_id=submitted_by_client_id)
    audit.record(
        actor,
        "referral.received",
        subject_type="referral",
        subject_id=referral.id,
        referral=referral,
        to_status=ReferralStatus.RECEIVED.value,
        authority=authority.code,
        organisation_type=organisation.type.value,
        urgent=referral.urgent,
        contact_due_by=referral.contact_due_by.isoformat(),
        transferred_from=transferred_from.reference if transferred_from is not None else None,
        source=source.value,
    )
    # Routed before anything is written, so the referral is written once, with its status,
    # together with its audit events (``rowbatch``). Its messages and reminders are the worker's
    # expansion of the one event receive_referral records.
    with db.session.no_autoflush:
        duplicates.link_possible_duplicates(referral, actor)
        route(referral)
    return referral


def route(referral: Referral) -> routing.RoutingDecision:
    """Name an officer, or put the referral in the team queue, with the reason audited."""
    decision = routing.choose_officer(referral)
    system = audit.Actor.system("routing")
    if decision.officer is None:
        # Part of receiving it: the one event is ``referral.received`` (queued), not a second.
        lifecycle.transition(referral, ReferralStatus.UNASSIGNED, system, record_event=False,
                             reason=decision.reason)
    else:
        assign(referral, decision, system)
    return decision


def assign(referral: Referral, decision: routing.RoutingDecision, actor: audit.Actor,
           ) -> None:
    """Name ``decision.officer``. The caller records the event (``referral.received`` when
    receiving, ``referral.assigned`` otherwise)."""
    officer = decision.officer
    assert officer is not None
    referral.named_officer = officer
    batch = rowbatch.current()
    if batch is None:
        officer.last_assigned_at = clock.now()
    else:  # receiving: the UPDATE goes with the referral's INSERT
        now = clock.now()
        set_committed_value(officer, "last_assigned_at", now)
        batch.update(User, officer.id, {"last_assigned_at": now})
    lifecycle.transition(
        referral, ReferralStatus.ASSIGNED, actor, officer_id=str(officer.id), reason=decision.reason
    )


def _columns_from(data: dict[str, Any]) -> dict[str, Any]:
    """Flatten the loaded payload onto the referral's columns. What the payload leaves out
    (None) is left out here too: the model's default applies (``language`` "en", flags False)."""
    referrer = data["referrer"]
    consent = data["consent"]
    person = data["person"]
    address = person.get("address") or {}
    safe = person.get("safe_contact") or {}
    risk = data.get("risk") or {}
    household = data.get("household")
    support_needs = data.get("support_needs")
    columns = {
        "referrer_name": referrer["name"],
        "referrer_job_title": referrer.get("job_title"),
        "referrer_team": referrer.get("team"),
        "referrer_email": referrer.get("email"),
        "referrer_phone": referrer.get("phone"),
        "consent_given": consent["given"],
        "consent_recorded_at": consent.get("recorded_at"),
        "consent_notes": consent.get("notes"),
        "person_first_name": person["first_name"],
        "person_last_name": person["last_name"],
        "person_name_key": duplicates.name_key(person["first_name"], person["last_name"]),
        "person_date_of_birth": person.get("date_of_birth"),
        "person_nhs_number": person.get("nhs_number"),
        "person_phone": person.get("phone"),
        "person_email": person.get("email"),
        "address_line1": address.get("line1"),
        "address_line2": address.get("line2"),
        "address_town": address.get("town"),
        "address_postcode": address.get("postcode"),
        "no_fixed_abode": person.get("no_fixed_abode"),
        "preferred_contact_method": person.get("preferred_contact_method"),
        "safe_sms": safe.get("sms"),
        "safe_voicemail": safe.get("voicemail"),
        "safe_email": safe.get("email"),
        "safe_letter": safe.get("letter"),
        "safe_contact_instructions": safe.get("instructions"),
        "language": person.get("language"),
        "interpreter_needed": person.get("interpreter_needed"),
        "household": None if household is None else [dict(member) for member in household],
        "housing_situation": HousingSituation(data["housing_situation"]),
        "at_risk_of_rough_sleeping_tonight": data.get("at_risk_of_rough_sleeping_tonight"),
        "homelessness_date": data.get("homelessness_date"),
        "release_or_discharge_date": data.get("release_or_discharge_date"),
        "current_location": data.get("current_location"),
        "reason": data["reason"],
        "support_needs": None if support_needs is None else list(support_needs),
        "risk_marac": risk.get("marac"),
        "risk_mappa_level": risk.get("mappa_level"),
        "risk_mappa_category": risk.get("mappa_category"),
        "risk_to_staff": risk.get("risk_to_staff"),
        "risk_details": risk.get("details") or None,
        "agency_reference": data.get("agency_reference"),
    }
    return {key: value for key, value in columns.items() if value is not None}


def submission_of(referral: Referral) -> dict[str, Any]:
    """The referral's content in the submitted (API.md) shape: for transfers and for reading back.

    The inverse of ``_columns_from``.
    """
    address = {"line1": referral.address_line1, "line2": referral.address_line2,
               "town": referral.address_town, "postcode": referral.address_postcode}
    return {
        "authority_code": referral.authority.code,
        "referrer": {"name": referral.referrer_name, "job_title": referral.referrer_job_title,
                     "team": referral.referrer_team, "email": referral.referrer_email,
                     "phone": referral.referrer_phone},
        "consent": {"given": referral.consent_given,
                    "recorded_at": referral.consent_recorded_at,
                    "notes": referral.consent_notes,
                    **consent.scopes_and_withdrawals(referral)},
        "person": {
            "first_name": referral.person_first_name,
            "last_name": referral.person_last_name,
            "date_of_birth": referral.person_date_of_birth,
            "nhs_number": referral.person_nhs_number,
            "phone": referral.person_phone,
            "email": referral.person_email,
            "address": address if any(address.values()) else None,
            "no_fixed_abode": referral.no_fixed_abode,
            "preferred_contact_method": referral.preferred_contact_method,
            "safe_contact": {"sms": referral.safe_sms, "voicemail": referral.safe_voicemail,
                             "email": referral.safe_email, "letter": referral.safe_letter,
                             "instructions": referral.safe_contact_instructions},
            "language": referral.language,
            "interpreter_needed": referral.interpreter_needed,
        },
        "household": [dict(member) for member in referral.household or []],
        "housing_situation": referral.housing_situation.value,
        "at_risk_of_rough_sleeping_tonight": referral.at_risk_of_rough_sleeping_tonight,
        "homelessness_date": referral.homelessness_date,
        "release_or_discharge_date": referral.release_or_discharge_date,
        "current_location": referral.current_location,
        "reason": referral.reason,
        "support_needs": list(referral.support_needs or []),
        "risk": {"marac": referral.risk_marac, "mappa_level": referral.risk_mappa_level,
                 "mappa_category": referral.risk_mappa_category,
                 "risk_to_staff": referral.risk_to_staff, "details": referral.risk_details},
        "agency_reference": referral.agency_reference,
    }
