"""The server's edge under idle and trickling connections: does /ask still answer, and how fast?

    .venv/bin/python -m benchmarks.check_edge --idle 200 --trickling 20 --questions 300

A real `qa serve` on 127.0.0.1 (the test suite's fake encoder, so the figures are the HTTP edge's,
not the model's) over a small index. One client asks `--questions` questions in a row with no
other connection open, then again while `--idle` connections that send nothing and `--trickling`
connections that send a byte of an /ask body every 0.5 s are open (the edge's timeouts raised so
they stay open), and reports the latencies, the errors and the server's RSS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from tests.fakes import FakeEncoder
from tests.server_fixtures import connect, real_server, small_index

QUESTION = {"question": "When does the ferry to Gozo leave?", "top_k": 1}
HEAD = b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{"


def ask_many(base: str, count: int) -> tuple[list[float], int]:
    latencies, errors = [], 0
    with httpx.Client(base_url=base) as client:
        for _ in range(count):
            start = time.perf_counter()
            try:
                ok = client.post("/ask", json=QUESTION).status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - start)
            errors += not ok
    return latencies, errors


def summary(latencies: list[float], errors: int) -> dict:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": errors,
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=200)
    parser.add_argument("--trickling", type=int, default=20)
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args()
    env = {"QA_HEADER_TIMEOUT": "600", "QA_BODY_TIMEOUT": "600", "QA_MIN_BODY_RATE": "1"}
    with tempfile.TemporaryDirectory() as folder:
        index_dir = small_index(Path(folder), FakeEncoder())
        with real_server(index_dir, Path(folder) / "server.log", env=env) as (base, server):
            ask_many(base, 20)  # warm up
            alone = summary(*ask_many(base, args.questions))
            rss_alone = rss_mb(server.pid)
            idle = [connect(base) for _ in range(args.idle)]
            trickling = [connect(base) for _ in range(args.trickling)]
            for connection in trickling:
                connection.sendall(HEAD)
            stop = threading.Event()

            def trickle() -> None:
                while not stop.wait(0.5):
                    for connection in trickling:
                        connection.sendall(b" ")

            trickler = threading.Thread(target=trickle, daemon=True)
            trickler.start()
            try:
                loaded = summary(*ask_many(base, args.questions))
                rss_loaded = rss_mb(server.pid)
            finally:
                stop.set()
                trickler.join()
                for connection in idle + trickling:
                    connection.close()
    result = {
        "idle": args.idle,
        "trickling": args.trickling,
        "alone": {**alone, "rss_mb": rss_alone},
        "with_open_connections": {**loaded, "rss_mb": rss_loaded},
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
