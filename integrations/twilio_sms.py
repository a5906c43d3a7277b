"""SMS through Twilio's REST API with the real ``twilio`` client, its errors translated into ours.

``api_base_url`` points the client at a Twilio-compatible server instead of api.twilio.com (tests
use a local fake; see API.md §5 ``TWILIO_API_BASE_URL``). Nothing here logs a phone number or a
message body, and Twilio's own error text (which can quote the number) never reaches our errors.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from integrations.ports import (
    OPTED_OUT,
    Accepted,
    DeliveryStatus,
    FateUnknownError,
    InboundText,
    PermanentError,
    RetryableError,
    Sms,
    StatusEvent,
    TextKind,
)

log = logging.getLogger(__name__)

# Twilio error codes that mean "this recipient cannot be reached as asked": never retry them.
# Any other 4xx is permanent too; these get a message a caseworker can act on.
PERMANENT_CODES: dict[int, str] = {
    21211: "the 'To' number is not a valid phone number",
    21408: "sending to this region is not enabled",
    21610: "the recipient has replied STOP (unsubscribed)",
    21612: "the 'To' number cannot be reached by SMS",
    21614: "the 'To' number is not a mobile number",
}

# Twilio codes that are one of our kinds of permanent failure (ports.PermanentError.kind).
FAILURE_KINDS: dict[str, str] = {"21610": OPTED_OUT}

# Twilio's message status words, in ours (an unknown word is "on its way": nothing changes).
_STATUS: dict[str, DeliveryStatus] = {
    "queued": DeliveryStatus.ON_ITS_WAY, "accepted": DeliveryStatus.ON_ITS_WAY,
    "scheduled": DeliveryStatus.ON_ITS_WAY, "sending": DeliveryStatus.ON_ITS_WAY,
    "sent": DeliveryStatus.SENT, "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED, "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED, "canceled": DeliveryStatus.FAILED}

# Twilio's own opt-out and opt-in keywords (Advanced Opt-Out defaults): Twilio itself stops
# sending to a number that texts one of the first, and starts again after one of the second.
STOP_WORDS = frozenset({"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
                        "REVOKE", "OPTOUT", "OPT OUT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP", "OPTIN", "OPT IN"})

# find_sent: how far it looks (messages to one number; an applicant gets a few a day at most),
# and how much earlier than our claim a message may be stamped by Twilio's clock.
LOOKUP_PAGE_SIZE = 100
LOOKUP_MAX_PAGES = 5
CLOCK_SKEW = timedelta(minutes=2)
# Characters Twilio's Smart Encoding may swap for GSM ones before storing the body.
_SMART = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u00a0": " "})

# 408 and 429 are 4xx but say "not now", not "never". A 401 (bad credentials, code 20003) stays
# permanent: waiting does not fix configuration, and a person hears of it at once via the fallback.
_RETRYABLE_4XX = frozenset({408, 429})
# The status-callback query parameter that carries our outbox id (see parse_status_callback).
CALLBACK_MESSAGE_PARAM = "message"


class TwilioSmsSender:
    """``SmsSender`` for Twilio. Give ``from_number`` or ``messaging_service_sid`` (the service
    is used when both are given: it picks the sender from its own pool)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_base_url: str | None = None,
        timeout: float = 10,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("TwilioSmsSender needs from_number or messaging_service_sid.")
        if timeout <= 0:
            raise ValueError("timeout must be positive.")
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.timeout = timeout  # seconds to connect, and to wait for each answer
        # No max_retries: the library must not resend on its own; retrying is the outbox's job,
        # which knows whether the message was already accepted.
        self._http = TwilioHttpClient(timeout=timeout)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        # The client reads TWILIO_EDGE/TWILIO_REGION from os.environ and would rewrite the host
        # (api.<edge>.<region>.twilio.com, or mangle 127.0.0.1); our settings come from config.py.
        self._client.edge = None
        self._client.region = None
        if api_base_url:
            parts = urlsplit(api_base_url)
            if parts.scheme not in {"http", "https"} or not parts.netloc:
                raise ValueError("api_base_url must be an absolute http(s) URL.")
            # Every v2010 resource (client.messages included) builds its URL from the Api
            # domain's base_url (twilio.base.domain.Domain.absolute_url), so this one attribute
            # moves all of them; the request still goes through the library's own HTTP client.
            self._client.api.base_url = api_base_url.rstrip("/")

    @property
    def api_base_url(self) -> str:
        return str(self._client.api.base_url)

    def close(self) -> None:
        """Close pooled connections (the sender is otherwise safe to keep for the process)."""
        if self._http.session is not None:
            self._http.session.close()

    def send_sms(self, message: Sms) -> Accepted:
        params: dict[str, object] = {"to": message.to, "body": message.body}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.from_number
        if message.status_callback:
            params["status_callback"] = callback_url(message.status_callback, message.reference)
        if message.validity_seconds is not None:
            params["validity_period"] = message.validity_seconds
        try:
            created = self._client.messages.create(**params)
        except TwilioRestException as error:
            raise self._rejected(message.reference, error.status, error.code) from None
        except requests.RequestException as error:
            if not _never_reached_twilio(error):
                # A read timeout, a connection dropped after the request went: Twilio may
                # have accepted it. Sending again could text the person twice.
                log.warning("sms %s: no answer from Twilio (%s); fate unknown",
                            message.reference, type(error).__name__)
                raise FateUnknownError(
                    f"No answer from Twilio: {type(error).__name__}") from None
            log.warning("sms %s: Twilio unreachable (%s)", message.reference,
                        type(error).__name__)
            raise RetryableError(f"Twilio unreachable: {type(error).__name__}") from None
        except TwilioException as error:
            status = getattr(error, "status", None)  # TwilioServiceException (RFC 9457 errors)
            if isinstance(status, int):
                raise self._rejected(message.reference, status,
                                     getattr(error, "code", None)) from None
            log.warning("sms %s: Twilio client error (%s)", message.reference,
                        type(error).__name__)
            raise RetryableError(f"Twilio client error: {type(error).__name__}") from None
        sid = created.sid
        if not sid:  # Twilio said yes without naming the message: it may well have it
            raise FateUnknownError("Twilio answered without a message sid.")
        status = created.status
        status_word = str(getattr(status, "value", status) or "queued")
        log.info("sms %s: accepted by Twilio as %s (%s)", message.reference, sid, status_word)
        return Accepted(provider_id=str(sid), status=status_word)

    def find_sent(self, to: str, body: str, since: datetime) -> list[StatusEvent] | None:
        """Look ``to``'s messages up in Twilio's message list (``SentLookup``): those with this
        body created since ``since`` (less ``CLOCK_SKEW``), newest first, each with its status and
        error code (as a status callback's ``ErrorCode`` would carry it). ``None`` when there are
        more messages to this number than ``LOOKUP_MAX_PAGES`` pages: we cannot tell."""
        filters: dict[str, Any] = {"to": to, "page_size": LOOKUP_PAGE_SIZE}
        if self.from_number and not self.messaging_service_sid:
            filters["from_"] = self.from_number
        earliest = since - CLOCK_SKEW
        wanted = _comparable(body)
        found: list[StatusEvent] = []
        try:
            page = self._client.messages.page(**filters)
            for _ in range(LOOKUP_MAX_PAGES):
                for record in page:
                    created = record.date_created
                    direction = str(getattr(record.direction, "value", record.direction) or "")
                    if (created is not None and created >= earliest
                            and direction.startswith("outbound")
                            and _comparable(record.body or "") == wanted and record.sid):
                        status = getattr(record.status, "value", record.status)
                        code = record.error_code  # an int when Twilio reports a failure
                        found.append(status_event(str(record.sid), str(status or "queued"),
                                                  None if code is None else str(code)))
                page = page.next_page()
                if page is None:
                    return found
        except (TwilioException, requests.RequestException) as error:
            # TwilioRestException is a TwilioException: any failure means "ask again later".
            log.warning("sms lookup: Twilio could not be asked (%s)", type(error).__name__)
            raise RetryableError(f"Twilio lookup failed: {type(error).__name__}") from None
        log.warning("sms lookup: more than %d messages to one number; cannot tell",
                    LOOKUP_PAGE_SIZE * LOOKUP_MAX_PAGES)
        return None

    @staticmethod
    def _rejected(reference: str, status: int, code: object) -> RetryableError | PermanentError:
        """Our error for an HTTP error answer. Twilio's text is left out on purpose: it can
        quote the recipient's number."""
        twilio_code = code if isinstance(code, int | str) else None
        if status in _RETRYABLE_4XX or status >= 500 or status < 400:
            log.warning("sms %s: Twilio HTTP %s (code %s), will retry", reference, status,
                        twilio_code)
            return RetryableError(f"Twilio HTTP {status} (code {twilio_code})", code=twilio_code)
        reason = PERMANENT_CODES.get(int(code)) if isinstance(code, int) else None
        log.info("sms %s: refused by Twilio, HTTP %s (code %s)", reference, status, twilio_code)
        return PermanentError(
            f"Twilio refused the message (HTTP {status}, code {twilio_code})"
            + (f": {reason}" if reason else ""),
            code=twilio_code, kind=FAILURE_KINDS.get(str(twilio_code)),
        )


# Failures that happen before any of the request is written: nothing can have reached Twilio.
# (A TLS error counts as one: the handshake comes first, and a certificate Twilio's host fails
# is the usual cause.)
_BEFORE_SENDING = (requests.ConnectTimeout, requests.exceptions.SSLError,
                   requests.exceptions.ProxyError, requests.exceptions.InvalidURL,
                   requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema,
                   requests.exceptions.InvalidHeader)


def _never_reached_twilio(error: requests.RequestException) -> bool:
    """Whether the request certainly never reached Twilio: no connection was made (refused,
    DNS, connect timeout, TLS) or it could not be built. Anything else (a read timeout, a
    connection reset or closed after the request went) leaves Twilio's answer unknown."""
    if isinstance(error, _BEFORE_SENDING):
        return True
    # requests wraps "could not connect" (refused, name not resolved) as a ConnectionError
    # around urllib3's MaxRetryError whose reason is a NewConnectionError.
    cause = error.args[0] if error.args else None
    return isinstance(getattr(cause, "reason", None), NewConnectionError)


def callback_url(base: str, reference: str) -> str:
    """The status-callback URL with our outbox id in its query (``?message=<id>``): a callback
    that arrives before the worker has recorded Twilio's sid still finds its message. Twilio
    signs the whole URL, query included, so the id cannot be changed by anyone else."""
    parts = urlsplit(base)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True),
                       (CALLBACK_MESSAGE_PARAM, reference)])
    return urlunsplit(parts._replace(query=query))


def _comparable(body: str) -> str:
    """A body as Twilio may store it: Unicode-normalised, smart punctuation folded, spaces
    collapsed (so a body Twilio re-encoded still matches the one we sent)."""
    folded = unicodedata.normalize("NFKC", body).translate(_SMART)
    return re.sub(r"\s+", " ", folded).strip()


# --- what Twilio's webhooks say, in our words ---------------------------------------------

def status_event(provider_id: str, provider_status: str, error_code: str | None,
                 reference: str | None = None) -> StatusEvent:
    """A Twilio status word and error code as our status event (callbacks and lookups alike)."""
    status = _STATUS.get(provider_status.lower(), DeliveryStatus.ON_ITS_WAY)
    return StatusEvent(provider_id=provider_id, provider_status=provider_status, status=status,
                       error_code=error_code or None,
                       failure_kind=FAILURE_KINDS.get(error_code or "")
                       if status is DeliveryStatus.FAILED else None,
                       reference=reference)


def keyword(body: str) -> str:
    """A text as Twilio compares it with its keywords: upper case, spaces collapsed."""
    return re.sub(r"\s+", " ", body.strip().upper().rstrip(".!"))


class TwilioWebhooks:
    """``SmsWebhooks`` for Twilio: ``X-Twilio-Signature`` checking and its form fields."""

    def __init__(self, auth_token: str | None) -> None:
        self._token = auth_token

    def verify_signature(self, url: str, form: Mapping[str, str], signature: str) -> bool:
        """Whether ``signature`` is Twilio's for this exact public URL (query included) and
        form. False without an auth token or a signature."""
        if not self._token or not signature:
            return False
        return bool(RequestValidator(self._token).validate(url, dict(form), signature))

    def parse_status_callback(self, form: Mapping[str, str],
                              query: Mapping[str, str]) -> StatusEvent | None:
        """A status callback's form (and the callback URL's query, which carries our outbox id:
        see ``callback_url``); None when ``MessageSid`` or ``MessageStatus`` is missing."""
        sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
        if not sid or not status:
            return None
        return status_event(sid, status, form.get("ErrorCode") or None,
                            query.get(CALLBACK_MESSAGE_PARAM) or None)

    def parse_inbound(self, form: Mapping[str, str]) -> InboundText | None:
        """A text a person sent; None when ``MessageSid`` or ``From`` is missing."""
        sid, from_phone, body = form.get("MessageSid", ""), form.get("From", ""), \
            form.get("Body", "")
        if not sid or not from_phone:
            return None
        word = keyword(body)
        kind = (TextKind.OPT_OUT if word in STOP_WORDS else TextKind.OPT_IN
                if word in START_WORDS else TextKind.REPLY)
        return InboundText(provider_id=sid, from_phone=from_phone, body=body, kind=kind,
                           keyword=word)


# The header Twilio signs its webhooks in, and the fields each webhook must carry (a missing one
# is a 400 naming it).
SIGNATURE_HEADER = "X-Twilio-Signature"
STATUS_FIELDS = ("MessageSid", "MessageStatus")
INBOUND_FIELDS = ("MessageSid", "From")
