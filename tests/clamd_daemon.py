"""A real clamd for the scanning tests, on a socket of its own, with a one-signature database.

There is no internet for freshclam, and clamd will not start without signatures: the database
here has one body signature, for the EICAR test string, so a file holding it anywhere is found.
In CI a missing clamd fails the run (scripts/setup installs clamav-daemon); elsewhere the tests
are skipped, saying how to install it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import document_samples

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
SIGNATURE = "Eicar-Test-Signature"
START_SECONDS = 60


def _clamd_or_skip() -> str:
    if os.access(CLAMD, os.X_OK):
        return CLAMD
    message = "clamd is not installed (as root: apt-get install -y clamav-daemon)."
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def running_clamd(directory: Path) -> Iterator[str]:
    """Start clamd in the foreground; yield its socket's path; stop it."""
    executable = _clamd_or_skip()
    database = directory / "db"
    database.mkdir()
    (database / "eicar.ndb").write_text(f"{SIGNATURE}:0:*:{document_samples.EICAR.hex()}\n")
    socket_path = directory / "clamd.sock"
    config = directory / "clamd.conf"
    config.write_text(f"LocalSocket {socket_path}\nForeground yes\n"
                      f"DatabaseDirectory {database}\nLogFile {directory / 'clamd.log'}\n")
    process = subprocess.Popen(  # noqa: S603  (the installed clamd, our own config)
        [executable, "-c", str(config)], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not socket_path.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                log = (directory / "clamd.log")
                raise RuntimeError("clamd did not start: "
                                   + (log.read_text()[-2000:] if log.exists() else "no log"))
            time.sleep(0.1)
        yield str(socket_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
