"""Schemas of what the partner API returns and the small bodies it takes.

The referral is returned in the shape it was submitted in (the same nested schemas), with the
service's own fields added, so the OpenAPI document and validation come from one source.
"""
from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from referral_service.models import (
    ConsentScope,
    Outcome,
    ReferralSource,
    ReferralStatus,
    WithdrawalReason,
    WithdrawnBy,
)
from referral_service.schemas.fields import Text
from referral_service.schemas.referral import ReferralSubmissionSchema

STATUSES = [status.value for status in ReferralStatus]
OUTCOMES = [outcome.value for outcome in Outcome]
SOURCES = [source.value for source in ReferralSource]


class AuthoritySchema(Schema):
    code = fields.String(metadata={"example": "E07000241"})
    name = fields.String(metadata={"example": "Welwyn Hatfield"})


class TransferLinkSchema(Schema):
    """The other end of a transfer: the chain of custody of one person's referral."""
    code = fields.String(allow_none=True, metadata={
        "example": "E07000242",
        "description": "The other housing authority's code (null for a council not on this "
                       "service whose code the officer did not know)."})
    name = fields.String(metadata={"example": "East Hertfordshire"})
    reference = fields.String(allow_none=True, metadata={"example": "DTR-4HX8WN"})
    id = fields.UUID(allow_none=True, metadata={
        "description": "The other referral's id, when your organisation can read it."})
    transferred_at = fields.AwareDateTime(allow_none=True)
    link_first_opened_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Only for a council not on this service, which is emailed a one-time "
                       "link: when it first opened it (null until then)."})
    received_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Only for a council not on this service: when it marked the referral "
                       "received (null until then)."})


class OrganisationRefSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    type = fields.String()


class NamedOfficerSchema(Schema):
    name = fields.String()
    team_phone = fields.String(allow_none=True)
    team_email = fields.String(allow_none=True)


class ReferralSchema(ReferralSubmissionSchema):
    """A referral as returned: what was submitted, plus where it has got to."""

    id = fields.UUID(dump_only=True)
    reference = fields.String(dump_only=True, metadata={"example": "DTR-7K3M9Q"})
    status = fields.String(dump_only=True, metadata={"enum": STATUSES})
    authority = fields.Nested(AuthoritySchema, dump_only=True)
    referring_organisation = fields.Nested(OrganisationRefSchema, dump_only=True)
    named_officer = fields.Nested(NamedOfficerSchema, dump_only=True, allow_none=True)
    urgent = fields.Boolean(dump_only=True)
    received_at = fields.AwareDateTime(dump_only=True)
    acknowledged_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    contact_due_by = fields.AwareDateTime(dump_only=True)
    contacted_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    closed_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    updated_at = fields.AwareDateTime(dump_only=True)
    outcome = fields.String(dump_only=True, allow_none=True, metadata={"enum": OUTCOMES})
    transferred_to = fields.Nested(TransferLinkSchema, dump_only=True, allow_none=True, metadata={
        "description": "Set once the council passed the referral to another housing authority "
                       "(status `transferred`): that authority, and the referral made there "
                       "(reference and id null when the authority does not take referrals "
                       "through this service)."})
    source = fields.String(dump_only=True, metadata={
        "enum": SOURCES,
        "description": "How the referral arrived: `api`, `web` (the referrer's pages), "
                       "`transfer`, or keyed in by a council officer from an `email`, a "
                       "`phone` call, a `letter` or a visit (`in_person`). A keyed-in "
                       "referral's `referrer.email` may be null."})
    transferred_from = fields.Nested(TransferLinkSchema, dump_only=True, allow_none=True,
                                     metadata={
        "description": "Set on a referral made by a transfer: the authority that passed it "
                       "on, and the referral there (now `transferred`)."})


class ReferralPageSchema(Schema):
    items = fields.List(fields.Nested(ReferralSchema))
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "Pass as ?cursor= for the next page; null on the last page."})


def _in_utc_range(value: datetime) -> None:
    try:
        value.astimezone(UTC)
    except OverflowError as error:
        raise ValidationError("Give a date and time between the years 1 and 9999.") from error


class ReferralListQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(validate=validate.OneOf(STATUSES, error="Choose one of: {choices}."))
    updated_since = fields.AwareDateTime(
        default_timezone=None,
        # A time that cannot be put in UTC (0001-01-01T00:00:00+01:00) was a 500 in the query.
        validate=_in_utc_range,
        error_messages={"invalid": "Give a date and time with a time zone, like "
                                   "2026-11-20T10:15:00Z.",
                        "invalid_awareness": "Give the time zone, like 2026-11-20T10:15:00Z."})
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class WithdrawSchema(Schema):
    class Meta:
        unknown = RAISE

    reason = Text(load_default=None, allow_none=True, multiline=True,
                  validate=validate.Length(max=1000))


class ConsentWithdrawalInSchema(Schema):
    class Meta:
        unknown = RAISE

    scope = fields.String(required=True, validate=validate.OneOf(
        [s.value for s in ConsentScope]), metadata={
        "description": "`referral` (closes it with outcome `consent_withdrawn`), `texts`, "
                       "`email` or `panel_sharing` (these three leave it open)."})
    reason = fields.String(required=True, validate=validate.OneOf(
        [r.value for r in WithdrawalReason if r is not WithdrawalReason.TEXTED_STOP]))
    notes = Text(load_default=None, allow_none=True, multiline=True,
                 validate=validate.Length(max=1000))


class ConsentWithdrawalOutSchema(Schema):
    id = fields.UUID()
    scope = fields.String()
    withdrawn_by = fields.String(metadata={"enum": [w.value for w in WithdrawnBy]})
    reason = fields.String()
    withdrawn_at = fields.AwareDateTime()
    lifted_at = fields.AwareDateTime(allow_none=True)


class ConsentWithdrawnSchema(Schema):
    withdrawal = fields.Nested(ConsentWithdrawalOutSchema)
    referral = fields.Nested(ReferralSchema)


class TimelineEntrySchema(Schema):
    at = fields.AwareDateTime()
    type = fields.String(metadata={"enum": [
        "received", "officer_named", "in_team_queue", "accepted", "contact_attempted",
        "contact_made", "closed", "withdrawn", "transferred", "consent_withdrawn",
        "message"]})
    description = fields.String()


class TimelineSchema(Schema):
    reference = fields.String()
    status = fields.String()
    entries = fields.List(fields.Nested(TimelineEntrySchema))


class MessageInSchema(Schema):
    class Meta:
        unknown = RAISE

    body = Text(required=True, multiline=True, validate=validate.Length(min=1, max=5000),
                error_messages={"required": "Write the note in 'body'.",
                                "null": "Write the note in 'body'."})


class MessageSchema(Schema):
    id = fields.UUID()
    author = fields.String(attribute="author_side", metadata={"enum": ["referrer", "council"]})
    author_name = fields.String()
    body = fields.String()
    created_at = fields.AwareDateTime()


class MessageListSchema(Schema):
    items = fields.List(fields.Nested(MessageSchema))


class ProblemSchema(Schema):
    """RFC 9457 problem details: every 4xx and 5xx the API sends."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(metadata={"example": "Bad Request"})
    status = fields.Integer(metadata={"example": 400})
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), metadata={
        "description": "Field-level messages by dotted field name, e.g. person.phone.",
        "example": {"person.phone": ["Enter a UK phone number, like 07700 900123."]}})


class DocumentSchema(Schema):
    id = fields.UUID()
    filename = fields.String(metadata={"description": "The name it was uploaded with, for "
                                                      "display only."})
    media_type = fields.String(metadata={"description": "Found from the content, not the name.",
                                         "example": "application/pdf"})
    size = fields.Integer(metadata={"description": "Bytes."})
    sha256 = fields.String(metadata={"description": "SHA-256 of the content, hex."})
    uploaded_by = fields.String(attribute="uploaded_by_side",
                                metadata={"enum": ["referrer", "council"]})
    uploaded_at = fields.AwareDateTime()
    scan_status = fields.String(metadata={
        "enum": ["not_scanned", "scan_failed", "clean"],
        "description": "The virus scan: clean; not_scanned (no scanner configured); "
                       "scan_failed (the scanner did not answer). Infected files are refused."})


class DocumentListSchema(Schema):
    items = fields.List(fields.Nested(DocumentSchema))
