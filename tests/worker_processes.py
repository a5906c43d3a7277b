"""Real ``referrals worker`` processes for the crash tests, configured only through their
environment, stopped (SIGTERM, then SIGKILL) when the test ends."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REFERRALS = Path(sys.executable).parent / "referrals"
StartWorker = Callable[[str], subprocess.Popen[bytes]]


def poll(condition: Callable[[], bool], seconds: float, interval: float = 0.05) -> bool:
    """Whether ``condition`` became true within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


@contextmanager
def worker_processes(settings: dict[str, str], tmp_path: Path) -> Iterator[StartWorker]:
    """``start(name)`` runs ``referrals worker --threads 4`` with ``settings`` over this
    process's environment (less our own settings), logging to ``tmp_path/<name>.log``."""
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("TWILIO_", "SMTP_", "TEST_", "FLASK_"))
                   and key not in {"DATABASE_URL", "BROKER_URL", "APP_ENV", "MAIL_FROM"}}
    environment.update(settings)
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603  (our own console script, fixed arguments)
            [str(REFERRALS), "worker", "--threads", "4"], cwd=tmp_path, env=environment,
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
