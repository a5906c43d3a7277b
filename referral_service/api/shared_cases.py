"""``/api/v1/shared-cases``: MARAC and MAPPA panel systems read the cases shared with their panel
(API.md §2, scope ``cases:shared``).

Only live shares with the caller's own panel are visible, with only that panel type's fields;
anything else is 404, whatever the reason. Every list and read, and every refused read, leaves one
access record (``domain/panel_access.py``), committed even when the answer is 404.
"""
from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import fields, validate

from referral_service import unit_of_work
from referral_service.api.blueprint import Blueprint
from referral_service.auth import scopes
from referral_service.auth.bearer import current_client, require_scope
from referral_service.domain import panel_access, panels
from referral_service.domain.redaction import LIST_FIELDS, Closed, schema_for
from referral_service.models import OrganisationType

blp = Blueprint("shared_cases", __name__, url_prefix="/api/v1/shared-cases",
                description="MARAC and MAPPA: cases shared with your panel, redacted for it. "
                            "Every read is audited.")

MARKING = "OFFICIAL-SENSITIVE"


class PanelSchema(Closed):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(["marac", "mappa"]))


class LawfulBasisSchema(Closed):
    code = fields.String(required=True)
    title = fields.String(required=True)


class ShareSchema(Closed):
    """The terms the council shared the case on."""

    id = fields.UUID(required=True)
    panel = fields.Nested(PanelSchema, required=True)
    lawful_basis = fields.Nested(LawfulBasisSchema, required=True)
    purpose = fields.String(required=True)
    next_meeting_on = fields.Date(required=True)
    expires_at = fields.AwareDateTime(required=True, metadata={
        "description": "After this the case is no longer visible to the panel (404)."})
    shared_at = fields.AwareDateTime(required=True)
    shared_by = fields.String(required=True, metadata={"description": "The officer's name."})


class PanelActionSchema(Closed):
    id = fields.UUID(required=True)
    author = fields.String(required=True)
    text = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)


def _base(panel: OrganisationType) -> dict[str, fields.Field]:
    return {
        "id": fields.UUID(required=True, metadata={"description": "The case's id."}),
        "panel_type": fields.String(required=True, validate=validate.OneOf([panel.value])),
        "marking": fields.String(required=True, validate=validate.OneOf([MARKING])),
        "share": fields.Nested(ShareSchema, required=True),
    }


def _case_schema(panel: OrganisationType, name: str) -> type:
    return schema_for(panel, {**_base(panel), "actions": fields.List(
        fields.Nested(PanelActionSchema), required=True, metadata={
            "description": "Actions and notes your panel added to this case."})}, name=name)


CASE_SCHEMAS = {
    OrganisationType.MARAC: _case_schema(OrganisationType.MARAC, "MaracSharedCaseSchema")(),
    OrganisationType.MAPPA: _case_schema(OrganisationType.MAPPA, "MappaSharedCaseSchema")(),
}


class SharedCaseSummarySchema(Closed):
    """One case in the list: enough to recognise it; read it for the panel's fields."""

    id = fields.UUID(required=True)
    panel_type = fields.String(required=True, validate=validate.OneOf(["marac", "mappa"]))
    share = fields.Nested(ShareSchema, required=True)
    reference = fields.String(required=True)
    person_name = fields.String(required=True)
    date_of_birth = fields.Date(required=True, allow_none=True)
    status = fields.String(required=True)


assert set(SharedCaseSummarySchema().fields) - {"id", "panel_type", "share"} == set(LIST_FIELDS)


class SharedCaseListSchema(Closed):
    items = fields.List(fields.Nested(SharedCaseSummarySchema), required=True)


def _viewer() -> panel_access.Viewer:
    return panel_access.Viewer.panel_client(current_client(), ip_address=request.remote_addr,
                                            user_agent=request.user_agent.string)


def share_document(case: panel_access.SharedCase) -> dict[str, Any]:
    share = case.share
    return {
        "id": share.id,
        "panel": {"id": share.panel.id, "name": share.panel.name, "type": share.panel.type.value},
        "lawful_basis": {"code": share.lawful_basis,
                         "title": panels.basis_title(share.lawful_basis)},
        "purpose": share.purpose, "next_meeting_on": share.next_meeting_on,
        "expires_at": share.expires_at, "shared_at": share.shared_at,
        "shared_by": share.shared_by.name,
    }


@blp.route("")
@require_scope(scopes.CASES_SHARED)
@blp.response(200, SharedCaseListSchema)
def list_shared_cases() -> Any:
    """Cases shared with your panel now, soonest panel meeting first."""
    cases = panel_access.list_cases(_viewer())
    return {"items": [{**case.document, "id": case.referral.id,
                       "panel_type": case.panel_type.value, "share": share_document(case)}
                      for case in cases]}


@blp.route("/<uuid:case_id>")
@require_scope(scopes.CASES_SHARED)
@blp.doc(responses={
    "200": {"description": "The case with exactly your panel type's fields.",
            "content": {"application/json": {"schema": {"oneOf": list(CASE_SCHEMAS.values())}}}},
    "404": {"description": "Not shared with your panel, expired, or revoked (and recorded)."},
})
def get_shared_case(case_id: Any) -> Any:
    """One case shared with your panel, redacted for your panel type; 404 once it is not."""
    try:
        case = panel_access.read_case(_viewer(), case_id)
    except panel_access.CaseNotShared:
        unit_of_work.commit_refusal()  # the refused read stays on the record
        raise
    return CASE_SCHEMAS[case.panel_type].dump({
        **case.document, "id": case.referral.id, "panel_type": case.panel_type.value,
        "marking": MARKING, "share": share_document(case),
        "actions": [{"id": a.id, "author": a.author.name, "text": a.text,
                     "created_at": a.created_at} for a in case.actions]})
