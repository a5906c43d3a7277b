"""The soak's result: a markdown table for benchmarks/README.md, from the run's JSON."""
from __future__ import annotations

from typing import Any

# A fault's effects may outlast it by this much (pools reconnecting, a request in flight).
GRACE_SECONDS = 15.0
WRONG = ("duplicates", "lost", "received_not_marked_sent", "still_waiting")


def in_window(at: float, window: tuple[float, float]) -> bool:
    return window[0] <= at <= window[1] + GRACE_SECONDS


def errors_by_window(unexpected: list[tuple[float, str, int]],
                     faults: dict[str, tuple[float, float]]) -> dict[str, dict[str, int]]:
    """Unexpected answers ("kind status"), by the fault window they fell in (or "outside")."""
    out: dict[str, dict[str, int]] = {}
    for at, kind, status in unexpected:
        where = next((name for name, window in faults.items() if in_window(at, window)),
                     "outside")
        counts = out.setdefault(where, {})
        counts[f"{kind} {status}"] = counts.get(f"{kind} {status}", 0) + 1
    return out


def verdicts(result: dict[str, Any]) -> dict[str, bool]:
    windows = result["errors_by_window"]
    outage = windows.get("database outage", {})
    texts = result["delivery"].get("sms", {})
    emails = result["delivery"].get("email", {})
    return {
        "no unexpected answer outside the fault windows": not windows.get("outside"),
        "no unexpected answer around the worker kill or the Redis flush": not (
            windows.get("worker killed") or windows.get("redis flushed")),
        "during the database outage, 5xx only as 503": all(
            key.endswith(" 503") or not key.split()[-1].startswith("5") for key in outage),
        "every text sent exactly once (none twice, none lost)": not any(
            texts.get(key) for key in WRONG)
        and not result["delivery"]["received_without_a_row"],
        # An email a killed worker held is sent again, with the same Message-ID
        # (notifications.scheduler: unlike a second text, a second email does no harm), so a
        # duplicate there is by design; a loss is not.
        "every email sent at least once (none lost)": not any(
            emails.get(key) for key in WRONG if key != "duplicates"),
        "RSS growth after warm-up under 10% for every process": all(
            role["growth_pct"] < 10 for role in result["memory"].values()),
    }


def markdown(result: dict[str, Any]) -> str:
    load = result["load"]
    lines = [
        f"{result['finished_at']} UTC, {result['machine']}; {result['minutes']:g} minutes at "
        f"{result['rate']:.0f} requests/s (half the mix's measured maximum of "
        f"{result['max_rps']:.0f}/s), gunicorn {result['gunicorn_workers']} sync workers, "
        f"worker {result['worker_threads']} threads, scheduler every "
        f"{result['scheduler_interval']:g} s; load average {result['load_average']}.",
        "",
        "| measure | result |",
        "|---|---|",
        f"| requests served | {load['requests']:,} "
        + "(" + ", ".join(f"{kind} {k['requests']:,}, p50 {k['p50_ms']} ms, p99 {k['p99_ms']} ms"
                          for kind, k in load["by_kind"].items()) + ") |",
    ]
    for name, (start, end) in result["faults"].items():
        errors = result["errors_by_window"].get(name, {})
        lines.append(f"| {name} at {start:.0f}–{end:.0f} s: unexpected answers | "
                     + (", ".join(f"{k}: {v}" for k, v in sorted(errors.items())) or "none")
                     + " |")
    outside = result["errors_by_window"].get("outside", {})
    lines.append("| unexpected answers outside the fault windows | "
                 + (", ".join(f"{k}: {v}" for k, v in sorted(outside.items())) or "none") + " |")
    for channel, counts in result["delivery"].items():
        if not isinstance(counts, dict):
            continue
        lines.append(
            f"| {channel} outbox rows: sent exactly once / duplicates / lost / still waiting | "
            f"{counts['rows']:,} rows {counts['statuses']}: {counts['sent_once']:,} / "
            f"{len(counts['duplicates'])} / {len(counts['lost'])} / "
            f"{len(counts['still_waiting'])} (drained in {result['drain_seconds']:.0f} s) |")
    lines.append(f"| received with no outbox row | "
                 f"{result['delivery']['received_without_a_row']} |")
    for role, memory in result["memory"].items():
        lines.append(f"| RSS {role} (after warm-up → end) | {memory['start_mib']} → "
                     f"{memory['end_mib']} MiB ({memory['growth_pct']:+}%) |")
    lines += ["", "Verdicts:", ""]
    lines += [f"- {'yes' if ok else '**no**'}: {text}" for text, ok in verdicts(result).items()]
    return "\n".join(lines) + "\n"
