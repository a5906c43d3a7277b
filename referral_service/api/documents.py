"""``/api/v1/referrals/{id}/documents``: supporting documents on your organisation's referrals
(API.md §2). Upload is multipart/form-data with the file in a part named ``file``."""
from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask.views import MethodView

from referral_service import document_http as uploads
from referral_service import unit_of_work
from referral_service.api import schemas as s
from referral_service.api.blueprint import Blueprint
from referral_service.api.referrals import actor, own_referral
from referral_service.auth import scopes
from referral_service.auth.bearer import require_scope
from referral_service.document_http import attachment
from referral_service.documents import content
from referral_service.domain import documents
from referral_service.domain.errors import NotFound, UnsupportedType

blp = Blueprint("documents", __name__, url_prefix="/api/v1/referrals",
                description="Supporting documents on your organisation's referrals.")

MULTIPART = "multipart/form-data"
UPLOAD_BODY = {"required": True, "content": {MULTIPART: {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {
        "type": "string", "format": "binary",
        "description": f"{documents.ACCEPTED_WORDS[0].upper()}{documents.ACCEPTED_WORDS[1:]}, "
                       f"judged by its content; at most {documents.MAX_BYTES // 2**20} MB."}},
}}}}
FILE_RESPONSE = {"description": "The document, as a download, in the type found from its "
                                "content.",
                 "content": {media_type: {"schema": {"type": "string", "format": "binary"}}
                             for media_type in content.ACCEPTED}}


@blp.route("/<uuid:referral_id>/documents")
class Documents(MethodView):
    @require_scope(scopes.REFERRALS_READ)
    @blp.response(200, s.DocumentListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, referral_id: uuid.UUID) -> Any:
        """The documents on this referral (from your organisation and from the council)."""
        return {"items": documents.for_referral(own_referral(referral_id))}

    @require_scope(scopes.REFERRALS_WRITE)
    @blp.doc(requestBody=UPLOAD_BODY)
    @blp.response(201, s.DocumentSchema, headers={
        "Location": {"description": "The document's URL", "schema": {"type": "string"}}})
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description=(
        f"The referral already has {documents.MAX_PER_REFERRAL} documents."))
    @blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
    @blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE", description=(
        "Not multipart/form-data, or the file is not a PDF, an image or a Word document."))
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description=(
        "The virus scanner found something in the file: nothing was kept."))
    def post(self, referral_id: uuid.UUID) -> Any:
        """Add a supporting document (PDF, image or Word; up to 10 MB; 20 per referral)."""
        if request.mimetype != MULTIPART:
            raise UnsupportedType("Send the document as multipart/form-data, the file in a "
                                  "part named 'file'.")
        referral = own_referral(referral_id)
        try:
            document = documents.upload(referral, uploads.received(request.files.get("file")),
                                        side="referrer", actor=actor())
        except documents.Infected:
            unit_of_work.commit_refusal()  # the refusal's audit event is kept
            raise
        return document, 201, {
            "Location": f"/api/v1/referrals/{referral.id}/documents/{document.id}"}


@blp.route("/<uuid:referral_id>/documents/<uuid:document_id>")
@require_scope(scopes.REFERRALS_READ)
@blp.doc(responses={"200": FILE_RESPONSE})
@blp.alt_response(404, response="NOT_FOUND")
def get_document(referral_id: uuid.UUID, document_id: uuid.UUID) -> Any:
    """Download one document (every download is audited)."""
    referral = own_referral(referral_id)
    document = documents.find(referral, document_id)
    if document is None:
        raise NotFound("No document with that id is on this referral.")
    data = documents.download(referral, document, actor=actor())
    return attachment(document, data)
