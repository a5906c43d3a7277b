"""What officers, team leaders and referrers do to a referral once it has been received.

Each operation checks who is acting, moves the referral through ``lifecycle.transition`` (which
audits), and flushes. The caller commits once.
"""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from referral_service import clock
from referral_service.domain import audit, events, intake, lifecycle, routing
from referral_service.domain.errors import (
    DomainError,
    PermissionDenied,
    TransitionRefused,
    ValidationFailed,
)
from referral_service.extensions import db
from referral_service.models import (
    OPEN_STATUSES_LIST,
    AuditEvent,
    Authority,
    ContactAttempt,
    ContactAttemptResult,
    ContactChannel,
    EventType,
    OfficerAbsence,
    Organisation,
    Outcome,
    Referral,
    ReferralStatus,
    Role,
    User,
)

S = ReferralStatus


def _require_staff(user: User, referral: Referral) -> None:
    if user.role not in {Role.OFFICER, Role.TEAM_LEADER} or not user.active:
        raise PermissionDenied("Only the authority's officers and team leaders can do this.")
    if user.authority_id != referral.authority_id:
        raise PermissionDenied("This referral belongs to another housing authority.")


def _require_case_worker(user: User, referral: Referral) -> None:
    """The named officer, or a team leader of the same authority."""
    _require_staff(user, referral)
    if user.role is Role.OFFICER and referral.named_officer_id != user.id:
        raise PermissionDenied("Only the named officer or a team leader can do this.")


require_case_worker = _require_case_worker


def _require_team_leader(user: User, authority_id: object) -> None:
    if user.role is not Role.TEAM_LEADER or user.authority_id != authority_id or not user.active:
        raise PermissionDenied("Only a team leader of this authority can do this.")


def accept(referral: Referral, by: User, ip_address: str | None = None) -> None:
    """The named officer acknowledges the referral: the referrer is told it has an owner."""
    _require_staff(by, referral)
    if referral.named_officer_id != by.id:
        raise PermissionDenied("Only the named officer can accept this referral.")
    lifecycle.transition(referral, S.ACCEPTED, audit.Actor.for_user(by, ip_address))


def claim(referral: Referral, by: User, ip_address: str | None = None) -> None:
    """An officer takes a referral from the team queue and becomes its named officer."""
    _require_staff(by, referral)
    if by.role is not Role.OFFICER:
        raise PermissionDenied("Only officers claim referrals; team leaders reassign them.")
    if referral.status is not S.UNASSIGNED:
        raise DomainError("This referral is no longer in the team queue.")
    caseload = routing.open_caseloads([by.id])[by.id]
    if routing.is_at_capacity(by, caseload):
        raise DomainError(
            f"Your caseload is at capacity ({caseload}/{by.capacity}). "
            "Ask your team leader to assign it."
        )
    _name_officer(referral, by, audit.Actor.for_user(by, ip_address), reason="claimed from queue")


def reassign(
    referral: Referral,
    to_officer: User,
    by: User,
    *,
    reason: str,
    allow_over_capacity: bool = False,
    ip_address: str | None = None,
) -> None:
    """A team leader names a different officer (or the first one, from the queue)."""
    _require_team_leader(by, referral.authority_id)
    if not referral.is_open:
        raise DomainError("A closed referral cannot be reassigned.")
    if not reason or not reason.strip():
        raise ValidationFailed({"reason": ["Say why the referral is being reassigned."]})
    if to_officer.role is not Role.OFFICER or to_officer.authority_id != referral.authority_id:
        raise ValidationFailed({"officer": ["Choose an officer of this authority."]})
    if not to_officer.active:
        raise ValidationFailed({"officer": ["That officer's account is not active."]})
    if to_officer.id == referral.named_officer_id:
        raise ValidationFailed({"officer": ["That officer already has this referral."]})
    if to_officer.is_absent_on(clock.today_in_london()):
        raise ValidationFailed({"officer": ["That officer is absent today."]})
    caseload = routing.open_caseloads([to_officer.id])[to_officer.id]
    if routing.is_at_capacity(to_officer, caseload) and not allow_over_capacity:
        raise ValidationFailed(
            {"officer": [f"That officer is at capacity ({caseload}/{to_officer.capacity})."]}
        )
    _name_officer(referral, to_officer, audit.Actor.for_user(by, ip_address), reason=reason.strip())


def _name_officer(referral: Referral, officer: User, actor: audit.Actor, *, reason: str) -> None:
    previous = referral.named_officer_id
    if referral.status in {S.UNASSIGNED, S.RECEIVED}:
        decision = routing.RoutingDecision(officer, reason, considered=1)
        # The applicant hears of the new officer if they had been told of another one.
        last_named = _last_named_officer(referral)
        intake.assign(referral, decision, actor)
        events.record(referral, EventType.ASSIGNED, officer_id=officer.id,
                      previous_officer_id=last_named)
        return
    # Already with an officer: the status (accepted, contact attempted…) carries over to the new
    # officer, so this is a change of owner, not of status.
    referral.named_officer = officer
    officer.last_assigned_at = clock.now()
    audit.record(
        actor,
        "referral.reassigned",
        subject_type="referral",
        subject_id=referral.id,
        referral=referral,
        from_officer_id=str(previous) if previous else None,
        officer_id=str(officer.id),
        reason=reason,
    )
    events.record(referral, EventType.ASSIGNED, officer_id=officer.id,
                  previous_officer_id=previous)
    db.session.flush()


def _last_named_officer(referral: Referral) -> uuid.UUID | None:
    """The officer most recently named on this referral (from its audit trail), if any."""
    named = db.session.scalars(
        select(AuditEvent.details)
        .where(AuditEvent.referral_id == referral.id)
        .where(or_(AuditEvent.action == "referral.reassigned",
                   and_(AuditEvent.action == "referral.transition",
                        AuditEvent.to_status == S.ASSIGNED.value)))
        .order_by(AuditEvent.occurred_at.desc()).limit(1)
    ).first()
    officer_id = (named or {}).get("officer_id")
    return uuid.UUID(officer_id) if officer_id else None


def return_to_queue(referral: Referral, by: User, *, reason: str,
                    ip_address: str | None = None) -> None:
    """Before acceptance, the case goes back to the team queue for someone else to claim."""
    _require_case_worker(by, referral)
    if not reason or not reason.strip():
        raise ValidationFailed({"reason": ["Say why the referral is going back to the queue."]})
    previous = referral.named_officer_id
    lifecycle.transition(
        referral, S.UNASSIGNED, audit.Actor.for_user(by, ip_address),
        reason=reason.strip(), from_officer_id=str(previous) if previous else None,
    )
    referral.named_officer = None
    db.session.flush()


def record_contact_attempt(
    referral: Referral,
    by: User,
    *,
    channel: ContactChannel,
    result: ContactAttemptResult,
    notes: str | None = None,
    ip_address: str | None = None,
) -> ContactAttempt:
    """A try that did not reach the person. The deadline is about the first attempt."""
    return _record_contact(referral, by, S.CONTACT_ATTEMPTED, channel=channel, result=result,
                           notes=notes, ip_address=ip_address)


def record_contact_made(
    referral: Referral,
    by: User,
    *,
    channel: ContactChannel,
    notes: str | None = None,
    ip_address: str | None = None,
) -> ContactAttempt:
    return _record_contact(referral, by, S.CONTACTED, channel=channel, result=None, notes=notes,
                           ip_address=ip_address)


def _record_contact(referral: Referral, by: User, to: ReferralStatus, *,
                    channel: ContactChannel, result: ContactAttemptResult | None,
                    notes: str | None, ip_address: str | None) -> ContactAttempt:
    _require_case_worker(by, referral)
    # The transition goes first because it is what refuses (not yet accepted, already closed),
    # and a refused attempt must leave no ContactAttempt behind; the id is chosen up front so
    # that the audit event can still name the attempt.
    attempt_id = uuid.uuid4()
    actor = audit.Actor.for_user(by, ip_address)
    if result is None:
        lifecycle.transition(referral, to, actor, attempt_id=str(attempt_id),
                             channel=channel.value)
    else:
        lifecycle.transition(referral, to, actor, attempt_id=str(attempt_id),
                             channel=channel.value, result=result.value)
    attempt = ContactAttempt(id=attempt_id, referral=referral, officer_id=by.id, channel=channel,
                             successful=to is S.CONTACTED, result=result, notes=notes,
                             attempted_at=clock.now())
    db.session.add(attempt)
    db.session.flush()
    return attempt


def close(referral: Referral, by: User, *, outcome: Outcome, notes: str | None = None,
          ip_address: str | None = None) -> None:
    _require_case_worker(by, referral)
    if outcome is Outcome.CONSENT_WITHDRAWN:
        raise TransitionRefused("A referral cannot be closed as 'consent withdrawn' here: "
                                "record the withdrawal of consent, which closes it.")
    lifecycle.transition(referral, S.CLOSED, audit.Actor.for_user(by, ip_address),
                         outcome=outcome)
    # Only once the lifecycle has allowed it: a refused close must not touch the notes.
    referral.closure_reason = notes
    db.session.flush()


def withdraw(referral: Referral, *, organisation: Organisation, actor: audit.Actor,
             reason: str | None = None) -> None:
    """The referrer withdraws (the person changed their mind, or the referral was a mistake)."""
    if referral.referring_organisation_id != organisation.id:
        raise PermissionDenied("Only the organisation that made a referral can withdraw it.")
    if not referral.is_open:
        raise TransitionRefused(
            f"This referral is already {referral.status.value}, so it can no longer be "
            "withdrawn. Send the council a note if something has changed.")
    lifecycle.transition(referral, S.WITHDRAWN, actor, reason=reason)
    # After the transition: a refused withdrawal (already closed) must keep the closure notes.
    referral.closure_reason = reason
    db.session.flush()


def transfer(referral: Referral, to_authority: Authority, by: User, *, reason: str,
             person_agreed: bool, ip_address: str | None = None) -> Referral | None:
    """Send the case to the authority now responsible (e.g. the person moved, or local connection).

    The person consented to a referral to the council they chose (s.213B): a transfer needs the
    officer's word that they agreed to the new one, kept in the audit event.
    When that authority takes referrals here, a new referral is made there, linked back to this
    one, and routed; the new one is returned.
    """
    if to_authority.id == referral.authority_id:
        raise ValidationFailed({"authority_code": ["Choose a different housing authority."]})
    actor = record_transfer(referral, by, reason=reason, person_agreed=person_agreed,
                            ip_address=ip_address, to_authority=to_authority.code)
    referral.transferred_to_authority = to_authority
    db.session.flush()
    if not to_authority.participating:
        return None
    return intake.receive_referral(
        {**intake.submission_of(referral), "authority_code": to_authority.code},
        organisation=referral.referring_organisation,
        actor=actor,
        transferred_from=referral,
    )


def record_transfer(referral: Referral, by: User, *, reason: str, person_agreed: bool,
                    ip_address: str | None, **where: object) -> audit.Actor:
    """The part of every transfer that is the same wherever it goes: who may, why, the person's
    agreement, and the ``transferred`` transition (``where`` names the destination in its
    audit event). Returns the actor, for what the caller records next."""
    _require_case_worker(by, referral)
    if not reason or not reason.strip():
        raise ValidationFailed({"reason": ["Say why the referral is being transferred."]})
    if person_agreed is not True:
        raise ValidationFailed({"person_agreed": [
            "Confirm the person agreed to be referred to the new council."]})
    actor = audit.Actor.for_user(by, ip_address)
    details: dict[str, Any] = {**where, "reason": reason.strip(), "person_agreed": True}
    lifecycle.transition(referral, S.TRANSFERRED, actor, outcome=Outcome.TRANSFERRED, **details)
    # After the transition: a refused transfer (already closed) must leave the record as it was.
    referral.closure_reason = reason.strip()
    return actor


def record_absence(officer: User, *, starts_on: date, ends_on: date, actor: audit.Actor,
                   by: User | None = None, reason: str | None = None,
                   reassign_open: bool = False) -> tuple[OfficerAbsence, list[Referral]]:
    """A team leader (``by``) or an administrator at the CLI records leave or sickness;
    optionally the officer's open cases are routed again now, each move audited."""
    if by is not None:
        _require_team_leader(by, officer.authority_id)
    if officer.role is not Role.OFFICER:
        raise ValidationFailed({"officer": ["Absences are recorded for officers."]})
    if ends_on < starts_on:
        raise ValidationFailed({"ends_on": ["The last day must be on or after the first day."]})
    absence = db.session.scalar(select(OfficerAbsence).where(
        OfficerAbsence.user_id == officer.id, OfficerAbsence.starts_on == starts_on,
        OfficerAbsence.ends_on == ends_on))
    if absence is not None:
        # The same absence again (a retried command): nothing new to record.
        return absence, (_reroute_caseload(officer, actor) if reassign_open else [])
    absence = OfficerAbsence(user=officer, starts_on=starts_on, ends_on=ends_on, reason=reason)
    db.session.add(absence)
    audit.record(actor, "officer.absence_recorded", subject_type="user", subject_id=officer.id,
                 starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat())
    db.session.flush()
    return absence, (_reroute_caseload(officer, actor) if reassign_open else [])


def _reroute_caseload(officer: User, actor: audit.Actor) -> list[Referral]:
    referrals = list(db.session.scalars(
        select(Referral)
        .where(Referral.named_officer_id == officer.id)
        .where(Referral.status.in_(OPEN_STATUSES_LIST))
        .order_by(Referral.contact_due_by)
    ))
    for referral in referrals:
        decision = routing.choose_officer(referral, exclude=frozenset({officer.id}))
        reason = f"{officer.name} absent; {decision.reason}"
        if decision.officer is not None:
            _name_officer(referral, decision.officer, actor, reason=reason)
        elif referral.status is S.ASSIGNED:
            lifecycle.transition(referral, S.UNASSIGNED, actor, reason=reason,
                                 from_officer_id=str(officer.id))
            referral.named_officer = None
        else:
            # Accepted work stays with its officer rather than vanish: the team leader is shown it.
            audit.record(actor, "referral.reassignment_needed", subject_type="referral",
                         subject_id=referral.id, referral=referral, reason=reason)
    db.session.flush()
    return referrals


def end_absence(absence: OfficerAbsence, *, by: User, ip_address: str | None = None) -> None:
    """A team leader ends an absence early: the officer is back (routable) from today. An absence
    that has not started yet is cancelled outright."""
    _require_team_leader(by, absence.user.authority_id)
    today = clock.today_in_london()
    if absence.ends_on < today:
        raise ValidationFailed({"absence": ["That absence is already over."]})
    actor = audit.Actor.for_user(by, ip_address)
    starts_on, ends_on = absence.starts_on.isoformat(), absence.ends_on.isoformat()
    if absence.starts_on >= today:
        db.session.delete(absence)
        audit.record(actor, "officer.absence_cancelled", subject_type="user",
                     subject_id=absence.user_id, starts_on=starts_on, ends_on=ends_on)
    else:
        absence.ends_on = today - timedelta(days=1)
        audit.record(actor, "officer.absence_ended", subject_type="user",
                     subject_id=absence.user_id, starts_on=starts_on, ends_on=ends_on,
                     ended_on=absence.ends_on.isoformat())
    db.session.flush()
