"""``Idempotency-Key`` on POST /api/v1/referrals (API.md §2, "Creating a referral").

The same key from the same client with the same body returns the original referral, even when
twenty retries arrive at once; the same key with a different body is 409.
"""
from __future__ import annotations

import json
import threading
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from referral_service.extensions import db
from referral_service.models import AuditEvent, IdempotencyKey, Referral
from tests import factories as f

REFERRALS = "/api/v1/referrals"
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def fresh_rate_limits(app: Flask) -> None:
    """The session's one app counts every test's token requests from 127.0.0.1: each test
    starts with no requests counted."""
    for limiter in app.extensions.get("limiter", ()):
        limiter.reset()


@pytest.fixture
def setting(db_session):  # type: ignore[no-untyped-def]
    f.authority()
    probation = f.organisation()
    jobcentre = f.organisation(name="Jobcentre Plus – Stevenage", type="jobcentre")
    return probation, jobcentre


def headers_for(http: Any, org: Any, key: str | None = None) -> dict[str, str]:
    headers = f.bearer_headers(http, f.api_client(org))
    return {**headers, **({"Idempotency-Key": key} if key is not None else {})}


def referral_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Referral)) or 0


def test_the_same_key_and_body_returns_the_original(client, setting) -> None:  # type: ignore[no-untyped-def]
    probation, _ = setting
    headers = headers_for(client, probation, "retry-7f3a")
    body = f.payload(person=f.unique_person())

    first = client.post(REFERRALS, json=body, headers=headers)
    audited = db.session.scalar(select(func.count()).select_from(AuditEvent))
    again = client.post(REFERRALS, json=body, headers=headers)

    assert first.status_code == 201, first.get_data(as_text=True)
    assert "Idempotent-Replayed" not in first.headers
    assert again.status_code == 201, again.get_data(as_text=True)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert again.json["id"] == first.json["id"]
    assert again.json["reference"] == first.json["reference"]
    assert referral_count() == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == audited
    record = db.session.scalar(select(IdempotencyKey))
    assert record is not None and str(record.referral_id) == first.json["id"]


def test_the_same_json_with_other_spacing_and_order_is_the_same_body(client, setting) -> None:  # type: ignore[no-untyped-def]
    probation, _ = setting
    headers = headers_for(client, probation, "spacing")
    body = f.payload(person=f.unique_person())
    compact = json.dumps(body, separators=(",", ":"))
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=4)

    first = client.post(REFERRALS, data=compact, content_type="application/json",
                        headers=headers)
    again = client.post(REFERRALS, data=reordered, content_type="application/json",
                        headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert referral_count() == 1


def test_the_same_key_with_a_different_body_is_409(client, setting) -> None:  # type: ignore[no-untyped-def]
    probation, _ = setting
    headers = headers_for(client, probation, "reused-key")
    person = f.unique_person()
    first = client.post(REFERRALS, json=f.payload(person=person), headers=headers)
    assert first.status_code == 201

    refused = client.post(REFERRALS, json=f.payload(person=person, reason="A different reason."),
                          headers=headers)

    assert refused.status_code == 409, refused.get_data(as_text=True)
    assert refused.mimetype == PROBLEM and refused.json["status"] == 409
    assert "Idempotency-Key" in refused.json["detail"]
    assert referral_count() == 1


def test_without_a_key_each_post_is_a_new_referral(client, setting) -> None:  # type: ignore[no-untyped-def]
    probation, _ = setting
    headers = headers_for(client, probation)
    body = f.payload(person=f.unique_person())
    ids = {client.post(REFERRALS, json=body, headers=headers).json["id"] for _ in range(2)}
    assert len(ids) == 2 and referral_count() == 2


def test_another_key_makes_another_referral(client, setting) -> None:  # type: ignore[no-untyped-def]
    probation, _ = setting
    headers = headers_for(client, probation)
    body = f.payload(person=f.unique_person())
    one = client.post(REFERRALS, json=body, headers={**headers, "Idempotency-Key": "a"})
    two = client.post(REFERRALS, json=body, headers={**headers, "Idempotency-Key": "b"})
    assert one.status_code == two.status_code == 201
    assert one.json["id"] != two.json["id"] and referral_count() == 2


def test_different_clients_may_use_the_same_key(client, setting) -> None:  # type: ignore[no-untyped-def]
    probation, jobcentre = setting
    body = f.payload(person=f.unique_person())
    ours = client.post(REFERRALS, json=body, headers=headers_for(client, probation, "shared-1"))
    theirs = client.post(REFERRALS, json=body, headers=headers_for(client, jobcentre, "shared-1"))
    # Even a second client of the same organisation has its own keys.
    sibling = client.post(REFERRALS, json=body, headers=headers_for(client, probation, "shared-1"))

    assert ours.status_code == theirs.status_code == sibling.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert "Idempotent-Replayed" not in sibling.headers
    assert len({ours.json["id"], theirs.json["id"], sibling.json["id"]}) == 3
    assert theirs.json["referring_organisation"]["type"] == "jobcentre"
    assert referral_count() == 3


@pytest.mark.parametrize("key", ["k" * 256, "x" * 1000, " ", ""])
def test_a_key_too_long_or_blank_is_400(client, setting, key) -> None:  # type: ignore[no-untyped-def]
    probation, _ = setting
    response = client.post(REFERRALS, json=f.payload(person=f.unique_person()),
                           headers=headers_for(client, probation, key))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert "Idempotency-Key" in response.json["errors"]
    assert referral_count() == 0


def test_a_key_of_255_characters_is_accepted(client, setting) -> None:  # type: ignore[no-untyped-def]
    probation, _ = setting
    headers = headers_for(client, probation, "k" * 255)
    body = f.payload(person=f.unique_person())
    first = client.post(REFERRALS, json=body, headers=headers)
    again = client.post(REFERRALS, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json["id"] == again.json["id"] and referral_count() == 1


def test_a_refused_request_does_not_use_up_its_key(client, setting) -> None:  # type: ignore[no-untyped-def]
    probation, _ = setting
    headers = headers_for(client, probation, "fix-and-retry")
    person = f.unique_person()
    # Refused inside the domain (after the key was reserved) and by the schema (before).
    for wrong in (f.payload(person=person, authority_code="E07000999"),
                  f.payload(person=person, consent={"given": False})):
        assert client.post(REFERRALS, json=wrong, headers=headers).status_code == 400

    fixed = client.post(REFERRALS, json=f.payload(person=person), headers=headers)

    assert fixed.status_code == 201, fixed.get_data(as_text=True)
    assert "Idempotent-Replayed" not in fixed.headers
    assert referral_count() == 1


def test_a_read_only_token_is_refused_before_the_key_is_kept(client, setting) -> None:  # type: ignore[no-untyped-def]
    probation, _ = setting
    reader = f.bearer_headers(client, f.api_client(probation, ("referrals:read",)))
    response = client.post(REFERRALS, json=f.payload(person=f.unique_person()),
                           headers={**reader, "Idempotency-Key": "k1"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


# --- Concurrent retries, on real commits and separate connections ------------------------------

THREADS = 20


def test_twenty_concurrent_retries_make_exactly_one_referral(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        f.authority()
        org = f.organisation()
        issued = f.api_client(org)
        # Plain values: the records are detached once the app context ends.
        credentials = SimpleNamespace(client=SimpleNamespace(client_id=issued.client.client_id),
                                      client_secret=issued.client_secret)
    headers = {**f.bearer_headers(fresh_app.test_client(), credentials),
               "Idempotency-Key": f"concurrent-{uuid.uuid4()}"}
    body = f.payload(person=f.unique_person())
    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, dict[str, Any] | None, str]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def retry() -> None:
        try:
            http = fresh_app.test_client()
            barrier.wait(timeout=30)
            response = http.post(REFERRALS, json=body, headers=headers)
            with lock:
                results.append((response.status_code, response.get_json(silent=True),
                                response.headers.get("Idempotent-Replayed", "")))
        except BaseException as error:  # pragma: no cover - reported below
            with lock:
                failures.append(error)

    threads = [threading.Thread(target=retry) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not failures, failures
    assert len(results) == THREADS
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] * THREADS, [(status, data) for status, data, _ in results
                                         if status != 201]
    ids = {data["id"] for _, data, _ in results if data}
    assert len(ids) == 1
    assert sorted(replayed for _, _, replayed in results) == [""] + ["true"] * (THREADS - 1)
    with fresh_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Referral)) == 1
        assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
        made = db.session.scalar(select(Referral))
        assert made is not None and str(made.id) == ids.pop()
        received = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "referral.received"))
        assert received == 1
