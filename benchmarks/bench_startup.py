"""Start-up: cold `qa ask` and `qa --help` against `python -c pass` and importing sentence-transformers.

Every figure is a fresh process (the OS file cache is warm: "cold" means a new interpreter, as when
a user types the command). The commands alternate run by run; each figure is the median over `--runs`.
The issue's ratio is cold `qa ask` ÷ `import sentence_transformers` (target ≤ 0.25).
Peak RSS is each child's `ru_maxrss`, which is never below this process's own peak (the kernel
carries it over at `exec`): `python -c pass`'s figure is that floor, and only figures above it are
the command's own. `--baseline TREE` adds the same cold `qa ask` run from another checkout (a `git worktree` of an
earlier commit), alternated with the others: a before and after from one run; `--baseline-site DIR`
puts DIR first on the baseline's path, for libraries it ran with that this environment has moved on
from (`pip install --no-deps --target DIR typer==0.29.2`). Each version asks an
index of the seeds that it wrote itself, fresh, so that a change in what an index holds (such as
the exact vectors' files) is timed as a user who indexes with that version meets it.

    python -m benchmarks.bench_startup [--runs 7] [--baseline TREE [--baseline-site DIR]]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import REPO, load_average, median, print_table, qa_command, write_results
from benchmarks.corpora import SEEDS

QUESTION = "Who is Moussa Koussa?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command; each figure is their median")
    parser.add_argument("--baseline", type=Path, help="another checkout whose cold `qa ask` is timed alongside")
    parser.add_argument("--baseline-site", type=Path, help="a folder of libraries put first on the baseline's path")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    python = sys.executable
    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    index_dir = work / "seeds.qa"
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "qa --help": [*qa_command(), "--help"],
        f'qa ask "{QUESTION}"': [*qa_command(), "ask", QUESTION, "--index", str(index_dir)],
        "import sentence_transformers": [python, "-c", "import sentence_transformers"],
    }
    # As on a user's machine, Python keeps the bytecode it compiles: with PYTHONDONTWRITEBYTECODE
    # set (as in some containers), every module changed since its last .pyc was compiled again on
    # every run, which timed the compiler, not the start-up.
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    environment["HF_HUB_OFFLINE"] = "1"
    settings = {name: {"env": environment} for name in commands}
    indexing = [([*qa_command(), "index", str(SEEDS), "--index", str(index_dir)], {"env": environment})]
    if args.baseline:
        # Both trees are started the same way, `python -m qa` from their folder: the `qa` script
        # above is ~5 % slower to start than `python -m qa` with the same code (0.744 against
        # 0.705 s, 2026-12-04), which an A/B across the two launchers would count as the change's.
        baseline = args.baseline.resolve()
        for tree, label, tree_index in (
            (REPO, "this tree", index_dir),
            (baseline, baseline.name, work / "seeds-baseline.qa"),
        ):
            name = f'qa ask "{QUESTION}" (python -m, {label})'
            commands[name] = [python, "-m", "qa", "ask", QUESTION, "--index", str(tree_index)]
            path = [str(args.baseline_site.resolve())] if tree == baseline and args.baseline_site else []
            settings[name] = {"env": {**environment, "PYTHONPATH": os.pathsep.join([*path, str(tree)])}, "cwd": tree}
        indexing.append(
            ([python, "-m", "qa", "index", str(SEEDS), "--index", str(work / "seeds-baseline.qa")], settings[name])
        )
    for command, setting in indexing:
        subprocess.run(command, check=True, capture_output=True, **setting)
    for name, command in commands.items():  # warm-up: the OS file cache, bytecode, the ONNX export if one is made first
        subprocess.run(command, check=True, capture_output=True, **settings[name])
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, list[int]] = {name: [] for name in commands}
    loads = []
    for _ in range(args.runs):
        for name, command in commands.items():
            started = time.perf_counter()
            run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **settings[name])
            _, status, usage = os.wait4(run.pid, 0)
            seconds[name].append(time.perf_counter() - started)
            if os.waitstatus_to_exitcode(status):
                raise SystemExit(f"{name} failed with {os.waitstatus_to_exitcode(status)}")
            peaks[name].append(usage.ru_maxrss // 1024)  # KiB on Linux; at least this process's peak
        loads.append(load_average()[0])

    ask_name = f'qa ask "{QUESTION}"'
    python_s = median(seconds["python -c pass"])
    st_import_s = median(seconds["import sentence_transformers"])
    figures = {
        name: {
            "seconds_median": round(median(times), 3),
            "seconds_runs": [round(t, 3) for t in times],
            "minus_python_s": round(median(times) - python_s, 3),
            "ratio_to_st_import": round(median(times) / st_import_s, 3),
            "peak_rss_mib_median": median(peaks[name]),
        }
        for name, times in seconds.items()
    }
    rows = [
        [name, f["seconds_median"], f["minus_python_s"], f["ratio_to_st_import"], f["peak_rss_mib_median"]]
        for name, f in figures.items()
    ]
    print_table(
        f"Start-up wall time in s (median of {args.runs} fresh processes)",
        ["command", "seconds", "− python -c pass", "÷ import sentence_transformers", "peak RSS MiB"],
        rows,
    )
    path = write_results(
        "startup",
        {
            "command": " ".join(["python -m benchmarks.bench_startup", *sys.argv[1:]]),
            "index": "the seeds, indexed afresh by each version",
            "runs": args.runs,
            "baseline": str(args.baseline.resolve()) if args.baseline else None,
            "baseline_site": str(args.baseline_site.resolve()) if args.baseline_site else None,
            "load_average_1m_runs": loads,
            "commands": figures,
            "cold_ask_s": figures[ask_name]["seconds_median"],
            "cold_ask_ratio_to_st_import": figures[ask_name]["ratio_to_st_import"],
            "help_s": figures["qa --help"]["seconds_median"],
            "targets": {"cold_ask_s": 0.5, "cold_ask_ratio_to_st_import": 0.25, "help_s": 0.3},
        },
    )
    shutil.rmtree(work, ignore_errors=True)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
