"""A document sent back to the person or system allowed to read it."""
from __future__ import annotations

import io

from flask import Response, send_file

from referral_service.models import ReferralDocument


def attachment(document: ReferralDocument, data: bytes) -> Response:
    """Always a download (never shown inline, so a document cannot run in our origin), in the
    type found from its content, and never cached: it is about a person."""
    response = send_file(io.BytesIO(data), mimetype=document.media_type, as_attachment=True,
                         download_name=document.filename, max_age=0, etag=False,
                         last_modified=None, conditional=False)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
