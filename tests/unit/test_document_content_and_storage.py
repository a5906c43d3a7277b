"""What a document is, judged by its content; and the local directory store."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from referral_service.documents import content, storage
from tests import document_samples as samples


@pytest.mark.parametrize(("make", "expected"), [
    (samples.pdf, "application/pdf"),
    (samples.png, "image/png"),
    (samples.jpeg, "image/jpeg"),
    (samples.docx, content.DOCX),
])
def test_accepted_kinds_are_recognised(make, expected) -> None:  # type: ignore[no-untyped-def]
    assert content.media_type(make()) == expected


@pytest.mark.parametrize("make", [
    samples.windows_executable, samples.plain_zip, samples.xlsx, samples.docm,
    lambda: samples.EICAR, lambda: b"#!/bin/sh\nrm -rf /\n", lambda: b"PK\x03\x04broken",
    lambda: samples.docx()[:200],  # a truncated DOCX is not a Word document
])
def test_other_kinds_are_refused(make) -> None:  # type: ignore[no-untyped-def]
    assert content.media_type(make()) is None


def test_the_store_writes_whole_private_files_named_by_key(tmp_path: Path) -> None:
    store = storage.LocalDirectoryStore(tmp_path / "documents")
    key = storage.new_key()
    store.put(key, b"one")
    path = tmp_path / "documents" / key
    assert path.read_bytes() == b"one" and store.get(key) == b"one"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [key]  # no temporary file left
    store.delete(key)
    assert not path.exists()
    store.delete(key)  # deleting twice is fine


@pytest.mark.parametrize("key", ["../secret", "/etc/passwd", "ABC", "", "a" * 31,
                                 "0123456789abcdef0123456789abcdef/.."])
def test_the_store_refuses_keys_it_did_not_make(tmp_path: Path, key: str) -> None:
    store = storage.LocalDirectoryStore(tmp_path)
    with pytest.raises(ValueError):
        store.put(key, b"x")
    with pytest.raises(ValueError):
        store.get(key)


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    store = storage.LocalDirectoryStore(tmp_path)
    with pytest.raises(TypeError):
        store.put(storage.new_key(), "not bytes")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
