"""A shared server under load while its documents change: 64 clients ask for 60 s while another
uploads a document and deletes it again every 2 s, against a real `qa serve` (real model) on
127.0.0.1. Every answer is checked against the documents it cites: the passage must be the text
of that document, at its citation span, in a version that existed (a seed, or one upload).

The askers are plain HTTP/1.1 clients (`KeepAliveClient`): one kept-alive connection each, a real
JSON body out and the JSON answer parsed back. They share the server's two cores, and httpx spent
about 4 ms of CPU on each request, more than a third of what the server spent answering it.

    python -m benchmarks.load_shared [--clients 64] [--seconds 60] [--every 2]
                                     [--slow-uploads 20] [--idle 200]

With --slow-uploads N, N connections at a time start an anonymous upload (no key) of a 30 MB body
and trickle it at 1 KiB/s; with --idle N, N connections at a time are opened and send nothing.
Each is opened again when the server closes it (an upload a second after its refusal), until the
run ends; all on 127.0.0.1. The server's RSS is sampled every second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.common import (
    REPO,
    free_port,
    load_average,
    median,
    percentile,
    print_table,
    qa_command,
    wait_until_up,
    write_results,
)
from benchmarks.corpora import seed_questions


class KeepAliveClient:
    """One HTTP/1.1 connection kept alive across requests, as a browser's or an SDK's would be: JSON
    out, the status and the body (read to its Content-Length) back; reconnects when the server closes."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, payload: object) -> tuple[int, bytes]:
        body = json.dumps(payload).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        try:
            self.writer.write(head + body)
            status_line, _, header_block = (await self.reader.readuntil(b"\r\n\r\n")).partition(b"\r\n")
            headers = dict(
                (name.strip().lower(), value.strip())
                for name, _, value in (line.decode("latin-1").partition(":") for line in header_block.split(b"\r\n"))
                if name
            )
            if "content-length" not in headers:
                raise ValueError(f"no Content-Length in the response ({status_line!r})")
            content = await self.reader.readexactly(int(headers["content-length"]))
        except BaseException:
            await self.close()
            raise
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return int(status_line.split()[1]), content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (a `qa serve --workers N` is uvicorn's parent and N workers)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            pending.extend(int(child) for child in children)
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process and its living descendants have used so far (/proc/PID/stat)."""
    total = 0
    for member in process_tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """Resident memory of the process and its descendants (/proc/PID/status), MiB."""
    total = 0
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


async def _connect(host: str, port: int, tally: dict):
    """(reader, writer) of a new connection, counted as opened; None (after a pause) when refused."""
    try:
        connection = await asyncio.open_connection(host, port)
    except OSError:
        tally["refused"] += 1
        await asyncio.sleep(0.5)
        return None
    tally["opened"] += 1
    return connection


async def idle_connection(host: str, port: int, until: float, tally: dict) -> None:
    """A connection that sends nothing, opened again whenever the server closes it, until `until`."""
    while time.monotonic() < until:
        if (connection := await _connect(host, port, tally)) is None:
            continue
        reader, writer = connection
        opened = time.monotonic()
        try:
            await asyncio.wait_for(reader.read(1024), timeout=max(0.01, until - time.monotonic()))
            tally["closed_by_server"] += 1
            tally["held_s"].append(time.monotonic() - opened)
        except TimeoutError:
            pass  # still open when the run ended
        except OSError:
            tally["closed_by_server"] += 1
            tally["held_s"].append(time.monotonic() - opened)
        finally:
            writer.close()


async def slow_anonymous_upload(host: str, port: int, until: float, tally: dict) -> None:
    """POST /documents without a key, announcing 30 MB and sending 1 KiB a second; when the server
    answers or closes, again a second later, until `until`."""
    head = (
        f"POST /documents HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: multipart/form-data; boundary=slowslowslow\r\nContent-Length: 31457280\r\n\r\n"
        '--slowslowslow\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n\r\n'
    ).encode()
    while time.monotonic() < until:
        if (connection := await _connect(host, port, tally)) is None:
            continue
        reader, writer = connection
        opened, sent = time.monotonic(), 0

        async def trickle(writer: asyncio.StreamWriter = writer) -> None:
            nonlocal sent
            writer.write(head)
            while True:
                await writer.drain()
                await asyncio.sleep(1)
                writer.write(b"x" * 1024)
                sent += 1024

        sender = asyncio.create_task(trickle())
        try:
            line = await asyncio.wait_for(reader.readline(), timeout=max(0.01, until - time.monotonic()))
            status = line.split()[1].decode() if len(line.split()) > 1 else "closed"
            tally["answers"][status] = tally["answers"].get(status, 0) + 1
            tally["held_s"].append(time.monotonic() - opened)
            tally["body_bytes_sent"].append(sent)
        except TimeoutError:
            pass  # still open when the run ended
        except OSError:
            tally["answers"]["reset"] = tally["answers"].get("reset", 0) + 1
        finally:
            sender.cancel()
            writer.close()
        await asyncio.sleep(max(0.0, min(1.0, until - time.monotonic())))  # then try again, once a second


def connection_figures(tally: dict) -> dict:
    held = tally.pop("held_s")
    figures = {**tally, "held_s_median": round(median(held), 2) if held else None,
               "held_s_max": round(max(held), 2) if held else None}  # fmt: skip
    if "body_bytes_sent" in figures:
        sent = figures.pop("body_bytes_sent")
        figures["body_bytes_sent_max"] = max(sent) if sent else None
    return figures


async def run(
    base: str,
    key: str,
    clients: int,
    seconds: float,
    every: float,
    server_pid: int,
    slow_uploads: int = 0,
    idle: int = 0,
) -> dict:
    import httpx

    from qa.text.normalize import normalize_text

    questions = seed_questions() + ["What did the ferry log say?", "How often did the ferry sail?"]
    host, port = urlsplit(base).hostname, urlsplit(base).port
    # httpx for the setup and the writer. Its idle connections expire on our side before uvicorn's 5 s
    # keep-alive closes them, as a client's pool should; otherwise a request can race the server's
    # close and fail with a ReadError. The askers are never idle that long.
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        texts = {d["doc_id"]: (await http.get(f"/documents/{d['doc_id']}")).json()["text"]
                 for d in (await http.get("/documents")).json()}  # fmt: skip
        uploaded_texts: list[str] = []  # every text the changing document ever had (registered before upload)
        inconsistent = [0]
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        problems: list[str] = []
        checked = [0]
        writes = {"uploads": 0, "deletes": 0, "failed": 0}
        write_seconds: list[float] = []
        deadline = time.monotonic() + seconds  # set again once the server is warm

        def consistent(passage: dict) -> bool:
            citation = passage["citation"]
            start, end = citation["start"], citation["end"]
            candidates = [texts[citation["doc_id"]]] if citation["doc_id"] in texts else uploaded_texts
            return any(text[start:end] == passage["text"] for text in candidates)

        async def asker(number: int) -> None:
            turn = number
            connection = KeepAliveClient(host, port)
            try:
                while time.monotonic() < deadline:
                    question = questions[turn % len(questions)]
                    turn += 1
                    started = time.perf_counter()
                    try:
                        status, content = await connection.post_json("/ask", {"question": question, "top_k": 3})
                    except (OSError, ValueError, asyncio.IncompleteReadError) as error:
                        statuses[-1] = statuses.get(-1, 0) + 1
                        problems.append(f"{type(error).__name__}: {error}")
                        continue
                    latencies.append(time.perf_counter() - started)
                    statuses[status] = statuses.get(status, 0) + 1
                    if status == 200:
                        for passage in json.loads(content)["passages"]:
                            checked[0] += 1
                            if not consistent(passage):
                                inconsistent[0] += 1
                                problems.append(f"{passage['citation']['doc_id']}: {passage['text'][:60]!r}")
            finally:
                await connection.close()

        headers = {"Authorization": f"Bearer {key}"}

        async def write(version: int) -> str | None:
            """Upload version `version` of the ferry log; its doc_id, or None when refused."""
            body = (
                f"Ferry log, version {version}\n\nThe ferry to Gozo sailed {version} times this week. "
                f"The harbour master wrote this log entry number {version} at dawn.\n"
            )
            uploaded_texts.append(normalize_text(body))  # before any answer can quote it
            began = time.perf_counter()
            uploaded = await http.post("/documents", files={"files": ("ferry-log.txt", body.encode())}, headers=headers)
            write_seconds.append(time.perf_counter() - began)
            if not uploaded.is_success:
                writes["failed"] += 1
                problems.append(f"upload {uploaded.status_code}: {uploaded.text[:200]}")
                return None
            writes["uploads"] += 1
            doc_id = uploaded.json()["files"][0]["doc_id"]
            if (await http.get(f"/documents/{doc_id}")).json().get("text") != uploaded_texts[-1]:
                problems.append(f"stored text of version {version} differs from the upload")
            return doc_id

        async def delete(doc_id: str) -> None:
            began = time.perf_counter()
            deleted = await http.delete(f"/documents/{doc_id}", headers=headers)
            write_seconds.append(time.perf_counter() - began)
            writes["deletes" if deleted.is_success else "failed"] += 1

        async def writer() -> None:
            """An upload on every tick of `every` seconds, deleted again half a tick later."""
            tick = time.monotonic()
            version = 0
            while tick < deadline:
                version += 1
                doc_id = await write(version)
                await asyncio.sleep(max(0.0, min(tick + every / 2, deadline) - time.monotonic()))
                if doc_id:
                    await delete(doc_id)
                tick += every
                await asyncio.sleep(max(0.0, min(tick, deadline) - time.monotonic()))

        # The first upload loads the passage model in the server: do it before the clock starts.
        first = await write(0)
        if first:
            await delete(first)
        writes.update(uploads=0, deletes=0)
        write_seconds.clear()
        deadline = time.monotonic() + seconds

        idle_tally = {"opened": 0, "refused": 0, "closed_by_server": 0, "held_s": []}
        slow_tally = {"opened": 0, "refused": 0, "answers": {}, "held_s": [], "body_bytes_sent": []}
        rss = [rss_mib(server_pid)]
        rss_before = rss[0]

        async def sample_rss() -> None:
            while time.monotonic() < deadline:
                await asyncio.sleep(1)
                rss.append(rss_mib(server_pid))

        # The hostile connections open first and stay until the askers' deadline.
        hostile = [asyncio.create_task(idle_connection(host, port, deadline, idle_tally)) for _ in range(idle)]
        hostile += [
            asyncio.create_task(slow_anonymous_upload(host, port, deadline, slow_tally)) for _ in range(slow_uploads)
        ]
        await asyncio.sleep(0.5 if hostile else 0)
        started = time.perf_counter()
        server_cpu, client_cpu = cpu_seconds(server_pid), time.process_time()
        await asyncio.gather(writer(), sample_rss(), *(asker(n) for n in range(clients)))
        elapsed = time.perf_counter() - started
        await asyncio.gather(*hostile)
        server_cpu, client_cpu = cpu_seconds(server_pid) - server_cpu, time.process_time() - client_cpu
    ms = [1000 * value for value in latencies]
    return {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(median(ms), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "p99_over_p50": round(percentile(ms, 99) / median(ms), 2),
        # Where the two cores went: CPU per request of the server and of these clients, and the
        # share of one core each had on average (the rest went to other processes, or idle).
        "server_cpu_ms_per_request": round(1000 * server_cpu / max(1, len(latencies)), 2),
        "client_cpu_ms_per_request": round(1000 * client_cpu / max(1, len(latencies)), 2),
        "server_cores_used": round(server_cpu / elapsed, 2),
        "client_cores_used": round(client_cpu / elapsed, 2),
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "errors": sum(count for code, count in statuses.items() if code != 200),
        "passages_checked": checked[0],
        "inconsistent_passages": inconsistent[0],
        "writes": writes,
        "write_seconds_median": round(median(write_seconds), 2) if write_seconds else None,
        "problems": problems[:20],
        "server_rss_mib": {"before": round(rss_before, 1), "max": round(max(rss), 1), "end": round(rss[-1], 1)},
        **({"idle_connections": connection_figures(idle_tally)} if idle else {}),
        **({"slow_anonymous_uploads": connection_figures(slow_tally)} if slow_uploads else {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between uploads (each deleted halfway)")
    parser.add_argument("--slow-uploads", type=int, default=0, help="anonymous uploads trickling 30 MB, open at once")
    parser.add_argument("--idle", type=int, default=0, help="connections that send nothing, open at once")
    parser.add_argument("--workers", type=int, default=1, help="server processes (`qa serve --workers`)")
    args = parser.parse_args()
    encoder = load_question_encoder()
    encoder_before = encoder_times(encoder)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryDirectory(prefix="load-shared-") as scratch:
        index_dir = Path(scratch) / "team.qa"
        corpus = Path(scratch) / "seeds"
        shutil.copytree(REPO / "seeds", corpus)
        subprocess.run([*qa_command(), "index", str(corpus), "--index", str(index_dir)], check=True, env=env)
        key = subprocess.run(
            [*qa_command(), "keys", "create", "--scope", "write", "--name", "load", "--index", str(index_dir)],
            check=True, env=env, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        port = free_port()
        # The server's log goes to a file: a pipe nobody reads until the end fills up (64 KiB of
        # JSON lines) and stops the server at its next log line.
        log_path = Path(scratch) / "serve.log"
        log_file = log_path.open("w")
        server = subprocess.Popen(
            [*qa_command(), "serve", "--index", str(index_dir), "--port", str(port), "--workers", str(args.workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=log_file, text=True,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(port, server)
            load_before = load_average()
            figures = asyncio.run(
                run(base, key, args.clients, args.seconds, args.every, server.pid, args.slow_uploads, args.idle)
            )
        finally:
            server.terminate()
            server.wait(timeout=60)
            log_file.close()
        log = log_path.read_text()
    figures["server_workers"] = args.workers
    figures["key_in_server_log"] = key in log
    # The baseline is timed just before and just after the run, and both count: other people's jobs
    # change the machine's load within a minute, and with it what one encoder call costs.
    encoder_after = encoder_times(encoder)
    encoder_ms = median(encoder_before + encoder_after)
    figures["encoder_p50_ms"] = round(encoder_ms, 2)
    figures["encoder_p50_ms_before_after"] = [round(median(encoder_before), 2), round(median(encoder_after), 2)]
    figures["requests_per_s_times_encoder_s"] = round(figures["requests_per_s"] * encoder_ms / 1000, 3)
    figures["load_average_before"], figures["load_average_after"] = load_before, load_average()
    print_table(
        f"{args.clients} clients × {args.seconds:g} s on /ask, an upload and a delete every {args.every:g} s"
        + (f", {args.slow_uploads} slow anonymous uploads, {args.idle} idle connections"
           if args.slow_uploads or args.idle else ""),
        ["requests/s", "p50 ms", "p99 ms", "p99 ÷ p50", "errors", "passages checked", "inconsistent", "writes",
         "encoder p50 ms", "rps × encoder s", "CPU ms/request server · clients"],
        [[figures["requests_per_s"], figures["p50_ms"], figures["p99_ms"], figures["p99_over_p50"],
          figures["errors"], figures["passages_checked"], figures["inconsistent_passages"], figures["writes"],
          figures["encoder_p50_ms"], figures["requests_per_s_times_encoder_s"],
          f"{figures['server_cpu_ms_per_request']} · {figures['client_cpu_ms_per_request']}"]],
    )  # fmt: skip
    print("server RSS MiB:", figures["server_rss_mib"])
    for name in ("idle_connections", "slow_anonymous_uploads"):
        if name in figures:
            print(f"{name}:", figures[name])
    for problem in figures["problems"]:
        print("  ", problem)
    command = "python -m benchmarks.load_shared " + " ".join(sys.argv[1:])
    print(f"wrote {write_results('shared_load', {'command': command, **figures})}")


def load_question_encoder():
    import embeddings
    from qa import config

    encoder = embeddings.load_encoder(**config.current().encoder_options())
    encoder.warm_up()
    return encoder


def encoder_times(encoder, calls: int = 100) -> list[float]:
    """The baseline of issue 9's throughput figure: the question encoder alone on one question, ms."""
    question = seed_questions()[0]
    encoder.encode_queries([question])
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        encoder.encode_queries([question])
        times.append(1000 * (time.perf_counter() - started))
    return times


if __name__ == "__main__":
    main()
