"""The soak's processes, started as production runs them: gunicorn (the app), ``referrals
worker``, ``referrals scheduler``; and the three faults the soak injects into them.

Every process is started in a session of its own, so it (and gunicorn's workers) can be
signalled by its own process group and nothing else on the machine is touched.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def fresh_database(name: str) -> str:
    """An empty PostgreSQL database of the soak's own (dropped first if an earlier run left it)."""
    if not name.startswith("soak"):
        raise SystemExit(f"the soak uses databases named soak*, not {name!r}")
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Stack:
    """The app's processes for one soak, their logs in ``logs``."""

    env: dict[str, str]
    port: int
    logs: Path
    gunicorn_workers: int = 2
    worker_threads: int = 8
    scheduler_interval: float = 10.0
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _start(self, name: str, command: list[str]) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(  # noqa: S603  (fixed commands of our own)
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def start(self) -> None:
        venv = ROOT / ".venv/bin"
        self._start("gunicorn", [
            str(venv / "gunicorn"), "-c", "python:referral_service.gunicorn_conf",
            "-w", str(self.gunicorn_workers), "-k", "sync", "-b", f"127.0.0.1:{self.port}",
            "--log-level", "warning", "wsgi:app"])
        self.start_worker()
        self._start("scheduler", [str(venv / "referrals"), "scheduler",
                                  "--interval", str(self.scheduler_interval)])
        self.wait_until_serving()

    def start_worker(self) -> None:
        self._start("worker", [str(ROOT / ".venv/bin/referrals"), "worker",
                               "--threads", str(self.worker_threads)])

    def wait_until_serving(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"the app did not answer on port {self.port}: see {self.logs}")

    def pids(self) -> dict[str, list[int]]:
        """Every process to watch, by role: gunicorn's master and its workers (which it may
        replace), the worker, the scheduler."""
        out: dict[str, list[int]] = {}
        for name, process in self.processes.items():
            if process.poll() is not None:
                continue
            out[name] = [process.pid]
            if name == "gunicorn":
                children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
                if children.exists():
                    out["gunicorn workers"] = [int(pid) for pid in children.read_text().split()]
        return out

    def kill_worker(self) -> None:
        """SIGKILL: no chance to finish or hand back what it holds, as when a machine dies."""
        worker = self.processes["worker"]
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=45)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def flush_redis(url: str) -> None:
    """Empty the soak's own Redis database (its number in ``url``), nothing else."""
    redis.Redis.from_url(url).flushdb()


def database_outage(name: str, seconds: float, restart_command: str | None) -> None:
    """PostgreSQL goes away for a while. With ``restart_command`` (e.g. ``pg_ctlcluster
    --skip-systemctl-redirect 15 main restart``) the whole server restarts: every database on
    it, so only on a machine of the soak's own. Otherwise only the soak's database does: its
    connections are ended and new ones refused for ``seconds``, which the app sees as it sees a
    restart (connections drop, then connecting fails, then works again)."""
    if restart_command:
        subprocess.run(restart_command, shell=True, check=True)  # noqa: S602  (the operator's)
        return
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        time.sleep(seconds)
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
