"""Partner webhooks (issue 14.2): subscriptions over the real API, deliveries to a real HTTP(S)
receiver in this process that checks each signature with the Standard Webhooks reference
library (``standardwebhooks``), never with the service's own signing code.

Domain events are written here directly and given to ``on_event`` as the expansion will.
"""
from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from notifications import partner_webhooks, webhook_delivery
from referral_service import clock
from referral_service.extensions import db
from referral_service.models import (
    DeliveryStatus,
    DomainEvent,
    OutboxMessage,
    SubscriptionStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from tests import factories as f
from tests.tls_certificates import self_signed

SUBSCRIPTIONS = "/api/v1/webhook-subscriptions"
PROBLEM = "application/problem+json"
HOST = "receiver.test"


class Receiver:
    """A partner's endpoint: records what it is sent, checks each signature with the reference
    library, and answers as told (status, delay, redirect)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.received: list[dict[str, Any]] = []
        self.secret: str | None = None
        self.status = 204
        self.delay = 0.0
        self.location: str | None = None
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                verified: Any = None
                error = None
                try:
                    verified = standardwebhooks.Webhook(receiver.secret or "").verify(
                        body, dict(self.headers.items()))
                except Exception as refused:
                    error = repr(refused)
                receiver.received.append({"headers": dict(self.headers.items()), "body": body,
                                          "verified": verified, "error": error,
                                          "path": self.path, "host": self.headers["Host"]})
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def fake_dns(names: dict[str, str]) -> Any:
    """The process boundary to DNS: names resolve as given, anything else as the system does."""
    real = socket.getaddrinfo

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if host in names:
            family = socket.AF_INET6 if ":" in names[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return real(host, port, *args, **kwargs)

    return resolve


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def tls_receiver(tmp_path: Path, app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    cert_file, key_file = self_signed(tmp_path, HOST, [HOST])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    monkeypatch.setitem(app.config, "WEBHOOK_CA_FILE", str(cert_file))
    monkeypatch.setitem(app.config, "WEBHOOK_RESOLVER", fake_dns({HOST: "127.0.0.1"}))
    running = Receiver(tls=context)
    yield running
    running.close()


@pytest.fixture
def short_timeout(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 0.5)


def _partner(client: FlaskClient, name: str = "Probation Service – Kent") -> Any:
    org = f.organisation(name=name)
    issued = f.api_client(org)
    return org, f.bearer_headers(client, issued, scope="referrals:read")


def _subscribe(client: FlaskClient, headers: dict[str, str], url: str, **extra: Any) -> Any:
    response = client.post(SUBSCRIPTIONS, json={"url": url, **extra}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def _event(referral: Any, type_: str, **data: Any) -> DomainEvent:
    event = DomainEvent(id=uuid.uuid4(), type=type_, referral_id=referral.id,
                        occurred_at=clock.now(), data=data)
    db.session.add(event)
    db.session.commit()
    partner_webhooks.on_event(event)
    db.session.commit()
    return event


def _deliver_all(app: Flask) -> list[DeliveryStatus | None]:
    ids = list(db.session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status == DeliveryStatus.PENDING)))
    return [webhook_delivery.deliver(ident, webhook_delivery.client_for(app.config))
            for ident in ids]


def test_a_delivery_is_signed_as_standard_webhooks_says_and_carries_no_personal_data(
        client: FlaskClient, app: Flask, receiver: Receiver) -> None:
    f.authority()
    org, headers = _partner(client)
    made = _subscribe(client, headers, f"http://127.0.0.1:{receiver.port}/hooks?x=1")
    assert made["secret"].startswith("whsec_") and made["status"] == "active"
    receiver.secret = made["secret"]
    referral = f.referral(org, expand=False)  # the test writes its own events
    db.session.commit()
    event = _event(referral, "referral.closed", outcome="advice_only")

    assert _deliver_all(app) == [DeliveryStatus.DELIVERED]
    [got] = receiver.received
    assert got["error"] is None, got["error"]
    assert got["headers"]["webhook-id"] == str(event.id)
    assert got["path"] == "/hooks?x=1"
    assert got["verified"] == {"type": "referral.closed",
                               "timestamp": event.occurred_at.isoformat(),
                               "data": {"referral_id": str(referral.id),
                                        "reference": referral.reference,
                                        "status": "closed", "outcome": "advice_only"}}
    assert referral.person_last_name.encode() not in got["body"]
    # The secret is not in the listing, and is stored sealed.
    listed = client.get(SUBSCRIPTIONS, headers=headers).json["items"]
    assert [item["id"] for item in listed] == [made["id"]] and "secret" not in listed[0]
    stored = db.session.get(WebhookSubscription, uuid.UUID(made["id"]))
    assert stored is not None and made["secret"] not in stored.sealed_secret
    deliveries = client.get(f"{SUBSCRIPTIONS}/{made['id']}/deliveries", headers=headers).json
    # (The referral's own received event, expanded when a later request ended, waits its turn.)
    assert [(d["event_type"], d["status"], d["last_response_code"], d["attempts"])
            for d in deliveries["items"] if d["event_type"] == "referral.closed"] == [
        ("referral.closed", "delivered", 204, 1)]
    # A replay of the event's expansion makes no second delivery.
    partner_webhooks.on_event(event)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.event_id == event.id)) == 1


def test_https_goes_to_the_pinned_address_with_the_name_as_sni_and_host(
        client: FlaskClient, app: Flask, tls_receiver: Receiver) -> None:
    f.authority()
    org, headers = _partner(client)
    made = _subscribe(client, headers, f"https://{HOST}:{tls_receiver.port}/in")
    tls_receiver.secret = made["secret"]
    referral = f.referral(org, expand=False)  # the test writes its own events
    db.session.commit()
    _event(referral, "referral.assigned")
    assert _deliver_all(app) == [DeliveryStatus.DELIVERED]
    [got] = tls_receiver.received
    assert got["error"] is None and got["host"] == f"{HOST}:{tls_receiver.port}"
    assert got["verified"]["data"]["status"] == "assigned"


def test_only_the_referring_organisations_subscriptions_hear_and_private_notes_never_leave(
        client: FlaskClient, app: Flask, receiver: Receiver) -> None:
    f.authority()
    org, headers = _partner(client)
    _other, other_headers = _partner(client, name="NHS Trust – Lister")
    mine = _subscribe(client, headers, f"http://127.0.0.1:{receiver.port}/")
    _subscribe(client, other_headers, f"http://127.0.0.1:{receiver.port}/other")
    only_closed = _subscribe(client, headers, f"http://127.0.0.1:{receiver.port}/closed",
                             event_types=["referral.closed"])
    referral = f.referral(org, expand=False)  # the test writes its own events
    db.session.commit()
    _event(referral, "referral.note_added", note_id=str(uuid.uuid4()), side="council",
           private=True)
    _event(referral, "referral.changed", fields=["phone"])
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    _event(referral, "referral.note_added", note_id=str(uuid.uuid4()), side="council")
    delivered_to = set(db.session.scalars(select(WebhookDelivery.subscription_id)))
    assert delivered_to == {uuid.UUID(mine["id"])}
    assert only_closed["event_types"] == ["referral.closed"]

    # The other organisation cannot see or delete this one's subscription or its deliveries.
    assert client.get(f"{SUBSCRIPTIONS}/{mine['id']}", headers=other_headers).status_code == 404
    assert client.get(f"{SUBSCRIPTIONS}/{mine['id']}/deliveries",
                      headers=other_headers).status_code == 404
    refused = client.delete(f"{SUBSCRIPTIONS}/{mine['id']}", headers=other_headers)
    assert refused.status_code == 404 and refused.mimetype == PROBLEM
    assert db.session.get(WebhookSubscription, uuid.UUID(mine["id"])) is not None
    assert client.delete(f"{SUBSCRIPTIONS}/{mine['id']}", headers=headers).status_code == 204
    db.session.expire_all()
    assert db.session.get(WebhookSubscription, uuid.UUID(mine["id"])) is None
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


@pytest.mark.parametrize(("url", "names", "production"), [
    ("https://10.1.2.3/hook", {}, False),
    ("https://169.254.169.254/latest/meta-data", {}, False),
    ("https://[::1]/hook", {}, True),
    ("http://127.0.0.1:9/hook", {}, True),
    ("https://inside.example/hook", {"inside.example": "192.168.0.7"}, False),
    ("https://mapped.example/hook", {"mapped.example": "::ffff:10.0.0.1"}, False),
    ("http://public.example/hook", {"public.example": "93.184.215.14"}, False),
    ("ftp://public.example/hook", {}, False),
    ("https://user:pw@public.example/hook", {}, False),
    ("not a url", {}, False),
])
def test_refused_urls_are_a_problem_and_nothing_is_written(
        client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch, url: str,
        names: dict[str, str], production: bool) -> None:
    monkeypatch.setitem(app.config, "WEBHOOK_RESOLVER", fake_dns(names))
    if production:
        monkeypatch.setitem(app.config, "APP_ENV", "production")
    _org, headers = _partner(client)
    response = client.post(SUBSCRIPTIONS, json={"url": url}, headers=headers)
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert "url" in response.json["errors"]
    assert db.session.scalar(select(func.count()).select_from(WebhookSubscription)) == 0


@pytest.mark.parametrize("body", [
    {"url": "https://x.example/", "secret": "mine"},
    {"url": "https://x.example/", "event_types": ["referral.nonsense"]},
    {"event_types": []},
    {"url": 5},
])
def test_bad_bodies_are_400_problems(client: FlaskClient, app: Flask, body: Any) -> None:
    _org, headers = _partner(client)
    response = client.post(SUBSCRIPTIONS, json=body, headers=headers)
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert db.session.scalar(select(func.count()).select_from(WebhookSubscription)) == 0


def test_a_name_that_later_resolves_to_a_private_address_is_refused_at_delivery(
        client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    f.authority()
    monkeypatch.setitem(app.config, "WEBHOOK_RESOLVER", fake_dns({"partner.example":
                                                                  "93.184.215.14"}))
    org, headers = _partner(client)
    _subscribe(client, headers, "https://partner.example/hook")
    referral = f.referral(org, expand=False)  # the test writes its own events
    db.session.commit()
    _event(referral, "referral.accepted")
    monkeypatch.setitem(app.config, "WEBHOOK_RESOLVER", fake_dns({"partner.example":
                                                                  "10.0.0.5"}))
    assert _deliver_all(app) == [DeliveryStatus.PENDING]
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    assert "private address" in (delivery.last_error or "")


def test_redirects_are_not_followed_and_a_slow_answer_is_retried(
        client: FlaskClient, app: Flask, receiver: Receiver, short_timeout: None) -> None:
    f.authority()
    org, headers = _partner(client)
    made = _subscribe(client, headers, f"http://127.0.0.1:{receiver.port}/")
    receiver.secret = made["secret"]
    receiver.status, receiver.location = 302, "http://127.0.0.1:9/elsewhere"
    referral = f.referral(org, expand=False)  # the test writes its own events
    db.session.commit()
    _event(referral, "referral.contact_made", channel="phone")
    assert _deliver_all(app) == [DeliveryStatus.PENDING]
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    assert delivery.last_response_code == 302 and "Redirect" in (delivery.last_error or "")
    assert len(receiver.received) == 1  # only the first request: nothing followed the Location
    wait = delivery.next_attempt_at - delivery.last_attempt_at  # type: ignore[operator]
    assert dt.timedelta(seconds=23) < wait < dt.timedelta(seconds=37)

    # Not due yet: nothing is sent.
    assert _deliver_all(app) == [None]
    receiver.status, receiver.location, receiver.delay = 200, None, 1.5
    with time_machine.travel(clock.now() + dt.timedelta(minutes=1), tick=True):
        assert _deliver_all(app) == [DeliveryStatus.PENDING]
    db.session.refresh(delivery)
    assert "timed out" in (delivery.last_error or "") and delivery.attempts == 2
    receiver.delay = 0
    with time_machine.travel(clock.now() + dt.timedelta(minutes=3), tick=True):
        assert _deliver_all(app) == [DeliveryStatus.DELIVERED]
    # The same event every time: the partner deduplicates on webhook-id.
    assert len({r["headers"]["webhook-id"] for r in receiver.received}) == 1
    assert all(r["error"] is None for r in receiver.received[1:])


def test_after_24_hours_the_subscription_is_failing_and_its_contact_emailed_once(
        client: FlaskClient, app: Flask, receiver: Receiver) -> None:
    f.authority()
    org, headers = _partner(client)
    made = _subscribe(client, headers, f"http://127.0.0.1:{receiver.port}/",
                      contact_email="integrations@probation.example")
    receiver.status = 500
    referral = f.referral(org, expand=False)  # the test writes its own events
    db.session.commit()
    _event(referral, "referral.assigned")
    _event(referral, "referral.accepted")
    start = clock.now()
    for hours in (0, 1, 5, 12, 23):
        with time_machine.travel(start + dt.timedelta(hours=hours, minutes=1), tick=False):
            assert set(_deliver_all(app)) == {DeliveryStatus.PENDING}
    with time_machine.travel(start + dt.timedelta(hours=24, minutes=5), tick=False):
        assert set(_deliver_all(app)) == {DeliveryStatus.FAILED}
    subscription = db.session.get(WebhookSubscription, uuid.UUID(made["id"]),
                                  populate_existing=True)
    assert subscription is not None and subscription.status is SubscriptionStatus.FAILING
    emails = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.event == "webhook_failing")).all()
    assert [(m.to_address, m.referral_id) for m in emails] == [
        ("integrations@probation.example", None)]
    assert "127.0.0.1" in emails[0].body
    # A failing subscription is given no new deliveries.
    _event(referral, "referral.closed", outcome="advice_only")
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.status == DeliveryStatus.PENDING)) == 0
    listed = client.get(f"{SUBSCRIPTIONS}/{made['id']}", headers=headers).json
    assert listed["status"] == "failing"


def test_the_scheduler_hands_due_deliveries_to_the_webhooks_queue(
        client: FlaskClient, app: Flask, receiver: Receiver) -> None:
    from notifications import scheduler
    from notifications.broker import get_broker

    f.authority()
    org, headers = _partner(client)
    _subscribe(client, headers, f"http://127.0.0.1:{receiver.port}/")
    referral = f.referral(org, expand=False)  # the test writes its own events
    db.session.commit()
    _event(referral, "referral.assigned")
    broker = get_broker(app)
    broker.flush_all()
    counts = scheduler.tick()
    assert counts["webhooks_due"] == 1 and counts["webhooks_enqueued"] == 1
    assert broker.queues["webhooks"].qsize() == 1
    assert scheduler.tick()["webhooks_due"] == 0  # handed over: not again for a while
    broker.flush_all()


def test_ipv4_mapped_and_reserved_addresses_are_refused() -> None:
    from integrations.webhook_http import _refused_address

    assert _refused_address(ipaddress.ip_address("::ffff:127.0.0.1"), False)
    assert _refused_address(ipaddress.ip_address("240.0.0.1"), False)
    assert _refused_address(ipaddress.ip_address("224.0.0.1"), False)
    assert _refused_address(ipaddress.ip_address("93.184.215.14"), False) is None
    assert json  # (imported for readers of failures)
