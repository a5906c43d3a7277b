"""Supporting documents on a referral: who sent what, checked, scanned and audited.

A document is refused, and nothing kept, if it is not a PDF, an image or a Word document by its
content, is over ``MAX_BYTES``, would be one too many on the referral, or the virus scanner
finds something in it (that refusal is audited). With no scanner configured, or one that does
not answer, the document is kept and marked as not scanned, which officers see.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from referral_service import clock
from referral_service.documents import clamd, content, storage
from referral_service.domain import audit
from referral_service.domain.errors import (
    Conflict,
    DomainError,
    TooLarge,
    UnsupportedType,
    ValidationFailed,
)
from referral_service.extensions import db
from referral_service.models import Referral, ReferralDocument, ScanStatus
from referral_service.validation import has_control_characters

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
MAX_PER_REFERRAL = 20
FILENAME_MAX = 255
# A whole upload request: the file and the multipart wrapping and form fields around it.
UPLOAD_REQUEST_MAX = MAX_BYTES + 64 * 1024
ACCEPTED_WORDS = "a PDF, an image (JPEG, PNG, GIF, TIFF, WebP or HEIC) or a Word document"


class Infected(DomainError):
    """The virus scanner found something: the document was refused and not kept."""


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def check_filename(filename: str | None) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        raise ValidationFailed({"file": ["Choose a file to upload."]})
    if has_control_characters(name):
        raise ValidationFailed({"file": ["The file's name holds a control character: "
                                         "rename the file and try again."]})
    if len(name) > FILENAME_MAX:
        raise ValidationFailed({"file": [f"Keep the file's name to {FILENAME_MAX} characters."]})
    return name


def upload(referral: Referral, sent: Upload, *, side: str, actor: audit.Actor,
           ) -> ReferralDocument:
    """Check, scan and keep one document; the caller commits. Raises a DomainError (nothing
    kept) if it is refused; an ``Infected`` refusal leaves its audit event in the session."""
    filename = check_filename(sent.filename)
    if not sent.data:
        raise ValidationFailed({"file": ["The file is empty."]})
    if len(sent.data) > MAX_BYTES:
        raise TooLarge(f"The file must be {MAX_BYTES // (1024 * 1024)} MB or smaller.")
    _lock(referral)
    held = db.session.scalar(select(func.count()).select_from(ReferralDocument)
                             .where(ReferralDocument.referral_id == referral.id))
    if (held or 0) >= MAX_PER_REFERRAL:
        raise Conflict(f"A referral can have at most {MAX_PER_REFERRAL} documents.")
    digest = hashlib.sha256(sent.data).hexdigest()
    # Scanned before its type is judged: something infected is reported (and audited) as
    # such, whatever kind of file it is.
    status = _scan(referral, sent.data, digest, actor)
    media_type = content.media_type(sent.data)
    if media_type is None:
        raise UnsupportedType(f"The file must be {ACCEPTED_WORDS}.")
    document = ReferralDocument(
        referral_id=referral.id, storage_key=storage.new_key(), filename=filename,
        media_type=media_type, size=len(sent.data), sha256=digest,
        uploaded_by_user_id=actor.user_id, uploaded_by_client_id=actor.client_id,
        uploaded_by_label=actor.label, uploaded_by_side=side, uploaded_at=clock.now(),
        scan_status=status.value, scanned_at=clock.now() if status is ScanStatus.CLEAN else None)
    db.session.add(document)
    db.session.flush()
    storage.store().put(document.storage_key, sent.data)
    audit.record(actor, "document.uploaded", subject_type="referral_document",
                 subject_id=document.id, referral=referral, side=side, size=document.size,
                 media_type=media_type, sha256=digest, scan_status=status.value)
    return document


def _lock(referral: Referral) -> None:
    """Uploads to one referral take turns, so two at once cannot both be the twentieth
    (PostgreSQL row lock; SQLite has one writer at a time anyway)."""
    db.session.execute(select(Referral.id).where(Referral.id == referral.id).with_for_update())


def _scan(referral: Referral, data: bytes, digest: str, actor: audit.Actor) -> ScanStatus:
    socket_path = current_app.config.get("CLAMD_SOCKET")
    if not socket_path:
        return ScanStatus.NOT_SCANNED
    try:
        found = clamd.scan(socket_path, data, timeout=current_app.config["CLAMD_TIMEOUT_SECONDS"])
    except clamd.ScannerUnavailable as error:
        log.warning("virus scanner unavailable (%s): document kept as not scanned", error)
        return ScanStatus.SCAN_FAILED
    if found is None:
        return ScanStatus.CLEAN
    log.warning("document refused: the virus scanner found %s (referral %s)", found,
                referral.id)
    audit.record(actor, "document.refused_infected", subject_type="referral",
                 subject_id=referral.id, referral=referral, signature=found, sha256=digest,
                 size=len(data))
    raise Infected("The virus scanner found something in this file, so it was not accepted. "
                   "Nothing was kept.")


def for_referral(referral: Referral) -> list[ReferralDocument]:
    return list(db.session.scalars(
        select(ReferralDocument).where(ReferralDocument.referral_id == referral.id)
        .order_by(ReferralDocument.uploaded_at, ReferralDocument.id)))


def find(referral: Referral, document_id: object) -> ReferralDocument | None:
    document = db.session.get(ReferralDocument, document_id)
    if document is None or document.referral_id != referral.id:
        return None
    return document


def download(referral: Referral, document: ReferralDocument, *, actor: audit.Actor) -> bytes:
    """The document's bytes, with an audit event saying who read it (the caller commits)."""
    data = storage.store().get(document.storage_key)
    audit.record(actor, "document.downloaded", subject_type="referral_document",
                 subject_id=document.id, referral=referral)
    return data
