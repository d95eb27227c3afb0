"""What every benchmark shares: timing, percentiles, the machine's facts, the table and the JSON."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# `python -m benchmarks --quick` writes to results/quick/, so a quick run never replaces full-size results.
RESULTS = Path(os.environ.get("QA_BENCH_RESULTS") or REPO / "benchmarks" / "results")
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall times in seconds of `repeat` calls of `fn`."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: list[float]) -> float:
    return statistics.median(values)


def qa_command() -> list[str]:
    """The installed `qa` script beside this interpreter, else `python -m qa`."""
    script = Path(sys.executable).parent / "qa"
    return [str(script)] if script.exists() else [sys.executable, "-m", "qa"]


def exit_on_sigterm() -> None:
    """Let `kill PID` unwind like Ctrl-C does, so temporary folders and servers are cleaned up."""
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM), memory-mapped pages it touched included. A child's
    `ru_maxrss` (wait4, /usr/bin/time) is no substitute: it is at least the parent's peak, which
    the kernel carries over at `exec`, so a figure for a child of a large process must be read by
    the child itself."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: other processes share the cores, so each figure keeps its own."""
    return [round(value, 2) for value in os.getloadavg()]


def code_version() -> str:
    """The commit measured, with "+changes" when the working tree differs from it."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def machine() -> dict:
    return {
        "code": code_version(),
        "cores": os.cpu_count(),
        "load_average": load_average(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def write_results(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2) + "\n")
    return path


def print_table(title: str, columns: list[str], rows: list[list[object]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*(f"{cell:.3g}" if isinstance(cell, float) else str(cell) for cell in row))
    Console(width=None if sys.stdout.isatty() else 160).print(table)  # a log file gets the whole table


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, for a server a benchmark starts."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(command: list[str], **options) -> subprocess.Popen:
    """A server subprocess whose log goes to a temporary file (`server.log`), not a pipe: nobody
    reads a pipe while the benchmark runs, and a server that logs every request blocks once the
    pipe is full (it did: `bench_query` timed out after ~160 requests)."""
    log = tempfile.TemporaryFile(mode="w+")
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, text=True, **options)
    server.log = log
    return server


def server_log(server) -> str:
    log = getattr(server, "log", None)
    if log is None:
        return server.stderr.read() if server.stderr else ""
    log.seek(0)
    return log.read()


def wait_until_up(port: int, server, timeout: float = 120) -> None:
    """Wait until the server subprocess on 127.0.0.1:`port` answers /health; stop the benchmark if it exits."""
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}: {server_log(server)[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not answer /health within {timeout:.0f} s")
