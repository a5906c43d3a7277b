"""What a file is, from its bytes (never from its name or the type the sender claims).

libmagic (through python-magic) names the type; a Word document (DOCX) is a zip, so a zip is
accepted only when it holds a Word document's parts and names its main part as a Word
document's (not a macro-enabled one, a template, a spreadsheet or a plain zip).
"""
from __future__ import annotations

import io
import zipfile

import magic

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Media type → what people call it (for the error message and the pages).
ACCEPTED: dict[str, str] = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG image",
    "image/png": "PNG image",
    "image/gif": "GIF image",
    "image/tiff": "TIFF image",
    "image/webp": "WebP image",
    "image/heic": "HEIC image",
    "application/msword": "Word document",
    DOCX: "Word document",
}
ZIP_TYPES = {"application/zip", "application/x-zip-compressed", DOCX}
# The main part of a DOCX ([Content_Types].xml): .docm, .dotx and .dotm name other types.
DOCX_MAIN_PART = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
CONTENT_TYPES_LIMIT = 1024 * 1024  # a real [Content_Types].xml is a few kilobytes


def media_type(data: bytes) -> str | None:
    """The accepted media type ``data`` is, or None if it is none of them."""
    found = magic.from_buffer(data, mime=True)
    if found in ZIP_TYPES:
        return DOCX if _is_word_document(data) else None
    return found if found in ACCEPTED else None


def _is_word_document(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" not in names or "[Content_Types].xml" not in names:
                return False
            if "word/vbaProject.bin" in names:  # macros
                return False
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > CONTENT_TYPES_LIMIT:
                return False
            types = archive.read(info)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
            ValueError, OSError, EOFError):
        return False
    return DOCX_MAIN_PART.encode() in types
