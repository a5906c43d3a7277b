"""Open-loop load at a fixed rate, with latency measured from each request's scheduled start
(so a slow server cannot hide its queueing: no coordinated omission). Prints one JSON line.

    python loadgen.py --url http://127.0.0.1:8101/api/v1/referrals --rate 150 --seconds 30
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from people import referral_body


def body(n: int) -> bytes:
    return json.dumps(referral_body(n, "Rate")).encode()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def open_loop(host: str, port: int, rate: float, seconds: float, connections: int,
              request: Callable[[int], tuple[str, bytes, dict[str, str]]],
              record: Callable[[int, float, int], None]) -> float:
    """POST ``request(index)`` (path, body, headers) at ``rate`` a second for ``seconds`` from
    ``connections`` threads; ``record(index, milliseconds since its scheduled start, status)``
    after each answer (status 0: no answer). Returns the seconds the whole load took."""
    total = int(rate * seconds)
    start = time.perf_counter() + 0.5
    lock = threading.Lock()
    next_index = [0]

    def worker() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= total:
                break
            scheduled = start + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            path, payload, headers = request(index)
            try:
                connection.request("POST", path, body=payload, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except OSError:
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=30)
                status = 0
            with lock:
                record(index, (time.perf_counter() - scheduled) * 1000, status)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    target = urlsplit(args.url)
    headers = {"Content-Type": "application/json",
               "Authorization": f"Bearer {os.environ['BENCH_TOKEN']}"}
    latencies: list[float] = []
    failures = [0]

    def record(_: int, elapsed_ms: float, status: int) -> None:
        latencies.append(elapsed_ms)
        failures[0] += 0 if status == 201 else 1

    duration = open_loop(str(target.hostname), int(target.port or 80), args.rate, args.seconds,
                         args.connections, lambda index: (target.path, body(index), headers),
                         record)
    print("JSON " + json.dumps({
        "target_rps": args.rate, "achieved_rps": round(len(latencies) / duration, 1),
        "requests": len(latencies), "failures": failures[0],
        "p50_ms": round(percentile(latencies, 50), 2),
        "p90_ms": round(percentile(latencies, 90), 2),
        "p99_ms": round(percentile(latencies, 99), 2), "max_ms": round(max(latencies), 2)}))


if __name__ == "__main__":
    main()
