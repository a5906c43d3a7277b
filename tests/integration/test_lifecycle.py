"""The state machine: every allowed transition works and is audited; every other is refused."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from referral_service import clock
from referral_service.domain import audit, lifecycle
from referral_service.domain.errors import TransitionRefused
from referral_service.models import AuditEvent, Outcome, Referral, ReferralStatus
from tests import factories as f

S = ReferralStatus
ACTOR = audit.Actor.system("tests")
ALL_PAIRS = list(itertools.product(S, S))
ALLOWED = [(a, b) for a, b in ALL_PAIRS if b in lifecycle.TRANSITIONS[a]]
REFUSED = [(a, b) for a, b in ALL_PAIRS if b not in lifecycle.TRANSITIONS[a]]


def pair_id(pair: tuple[S, S]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


@pytest.fixture
def org(db_session):  # type: ignore[no-untyped-def]
    f.authority()
    return f.organisation()


def put_in(referral: Referral, status: S) -> None:
    """Place a referral in ``status`` directly (the fixture, not the rule under test)."""
    referral.status = status
    referral.closed_at = None if status.is_open else clock.now()
    referral.outcome = None
    f.db.session.flush()
    f.db.session.refresh(referral)


def outcome_for(current: S, to: S) -> Outcome | None:
    if to is S.CLOSED:
        return sorted(lifecycle.CLOSING_OUTCOMES[current])[0]
    if to is S.TRANSFERRED:
        return Outcome.TRANSFERRED
    return None


def audit_count() -> int:
    return f.db.session.scalar(select(func.count(AuditEvent.id)))


def test_the_table_covers_every_status() -> None:
    assert set(lifecycle.TRANSITIONS) == set(S)
    for status in S:
        if not status.is_open:
            assert lifecycle.TRANSITIONS[status] == frozenset(), status
    # Every status that can close has a closing outcome, and "transferred" is never chosen.
    for status, targets in lifecycle.TRANSITIONS.items():
        assert (S.CLOSED in targets) == (status in lifecycle.CLOSING_OUTCOMES), status
    for outcomes in lifecycle.CLOSING_OUTCOMES.values():
        assert Outcome.TRANSFERRED not in outcomes


@pytest.mark.parametrize("pair", ALLOWED, ids=pair_id)
def test_allowed_transition_changes_status_and_is_audited(org, pair) -> None:  # type: ignore[no-untyped-def]
    current, to = pair
    referral = f.referral(org)
    put_in(referral, current)
    before = audit_count()
    lifecycle.transition(referral, to, ACTOR, outcome=outcome_for(current, to), note="x")
    assert referral.status is to
    assert audit_count() == before + 1
    event = f.db.session.scalar(select(AuditEvent).order_by(AuditEvent.occurred_at.desc(),
                                                           AuditEvent.id).limit(1)
                                .where(AuditEvent.action == "referral.transition",
                                       AuditEvent.from_status == current.value,
                                       AuditEvent.to_status == to.value))
    assert event is not None and event.referral_id == referral.id
    assert event.actor_label == "system:tests" and event.details["note"] == "x"
    assert (referral.closed_at is not None) == (not to.is_open)


@pytest.mark.parametrize("pair", REFUSED, ids=pair_id)
def test_refused_transition_changes_nothing(org, pair) -> None:  # type: ignore[no-untyped-def]
    current, to = pair
    referral = f.referral(org)
    put_in(referral, current)
    before = audit_count()
    with pytest.raises(TransitionRefused) as refused:
        lifecycle.transition(referral, to, ACTOR, outcome=outcome_for(current, to)
                             if current in lifecycle.CLOSING_OUTCOMES else None)
    assert current.value.replace("_", " ") in refused.value.message
    f.db.session.refresh(referral)
    assert referral.status is current
    assert audit_count() == before


# consent_withdrawn is outside the table: it closes from every status (test below).
CLOSING = [(status, outcome) for status in lifecycle.CLOSING_OUTCOMES for outcome in Outcome
           if outcome is not Outcome.CONSENT_WITHDRAWN]


@pytest.mark.parametrize("status", list(lifecycle.CLOSING_OUTCOMES))
def test_consent_withdrawn_closes_from_every_open_status(org, status) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(org)
    put_in(referral, status)
    lifecycle.transition(referral, S.CLOSED, ACTOR, outcome=Outcome.CONSENT_WITHDRAWN)
    assert (referral.status, referral.outcome) == (S.CLOSED, Outcome.CONSENT_WITHDRAWN)


@pytest.mark.parametrize("status,outcome", CLOSING,
                         ids=[f"{s.value}-{o.value}" for s, o in CLOSING])
def test_closing_outcomes_follow_the_table(org, status, outcome) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(org)
    put_in(referral, status)
    if outcome in lifecycle.CLOSING_OUTCOMES[status]:
        lifecycle.transition(referral, S.CLOSED, ACTOR, outcome=outcome)
        assert (referral.status, referral.outcome) == (S.CLOSED, outcome)
    else:
        with pytest.raises(TransitionRefused):
            lifecycle.transition(referral, S.CLOSED, ACTOR, outcome=outcome)
        assert referral.status is status and referral.outcome is None


def test_closing_needs_an_outcome(org) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(org)
    put_in(referral, S.CONTACTED)
    with pytest.raises(TransitionRefused, match="Choose an outcome"):
        lifecycle.transition(referral, S.CLOSED, ACTOR)


def test_an_outcome_only_on_closing(org) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(org)
    put_in(referral, S.ASSIGNED)
    with pytest.raises(TransitionRefused, match="only when a referral is closed"):
        lifecycle.transition(referral, S.ACCEPTED, ACTOR, outcome=Outcome.ADVICE_ONLY)
    assert referral.status is S.ASSIGNED


def test_timestamps_follow_the_journey(org) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(org)
    put_in(referral, S.ASSIGNED)
    lifecycle.transition(referral, S.ACCEPTED, ACTOR)
    assert referral.acknowledged_at is not None
    lifecycle.transition(referral, S.CONTACT_ATTEMPTED, ACTOR)
    first = referral.first_contact_attempt_at
    assert first is not None
    lifecycle.transition(referral, S.CONTACT_ATTEMPTED, ACTOR)
    assert referral.first_contact_attempt_at == first
    lifecycle.transition(referral, S.CONTACTED, ACTOR)
    assert referral.contacted_at is not None
    lifecycle.transition(referral, S.CLOSED, ACTOR, outcome=Outcome.ADVICE_ONLY)
    assert referral.closed_at is not None and referral.outcome is Outcome.ADVICE_ONLY


def test_concurrent_change_is_refused_not_lost(app, db_session) -> None:  # type: ignore[no-untyped-def]
    """Two people changing one referral at once: the second write fails instead of overwriting."""
    from sqlalchemy.orm.exc import StaleDataError

    f.authority()
    referral = f.referral(f.organisation())
    f.db.session.execute(
        Referral.__table__.update().where(Referral.id == referral.id)
        .values(version=Referral.version + 1))
    referral.status = S.WITHDRAWN
    referral.closed_at = referral.received_at
    with pytest.raises(StaleDataError):
        f.db.session.flush()
