"""Long runs that survive: a first `qa index` of ~20,000 passages killed (SIGKILL) at ten random
moments, then run again to the end, against one uninterrupted run of the same command.

Reports the embedding work (passages given to the encoder, over every run) against the
uninterrupted run's, whether the final index equals the uninterrupted one (every passage id, text
and vector), and what flushing costs: the uninterrupted run's wall time with the default flushes
against flushes off (`--flush-passages 0 --flush-minutes 0`, one commit at the end), alternated.

The encoder is the tests' fake (hashed bags of words) so that the script measures the writer and
the resumption, not the model: with the real model, embedding is ~60 passages/s here, so the
writer's share (and a flush's cost) is far smaller than it is below. The ten kill moments are
drawn (seeded) uniformly over the uninterrupted run's embedding time and sorted; run i is killed
after its start-up (the time of a run that finds nothing to do) plus the gap between moments i-1
and i, so the kills spread over the whole job as they would over one long run.

    python -m benchmarks.bench_resume [--passages 20000] [--kills 10] [--seed 23]
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import REPO, load_average, print_table, write_results
from tests.samples import seed_passages

# `qa` with the fake encoder (the crash tests' script; it kills nothing without KILL_AT_FSYNC):
# with ENCODED_LOG, each encoder call appends how many texts it embedded to that file.
from tests.test_store import KILL_AT as FAKE_QA

PER_FILE = 20  # passages per file
NO_FLUSHES = ("--flush-passages", "0", "--flush-minutes", "0")


def write_corpus(folder: Path, passages: int) -> None:
    folder.mkdir(parents=True)
    texts = seed_passages(passages, words_per_passage=60)  # one passage each, under the fake's 128 tokens
    for number in range(0, passages, PER_FILE):
        body = "\n\n".join(texts[number : number + PER_FILE])
        (folder / f"page{number // PER_FILE:05d}.txt").write_text(f"Page {number // PER_FILE}.\n\n{body}")


def run(folder: Path, index_dir: Path, log: Path, *flags: str, kill_after: float | None = None) -> tuple[int, float]:
    """(return code, seconds) of one `qa index`, killed with SIGKILL after `kill_after` seconds."""
    env = {"PYTHONPATH": str(REPO), "ENCODED_LOG": str(log), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-c", FAKE_QA, "index", str(folder), "--index", str(index_dir), *flags]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
    return process.returncode, time.perf_counter() - started


def encoded(log: Path) -> int:
    return sum(int(line) for line in log.read_text().split()) if log.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=20_000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=23)
    args = parser.parse_args()
    from qa.store import read_manifest
    from tests.test_long_runs import assert_same_index

    work = Path(tempfile.mkdtemp(prefix="bench-resume-"))
    try:
        folder = work / "pages"
        write_corpus(folder, args.passages)
        load = [load_average()]
        timings: dict[str, list[float]] = {"default flushes": [], "flushes off": []}
        for attempt in range(3):  # alternated, so load from other processes hits both alike
            for name, flags in (("default flushes", ()), ("flushes off", NO_FLUSHES)):
                index_dir = work / f"once-{attempt}-{name.replace(' ', '-')}.qa"
                code, seconds = run(folder, index_dir, work / f"log-once-{attempt}-{name}", *flags)
                assert code == 0, f"uninterrupted run failed ({code})"
                timings[name].append(seconds)
        reference = work / "once-0-default-flushes.qa"
        uninterrupted = encoded(work / "log-once-0-default flushes")
        duration = min(timings["default flushes"])
        load.append(load_average())

        # A run over the finished index embeds nothing: its time is what every run spends before
        # embedding (start-up, scanning, planning), so each kill lands that much later.
        _, before_work = run(folder, reference, work / "log-noop")
        index_dir, log = work / "killed.qa", work / "log-killed"
        rng = random.Random(args.seed)
        moments = sorted(rng.uniform(0, duration - before_work) for _ in range(args.kills))
        kills = 0
        for gap in np.diff([0.0, *moments]):
            code, _ = run(folder, index_dir, log, kill_after=before_work + gap)
            kills += code == -signal.SIGKILL
            if code == 0:
                break
        code, _ = run(folder, index_dir, log)
        assert code == 0, f"the final run failed ({code})"
        total = encoded(log)
        try:
            assert_same_index(index_dir, reference)
            equal = True
        except AssertionError:
            equal = False
        load.append(load_average())
        overhead = min(timings["default flushes"]) / min(timings["flushes off"])
        flushes = read_manifest(reference).generation - 1
        per_flush = (min(timings["default flushes"]) - min(timings["flushes off"])) / max(1, flushes)
        rows = [
            ["passages indexed", uninterrupted],
            ["uninterrupted run, default flushes (s, best of 3)", min(timings["default flushes"])],
            ["uninterrupted run, flushes off (s, best of 3)", min(timings["flushes off"])],
            ["flushing's cost (ratio)", overhead],
            ["flushes in the uninterrupted run", flushes],
            ["seconds per flush", per_flush],
            ["start-up and planning before embedding (s)", before_work],
            ["SIGKILLs that landed", kills],
            ["embedding work, killed runs + final run ÷ uninterrupted", total / uninterrupted],
            ["final index equals the uninterrupted one", equal],
        ]
        print_table("Long runs that survive (fake encoder)", ["figure", "value"], rows)
        path = write_results(
            "resume",
            {
                "passages": uninterrupted,
                "kills": kills,
                "seed": args.seed,
                "timings": timings,
                "flush_cost_ratio": overhead,
                "flushes": flushes,
                "seconds_per_flush": per_flush,
                "seconds_before_embedding": before_work,
                "work_ratio": total / uninterrupted,
                "equal": equal,
                "load_average_runs": load,
            },
        )
        print(f"written to {path}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
