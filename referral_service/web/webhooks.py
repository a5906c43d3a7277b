"""The SMS provider's callbacks (API.md §3): delivery status, and texts people send.

Each request must carry a valid provider signature for the exact public URL the provider called
(built from PUBLIC_BASE_URL, so it works behind a proxy); otherwise 403 and nothing changes.
Checking it and reading the payload in our words are the adapter's (``integrations.twilio_sms``);
this view only builds the URL, strips control characters and owns the transaction.
"""
from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue

from integrations.ports import SmsWebhooks
from integrations.providers import sms_webhooks
from integrations.twilio_sms import INBOUND_FIELDS, SIGNATURE_HEADER, STATUS_FIELDS
from notifications import delivery_status, replies
from referral_service import validation
from referral_service.problems import problem

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks/twilio")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def public_url() -> str:
    query = request.query_string.decode()
    return current_app.config["PUBLIC_BASE_URL"] + request.path + (f"?{query}" if query else "")


def _webhooks() -> SmsWebhooks:
    return sms_webhooks(current_app.config)


def signed() -> bool:
    return _webhooks().verify_signature(public_url(), request.form.to_dict(),
                                        request.headers.get(SIGNATURE_HEADER, ""))


def _form() -> dict[str, str]:
    """The posted fields less control characters, read only once the signature (over the form
    as sent) has been checked: a person's text with a NUL is kept without it, not refused (a 500
    on PostgreSQL before, which the provider retried)."""
    return {name: validation.without_control_characters(value)
            for name, value in request.form.items()}


def _refused() -> Response:
    return problem(403, "Forbidden", "The request signature is missing or does not match.")


def _missing(form: dict[str, str], fields: Sequence[str]) -> Response:
    absent = [name for name in fields if not form.get(name)]
    return problem(400, "Bad Request", "Missing fields.",
                   errors={name: ["Required."] for name in absent})


@bp.post("/status")
def twilio_status() -> ResponseReturnValue:
    if not signed():
        return _refused()
    form = _form()
    report = _webhooks().parse_status_callback(form, request.args)
    if report is None:
        return _missing(form, STATUS_FIELDS)
    delivery_status.record_status(report)
    return "", 204


@bp.post("/inbound")
def twilio_inbound() -> ResponseReturnValue:
    if not signed():
        return _refused()
    form = _form()
    text = _webhooks().parse_inbound(form)
    if text is None:
        return _missing(form, INBOUND_FIELDS)
    replies.receive(text)
    # No automatic reply: a text back could be seen by the wrong person.
    return Response(EMPTY_TWIML, mimetype="text/xml")
