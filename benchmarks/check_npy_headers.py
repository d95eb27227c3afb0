"""Two threads reading `.npy` headers while the collector runs Python finalizers: how often CPython
3.11's AST constructor raises its spurious "recursion depth mismatch" (gh-106905), with numpy's own
calls against `embeddings.npy`'s (one header at a time, the spurious error read again).

    python -m benchmarks.check_npy_headers [--pairs 20000]

The thread switch every microsecond that provokes it also lets garbage pile up: the process grew
to about 5 GB by the end of the second run of 20,000 pairs (2026-12-05).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from embeddings.npy import load_mapped, read_header


class _Finalized:
    def __del__(self) -> None:
        time.sleep(0)  # Python code run by the collector: where a thread switch can fall


def _churn() -> None:
    for _ in range(50):
        junk = _Finalized()
        junk.cycle = junk  # freed by the collector, not by reference counts


def run(path: Path, pairs: int, ours: bool) -> int:
    """Spurious SystemErrors over `pairs` header reads in each of two threads."""
    errors, stop = [0], threading.Event()

    def headers() -> None:
        while not stop.is_set():
            _churn()
            try:
                with open(path, "rb") as handle:
                    if ours:
                        read_header(handle)
                    else:
                        np.lib.format.read_magic(handle)
                        np.lib.format.read_array_header_1_0(handle)
            except SystemError:
                errors[0] += 1

    def loads() -> None:
        for _ in range(pairs):
            _churn()
            try:
                load_mapped(path) if ours else np.load(path, mmap_mode="r")
            except SystemError:
                errors[0] += 1
        stop.set()

    threads = [threading.Thread(target=headers), threading.Thread(target=loads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=20_000)
    args = parser.parse_args()
    gc.set_threshold(50, 1, 1)
    sys.setswitchinterval(1e-6)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.npy"
        np.save(path, np.zeros((3, 4), dtype=np.float16))
        for ours in (False, True):
            name = "embeddings.npy" if ours else "numpy's own calls"
            print(f"{name}: {run(path, args.pairs, ours)} spurious SystemErrors in {args.pairs:,} pairs", flush=True)


if __name__ == "__main__":
    main()
