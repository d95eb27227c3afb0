"""Which file watcher `qa watch` uses, by measurement: watchfiles and watchdog on this machine, in one run.

Each writes 100 files one at a time (write → its event) and a burst of 500 files in a new folder
(all seen? when the last?). watchdog is not a dependency: `pip install watchdog` to run this.
Run: python -m benchmarks.bench_watchers
"""

import os
import queue
import statistics
import tempfile
import threading
import time
from pathlib import Path


def run_watchfiles(folder, events, stop):
    import watchfiles

    for batch in watchfiles.watch(
        folder, step=1, debounce=50, rust_timeout=100, yield_on_timeout=True, stop_event=stop
    ):
        now = time.perf_counter()
        for _, path in batch:
            events.put((path, now))


def run_watchdog(folder, events, stop):
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    class H(FileSystemEventHandler):
        def on_any_event(self, event):
            events.put((event.src_path, time.perf_counter()))

    observer = Observer()
    observer.schedule(H(), folder, recursive=True)
    observer.start()
    stop.wait()
    observer.stop()
    observer.join()


def main() -> None:
    for name, runner in [("watchfiles", run_watchfiles), ("watchdog", run_watchdog)]:
        folder = tempfile.mkdtemp()
        events, stop = queue.Queue(), threading.Event()
        thread = threading.Thread(target=runner, args=(folder, events, stop), daemon=True)
        thread.start()
        time.sleep(1)
        delays = []
        for i in range(100):
            path = os.path.join(folder, f"f{i}.txt")
            started = time.perf_counter()
            Path(path).write_text("x" * 100)
            while True:
                seen, at = events.get(timeout=10)
                if seen == path:
                    delays.append(at - started)
                    break
            while not events.empty():
                events.get()
            time.sleep(0.02)
        started = time.perf_counter()
        sub = os.path.join(folder, "burst")
        os.mkdir(sub)
        for i in range(500):
            Path(sub, f"b{i}.txt").write_text("y")
        wanted = {os.path.join(sub, f"b{i}.txt") for i in range(500)}
        last = started
        deadline = time.perf_counter() + 20
        while wanted and time.perf_counter() < deadline:
            try:
                seen, at = events.get(timeout=2)
            except queue.Empty:
                break
            if seen in wanted:
                wanted.discard(seen)
                last = at
        stop.set()
        delays.sort()
        p50, p99, seen = statistics.median(delays) * 1000, delays[98] * 1000, 500 - len(wanted)
        print(
            f"{name}: single write → event p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
            f"500-file burst: {seen} of 500 seen, last {(last - started) * 1000:.0f} ms after the burst began"
        )


if __name__ == "__main__":
    main()
