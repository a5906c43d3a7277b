"""What the service emails, read the way a person would: queued outbox rows are sent by the real
dispatcher and the real SMTP sender to a real SMTP server on loopback (aiosmtpd).

    from tests.emailed import Post, post  # noqa: F401 - the fixture
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from integrations.dev_outbox import DevOutboxSender
from integrations.smtp_email import SmtpEmailSender
from notifications import dispatch
from referral_service.extensions import db
from referral_service.models import Channel, MessageStatus, OutboxMessage
from tests.fakes.smtp import Mailbox, StartServer, smtp_servers


class Post:
    def __init__(self, start: StartServer) -> None:
        self.mailbox = Mailbox()
        self.sender = SmtpEmailSender("127.0.0.1", start(self.mailbox), starttls=False,
                                      mail_from="referrals@council.example.gov.uk", timeout=5)

    def send_queued(self, **where: Any) -> list[str]:
        """Send the queued emails matching ``where`` (OutboxMessage columns); the plain text of
        each email the server received for them, oldest first."""
        ids = list(db.session.scalars(
            select(OutboxMessage.id).filter_by(channel=Channel.EMAIL,
                                               status=MessageStatus.QUEUED, **where)
            .order_by(OutboxMessage.created_at)))
        before = len(self.mailbox.received)
        dispatch.deliver_batch(ids, dispatch.Senders(sms=DevOutboxSender(), email=self.sender))
        return [str(received["message"].get_body(("plain",)).get_content())
                for received in self.mailbox.received[before:]]


@pytest.fixture
def post() -> Iterator[Post]:
    servers = smtp_servers()
    yield Post(next(servers))
    next(servers, None)  # stops the server
