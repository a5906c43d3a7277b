"""gunicorn settings for /metrics in multiprocess mode: ``gunicorn -c
python:referral_service.gunicorn_conf wsgi:app`` with ``PROMETHEUS_MULTIPROC_DIR`` set.

The directory must be emptied before the server starts (stale files from an earlier run would be
summed in); a worker that exits has its live gauges dropped, its counters kept.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from referral_service.config import prometheus_multiproc_dir


def on_starting(server: Any) -> None:
    directory = prometheus_multiproc_dir()
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if prometheus_multiproc_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
