"""Documents over HTTP, shared by the API and the pages: the request size limit raised for
document uploads only, the uploaded part as the domain takes it, and the download response.

Every other request keeps ``MAX_CONTENT_LENGTH`` (64 KiB: API.md's JSON limit). A POST to a
``…/documents`` route may carry one document, so its limit is the document limit plus room for
the multipart wrapping; anything bigger is 413 before its body is read.
"""
from __future__ import annotations

import io

from flask import Flask, Request, Response, send_file
from werkzeug.datastructures import FileStorage

from referral_service.domain.documents import MAX_BYTES, UPLOAD_REQUEST_MAX, Upload
from referral_service.models import ReferralDocument

UPLOAD_RULE_SUFFIX = "/documents"


class UploadAwareRequest(Request):
    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and self.takes_document:
            return UPLOAD_REQUEST_MAX
        return Request.max_content_length.fget(self)  # type: ignore[attr-defined]

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def takes_document(self) -> bool:
        """A document upload (its route is matched before the body is read)."""
        rule = self.url_rule
        return (self.method == "POST" and rule is not None
                and rule.rule.endswith(UPLOAD_RULE_SUFFIX))


def init_app(app: Flask) -> None:
    app.request_class = UploadAwareRequest


def received(part: FileStorage | None) -> Upload:
    """The uploaded part as the domain takes it; a missing part is an empty upload (refused
    there with a message). Reads one byte past the limit, enough to know it is too big."""
    if part is None:
        return Upload(filename="", data=b"")
    return Upload(filename=part.filename or "", data=part.read(MAX_BYTES + 1))


def attachment(document: ReferralDocument, data: bytes) -> Response:
    """Always a download (never shown inline, so a document cannot run in our origin), in the
    type found from its content, and never cached: it is about a person."""
    response = send_file(io.BytesIO(data), mimetype=document.media_type, as_attachment=True,
                         download_name=document.filename, max_age=0, etag=False,
                         last_modified=None, conditional=False)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
