"""From the 201 to the applicant's text (issue 14, target (c)): how long after
``POST /api/v1/referrals`` answers 201 does the applicant's SMS reach Twilio?

    python benchmarks/text_latency.py --rate 50 --seconds 60     (``benchmarks/run`` runs it)

On the benchmark database (``DATABASE_URL``, already migrated with the benchmark's authority,
officers and client by ``setup_data.py``; its referrals are truncated first) and a Redis
database of its own (``--redis-url``, flushed first), it starts the stack as production runs it
(``soak_stack.Stack``): gunicorn (``referral_service.gunicorn_conf``, 2 sync workers),
``referrals worker`` (4 threads) and ``referrals scheduler`` (a tick every 60 s): the
commands' defaults, as the README deploys them, with the
real ``twilio`` client pointed at the fake Twilio (``tests/fakes/twilio.py``) and emails going to
a real SMTP server (aiosmtpd). The fake and the SMTP server run in a process of their own (this
script with ``--sinks``), which writes the wall-clock time of each text it accepts; the load runs
here, open loop at ``--rate`` for ``--seconds`` after a few seconds' warm-up (not counted), a
different person on every request, and notes the wall-clock time each 201 was read. Both are on
one machine's clock. A text that never arrives (within ``--settle-seconds`` after the load)
counts as infinitely late, so it cannot flatter the percentiles.

Quiet hours would hold every text at night. Between 08:00 and 19:00 London time the stack runs
with production's hours (21:00-08:00). Otherwise it is given ``APPLICANT_QUIET_HOURS`` (an
operator's setting, ``referral_service/config.py``) set to six hours that start six hours after
the run: the rule is on and checked for every text, but no text of the run falls in it.

Prints one line ``JSON {...}`` (and writes it to ``--out`` if given).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

TWILIO_FROM = "+447700900000"


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=50, help="referrals per second")
    parser.add_argument("--seconds", type=float, default=60, help="measured load")
    parser.add_argument("--warm-up-seconds", type=float, default=5)
    parser.add_argument("--settle-seconds", type=float, default=60,
                        help="longest wait for the last texts after the load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8104)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9",
                        help="broker and rate-limit store; this database is flushed")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--worker-threads", type=int, default=4,
                        help="`referrals worker --threads` (4: the default and the README's)")
    parser.add_argument("--scheduler-interval", type=float, default=60.0,
                        help="the scheduler's tick (60 s: the command's default)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--sinks", type=Path, help=argparse.SUPPRESS)  # the sinks' process
    return parser.parse_args(argv)


# --- the sinks' process: fake Twilio and an SMTP server ---------------------------------------

def run_sinks(arrivals: Path) -> None:
    """Start the fake Twilio and the SMTP server, print their settings as one JSON line, append
    ``<wall-clock time> <To>`` for every text accepted, until stdin closes."""
    from tests.fakes.smtp import Mailbox, smtp_servers
    from tests.fakes.twilio import FakeTwilio

    lock = threading.Lock()
    out = arrivals.open("a", buffering=1)

    def accepted(fields: dict[str, str]) -> None:
        at = time.time()
        with lock:
            out.write(f"{at:.6f} {fields.get('To', '')}\n")

    fake = FakeTwilio(on_accepted=accepted).start()
    servers = smtp_servers()
    smtp_port = next(servers)(Mailbox())
    print(json.dumps({"twilio_url": fake.url, "account_sid": fake.account_sid,
                      "auth_token": fake.auth_token, "smtp_port": smtp_port}), flush=True)
    sys.stdin.read()  # until the parent closes it (or dies)
    fake.stop()
    next(servers, None)
    out.close()


def phone_key(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())[-10:]


# --- the measurement ----------------------------------------------------------------------------

def quiet_hours_for(now: datetime) -> str | None:
    """None (production's 21:00-08:00 stands) when the next two hours are outside them;
    otherwise six quiet hours starting six hours from ``now`` (London): the rule stays on and
    is checked for every text, but no text of the run falls in it."""
    local = now.astimezone(ZoneInfo("Europe/London"))
    if all(8 <= (local + timedelta(minutes=minutes)).hour < 21 for minutes in (0, 60, 120)):
        return None
    start, end = local + timedelta(hours=6), local + timedelta(hours=12)
    return f"{start:%H:%M}-{end:%H:%M}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def reset(database_url: str, redis_url: str) -> None:
    import redis
    import sqlalchemy as sa

    redis.Redis.from_url(redis_url).flushdb()
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("SET client_min_messages = warning")
        connection.exec_driver_sql("TRUNCATE referrals CASCADE")
        connection.exec_driver_sql("UPDATE users SET last_assigned_at = NULL, open_caseload = 0")
    engine.dispose()


def load(port: int, token: str, rate: float, seconds: float, connections: int,
         first: int) -> list[tuple[str, float, float, int]]:
    """Open loop (``loadgen.open_loop``): (phone key, milliseconds from the scheduled start to
    the answer, wall-clock time the answer was read, status)."""
    from loadgen import open_loop
    from people import referral_body

    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    phones: dict[int, str] = {}
    results: list[tuple[str, float, float, int]] = []

    def request(index: int) -> tuple[str, bytes, dict[str, str]]:
        body = referral_body(first + index, "Text")
        phones[index] = phone_key(body["person"]["phone"])
        return "/api/v1/referrals", json.dumps(body).encode(), headers

    def record(index: int, elapsed_ms: float, status: int) -> None:
        results.append((phones[index], elapsed_ms, time.time(), status))

    open_loop("127.0.0.1", port, rate, seconds, connections, request, record)
    return results


def read_arrivals(path: Path) -> dict[str, float]:
    arrivals: dict[str, float] = {}
    for line in path.read_text().splitlines():
        at, _, to = line.partition(" ")
        arrivals.setdefault(phone_key(to), float(at))
    return arrivals


def cpu_by_role(stack: Any, sinks: int) -> dict[str, float]:
    """CPU seconds used so far by each role's processes (from /proc)."""
    from cpu import cpu_seconds

    pids = {**stack.pids(), "fake Twilio + SMTP": [sinks], "load generator": [os.getpid()]}
    pids.pop("gunicorn", None)  # the master only forks and watches
    return {role: sum(cpu_seconds(pid) or 0.0 for pid in role_pids)
            for role, role_pids in pids.items()}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import soak_stack

    database_url = os.environ["DATABASE_URL"]
    token = os.environ["BENCH_TOKEN"]
    work = Path(tempfile.mkdtemp(prefix="text-latency-"))
    arrivals_file = work / "arrivals.txt"
    arrivals_file.touch()
    sinks = subprocess.Popen(  # noqa: S603  (this script)
        [sys.executable, __file__, "--sinks", str(arrivals_file)], cwd=ROOT,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert sinks.stdout is not None and sinks.stdin is not None
    settings = json.loads(sinks.stdout.readline())
    quiet = quiet_hours_for(datetime.now().astimezone())
    reset(database_url, args.redis_url)
    (work / "prometheus").mkdir()
    env = {
        **os.environ, "PYTHONPATH": str(ROOT),
        "APP_ENV": "production", "SECRET_KEY": os.environ.get("SECRET_KEY", "bench"),
        "LOG_LEVEL": "WARNING", "DATABASE_URL": database_url,
        "BROKER_URL": args.redis_url, "RATELIMIT_STORAGE_URI": args.redis_url,
        "API_RATE_LIMIT": "100000000 per minute",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{args.port}",
        "TWILIO_ACCOUNT_SID": settings["account_sid"], "TWILIO_AUTH_TOKEN": settings["auth_token"],
        "TWILIO_FROM": TWILIO_FROM, "TWILIO_API_BASE_URL": settings["twilio_url"],
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(settings["smtp_port"]),
        "SMTP_STARTTLS": "false", "MAIL_FROM": "referrals@bench.example",
        "PROMETHEUS_MULTIPROC_DIR": str(work / "prometheus"),
    }
    if quiet is not None:
        env["APPLICANT_QUIET_HOURS"] = quiet
    stack = soak_stack.Stack(env, args.port, work, gunicorn_workers=args.gunicorn_workers,
                             worker_threads=args.worker_threads,
                             scheduler_interval=args.scheduler_interval)
    try:
        stack.start()
        if args.warm_up_seconds > 0:
            load(args.port, token, args.rate, args.warm_up_seconds, args.connections, 10**7)
        cpu_before = cpu_by_role(stack, sinks.pid)
        began = time.time()
        results = load(args.port, token, args.rate, args.seconds, args.connections, 0)
        load_seconds = time.time() - began
        created = {key: answered for key, _, answered, status in results if status == 201}
        deadline = time.monotonic() + args.settle_seconds
        while time.monotonic() < deadline:
            if created.keys() <= read_arrivals(arrivals_file).keys():
                break
            time.sleep(0.5)
        arrivals = read_arrivals(arrivals_file)
        cpu_after = cpu_by_role(stack, sinks.pid)
    finally:
        stack.stop()
        sinks.stdin.close()
        sinks.wait(timeout=30)
    # A text can arrive before the client has read its 201 (the worker is that quick): 0 ms.
    latencies = [max(0.0, (arrivals[key] - answered) * 1000) if key in arrivals else math.inf
                 for key, answered in created.items()]
    before_201 = sum(arrivals[key] < answered for key, answered in created.items()
                     if key in arrivals)
    requests = [elapsed for _, elapsed, _, _ in results]
    return {
        "rate": args.rate, "seconds": args.seconds,
        "quiet_hours": quiet or "21:00-08:00 (default)",
        "scheduler_interval": args.scheduler_interval, "worker_threads": args.worker_threads,
        "requests": len(results), "achieved_rps": round(len(results) / load_seconds, 1),
        "created": len(created), "failures": len(results) - len(created),
        "request_p50_ms": round(percentile(requests, 50), 1),
        "request_p99_ms": round(percentile(requests, 99), 1),
        "texts_arrived": sum(key in arrivals for key in created),
        "texts_before_201": before_201,
        "text_p50_ms": round(percentile(latencies, 50), 1),
        "text_p95_ms": round(percentile(latencies, 95), 1),
        "text_p99_ms": round(percentile(latencies, 99), 1),
        "text_max_ms": round(max(latencies, default=math.nan), 1),
        # CPU milliseconds per referral created, by process: steadier than times when the
        # machine is shared (the worker's and scheduler's include the texts and emails).
        "cpu_ms_per_referral": {role: round((cpu_after[role] - cpu_before.get(role, 0.0)) * 1000
                                            / max(1, len(created)), 2) for role in cpu_after},
        "load_average": round(os.getloadavg()[0], 1),
        "logs": str(work),
    }


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    if args.sinks is not None:
        run_sinks(args.sinks)
        return
    result = measure(args)
    line = json.dumps(result)
    print("JSON " + line, flush=True)
    if args.out:
        args.out.write_text(line)


if __name__ == "__main__":
    main()
