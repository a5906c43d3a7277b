"""CPU time used by processes, for CPU milliseconds per request in ``benchmarks/run``.

Throughput on a shared machine moves with whatever else runs; the CPU each request costs the app
and PostgreSQL moves much less, so the run reports both.

    python cpu.py sample <pid>...       # JSON {pid: CPU seconds} on stdout
    python cpu.py used <before> <after> # CPU seconds used between two samples (files)

A process that is in ``after`` but not ``before`` (a new connection's backend) counts from zero.
"""
from __future__ import annotations

import json
import os
import sys

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def main() -> None:
    if sys.argv[1] == "sample":
        sample = {pid: cpu_seconds(int(pid)) for pid in sys.argv[2:]}
        json.dump({pid: s for pid, s in sample.items() if s is not None}, sys.stdout)
    elif sys.argv[1] == "used":
        with open(sys.argv[2]) as first, open(sys.argv[3]) as second:
            before, after = json.load(first), json.load(second)
        print(f"{sum(s - before.get(pid, 0.0) for pid, s in after.items()):.3f}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
