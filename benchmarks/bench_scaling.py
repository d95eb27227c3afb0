"""Scale-out: `qa index --ray` against plain `qa index`, a simulated 2-node cluster against 1 node,
`qa serve --workers 2` against one worker (throughput under 32 clients, memory), and IVF-PQ with
exact re-scoring at 1M vectors (the single-machine vector index past IVF-Flat).

Every indexing run is the real command in a subprocess (`qa index FOLDER --index DIR --rebuild`,
with `--ray ADDRESS` for the cluster runs), timed from start to exit: start-up, model loads (one
per actor on Ray), reading, chunking, embedding, writing. The clusters are started by this process
(`ray.init`, or `ray.cluster_utils.Cluster` for the simulated nodes) before the timed runs, bound
to 127.0.0.1, and stopped by it; their start-up is reported apart. Methods alternate run by run,
so load from other processes hits them alike; each figure is a median, and ratios compare figures
of the same run of this script. The load average is kept with every figure.

    python -m benchmarks.bench_scaling [--parts indexing cluster driver serve] [--limit 300] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import common
from benchmarks.common import (
    exit_on_sigterm,
    free_port,
    load_average,
    median,
    percentile,
    print_table,
    qa_command,
    wait_until_up,
    write_results,
)
from benchmarks.corpora import SCIFACT, cache_dir, has_scifact, scifact_folder

RAY_OPTIONS = {"include_dashboard": False, "_node_ip_address": "127.0.0.1", "object_store_memory": 300 * 1024**2}


def passages_in(index_dir: Path) -> int:
    from qa.store import read_manifest

    return read_manifest(index_dir).counts.passages


def run_index(folder: Path, index_dir: Path, ray_address: str | None = None) -> dict:
    """One timed `qa index --rebuild` in a subprocess."""
    command = [*qa_command(), "index", str(folder), "--index", str(index_dir), "--rebuild"]
    if ray_address:
        command += ["--ray", ray_address]
    load = load_average()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    passages = passages_in(index_dir)
    return {"seconds": round(seconds, 2), "passages": passages, "per_second": passages / seconds, "load": load}


def summarise(runs: list[dict]) -> dict:
    return {
        "runs": runs,
        "median_seconds": round(median([r["seconds"] for r in runs]), 2),
        "median_per_second": round(median([r["per_second"] for r in runs]), 2),
    }


def start_ray(num_cpus: int) -> tuple[object, str, float]:
    import ray

    started = time.perf_counter()
    context = ray.init(num_cpus=num_cpus, **RAY_OPTIONS)
    return ray, context.address_info["gcs_address"], time.perf_counter() - started


def bench_indexing(folder: Path, runs: int, work: Path) -> dict:
    """Plain `qa index` vs `--ray` on a local 1-node cluster with all (2) CPUs."""
    ray, address, startup = start_ray(os.cpu_count() or 2)
    plain, on_ray = [], []
    try:
        for run in range(runs):
            for name, results, ray_address in (("plain", plain, None), ("ray", on_ray, address))[
                :: 1 if run % 2 == 0 else -1
            ]:
                results.append(run_index(folder, work / f"index-{name}", ray_address))
                print(f"  indexing run {run + 1} {name}: {results[-1]}", flush=True)
    finally:
        ray.shutdown()
    result = {"plain": summarise(plain), "ray_1_node": summarise(on_ray), "cluster_start_seconds": round(startup, 1)}
    result["ray_over_plain"] = round(
        result["ray_1_node"]["median_per_second"] / result["plain"]["median_per_second"], 3
    )
    return result


def bench_driver(folder: Path, runs: int, work: Path) -> dict:
    """What a `--ray` driver does itself per passage, without embedding: read, chunk, write the
    segment and commit, in this process with the fake encoder (the ceiling of one driver)."""
    from qa.ingest.indexing import IndexOptions, index_paths
    from tests.fakes import FakeEncoder

    rates = []
    for run in range(runs):
        started = time.perf_counter()
        report = index_paths([folder], work / "index-driver", IndexOptions(rebuild=True), encoder=FakeEncoder())
        rates.append(report.passages / (time.perf_counter() - started))
        print(f"  driver run {run + 1}: {rates[-1]:.0f} passages/s", flush=True)
    return {"median_per_second": round(median(rates), 1), "runs": [round(r, 1) for r in rates],
            "load_average": load_average()}  # fmt: skip


def bench_cluster(folder: Path, runs: int, work: Path) -> dict:
    """A simulated cluster of 2 nodes with 1 CPU each (one actor, one torch thread per node) vs
    1 node with 1 CPU, both `ray.cluster_utils.Cluster` on this machine."""
    import ray
    from ray.cluster_utils import Cluster

    one, two, startups = [], [], {}
    for run in range(runs):
        for nodes, results in ((1, one), (2, two))[:: 1 if run % 2 == 0 else -1]:
            started = time.perf_counter()
            cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, **_node_options()})
            for _ in range(nodes - 1):
                cluster.add_node(num_cpus=1, **_node_options())
            cluster.wait_for_nodes()
            startups[nodes] = round(time.perf_counter() - started, 1)
            try:
                results.append(run_index(folder, work / f"index-{nodes}-nodes", cluster.address))
                print(f"  cluster run {run + 1}, {nodes} node(s): {results[-1]}", flush=True)
            finally:
                ray.shutdown()
                cluster.shutdown()
    result = {
        "one_node_1_cpu": summarise(one),
        "two_nodes_1_cpu_each": summarise(two),
        "cluster_start_seconds": startups,
    }
    result["two_over_one"] = round(
        result["two_nodes_1_cpu_each"]["median_per_second"] / result["one_node_1_cpu"]["median_per_second"], 3
    )
    return result


def _node_options() -> dict:
    # Ray rewrites a 127.0.0.1 address to the machine's own when a driver connects, so these nodes
    # listen on the machine's address (the tests' in-process cluster stays on loopback).
    return {"object_store_memory": 150 * 1024**2, "include_dashboard": False}


# Serving ---------------------------------------------------------------------------------------


def scifact_questions(count: int = 64) -> list[str]:
    lines = (SCIFACT / "queries.jsonl").read_text().splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()][:count]


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def memory_of_tree(pid: int) -> dict:
    """RSS, PSS and USS (private pages) in MiB, summed over the server and all its processes."""
    total = {"rss": 0.0, "pss": 0.0, "uss": 0.0, "processes": 0}
    for member in process_tree(pid):
        try:
            fields = {}
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines()[1:]:
                name, value = line.split(":", 1)
                fields[name] = int(value.split()[0])
        except (OSError, ValueError):
            continue
        total["rss"] += fields.get("Rss", 0) / 1024
        total["pss"] += fields.get("Pss", 0) / 1024
        total["uss"] += (fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)) / 1024
        total["processes"] += 1
    return {name: round(value, 1) for name, value in total.items()}


def start_server(index_dir: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(
        [*qa_command(), "serve", "--index", str(index_dir), "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        start_new_session=True,
    )
    wait_until_up(port, server, timeout=180)
    return server, f"http://127.0.0.1:{port}"


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGINT)  # the group this script started: the server and its workers
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


async def load_test(url: str, questions: list[str], clients: int, seconds: float) -> dict:
    """`clients` concurrent clients, each asking one question after another for `seconds`."""
    import httpx

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(number: int, http: httpx.AsyncClient) -> None:
        nonlocal errors
        turn = number
        while time.perf_counter() < deadline:
            question = questions[turn % len(questions)]
            turn += clients
            started = time.perf_counter()
            try:
                response = await http.post(f"{url}/ask", json={"question": question})
                if response.status_code != 200:
                    errors += 1
                    continue
            except httpx.HTTPError:
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)

    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(n, http) for n in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "requests_per_second": round(len(latencies) / elapsed, 2),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95) * 1000, 1) if latencies else None,
    }


def bench_serve(index_dir: Path, runs: int, clients: int, seconds: float) -> dict:
    questions = scifact_questions()
    results: dict[int, list[dict]] = {1: [], 2: []}
    memory: dict[int, list[dict]] = {1: [], 2: []}
    for run in range(runs):
        for workers in (1, 2)[:: 1 if run % 2 == 0 else -1]:
            server, url = start_server(index_dir, workers)
            try:
                asyncio.run(load_test(url, questions, clients, 3))  # warm-up: every worker answers a few
                load = load_average()
                figures = asyncio.run(load_test(url, questions, clients, seconds))
                figures["load"] = load
                results[workers].append(figures)
                memory[workers].append(memory_of_tree(server.pid))
                print(f"  serve run {run + 1}, {workers} worker(s): {figures} {memory[workers][-1]}", flush=True)
            finally:
                stop_server(server)
    summary = {}
    for workers in (1, 2):
        summary[f"workers_{workers}"] = {
            "runs": results[workers],
            "memory_mib": memory[workers],
            "median_requests_per_second": median([r["requests_per_second"] for r in results[workers]]),
            "errors": sum(r["errors"] for r in results[workers]),
            "median_pss_mib": median([m["pss"] for m in memory[workers]]),
            "median_uss_mib": median([m["uss"] for m in memory[workers]]),
            "median_rss_mib": median([m["rss"] for m in memory[workers]]),
        }
    one, two = summary["workers_1"], summary["workers_2"]
    summary["throughput_two_over_one"] = round(two["median_requests_per_second"] / one["median_requests_per_second"], 3)
    summary["pss_two_over_one"] = round(two["median_pss_mib"] / one["median_pss_mib"], 3)
    summary["uss_two_over_one"] = round(two["median_uss_mib"] / one["median_uss_mib"], 3)
    summary["clients"], summary["seconds"] = clients, seconds
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", default=["indexing", "cluster", "driver", "serve"])
    parser.add_argument("--limit", type=int, default=300, help="SciFact abstracts to index (the first N)")
    parser.add_argument("--runs", type=int, default=3, help="runs per method for indexing and serving")
    parser.add_argument("--cluster-runs", type=int, default=2)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0, help="load-test length per serving run")
    args = parser.parse_args()
    exit_on_sigterm()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not has_scifact():
        print("skipped: SciFact is not at ../shared/eval/scifact")
        write_results("scaling", {"skipped": "SciFact corpus not found"})
        return
    previous = common.RESULTS / "scaling.json"
    results = json.loads(previous.read_text()) if previous.exists() else {}
    results.pop("machine", None)
    folder = scifact_folder(args.limit)
    work = Path(tempfile.mkdtemp(prefix="bench-scaling-", dir=cache_dir()))
    try:
        if "indexing" in args.parts:
            results["indexing"] = {"abstracts": args.limit, **bench_indexing(folder, args.runs, work)}
        if "cluster" in args.parts:
            results["cluster"] = {"abstracts": args.limit, **bench_cluster(folder, args.cluster_runs, work)}
        if "driver" in args.parts:
            results["driver"] = {"abstracts": args.limit, **bench_driver(folder, args.runs, work)}
        if "serve" in args.parts:
            index_dir = work / "index-plain"
            if not index_dir.exists():
                run_index(folder, index_dir)
            results["serve"] = {
                "abstracts": args.limit,
                **bench_serve(index_dir, args.runs, args.clients, args.seconds),
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    command = "python -m benchmarks.bench_scaling " + " ".join(sys.argv[1:])
    for part in args.parts:  # each part keeps the command that measured it (parts run separately)
        results[part]["command"] = command
    results.pop("command", None)
    write_results("scaling", results)
    rows = []
    if "indexing" in results:
        r = results["indexing"]
        rows.append(["qa index (plain)", r["plain"]["median_per_second"], "1.00", ""])
        rows.append(["qa index --ray, 1 node, 2 CPUs", r["ray_1_node"]["median_per_second"], r["ray_over_plain"], ""])
    if "cluster" in results:
        r = results["cluster"]
        rows.append(["Ray, 1 node × 1 CPU", r["one_node_1_cpu"]["median_per_second"], "1.00", ""])
        rows.append(["Ray, 2 nodes × 1 CPU", r["two_nodes_1_cpu_each"]["median_per_second"], r["two_over_one"], ""])
    if "serve" in results:
        r = results["serve"]
        for workers in (1, 2):
            w = r[f"workers_{workers}"]
            ratio = "1.00" if workers == 1 else r["throughput_two_over_one"]
            memory = f"PSS {w['median_pss_mib']} MiB, USS {w['median_uss_mib']} MiB, errors {w['errors']}"
            rows.append([f"qa serve --workers {workers} (requests/s)", w["median_requests_per_second"], ratio, memory])
    if "driver" in results:
        rows.append(["one driver's own work (fake encoder)", results["driver"]["median_per_second"], "", ""])
    print_table("Scale-out (passages/s or requests/s, medians)", ["method", "per second", "ratio", "notes"], rows)


if __name__ == "__main__":
    main()
