"""Consent as a record: made when a referral is received, withdrawn by the referrer, by an
officer on the person's word, or by the person (a STOP text withdraws texts).

A withdrawal takes effect at once, in the caller's transaction:
- queued applicant messages by the withdrawn route (every route, for the referral) are
  suppressed with the reason, and the outbox refuses new ones (notifications/policy.py);
- a withdrawn referral or panel-sharing scope stops new panel shares (domain/sharing.py);
- withdrawing the referral itself closes it with the outcome ``consent_withdrawn``: the duty to
  refer (s.213B) rests on the person's consent, so without it there is no referral to work
  (Code of Guidance 4.16). Partial withdrawals (texts, email, sharing) leave it open;
- it is audited (``consent.withdrawn``), and so shows on every timeline built from the audit.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from referral_service import clock, rowbatch
from referral_service.domain import audit, events, lifecycle
from referral_service.domain.errors import Conflict, PermissionDenied, ValidationFailed
from referral_service.extensions import db
from referral_service.models import (
    Audience,
    Channel,
    Consent,
    ConsentRecorder,
    ConsentScope,
    ConsentWithdrawal,
    EventType,
    MessageStatus,
    Organisation,
    OutboxMessage,
    Outcome,
    Referral,
    ReferralStatus,
    Role,
    User,
    WithdrawalReason,
    WithdrawnBy,
)
from referral_service.models.consent import consented_to, withdrawn_scopes

SCOPE_WORDS = {
    ConsentScope.REFERRAL: "the referral",
    ConsentScope.TEXTS: "text messages",
    ConsentScope.EMAIL: "email",
    ConsentScope.PANEL_SHARING: "sharing with MARAC or MAPPA panels",
}
BY_WORDS = {WithdrawnBy.REFERRER: "the referrer", WithdrawnBy.OFFICER: "the council",
            WithdrawnBy.PERSON: "the person"}
NOTES_MAX = 1000


def record_at_intake(referral: Referral, consent: dict[str, Any], *, recorded_by_name: str,
                     organisation: Organisation, user_id: Any = None,
                     client_id: str | None = None) -> Consent:
    """The record of the consent the referrer gave with the referral (in the intake batch)."""
    scopes = consent.get("scopes") or {}
    made = rowbatch.new(
        Consent, referral_id=referral.id,
        given_by_name=f"{referral.person_first_name} {referral.person_last_name}"[:200],
        recorded_by=ConsentRecorder.REFERRER, recorded_by_name=recorded_by_name[:200],
        recorded_by_organisation_id=organisation.id, recorded_by_user_id=user_id,
        recorded_by_client_id=client_id, authority_id=referral.authority_id,
        given_at=consent.get("recorded_at") or clock.now(), backfilled=False,
        notes=consent.get("notes"), texts=scopes.get("texts", True),
        email=scopes.get("email", True), panels=list(scopes.get("panels") or []),
        created_at=clock.now())
    # The outbox's checks read the scopes while the referral is received, before it is written.
    set_committed_value(referral, "consent", made)
    set_committed_value(referral, "consent_withdrawals", [])
    return made


def sharing_allowed(referral: Referral) -> bool:
    """No new panel shares once the person withdrew consent to sharing (or to the referral)."""
    return ConsentScope.PANEL_SHARING not in withdrawn_scopes(referral.consent_withdrawals)


def withdraw_by_referrer(referral: Referral, *, organisation: Organisation, actor: audit.Actor,
                         scope: ConsentScope, reason: WithdrawalReason,
                         notes: str | None = None, user: User | None = None) -> ConsentWithdrawal:
    if referral.referring_organisation_id != organisation.id:
        raise PermissionDenied("Only the organisation that made a referral can withdraw "
                               "consent on it.")
    return _withdraw(referral, scope=scope, by=WithdrawnBy.REFERRER, reason=reason,
                     notes=notes, actor=actor, organisation=organisation, user=user)


def withdraw_by_officer(referral: Referral, *, by: User, scope: ConsentScope,
                        reason: WithdrawalReason, notes: str | None = None,
                        ip_address: str | None = None) -> ConsentWithdrawal:
    """An officer records that the person told them they withdraw consent."""
    if by.role not in {Role.OFFICER, Role.TEAM_LEADER} or by.authority_id != referral.authority_id:
        raise PermissionDenied("Only the housing authority's officers can record this.")
    return _withdraw(referral, scope=scope, by=WithdrawnBy.OFFICER, reason=reason, notes=notes,
                     actor=audit.Actor.for_user(by, ip_address), user=by)


def texted_stop(referral: Referral, inbound_id: Any) -> ConsentWithdrawal | None:
    """The person texted STOP: their consent to texts is withdrawn on this referral."""
    if not referral.is_open or not consented_to(referral, ConsentScope.TEXTS):
        return None
    return _withdraw(referral, scope=ConsentScope.TEXTS, by=WithdrawnBy.PERSON,
                     reason=WithdrawalReason.TEXTED_STOP, notes=None,
                     actor=audit.Actor.system("sms"), inbound_sms=str(inbound_id))


def texted_start(referral: Referral) -> None:
    """START undoes a STOP: the withdrawal made by the STOP is lifted (the row stays)."""
    now = clock.now()
    for withdrawal in referral.consent_withdrawals:
        if withdrawal.reason is WithdrawalReason.TEXTED_STOP and withdrawal.is_active:
            withdrawal.lifted_at = now
            audit.record(audit.Actor.system("sms"), "consent.restored",
                         subject_type="consent_withdrawal", subject_id=withdrawal.id,
                         referral=referral, scope=withdrawal.scope.value)


def _withdraw(referral: Referral, *, scope: ConsentScope, by: WithdrawnBy,
              reason: WithdrawalReason, notes: str | None, actor: audit.Actor,
              organisation: Organisation | None = None, user: User | None = None,
              **details: Any) -> ConsentWithdrawal:
    notes = (notes or "").strip() or None
    if notes is not None and len(notes) > NOTES_MAX:
        raise ValidationFailed({"notes": [f"Keep the notes to {NOTES_MAX} characters or fewer."]})
    if not referral.is_open:
        raise Conflict(f"This referral is already {referral.status.value.replace('_', ' ')}: "
                       "its consent can no longer be withdrawn here.")
    if scope in withdrawn_scopes(referral.consent_withdrawals):
        raise Conflict(f"Consent to {SCOPE_WORDS[scope]} is already withdrawn.")
    now = clock.now()
    withdrawal = ConsentWithdrawal(
        referral=referral, scope=scope, withdrawn_by=by, reason=reason, notes=notes,
        by_user_id=user.id if user is not None else None, by_client_id=actor.client_id,
        by_organisation_id=organisation.id if organisation is not None else None,
        withdrawn_at=now)
    db.session.add(withdrawal)
    db.session.flush()
    audit.record(actor, "consent.withdrawn", subject_type="consent_withdrawal",
                 subject_id=withdrawal.id, referral=referral, scope=scope.value,
                 withdrawn_by=by.value, reason=reason.value, **details)
    _suppress_queued(referral, scope, now)
    if scope is ConsentScope.REFERRAL:
        lifecycle.transition(referral, ReferralStatus.CLOSED, actor,
                             outcome=Outcome.CONSENT_WITHDRAWN, withdrawn_by=by.value)
        referral.closure_reason = f"Consent to the referral withdrawn by {BY_WORDS[by]}."
    # Tells the named officer, and the referrer when someone else withdrew (the worker's
    # expansion). Withdrawing the referral itself also recorded referral.closed above.
    events.record(referral, EventType.CONSENT_WITHDRAWN, scope=scope.value,
                  withdrawn_by=by.value)
    db.session.flush()
    return withdrawal


def _suppress_queued(referral: Referral, scope: ConsentScope, now: datetime) -> None:
    channels = {ConsentScope.TEXTS: [Channel.SMS], ConsentScope.EMAIL: [Channel.EMAIL],
                ConsentScope.REFERRAL: [Channel.SMS, Channel.EMAIL]}.get(scope)
    if not channels:
        return
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.referral_id == referral.id,
               OutboxMessage.audience == Audience.APPLICANT,
               OutboxMessage.status == MessageStatus.QUEUED,
               OutboxMessage.channel.in_(channels))
        .values(status=MessageStatus.SUPPRESSED,
                status_reason=f"The person withdrew consent to {SCOPE_WORDS[scope]}.")
        .execution_options(synchronize_session="fetch"))


def scopes_and_withdrawals(referral: Referral) -> dict[str, Any]:
    """For the referral as returned: the scopes given, and each withdrawal."""
    record = referral.consent
    if record is None:
        return {}
    return {"scopes": {"texts": record.texts, "email": record.email,
                       "panels": list(record.panels or [])},
            "withdrawals": [{"id": w.id, "scope": w.scope.value,
                             "withdrawn_by": w.withdrawn_by.value, "reason": w.reason.value,
                             "withdrawn_at": w.withdrawn_at, "lifted_at": w.lifted_at}
                            for w in referral.consent_withdrawals]}


def withdrawals_of(referral: Referral) -> list[ConsentWithdrawal]:
    return list(db.session.scalars(
        select(ConsentWithdrawal).where(ConsentWithdrawal.referral_id == referral.id)
        .order_by(ConsentWithdrawal.withdrawn_at)))


def describe(withdrawal: ConsentWithdrawal) -> str:
    """One line for a timeline: what was withdrawn, by whom."""
    return (f"Consent to {SCOPE_WORDS[withdrawal.scope]} withdrawn by "
            f"{BY_WORDS[withdrawal.withdrawn_by]}.")
