"""Messages per second from the outbox to a (fake) Twilio through one worker process, beside a
bare loop of the twilio client against the same fake, in the same run. Prints one JSON line.

    .venv/bin/python benchmarks/messaging.py   (BENCH_MESSAGES=2000, BENCH_THREADS=8)

Needs PostgreSQL (127.0.0.1:5432, trust) and Redis (127.0.0.1:6379); uses database
referrals_bench_msg and Redis database 14, both wiped first.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from integrations.ports import Sms  # noqa: E402
from integrations.twilio_sms import TwilioSmsSender  # noqa: E402
from tests.fakes.twilio import FakeTwilio  # noqa: E402

N = int(os.environ.get("BENCH_MESSAGES", "2000"))
THREADS = os.environ.get("BENCH_THREADS", "8")
DB = "referrals_bench_msg"
REDIS_URL = "redis://127.0.0.1:6379/14"


def fresh_database() -> str:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {DB}")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB}"


def main() -> None:
    fake = FakeTwilio().start()
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database(), "BROKER_URL": REDIS_URL, "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING", "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token, "TWILIO_FROM": "+447700900000",
        "TWILIO_API_BASE_URL": fake.url, "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    }
    os.environ.update(env)

    # 1. The bare loop: the twilio client alone, one message after another.
    sender = TwilioSmsSender(fake.account_sid, fake.auth_token, from_number="+447700900000",
                             api_base_url=fake.url)
    started = time.perf_counter()
    for n in range(N):
        sender.send_sms(Sms(to=f"+44770{n:07d}", body="Bare loop message", reference=str(n)))
    bare = N / (time.perf_counter() - started)

    # 2. Through the service: N queued outbox rows, one `referrals worker` process.
    from flask_migrate import upgrade

    from notifications import scheduler
    from referral_service import create_app
    from referral_service.extensions import db
    from referral_service.models import Audience, Channel, MessageStatus, OutboxMessage

    app = create_app()
    with app.app_context():
        upgrade()
        db.session.add_all(OutboxMessage(
            id=uuid.uuid4(), channel=Channel.SMS, audience=Audience.OFFICER, event="benchmark",
            template="benchmark", to_address=f"+44771{n:07d}", body="Outbox message")
            for n in range(N))
        db.session.commit()
    worker = subprocess.Popen(  # noqa: S603  (our own console script, fixed arguments)
        [str(ROOT / ".venv/bin/referrals"), "worker", "--threads", THREADS], env=env, cwd=ROOT)
    try:
        time.sleep(3)  # the worker connects to Redis and declares its queue
        started = time.perf_counter()
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
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    through_outbox = N / elapsed
    outbox_sends = [m for m in fake.messages if m["To"].startswith("+44771")]
    fake.stop()
    print("JSON " + json.dumps({
        "messages": N, "worker_threads": int(THREADS),
        "bare_loop_per_s": round(bare, 1), "outbox_worker_per_s": round(through_outbox, 1),
        "ratio": round(through_outbox / bare, 2),
        "each_sent_once": len(outbox_sends) == N == len({m["To"] for m in outbox_sends}),
    }))


if __name__ == "__main__":
    main()
