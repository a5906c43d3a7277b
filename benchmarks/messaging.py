"""Messages per second from the outbox to a (fake) Twilio through one worker process, beside a
bare loop of the twilio client against the same fake, in the same run. Prints one JSON line.

    .venv/bin/python benchmarks/messaging.py
    BENCH_MESSAGES=2000 BENCH_THREADS=8 BENCH_BATCH=50 BENCH_RUNS=3 (the defaults)
    BENCH_PROFILE=/tmp/worker.txt  also records the worker with py-spy (collapsed stacks; not a
                                   project dependency: .venv/bin/pip install py-spy first)

Fair by construction: the fake Twilio runs in a process of its own (so neither side shares its
interpreter with the fake); the bare loop uses the same sender class with the same settings and
sends the same fields (To, From, Body, StatusCallback) the same number of times; it runs before
and after the worker, and the ratio is taken against the mean of the two (the shared machine's
load drifts). Needs PostgreSQL (127.0.0.1:5432, trust) and Redis (127.0.0.1:6379); uses database
referrals_bench_msg and Redis database 14, both wiped first.
"""
from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from integrations.ports import Sms  # noqa: E402
from integrations.twilio_sms import TwilioSmsSender  # noqa: E402

N = int(os.environ.get("BENCH_MESSAGES", "2000"))
THREADS = os.environ.get("BENCH_THREADS", "8")
BATCH = int(os.environ.get("BENCH_BATCH", "50"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
DB = "referrals_bench_msg"
REDIS_URL = "redis://127.0.0.1:6379/14"
FROM = "+447700900000"
PUBLIC_BASE_URL = "http://127.0.0.1:5000"
CALLBACK = PUBLIC_BASE_URL + "/webhooks/twilio/status"


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fresh_database() -> str:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {DB}")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB}"


def start_fake() -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.twilio"], cwd=ROOT, stdout=subprocess.PIPE,
        text=True)
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def sender(fake: dict[str, str]) -> TwilioSmsSender:
    """Exactly what the worker builds from its settings (integrations.providers.sms_sender)."""
    return TwilioSmsSender(fake["account_sid"], fake["auth_token"], from_number=FROM,
                           api_base_url=fake["url"])


def bare_loop(fake: dict[str, str], prefix: str) -> tuple[float, float]:
    """The twilio client alone, one message after another: messages per second, and this
    process's CPU milliseconds per message."""
    client = sender(fake)
    started, cpu = time.perf_counter(), time.process_time()
    for n in range(N):
        client.send_sms(Sms(to=f"{prefix}{n:07d}", body="Bare loop message",
                            reference=str(n), status_callback=CALLBACK))
    rate = N / (time.perf_counter() - started)
    cpu_ms = (time.process_time() - cpu) * 1000 / N
    client.close()
    return rate, cpu_ms


def received(fake: dict[str, str], to_prefix: str) -> list[str]:
    """The To of every message the fake accepted whose number starts so (its list API)."""
    client = sender(fake)._client
    numbers: list[str] = []
    page: Any = client.messages.page(page_size=1000)
    while page is not None:
        numbers.extend(record.to for record in page if record.to.startswith(to_prefix))
        page = page.next_page()
    return numbers


def through_the_worker(env: dict[str, str], prefix: str, run: int) -> tuple[float, float]:
    """N queued outbox rows, one `referrals worker` process fed by scheduler ticks: messages
    per second, and the worker's CPU milliseconds per message."""
    from notifications import dispatch, scheduler
    from referral_service.app import create_app
    from referral_service.extensions import db
    from referral_service.models import Audience, Channel, MessageStatus, OutboxMessage

    dispatch.BATCH_SIZE = BATCH  # the scheduler (this process) makes the batches
    app = create_app()
    with app.app_context():
        db.session.add_all(OutboxMessage(
            id=uuid.uuid4(), channel=Channel.SMS, audience=Audience.OFFICER, event="benchmark",
            template="benchmark", to_address=f"{prefix}{n:07d}", body="Outbox message")
            for n in range(N))
        db.session.commit()
    log_path = Path(f"/tmp/bench-msg-worker-{os.getpid()}-{run}.log")  # noqa: S108
    with log_path.open("w") as log:
        worker = subprocess.Popen(  # noqa: S603  (our own console script, fixed arguments)
            [str(ROOT / ".venv/bin/referrals"), "worker", "--threads", THREADS], env=env,
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    profiler = None
    try:
        deadline = time.monotonic() + 60
        while "Worker started" not in log_path.read_text():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit(log_path.read_text())
            time.sleep(0.05)
        if os.environ.get("BENCH_PROFILE"):
            profiler = subprocess.Popen(  # noqa: S603  (fixed arguments)
                [str(ROOT / ".venv/bin/py-spy"), "record", "--pid", str(worker.pid), "--format",
                 "raw", "--nonblocking", "-o", f"{os.environ['BENCH_PROFILE']}.{run}"])
        started, cpu = time.perf_counter(), cpu_seconds(worker.pid)
        with app.app_context():
            while True:
                scheduler.tick()
                waiting = db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(
                    OutboxMessage.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING])))
                db.session.rollback()
                if not waiting:
                    break
                time.sleep(0.05)
        elapsed = time.perf_counter() - started
        cpu_ms = (cpu_seconds(worker.pid) - cpu) * 1000 / N
    finally:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=60)
        worker.terminate()
        worker.wait(timeout=30)
        with app.app_context():
            db.engine.dispose()
    log_path.unlink()
    return N / elapsed, cpu_ms


def main() -> None:
    fake_process, fake = start_fake()
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database(), "BROKER_URL": REDIS_URL, "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING", "TWILIO_ACCOUNT_SID": fake["account_sid"],
        "TWILIO_AUTH_TOKEN": fake["auth_token"], "TWILIO_FROM": FROM,
        "TWILIO_API_BASE_URL": fake["url"], "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "DEV_OUTBOX": "on",  # no SMTP here: the worker keeps email in the development outbox
    }
    os.environ.update(env)
    from flask_migrate import upgrade

    from referral_service.app import create_app
    from referral_service.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        db.engine.dispose()
    try:
        for run in range(RUNS):
            fake_cpu = cpu_seconds(fake_process.pid)
            before, bare_cpu_before = bare_loop(fake, f"+4477{run}0")
            fake_cpu_bare = cpu_seconds(fake_process.pid) - fake_cpu
            fake_cpu = cpu_seconds(fake_process.pid)
            ours, worker_cpu = through_the_worker(env, f"+4477{run}1", run)
            fake_cpu_ours = cpu_seconds(fake_process.pid) - fake_cpu
            after, bare_cpu_after = bare_loop(fake, f"+4477{run}2")
            sent = received(fake, f"+4477{run}1")
            bare = statistics.mean([before, after])
            print("JSON " + json.dumps({
                "run": run + 1, "messages": N, "worker_threads": int(THREADS),
                "batch_size": BATCH, "bare_loop_before_per_s": round(before, 1),
                "bare_loop_after_per_s": round(after, 1),
                "outbox_worker_per_s": round(ours, 1), "ratio": round(ours / bare, 2),
                "cpu_ms_per_message": {
                    "bare_loop": round(statistics.mean([bare_cpu_before, bare_cpu_after]), 2),
                    "worker": round(worker_cpu, 2),
                    "fake_in_bare_loop": round(fake_cpu_bare * 1000 / N, 2),
                    "fake_in_worker_run": round(fake_cpu_ours * 1000 / N, 2)},
                "load_average": round(os.getloadavg()[0], 1),
                "each_sent_once": len(sent) == N == len(set(sent)),
            }), flush=True)
    finally:
        fake_process.send_signal(signal.SIGTERM)
        fake_process.wait(timeout=30)


if __name__ == "__main__":
    main()
