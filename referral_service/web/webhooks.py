"""Twilio's callbacks (API.md §3): delivery status, and texts people send.

Each request must carry a valid ``X-Twilio-Signature`` for the exact public URL Twilio called
(built from PUBLIC_BASE_URL, so it works behind a proxy); otherwise 403 and nothing changes.
"""
from __future__ import annotations

import uuid

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue
from twilio.request_validator import RequestValidator

from integrations.twilio_sms import CALLBACK_MESSAGE_PARAM
from notifications import inbound
from referral_service import validation
from referral_service.problems import problem

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks/twilio")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def public_url() -> str:
    query = request.query_string.decode()
    return current_app.config["PUBLIC_BASE_URL"] + request.path + (f"?{query}" if query else "")


def signed() -> bool:
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    return bool(RequestValidator(token).validate(public_url(), request.form.to_dict(), signature))


def _outbox_id() -> uuid.UUID | None:
    """Our outbox id from the callback URL's query (signed with it; see
    integrations/twilio_sms.callback_url). Anything that is not an id is ignored."""
    try:
        return uuid.UUID(request.args.get(CALLBACK_MESSAGE_PARAM, ""))
    except ValueError:
        return None


def _field(name: str) -> str:
    """A posted field less control characters, read only once the signature (over the form as
    sent) has been checked: a person's text with a NUL is kept without it, not refused (a 500 on
    PostgreSQL before, which Twilio retried)."""
    return validation.without_control_characters(request.form.get(name, ""))


def _refused() -> Response:
    return problem(403, "Forbidden", "The request signature is missing or does not match.")


def _missing(*fields: str) -> Response | None:
    absent = [name for name in fields if not _field(name)]
    if absent:
        return problem(400, "Bad Request", "Missing fields.",
                       errors={name: ["Required."] for name in absent})
    return None


@bp.post("/status")
def twilio_status() -> ResponseReturnValue:
    if not signed():
        return _refused()
    if (refusal := _missing("MessageSid", "MessageStatus")) is not None:
        return refusal
    inbound.record_status(_field("MessageSid"), _field("MessageStatus"),
                          _field("ErrorCode") or None, _outbox_id())
    return "", 204


@bp.post("/inbound")
def twilio_inbound() -> ResponseReturnValue:
    if not signed():
        return _refused()
    if (refusal := _missing("MessageSid", "From")) is not None:
        return refusal
    inbound.receive(_field("MessageSid"), _field("From"), _field("Body"))
    # No automatic reply: a text back could be seen by the wrong person.
    return Response(EMPTY_TWIML, mimetype="text/xml")
