"""What any provider must provide, in our words: the interfaces the notifications package sends
through, the errors they raise, and the status reports and texts their webhooks carry."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
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


# Kinds of permanent failure the service treats specially (any other is just "refused").
OPTED_OUT = "opted_out"  # the recipient told the provider to stop (e.g. replied STOP)


class PermanentError(ProviderError):
    """Will never work as asked: an invalid or unreachable number, an opted-out recipient,
    a rejected address. Do not retry; fall back or tell a person.

    ``kind`` is ours, set by the adapter from its provider's code: ``OPTED_OUT`` makes the
    service remember the number as opted out; None is any other refusal."""

    def __init__(self, message: str, *, code: str | int | None = None,
                 kind: str | None = None) -> None:
        super().__init__(message, code=code)
        self.kind = kind


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


class DeliveryStatus(StrEnum):
    """Where a provider says a message has got to, in our words."""

    ON_ITS_WAY = "on_its_way"  # accepted, queued, sending: nothing new for our row
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"          # the provider took it and could not deliver it


@dataclass(frozen=True)
class StatusEvent:
    """A provider's report on a message we sent (a status callback, or a stuck message's
    lookup): its id, its own status word (kept on the row for investigations), what that
    means in ours, and for a failure the provider's code and our kind of it."""

    provider_id: str
    provider_status: str
    status: DeliveryStatus
    error_code: str | None = None
    failure_kind: str | None = None  # e.g. OPTED_OUT
    reference: str | None = None     # our outbox id, when the provider hands it back


class TextKind(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    REPLY = "reply"


@dataclass(frozen=True)
class InboundText:
    """A text a person sent us, in our words: an opt-out, an opt-in, or a reply."""

    provider_id: str
    from_phone: str
    body: str
    kind: TextKind
    keyword: str  # the body as a keyword (upper case, spaces collapsed); what opted them out


class SmsSender(Protocol):
    def send_sms(self, message: Sms) -> Accepted: ...


class SmsWebhooks(Protocol):
    """What an SMS provider's webhooks must give the service: a signature check, and its
    payloads in our words. ``None`` from a parser means a required field is missing."""

    def verify_signature(self, url: str, form: Mapping[str, str], signature: str) -> bool: ...

    def parse_status_callback(self, form: Mapping[str, str],
                              query: Mapping[str, str]) -> StatusEvent | None: ...

    def parse_inbound(self, form: Mapping[str, str]) -> InboundText | None: ...


class EmailSender(Protocol):
    def send_email(self, message: Email) -> Accepted: ...


class SentLookup(Protocol):
    """An SMS sender that can say what it sent (Twilio's message list can): how a message whose
    fate is unknown after a crash is settled without sending it twice."""

    def find_sent(self, to: str, body: str, since: datetime) -> list[StatusEvent] | None:
        """The provider's messages to ``to`` with this body created since ``since``, newest
        first: ``[]`` means it has none (so ours was never sent); ``None`` means it cannot tell
        (too many to look through). Raises ``RetryableError`` if the provider cannot be asked."""
        ...
