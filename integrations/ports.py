"""The interfaces the notifications package sends through, and the two errors they raise."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class ProviderError(Exception):
    """A provider refused or failed. ``code`` is the provider's own (e.g. Twilio 21610)."""

    def __init__(self, message: str, *, code: str | int | None = None) -> None:
        super().__init__(message)
        self.code = code


class RetryableError(ProviderError):
    """Worth trying again later: 5xx, 429, SMTP 4xx, and failures before the request could
    reach the provider (connection refused, DNS, connect timeout, TLS handshake)."""


class FateUnknownError(ProviderError):
    """The request may have reached the provider, but its answer never came (a read timeout, a
    connection dropped after sending, an SMTP disconnect after the message data): the message
    may have gone. Never resend it blindly; the reconciler settles it. ``provider_id`` is the id
    the provider would know it by, when we chose it (an email's Message-ID); None for Twilio,
    which names its messages itself."""

    def __init__(self, message: str, *, provider_id: str | None = None) -> None:
        super().__init__(message)
        self.provider_id = provider_id


class PermanentError(ProviderError):
    """Will never work as asked: an invalid or unreachable number, an opted-out recipient,
    a rejected address. Do not retry; fall back or tell a person."""


@dataclass(frozen=True)
class Sms:
    to: str                      # E.164
    body: str
    reference: str               # our outbox message id, for the provider's records
    status_callback: str | None = None
    validity_seconds: int | None = None


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str | None
    reference: str


@dataclass(frozen=True)
class Accepted:
    """The provider took the message: its id, its status word ("queued", "sent", …), and the
    provider's error code when that status is a failure (Twilio's ``error_code``, e.g. 21610)."""

    provider_id: str
    status: str
    error_code: str | None = None


class SmsSender(Protocol):
    def send_sms(self, message: Sms) -> Accepted: ...


class EmailSender(Protocol):
    def send_email(self, message: Email) -> Accepted: ...


class SentLookup(Protocol):
    """An SMS sender that can say what it sent (Twilio's message list can): how a message whose
    fate is unknown after a crash is settled without sending it twice."""

    def find_sent(self, to: str, body: str, since: datetime) -> list[Accepted] | None:
        """The provider's messages to ``to`` with this body created since ``since``, newest
        first: ``[]`` means it has none (so ours was never sent); ``None`` means it cannot tell
        (too many to look through). Raises ``RetryableError`` if the provider cannot be asked."""
        ...
