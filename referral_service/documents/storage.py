"""Where documents' bytes are kept: outside the database, behind a small interface.

The one store today is a local directory (``DOCUMENTS_DIR``). Another (an S3-compatible
bucket, say) needs only ``put``, ``get`` and ``delete`` by key.
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

KEY = re.compile(r"[0-9a-f]{32}")


class DocumentStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


def new_key() -> str:
    """A random name for a document in the store (never the name it was uploaded with)."""
    return secrets.token_hex(16)


class LocalDirectoryStore:
    """One file per document in one directory, readable only by the service's user."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not KEY.fullmatch(key):  # keys are ours, but a path must never be built from others
            raise ValueError("Not a document store key.")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        """Written to a temporary file and renamed into place: a reader never sees half a
        document, and a crash leaves at most a stray ``.part`` file."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(key)
        temporary = path.with_name(f"{key}.{secrets.token_hex(4)}.part")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def init_app(app: Flask) -> None:
    kind = app.config["DOCUMENT_STORE"]
    if kind != "local":
        raise RuntimeError(f"DOCUMENT_STORE must be 'local' (it is {kind!r}).")
    app.extensions["document_store"] = LocalDirectoryStore(Path(app.config["DOCUMENTS_DIR"]))


def store() -> DocumentStore:
    store: DocumentStore = current_app.extensions["document_store"]
    return store
