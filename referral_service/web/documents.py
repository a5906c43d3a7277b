"""Documents on the referrer's and the officers' referral pages: the upload form's handling and
the download, shared by both (each page decides who may see the referral)."""
from __future__ import annotations

import uuid

from flask import Response, abort, request

from referral_service import document_http as uploads
from referral_service import unit_of_work
from referral_service.document_http import attachment
from referral_service.domain import audit, documents
from referral_service.domain.errors import DomainError, ValidationFailed
from referral_service.extensions import db
from referral_service.models import Referral

FIELD = "document"


def receive(referral: Referral, *, side: str, actor: audit.Actor) -> str | None:
    """Take the form's document: None when it was kept (the request commits), otherwise what
    to tell the person (nothing was kept)."""
    try:
        documents.upload(referral, uploads.received(request.files.get(FIELD)), side=side,
                         actor=actor)
    except documents.Infected as refused:
        unit_of_work.commit_refusal()  # the refusal's audit event is kept
        return refused.message
    except DomainError as refused:
        db.session.rollback()
        if isinstance(refused, ValidationFailed):
            return next(iter(refused.errors.values()))[0]
        return refused.message
    return None


def send(referral: Referral, document_id: uuid.UUID, *, actor: audit.Actor) -> Response:
    document = documents.find(referral, document_id)
    if document is None:
        abort(404)
    data = documents.download(referral, document, actor=actor)
    return attachment(document, data)
