"""``/api/v1/referrals``: make, follow, withdraw and discuss referrals (API.md §2).

A referral is visible only to the organisation that made it: anyone else gets 404, so ids
cannot be probed.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import request
from flask.views import MethodView
from sqlalchemy import and_, or_, select

from referral_service import unit_of_work
from referral_service.api import idempotency
from referral_service.api import schemas as s
from referral_service.api.blueprint import Blueprint
from referral_service.auth import scopes
from referral_service.auth.bearer import current_client, current_organisation, require_scope
from referral_service.domain import (
    audit,
    casework,
    consent,
    intake,
    notes,
    references,
    referral_changes,
    timeline,
)
from referral_service.domain.errors import NotFound, ValidationFailed
from referral_service.extensions import db
from referral_service.models import ConsentScope, Referral, ReferralStatus, WithdrawalReason
from referral_service.schemas.referral import ReferralSubmissionSchema
from referral_service.schemas.referral_change import ReferralChangeSchema, load_changed_person

blp = Blueprint("referrals", __name__, url_prefix="/api/v1/referrals",
                description="Referrals your organisation has made.")

# Request bodies and queries are loaded with one schema instance each, made here once: given a
# class, webargs builds a new instance on every request, and marshmallow then deep-copies every
# declared field and builds each nested schema afresh (about a tenth of a referral's CPU time).
# Loading keeps no state on the instance, so sharing it between requests changes nothing.
SUBMISSION = ReferralSubmissionSchema()
# Only the fields sent change: the others keep their values (no defaults filled in).
CHANGE = ReferralChangeSchema(partial=True)
LIST_QUERY = s.ReferralListQuerySchema()
WITHDRAWAL = s.WithdrawSchema()
CONSENT_WITHDRAWAL = s.ConsentWithdrawalInSchema()
MESSAGE_IN = s.MessageInSchema()
# A new reference is drawn again if it is taken (~1 in 729 million per referral held): three
# draws in a row taken would mean the generator is broken, which should be a loud 500.
REFERENCE_ATTEMPTS = 3


def actor() -> audit.Actor:
    return audit.Actor.for_client(current_client().client_id, request.remote_addr)


def own_referral(referral_id: uuid.UUID) -> Referral:
    referral = db.session.get(Referral, referral_id)
    if referral is None or referral.referring_organisation_id != current_organisation().id:
        raise NotFound("No referral with that id was made by your organisation.")
    return referral


def document(referral: Referral) -> dict[str, Any]:
    """The referral in the shape ``ReferralSchema`` dumps."""
    officer = referral.named_officer
    authority = referral.authority
    return {
        **intake.submission_of(referral),
        "id": referral.id,
        "reference": referral.reference,
        "status": referral.status.value,
        "authority": {"code": authority.code, "name": authority.name},
        "referring_organisation": {"id": referral.referring_organisation.id,
                                   "name": referral.referring_organisation.name,
                                   "type": referral.referring_organisation.type.value},
        "named_officer": None if officer is None else {
            "name": officer.name, "team_phone": authority.team_phone,
            "team_email": authority.team_email},
        "urgent": referral.urgent,
        "received_at": referral.received_at,
        "acknowledged_at": referral.acknowledged_at,
        "contact_due_by": referral.contact_due_by,
        "contacted_at": referral.contacted_at,
        "closed_at": referral.closed_at,
        "updated_at": referral.updated_at,
        "outcome": referral.outcome.value if referral.outcome else None,
        "source": referral.source.value,
        **transfer_links(referral),
    }


def transfer_links(referral: Referral) -> dict[str, Any]:
    """Both ends of a transfer (``TransferLinkSchema``): the reference always (the referrer
    quotes it on the phone), the id only of a referral the calling organisation made (others
    are 404 to it anyway). Read only for a referral that was transferred, or made by one, so a
    page of ordinary referrals costs no extra queries."""
    moved_to = referral.transferred_to_authority
    made_there = referral.transferred_to if referral.status is ReferralStatus.TRANSFERRED else None
    came_from = referral.transferred_from
    elsewhere = (referral.external_transfer if referral.status is ReferralStatus.TRANSFERRED
                 else None)
    if elsewhere is not None:
        return {"transferred_to": {
                    **_link(elsewhere.council_code or (moved_to.code if moved_to else None),
                            elsewhere.council_name, None, referral.closed_at),
                    "link_first_opened_at": elsewhere.first_opened_at,
                    "received_at": elsewhere.received_at},
                "transferred_from": None}
    return {
        "transferred_to": None if moved_to is None else _link(
            moved_to.code, moved_to.name, made_there, referral.closed_at),
        "transferred_from": None if came_from is None else _link(
            came_from.authority.code, came_from.authority.name, came_from, came_from.closed_at),
    }


def _link(code: str | None, name: str, other: Referral | None,
          at: datetime | None) -> dict[str, Any]:
    known = other is not None and (
        other.referring_organisation_id == current_organisation().id)
    return {"code": code, "name": name, "transferred_at": at,
            "reference": other.reference if other is not None else None,
            "id": other.id if known and other is not None else None}


def request_digest() -> str:
    """The body as sent, canonicalised, so the same JSON with other spacing is the same."""
    body = request.get_json(silent=True)
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
                          ).hexdigest()


@blp.route("")
class Referrals(MethodView):
    @require_scope(scopes.REFERRALS_READ)
    @blp.arguments(LIST_QUERY, location="query")
    @blp.response(200, s.ReferralPageSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Your organisation's referrals, oldest change first; filter by status or change time."""
        statement = select(Referral).where(
            Referral.referring_organisation_id == current_organisation().id)
        if "status" in query:
            statement = statement.where(Referral.status == ReferralStatus(query["status"]))
        if "updated_since" in query:
            statement = statement.where(Referral.updated_at >= query["updated_since"])
        if query.get("cursor"):
            after_time, after_id = decode_cursor(query["cursor"])
            statement = statement.where(or_(
                Referral.updated_at > after_time,
                and_(Referral.updated_at == after_time, Referral.id > after_id)))
        limit = query["limit"]
        rows = db.session.scalars(
            statement.order_by(Referral.updated_at, Referral.id).limit(limit + 1)).all()
        page = rows[:limit]
        next_cursor = encode_cursor(page[-1]) if len(rows) > limit else None
        return {"items": [document(r) for r in page], "next_cursor": next_cursor}

    @require_scope(scopes.REFERRALS_WRITE)
    @blp.arguments(SUBMISSION)
    @blp.response(201, s.ReferralSchema, headers={
        "Location": {"description": "The referral's URL", "schema": {"type": "string"}}})
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "required": False,
                          "schema": {"type": "string", "maxLength": 255},
                          "description": "Retry safely: the same key and body return the "
                                         "original referral; another body is 409."}])
    def post(self, data: dict[str, Any]) -> Any:
        """Make a referral (the person has consented and chose this authority)."""
        referral, replayed = receive(data)
        headers = {"Location": f"/api/v1/referrals/{referral.id}"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return document(referral), 201, headers


def receive(data: dict[str, Any]) -> tuple[Referral, bool]:
    """Make the referral from a loaded submission, once per Idempotency-Key; return
    (referral, replayed). The FHIR intake (api/fhir.py) makes its referrals here too."""
    client = current_client()
    key = idempotency.key_from(request.headers)
    # The body's digest is compared only when a key is given: not worked out otherwise.
    digest = request_digest() if key is not None else ""
    # No look-up of the new reference first: the unique constraint decides, and a reference
    # drawn by another referral meanwhile makes the whole referral afresh.
    return unit_of_work.afresh_when(
        references.is_reference_taken, REFERENCE_ATTEMPTS,
        lambda: idempotency.once(
            client.client_id, key, digest,
            lambda: intake.receive_referral(
                data, organisation=client.organisation, actor=actor(),
                submitted_by_client_id=client.client_id, check_reference=False)))


@blp.route("/<uuid:referral_id>")
class OneReferral(MethodView):
    @require_scope(scopes.REFERRALS_READ)
    @blp.response(200, s.ReferralSchema)
    def get(self, referral_id: uuid.UUID) -> Any:
        """One of your organisation's referrals."""
        return document(own_referral(referral_id))

    @require_scope(scopes.REFERRALS_WRITE)
    @blp.arguments(CHANGE)
    @blp.response(200, s.ReferralSchema)
    def patch(self, changes: dict[str, Any], referral_id: uuid.UUID) -> Any:
        """Change the release or discharge date, or how to reach the person.

        Only `release_or_discharge_date` (a date, or null to remove it) and, under `person`,
        `phone`, `email`, `address`, `no_fixed_abode`, `preferred_contact_method` and
        `safe_contact` (each replaced whole): any other field is 400, naming it. Fields are
        validated as when the referral was made, and the person's details as a whole must
        still give a way to reach them. A changed date moves `contact_due_by` while no
        contact attempt has been made. 409 once the referral is closed, withdrawn or
        transferred.
        """
        referral = own_referral(referral_id)
        referral_changes.change_details(referral, changes, organisation=current_organisation(),
                                        actor=actor(), check_person=load_changed_person)
        db.session.flush()  # the new version and times, for the answer
        return document(referral)


@blp.route("/<uuid:referral_id>/timeline")
@require_scope(scopes.REFERRALS_READ)
@blp.response(200, s.TimelineSchema)
def get_timeline(referral_id: uuid.UUID) -> Any:
    """What has happened: received, officer named, contact made, outcome; notes exchanged."""
    referral = own_referral(referral_id)
    return {"reference": referral.reference, "status": referral.status.value,
            "entries": timeline.for_referrer(referral)}


@blp.route("/<uuid:referral_id>/withdraw", methods=["POST"])
@require_scope(scopes.REFERRALS_WRITE)
@blp.arguments(WITHDRAWAL, required=False)
@blp.response(200, s.ReferralSchema)
def withdraw(body: dict[str, Any] | None, referral_id: uuid.UUID) -> Any:
    """Withdraw a referral (409 once it is closed, withdrawn or transferred)."""
    referral = own_referral(referral_id)
    casework.withdraw(referral, organisation=current_organisation(), actor=actor(),
                      reason=(body or {}).get("reason"))
    return document(referral)


@blp.route("/<uuid:referral_id>/consent-withdrawal", methods=["POST"])
@require_scope(scopes.REFERRALS_WRITE)
@blp.arguments(CONSENT_WITHDRAWAL)
@blp.response(201, s.ConsentWithdrawnSchema)
def withdraw_consent(body: dict[str, Any], referral_id: uuid.UUID) -> Any:
    """Record that the person withdrew consent, to the referral or to one use of their details.

    `scope` `referral` closes the referral at once with outcome `consent_withdrawn`; `texts`,
    `email` and `panel_sharing` leave it open. Either way messages to the person by a withdrawn
    route stop (queued ones are suppressed) and no new panel share is made. 409 when that
    consent is already withdrawn or the referral is closed, withdrawn or transferred.
    """
    referral = own_referral(referral_id)
    withdrawal = consent.withdraw_by_referrer(
        referral, organisation=current_organisation(), actor=actor(),
        scope=ConsentScope(body["scope"]), reason=WithdrawalReason(body["reason"]),
        notes=body.get("notes"))
    return {"withdrawal": withdrawal, "referral": document(referral)}


@blp.route("/<uuid:referral_id>/messages")
class Messages(MethodView):
    @require_scope(scopes.REFERRALS_READ)
    @blp.response(200, s.MessageListSchema)
    def get(self, referral_id: uuid.UUID) -> Any:
        """Notes between your organisation and the council about this referral."""
        return {"items": notes.for_referral(own_referral(referral_id))}

    @require_scope(scopes.REFERRALS_WRITE)
    @blp.arguments(MESSAGE_IN)
    @blp.response(201, s.MessageSchema)
    def post(self, body: dict[str, Any], referral_id: uuid.UUID) -> Any:
        """Send a note to the council about this referral; the named officer sees it."""
        referral = own_referral(referral_id)
        message = notes.post(referral, side="referrer",
                                author_name=current_organisation().name,
                                body=body["body"], actor=actor())
        return message


def encode_cursor(referral: Referral) -> str:
    raw = json.dumps([referral.updated_at.isoformat(), str(referral.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        when, ident = json.loads(base64.urlsafe_b64decode(padded))
        moment = datetime.fromisoformat(when)
        if moment.tzinfo is None:
            raise ValueError("naive")
        # In UTC here, where an out-of-range time (0001-01-01T00:00+01:00) is an OverflowError
        # caught below; it used to escape from the query as a 500.
        return moment.astimezone(UTC), uuid.UUID(ident)
    # AttributeError too: uuid.UUID(5), from a cursor of [time, 5], raises it (was a 500).
    except (ValueError, TypeError, AttributeError, OverflowError, binascii.Error,
            json.JSONDecodeError) as error:
        raise ValidationFailed({"cursor": ["Use the next_cursor value from the previous page."]}
                               ) from error
