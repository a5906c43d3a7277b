"""The demo's partner webhook: a receiver thread on this machine that prints what it is sent,
and the probation service's subscription to it (loopback http is allowed outside production).

The deliveries come as officers work the probation service's referrals in the demo (accept,
contact, close): each change is a domain event whose expansion writes a delivery, which the
embedded worker sends here.
"""
from __future__ import annotations

import http.server
import json
import threading
import uuid
from collections.abc import Callable

from integrations import webhook_http
from referral_service import clock, sealing
from referral_service.extensions import db
from referral_service.models import Organisation, SubscriptionStatus, WebhookSubscription


def start_receiver(say: Callable[[str], None], host: str = "127.0.0.1") -> str:
    """Start the printing receiver (a daemon thread); return its URL."""

    class Printer(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                event = json.loads(body)
                data = event.get("data", {})
                words = (f"{event.get('type')} {data.get('reference')} status "
                         f"{data.get('status')}" + (f" outcome {data['outcome']}"
                                                    if data.get("outcome") else ""))
            except (ValueError, AttributeError):
                words = "(not JSON)"
            say(f"[demo webhook receiver] {words} (webhook-id {self.headers.get('webhook-id')})")
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Printer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="demo-webhook-receiver",
                     daemon=True).start()
    return f"http://{host}:{server.server_address[1]}/demo-webhooks"


def subscribe(organisation_name: str, url: str) -> str:
    """Subscribe the organisation to every event at ``url``; return the secret (once)."""
    organisation = db.session.scalars(
        db.select(Organisation).where(Organisation.name == organisation_name)).one()
    secret = webhook_http.new_secret()
    subscription = WebhookSubscription(
        id=uuid.uuid4(), organisation_id=organisation.id, url=url, event_types=[],
        status=SubscriptionStatus.ACTIVE, created_by_client_id="demo", created_at=clock.now())
    subscription.sealed_secret = sealing.seal(secret, str(subscription.id))
    db.session.add(subscription)
    db.session.commit()
    return secret
