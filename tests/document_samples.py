"""Small real files of each kind the service takes, and look-alikes it must refuse, made here
byte by byte so no binary fixture is checked in."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib

# The EICAR anti-virus test file: harmless, and every scanner reports it.
EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")


def pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
            b"trailer << /Root 1 0 R >>\n%%EOF\n")


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack("!I", len(data)) + kind + data
                + struct.pack("!I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack("!IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def jpeg() -> bytes:
    return (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
            b"\xff\xdb\x00\x43\x00" + bytes(range(64)) + b"\xff\xd9")


def _office_zip(main: str, parts: dict[str, bytes]) -> bytes:
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{next(iter(parts))}" ContentType="{main}"/></Types>').encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", b'<?xml version="1.0"?><Relationships/>')
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx() -> bytes:
    return _office_zip(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        {"word/document.xml": b'<?xml version="1.0"?><w:document/>'})


def docm() -> bytes:
    """A macro-enabled Word document."""
    return _office_zip(
        "application/vnd.ms-word.document.macroEnabled.main+xml",
        {"word/document.xml": b'<?xml version="1.0"?><w:document/>',
         "word/vbaProject.bin": b"\xd0\xcf\x11\xe0macros"})


def xlsx() -> bytes:
    return _office_zip(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        {"xl/workbook.xml": b'<?xml version="1.0"?><workbook/>'})


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", b"hello")
    return buffer.getvalue()


def windows_executable() -> bytes:
    """The start of a Windows PE executable (what a .exe renamed .pdf is)."""
    pe_offset = 0x80
    dos = bytearray(pe_offset)
    dos[0:2] = b"MZ"
    dos[0x3C:0x40] = struct.pack("<I", pe_offset)
    coff = struct.pack("<HHIIIHH", 0x14C, 0, 0, 0, 0, 0xE0, 0x102)
    return bytes(dos) + b"PE\x00\x00" + coff + bytes(0xE0)
