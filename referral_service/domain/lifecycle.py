"""The referral state machine: which status may follow which, and the one way to change it.

The table is data so that it can be read, tested exhaustively and shown in docs. ``transition``
is the only code that writes ``Referral.status``; every change it makes is audited in the same
transaction.
"""
from __future__ import annotations

from referral_service import clock
from referral_service.domain import audit, events
from referral_service.domain.errors import TransitionRefused
from referral_service.extensions import db
from referral_service.models import EventType, Outcome, Referral, ReferralStatus

S = ReferralStatus

TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    # Routing decides between a named officer and the team queue straight after receipt.
    S.RECEIVED: frozenset({S.ASSIGNED, S.UNASSIGNED, S.WITHDRAWN}),
    S.UNASSIGNED: frozenset({S.ASSIGNED, S.WITHDRAWN, S.TRANSFERRED, S.CLOSED}),
    # Back to the queue when the officer cannot keep it and nobody else is free.
    S.ASSIGNED: frozenset({S.ACCEPTED, S.UNASSIGNED, S.WITHDRAWN, S.TRANSFERRED, S.CLOSED}),
    S.ACCEPTED: frozenset({S.CONTACT_ATTEMPTED, S.CONTACTED, S.CLOSED, S.WITHDRAWN,
                           S.TRANSFERRED}),
    # Repeated attempts stay in contact_attempted (each one is still audited).
    S.CONTACT_ATTEMPTED: frozenset({S.CONTACT_ATTEMPTED, S.CONTACTED, S.CLOSED, S.WITHDRAWN,
                                    S.TRANSFERRED}),
    S.CONTACTED: frozenset({S.CLOSED, S.WITHDRAWN, S.TRANSFERRED}),
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.TRANSFERRED: frozenset(),
}

# Which outcomes a case may close with, by the status it closes from. An outcome that needs a
# conversation with the person (a duty decided, advice given) needs contact to have been made;
# "no contact" needs at least one recorded attempt; a duplicate can be closed at any point.
# "transferred" is never a closing choice: ``casework.transfer`` sets it.
CLOSING_OUTCOMES: dict[ReferralStatus, frozenset[Outcome]] = {
    S.UNASSIGNED: frozenset({Outcome.DUPLICATE}),
    S.ASSIGNED: frozenset({Outcome.DUPLICATE}),
    S.ACCEPTED: frozenset({Outcome.DUPLICATE}),
    S.CONTACT_ATTEMPTED: frozenset({Outcome.NO_CONTACT, Outcome.DECLINED, Outcome.DUPLICATE}),
    S.CONTACTED: frozenset({Outcome.PREVENTION_DUTY, Outcome.RELIEF_DUTY, Outcome.ADVICE_ONLY,
                            Outcome.NOT_ELIGIBLE, Outcome.DECLINED, Outcome.DUPLICATE}),
}


# The domain event a transition to these statuses records (domain/events.py); what follows
# from each (messages, reminders, webhooks) is notifications.expansion's. Becoming assigned is
# recorded by whoever names the officer (referral.received or referral.assigned).
TRANSITION_EVENTS: dict[ReferralStatus, EventType] = {
    S.UNASSIGNED: EventType.QUEUED,
    S.ACCEPTED: EventType.ACCEPTED,
    S.CONTACT_ATTEMPTED: EventType.CONTACT_ATTEMPTED,
    S.CONTACTED: EventType.CONTACT_MADE,
    S.CLOSED: EventType.CLOSED,
    S.WITHDRAWN: EventType.WITHDRAWN,
    S.TRANSFERRED: EventType.TRANSFERRED,
}
# The transition's audited details an event carries too (the rest, e.g. reasons, is free text).
EVENT_DETAILS = ("outcome", "to_authority", "attempt_id", "channel", "result", "from_officer_id")


def _words(status: ReferralStatus | Outcome) -> str:
    return status.value.replace("_", " ")


def can_transition(current: ReferralStatus, to: ReferralStatus) -> bool:
    return to in TRANSITIONS[current]


def transition(
    referral: Referral,
    to: ReferralStatus,
    actor: audit.Actor,
    *,
    outcome: Outcome | None = None,
    record_event: bool = True,
    **details: object,
) -> None:
    """Move ``referral`` to ``to`` or raise ``TransitionRefused``; audit the change and record
    its domain event (unless ``record_event`` is False: the caller records one event for a
    larger change, as receiving a referral does); flush."""
    current = referral.status
    if not can_transition(current, to):
        allowed = ", ".join(sorted(_words(s) for s in TRANSITIONS[current])) or "nothing"
        raise TransitionRefused(
            f"A referral that is {_words(current)} cannot become {_words(to)}. "
            f"From {_words(current)} it can become: {allowed}.",
            current=current.value,
            requested=to.value,
        )
    _check_outcome(current, to, outcome)

    now = clock.now()
    referral.status = to
    if to is S.ASSIGNED:
        referral.assigned_at = now
    elif to is S.ACCEPTED:
        referral.acknowledged_at = now
    elif to is S.CONTACT_ATTEMPTED and referral.first_contact_attempt_at is None:
        referral.first_contact_attempt_at = now
    elif to is S.CONTACTED:
        referral.contacted_at = now
        # Contact made is also the first attempt when nobody recorded one before it.
        referral.first_contact_attempt_at = referral.first_contact_attempt_at or now
    if not to.is_open:
        referral.closed_at = now
        referral.outcome = outcome
    if outcome is not None:
        details["outcome"] = outcome.value
    audit.record(
        actor,
        "referral.transition",
        subject_type="referral",
        subject_id=referral.id,
        referral=referral,
        from_status=current.value,
        to_status=to.value,
        **details,
    )
    event_type = TRANSITION_EVENTS.get(to)
    if event_type is not None and record_event:
        events.record(referral, event_type,
                      **{key: details[key] for key in EVENT_DETAILS if key in details})
    db.session.flush()


def _check_outcome(current: ReferralStatus, to: ReferralStatus, outcome: Outcome | None) -> None:
    if to is S.CLOSED:
        allowed = CLOSING_OUTCOMES.get(current, frozenset())
        # Consent withdrawn ends the referral whatever point it reached (domain/consent.py
        # is the only caller that gives it; casework.close refuses it).
        if outcome is Outcome.CONSENT_WITHDRAWN and current in CLOSING_OUTCOMES:
            return
        if outcome is None:
            raise TransitionRefused("Choose an outcome to close the referral.")
        if outcome not in allowed:
            choices = ", ".join(sorted(_words(o) for o in allowed))
            raise TransitionRefused(
                f"A referral that is {_words(current)} cannot be closed as "
                f"'{_words(outcome)}'. It can be closed as: {choices}.",
                current=current.value,
                outcome=outcome.value,
            )
    elif to is S.TRANSFERRED:
        if outcome is not Outcome.TRANSFERRED:
            raise TransitionRefused("A transfer records the outcome 'transferred'.")
    elif outcome is not None:
        raise TransitionRefused(f"An outcome is recorded only when a referral is closed, "
                                f"not when it becomes {_words(to)}.")
