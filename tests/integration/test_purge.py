"""The scheduler's tick deletes rows that have outlived their use (``notifications.purge``):
tokens expired or revoked a week ago, used assertions past their expiry, Idempotency-Key records
past their retention and stale drafts; a bounded batch per table per tick, never anything live.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from notifications import scheduler
from referral_service.domain import drafts
from referral_service.extensions import db
from referral_service.models import (
    Audience,
    Channel,
    IdempotencyKey,
    MessageStatus,
    OAuthToken,
    OutboxMessage,
    ReferralDraft,
    UsedClientAssertion,
)
from referral_service.models.oauth import digest
from tests import factories as f

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)  # the default retention of tokens and Idempotency-Key records
PURGES = ("tokens_purged", "assertions_purged", "idempotency_keys_purged", "drafts_purged")


@pytest.fixture(autouse=True)
def fresh_rate_limits(app: Flask) -> None:
    """Token requests from earlier tests must not count against these."""
    for limiter in app.extensions.get("limiter", ()):
        limiter.reset()


@pytest.fixture
def issued(db_session: Any) -> Any:
    f.authority()
    return f.api_client(f.organisation())


def token_at(http: Any, issued: Any, when: datetime) -> str:
    with time_machine.travel(when, tick=False):
        response = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                             auth=(issued.client.client_id, issued.client_secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.json["access_token"])


def kept_tokens(*tokens: str) -> list[bool]:
    stored = set(db.session.scalars(select(OAuthToken.access_token_hash)))
    return [digest(token) in stored for token in tokens]


def tick(when: datetime = NOW) -> dict[str, int]:
    with time_machine.travel(when, tick=False):
        return scheduler.tick()


def test_tokens_expired_or_revoked_a_week_ago_go_and_live_ones_stay(client, issued) -> None:  # type: ignore[no-untyped-def]
    expired_long_ago = token_at(client, issued, NOW - WEEK - timedelta(hours=1, minutes=1))
    expired_lately = token_at(client, issued, NOW - WEEK + timedelta(minutes=1))
    revoked_long_ago = token_at(client, issued, NOW - WEEK - timedelta(minutes=30))
    with time_machine.travel(NOW - WEEK - timedelta(minutes=20), tick=False):
        revoked = client.post("/oauth/revoke", data={"token": revoked_long_ago},
                              auth=(issued.client.client_id, issued.client_secret))
    assert revoked.status_code == 200
    live = token_at(client, issued, NOW - timedelta(minutes=10))

    counts = tick()

    # The revoked one would have expired only 30 minutes ago: revocation is what counts.
    assert counts["tokens_purged"] == 2
    assert kept_tokens(expired_long_ago, revoked_long_ago, expired_lately, live) == [
        False, False, True, True]
    with time_machine.travel(NOW, tick=False):
        answer = client.get("/api/v1/authorities", headers={"Authorization": f"Bearer {live}"})
    assert answer.status_code == 200


def test_used_assertions_go_once_past_their_expiry(db_session: Any) -> None:
    past = UsedClientAssertion(client_id="c", jti="spent", expires_at=NOW - timedelta(seconds=1))
    current = UsedClientAssertion(client_id="c", jti="current",
                                  expires_at=NOW + timedelta(minutes=5))
    db.session.add_all([past, current])
    db.session.commit()

    assert tick()["assertions_purged"] == 1
    assert db.session.scalars(select(UsedClientAssertion.jti)).all() == ["current"]


def test_idempotency_keys_go_after_a_week_and_a_recent_key_still_replays(client, issued) -> None:  # type: ignore[no-untyped-def]
    bodies = {"old": f.payload(person=f.unique_person()),
              "recent": f.payload(person=f.unique_person())}
    first: dict[str, Any] = {}
    for key, sent_at in (("old", NOW - WEEK - timedelta(minutes=1)),
                         ("recent", NOW - WEEK + timedelta(minutes=1))):
        with time_machine.travel(sent_at, tick=False):
            headers = f.bearer_headers(client, issued)
            first[key] = client.post("/api/v1/referrals", json=bodies[key],
                                     headers={**headers, "Idempotency-Key": key})
        assert first[key].status_code == 201, first[key].get_data(as_text=True)

    assert tick()["idempotency_keys_purged"] == 1
    assert db.session.scalars(select(IdempotencyKey.key)).all() == ["recent"]
    with time_machine.travel(NOW, tick=False):
        headers = f.bearer_headers(client, issued)
        again = client.post("/api/v1/referrals", json=bodies["recent"],
                            headers={**headers, "Idempotency-Key": "recent"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == first["recent"].json["id"]


@pytest.fixture
def batch_of_two(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(app.config, "PURGE_BATCH_SIZE", 2)
    yield


def test_each_tick_deletes_at_most_a_batch_per_table(db_session: Any, issued: Any,
                                                     batch_of_two: None) -> None:
    """Five expired rows in each table, a batch of two: three ticks, the oldest first."""
    long_ago = NOW - timedelta(days=60)
    referrers = [f.partner_user(issued.client.organisation) for _ in range(5)]
    for n, referrer in enumerate(referrers):
        at = long_ago + timedelta(minutes=n)
        db.session.add_all([
            OAuthToken(access_token_hash=digest(f"old-{n}"), client_id=issued.client.client_id,
                       issued_at=at),
            UsedClientAssertion(client_id="c", jti=f"old-{n}", expires_at=at),
            IdempotencyKey(client_id="c", key=f"old-{n}", request_hash="h", created_at=at),
            ReferralDraft(user_id=referrer.id, answers={}, answered=[], updated_at=at)])
    live = OAuthToken(access_token_hash=digest("live"), client_id=issued.client.client_id,
                      issued_at=NOW - timedelta(minutes=1))
    db.session.add(live)
    db.session.commit()

    ticks = [tick() for _ in range(4)]

    assert [[counts[name] for name in PURGES] for counts in ticks] == [
        [2, 2, 2, 2], [2, 2, 2, 2], [1, 1, 1, 1], [0, 0, 0, 0]]
    assert db.session.scalars(select(OAuthToken.access_token_hash)).all() == [digest("live")]
    for model in (UsedClientAssertion, IdempotencyKey, ReferralDraft):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0


def test_the_purge_keeps_drafts_still_in_use(db_session: Any, issued: Any) -> None:
    stale, fresh = (f.partner_user(issued.client.organisation) for _ in range(2))
    db.session.add_all([
        ReferralDraft(user_id=stale.id, answers={}, answered=[],
                      updated_at=NOW - drafts.RETENTION - timedelta(minutes=1)),
        ReferralDraft(user_id=fresh.id, answers={}, answered=[],
                      updated_at=NOW - drafts.RETENTION + timedelta(minutes=1))])
    db.session.commit()

    assert tick()["drafts_purged"] == 1
    assert db.session.scalars(select(ReferralDraft.user_id)).all() == [fresh.id]


def test_a_purge_logs_counts_only(db_session: Any, caplog: pytest.LogCaptureFixture) -> None:
    db.session.add(UsedClientAssertion(client_id="partner-client", jti=str(uuid.uuid4()),
                                       expires_at=NOW - timedelta(days=1)))
    db.session.commit()
    with caplog.at_level("INFO", logger="notifications.purge"):
        tick()
    [line] = [r.getMessage() for r in caplog.records if r.name == "notifications.purge"]
    assert "'assertions_purged': 1" in line and "partner-client" not in line


HELD = 5000  # live rows per table: a scan would read well over FEW_PAGES pages
FEW_PAGES = 30


@pytest.mark.postgres_only
def test_a_purge_with_nothing_to_delete_reads_a_few_index_pages(db_session: Any,
                                                                 issued: Any) -> None:
    """Each batch's DELETE finds its rows through an index, not by reading the whole table:
    EXPLAIN ANALYZE of the statements a tick runs, on tables holding only live rows."""
    from sqlalchemy import event, insert, text

    recent = NOW - timedelta(minutes=5)
    db.session.execute(insert(OAuthToken), [
        {"id": uuid.uuid4(), "access_token_hash": digest(f"live-{n}"), "scope": "",
         "client_id": issued.client.client_id, "issued_at": recent, "expires_in": 3600}
        for n in range(HELD)])
    db.session.execute(insert(IdempotencyKey), [
        {"id": uuid.uuid4(), "client_id": "c", "key": f"k-{n}", "request_hash": "h",
         "created_at": recent} for n in range(HELD)])
    db.session.execute(insert(UsedClientAssertion), [
        {"id": uuid.uuid4(), "client_id": "c", "jti": f"j-{n}", "expires_at": NOW + WEEK}
        for n in range(HELD)])
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    deletes: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.startswith("DELETE"):
            deletes.append((statement, parameters))

    connection = db.session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        assert not any(tick()[name] for name in PURGES)
    finally:
        event.remove(connection, "before_cursor_execute", record)

    read: dict[str, int] = {}
    for statement, parameters in deletes:
        [plan] = connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters).scalar_one()
        node = plan["Plan"]
        table = statement.split()[2]
        read[table] = int(node.get("Shared Hit Blocks", 0)) + int(node.get("Shared Read Blocks", 0))
    assert set(read) == {"oauth_tokens", "oauth_used_assertions", "idempotency_keys",
                         "referral_drafts"}
    assert all(pages < FEW_PAGES for pages in read.values()), read


def test_each_job_of_the_tick_is_a_transaction_of_its_own(
        app: Flask, db_session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A job that fails (here the reconciler: a stuck text, and in production no SMS provider to
    ask) is rolled back and logged; the tick goes on, and the other jobs' work is committed."""
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM",
                "TWILIO_MESSAGING_SERVICE_SID"):
        monkeypatch.setitem(app.config, key, None)
    stuck = OutboxMessage(channel=Channel.SMS, audience=Audience.OFFICER, event="job_test",
                          template="job_test", to_address="+447700900123", body="Job test",
                          not_before=NOW - timedelta(hours=1), status=MessageStatus.SENDING,
                          claimed_at=NOW - timedelta(hours=1), attempts=1)
    db.session.add_all([stuck, UsedClientAssertion(
        client_id="partner-client", jti=str(uuid.uuid4()), expires_at=NOW - timedelta(days=1))])
    db.session.commit()
    counts = tick()
    assert "stuck_unknown" not in counts  # the reconciler failed, and counted nothing
    assert counts["assertions_purged"] == 1 and counts["due"] == 0
    db.session.rollback()  # what is committed, not what this session holds
    assert db.session.scalar(select(func.count()).select_from(UsedClientAssertion)) == 0
    assert db.session.get(OutboxMessage, stuck.id, populate_existing=True).status is (
        MessageStatus.SENDING)
