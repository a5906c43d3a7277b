"""Resident memory (RSS) of the soak's processes, sampled in the background.

Growth is judged after warm-up (imports, caches and pools filled): the mean of the samples in
the first tenth after warm-up against the mean of the last tenth of the run, per role. A process
that is replaced (the killed worker) is sampled under the same role with its own pid, so only
the processes alive at the end are judged, from their own warm-up on.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


@dataclass
class MemorySampler:
    """Every ``every`` seconds, the RSS of each pid ``pids()`` names, by role."""

    pids: Callable[[], dict[str, list[int]]]
    every: float = 5.0
    # (seconds since start, role, pid, KiB)
    samples: list[tuple[float, str, int, int]] = field(default_factory=list)
    started_at: float = 0.0  # time.monotonic() at start; sample times count from here
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        began = self.started_at = time.monotonic()

        def sample() -> None:
            while not self._stop.is_set():
                for role, pids in self.pids().items():
                    for pid in pids:
                        if (kib := rss_kib(pid)) is not None:
                            self.samples.append((time.monotonic() - began, role, pid, kib))
                self._stop.wait(self.every)

        self._thread = threading.Thread(target=sample, name="soak-rss", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def growth(self, warm_up: float, until: float) -> dict[str, dict[str, float]]:
        """Per role: MiB just after warm-up and at the end, and the growth in per cent. The
        role's processes alive at the end are summed (two gunicorn workers are the app's
        memory); warm-up counts from when they were first seen (a restarted worker warms up
        again). Early: the first tenth of what follows warm-up; late: the last tenth."""
        out: dict[str, dict[str, float]] = {}
        for role in sorted({s[1] for s in self.samples}):
            mine = [s for s in self.samples if s[1] == role and s[0] <= until]
            final_pids = {s[2] for s in mine if s[0] >= until - 2 * self.every}
            kept = [s for s in mine if s[2] in final_pids]
            if not kept:
                continue
            start = min(s[0] for s in kept) + warm_up
            tenth = (until - start) / 10
            early = [s for s in kept if start <= s[0] <= start + tenth]
            late = [s for s in kept if s[0] >= until - tenth]
            if tenth <= 0 or not early or not late:
                continue
            first, last = _total(early), _total(late)
            out[role] = {"start_mib": round(first / 1024, 1), "end_mib": round(last / 1024, 1),
                         "growth_pct": round((last - first) / first * 100, 1)}
        return out


def _total(samples: list[tuple[float, str, int, int]]) -> float:
    """Mean over sample rounds of the role's summed RSS (each pid's mean, summed)."""
    by_pid: dict[int, list[int]] = {}
    for _, _, pid, kib in samples:
        by_pid.setdefault(pid, []).append(kib)
    return sum(mean(values) for values in by_pid.values())
