"""Virus scanning through a real clamd (CLAMD_SOCKET): infected files are refused, audited and
not kept; clean files are marked clean; a scanner that is down or slow never makes a 500, and
the document is kept as not scanned for officers to see."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from referral_service.documents import clamd
from referral_service.extensions import db
from referral_service.models import AuditEvent
from tests import document_samples as samples
from tests.clamd_daemon import SIGNATURE, running_clamd
from tests.integration.documents_support import documents_held, partner, stored_files, upload

__all__ = ["partner"]  # a fixture


@pytest.fixture(scope="module")
def clamd_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_clamd(tmp_path_factory.mktemp("clamd")) as path:
        yield path


@pytest.fixture
def scanning(app: Flask, clamd_socket: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", clamd_socket)
    return clamd_socket


def test_the_client_tells_clean_from_infected(clamd_socket: str) -> None:
    assert clamd.scan(clamd_socket, samples.pdf(), timeout=10) is None
    assert clamd.scan(clamd_socket, samples.EICAR, timeout=10).startswith(SIGNATURE)
    # Found anywhere in a file, across the client's 64 KiB chunks too.
    hidden = samples.pdf() + b" " * (clamd.CHUNK - 20) + samples.EICAR
    assert clamd.scan(clamd_socket, hidden, timeout=10).startswith(SIGNATURE)


def test_an_infected_file_is_refused_audited_and_not_kept(  # type: ignore[no-untyped-def]
        app, client, partner, scanning) -> None:
    before = stored_files(app)
    for data in (samples.EICAR, samples.pdf() + samples.EICAR):
        response = upload(client, partner, data, name="letter.pdf")
        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        assert "virus" in response.json["detail"]
    assert documents_held() == 0 and stored_files(app) == before
    events = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.refused_infected")))
    assert len(events) == 2
    assert all(e.details["signature"].startswith(SIGNATURE) for e in events)
    assert {e.referral_id for e in events} == {partner["referral"].id}


def test_a_clean_file_is_marked_scanned_clean(client, partner, scanning) -> None:  # type: ignore[no-untyped-def]
    response = upload(client, partner, samples.pdf())
    assert response.status_code == 201
    assert response.json["scan_status"] == "clean"


def test_a_scanner_that_is_not_there_leaves_the_document_not_scanned(  # type: ignore[no-untyped-def]
        app, client, partner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", str(tmp_path / "no-clamd.sock"))
    response = upload(client, partner, samples.pdf())
    assert response.status_code == 201
    assert response.json["scan_status"] == "scan_failed"


@pytest.fixture
def silent_scanner(tmp_path: Path) -> Iterator[str]:
    """A socket that takes the connection and the file and never answers (a hung clamd)."""
    path = str(tmp_path / "slow.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            held.append(connection)
            connection.settimeout(0.1)
            while not stop.is_set():
                try:
                    if not connection.recv(65536):
                        break
                except TimeoutError:
                    continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield path
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def test_a_scanner_that_does_not_answer_in_time_is_not_a_500(  # type: ignore[no-untyped-def]
        app, client, partner, silent_scanner: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", silent_scanner)
    monkeypatch.setitem(app.config, "CLAMD_TIMEOUT_SECONDS", 0.5)
    started = time.monotonic()
    response = upload(client, partner, samples.pdf())
    assert response.status_code == 201
    assert response.json["scan_status"] == "scan_failed"
    assert time.monotonic() - started < 5
