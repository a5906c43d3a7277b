"""One unit of work per request (issue 13): a request commits once, after its view succeeded;
a request that fails after a domain write, or answers with an error, leaves nothing behind; a
commit that fails at the end is an error response, never a success; an audited refusal keeps
what it wrote before refusing, and only that."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from referral_service import unit_of_work
from referral_service.api import idempotency
from referral_service.app import create_app
from referral_service.domain import audit, intake
from referral_service.extensions import db
from referral_service.models import AuditEvent, IdempotencyKey, Organisation
from referral_service.schemas.referral import ReferralSubmissionSchema
from tests import factories
from tests.support_live import UNLIMITED

CLIENT = "unit-of-work-tests"
KEY = "the-one-key"
TAKEN_KEY = "taken-already"
ACTOR = audit.Actor.for_client(CLIENT)


def _receive_a_referral() -> None:
    """A real domain write, through the Idempotency-Key helper (which committed by itself
    before issue 13, so a failure after it left the referral behind)."""
    organisation = db.session.scalar(select(Organisation))
    data = ReferralSubmissionSchema().load(factories.payload(person=factories.unique_person()))
    idempotency.once(CLIENT, KEY, "digest", lambda: intake.receive_referral(
        data, organisation=organisation, actor=ACTOR))


def _record(action: str) -> None:
    audit.record(ACTOR, action, subject_type="test", subject_id=action)


def raises_after_the_write() -> ResponseReturnValue:
    _receive_a_referral()
    raise RuntimeError("something failed after the write")


def refuses_after_the_write() -> ResponseReturnValue:
    _receive_a_referral()
    return "refused", 409


def succeeds() -> ResponseReturnValue:
    _receive_a_referral()
    return "made", 201


def commit_fails() -> ResponseReturnValue:
    _record("written before the failing commit")
    # Flushed only by the commit: the unique (client, key) is found taken there.
    db.session.add(IdempotencyKey(client_id=CLIENT, key=TAKEN_KEY, request_hash="another"))
    return "done", 200


def refusal_kept() -> ResponseReturnValue:
    _record("the refusal")
    unit_of_work.commit_refusal()
    _record("after the refusal")
    return "refused", 403


VIEWS = [raises_after_the_write, refuses_after_the_write, succeeds, commit_fails, refusal_kept]


@pytest.fixture
def uow_app(app: Flask, db_session) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """The app with a few more pages that write through the real domain and then fail."""
    application = create_app({"TESTING": True, "SECRET_KEY": "test", **UNLIMITED,
                              "PUBLIC_BASE_URL": "http://localhost",
                              "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    for view in VIEWS:
        application.add_url_rule(f"/api/uow/{view.__name__}", view_func=view, methods=["POST"])
    factories.authority()
    factories.organisation()
    db_session.add(IdempotencyKey(client_id=CLIENT, key=TAKEN_KEY, request_hash="first"))
    db_session.commit()
    yield application
    with application.app_context():
        db.engine.dispose()


def _keys(db_session) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(select(func.count()).select_from(IdempotencyKey).where(
        IdempotencyKey.client_id == CLIENT, IdempotencyKey.key == KEY))


def _referrals_made(db_session) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_client_id == CLIENT, AuditEvent.action == "referral.received"))


def _recorded(db_session, action: str) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_client_id == CLIENT, AuditEvent.action == action))


@pytest.mark.parametrize(("path", "status"), [("raises_after_the_write", 500),
                                              ("refuses_after_the_write", 409)])
def test_a_request_that_fails_after_a_domain_write_leaves_nothing_behind(
        uow_app: Flask, db_session, path: str, status: int) -> None:  # type: ignore[no-untyped-def]
    response = uow_app.test_client().post(f"/api/uow/{path}")
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    db_session.rollback()  # read what the database holds, not what this session remembers
    assert _keys(db_session) == 0
    assert _referrals_made(db_session) == 0


def test_a_request_that_succeeds_is_committed(uow_app: Flask, db_session) -> None:  # type: ignore[no-untyped-def]
    response = uow_app.test_client().post("/api/uow/succeeds")
    assert response.status_code == 201
    db_session.rollback()
    assert _keys(db_session) == 1
    assert _referrals_made(db_session) == 1


def test_a_commit_that_fails_at_the_end_is_an_error_not_a_success(
        uow_app: Flask, db_session) -> None:  # type: ignore[no-untyped-def]
    response = uow_app.test_client().post("/api/uow/commit_fails")
    assert response.status_code == 500
    assert "done" not in response.get_data(as_text=True)
    db_session.rollback()
    assert _recorded(db_session, "written before the failing commit") == 0


def test_an_audited_refusal_keeps_what_it_wrote_before_refusing_and_only_that(
        uow_app: Flask, db_session) -> None:  # type: ignore[no-untyped-def]
    response = uow_app.test_client().post("/api/uow/refusal_kept")
    assert response.status_code == 403
    db_session.rollback()
    assert _recorded(db_session, "the refusal") == 1
    assert _recorded(db_session, "after the refusal") == 0
