"""Progress from the core, on stderr: rich bars on a terminal; elsewhere (a log file, a pipe, a job
run in the background) one plain line every few seconds, so a long run is never silent."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from qa.cli.console import stderr_console
from qa.events import Progress


class ProgressBars:
    """An `on_progress` listener; use as a context manager so the bars are cleared at the end.
    `plain` (default: stderr is not a terminal) prints lines every `every` seconds instead
    (default: QA_PROGRESS_SECONDS, 5)."""

    def __init__(self, plain: bool | None = None, every: float | None = None) -> None:
        self._progress = None
        self._tasks: dict[str, int] = {}
        self._plain = plain
        self._every = every
        self._lines: ProgressLines | None = None

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if self._lines is not None:
            self._lines.finish()

    def __call__(self, event: Progress) -> None:
        if event.total is None:
            stderr_console().print(event.task, markup=False, highlight=False, soft_wrap=True)
            return
        lines = self._plain_lines()
        if lines is not None:
            lines.update(event)
            return
        progress = self._bars()
        task = self._tasks.get(event.task)
        if task is None:
            task = self._tasks[event.task] = progress.add_task(event.task, total=event.total, count="")
        done = event.done if event.share is None else event.share * event.total  # the bar and time left by size
        progress.update(task, completed=done, total=event.total, count=f"{event.done}/{event.total}")
        if event.before and event.done >= event.total:
            progress.remove_task(self._tasks.pop(event.task))

    def _plain_lines(self) -> ProgressLines | None:
        """Lines or bars, chosen at the first counted event: a command that reports none (a
        question on an existing index) never starts a console (rich's import is ~30 ms)."""
        if self._plain is None:
            self._plain = not stderr_console().is_terminal
        if self._plain and self._lines is None:
            from qa import config

            self._lines = ProgressLines(self._every if self._every is not None else config.current().progress_seconds)
        return self._lines

    def _bars(self):
        if self._progress is None:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[count]}"),  # files read, whatever share of the work they were
                TimeRemainingColumn(),
                console=stderr_console(),
                transient=True,
            )
            self._progress.start()
        return self._progress


@dataclass
class _Task:
    started: float
    done: int
    total: int
    growing: bool = False  # its total changed (passages found while files are read): no time left from it
    share: float | None = None  # the part of its work done, where its items differ in size

    def time_left(self, elapsed: float) -> float | None:
        """Seconds left at the rate so far, by `share` where given, else by the count."""
        if self.share is not None:
            return elapsed * (1 - self.share) / self.share if 0 < self.share < 1 else None
        rate = self.done / elapsed if elapsed > 0 else 0.0
        return (self.total - self.done) / rate if rate > 0 and self.done < self.total else None


class ProgressLines:
    """Counted tasks as one plain line, at the first event and then at most every `every` seconds:
    `Reading files: 120/530 (2.1/s) · Embedding passages: 3400/3412 (56.7/s) · about 3 min left`.
    The time left comes from the tasks whose total is fixed. A step run before the others
    (`Progress.before`) leaves the line once it is done. When no event comes for `every` seconds
    (one file read for minutes: a scan through OCR), the line is printed again with the item
    being worked on, `· reading scans/deed.pdf for 40 s`, so a long run is never silent."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.tasks: dict[str, _Task] = {}
        self.printed = 0.0  # when the last line was printed (0: none yet)
        self.changed = False
        self.current, self.current_since = "", 0.0  # the item being worked on, and since when
        self._lock = threading.Lock()  # events come from the job's thread, the heartbeat from its own
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def update(self, event: Progress) -> None:
        with self._lock:
            now = time.monotonic()
            task = self.tasks.get(event.task)
            if task is None:
                task = self.tasks[event.task] = _Task(now, event.done, event.total or 0)
            task.growing |= task.total != event.total
            task.done, task.total, task.share = event.done, event.total or 0, event.share
            if event.current != self.current:
                self.current, self.current_since = event.current, now
            self.changed = True
            if not self.printed or now - self.printed >= self.every:
                self._print(now)
            if event.before and task.done >= task.total:
                del self.tasks[event.task]
        if self._heartbeat is None and self.every > 0:
            self._heartbeat = threading.Thread(target=self._beat, name="qa-progress", daemon=True)
            self._heartbeat.start()

    def finish(self) -> None:
        """The last state, when it was not printed yet."""
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
        with self._lock:
            if self.changed and self.printed:
                self._print(time.monotonic())

    def _beat(self) -> None:
        while not self._stop.wait(self.every / 4):
            with self._lock:
                now = time.monotonic()
                if self.printed and now - self.printed >= self.every:
                    self._print(now, waiting=True)

    def _print(self, now: float, waiting: bool = False) -> None:
        parts, left = [], []
        for name, task in self.tasks.items():
            elapsed = now - task.started
            rate = task.done / elapsed if elapsed > 0 else 0.0
            parts.append(f"{name}: {task.done}/{task.total}" + (f" ({rate:.1f}/s)" if elapsed > 0 else ""))
            # By share, files all read can still have passages to embed: time_left says when none is left.
            seconds = None if task.growing else task.time_left(elapsed)
            if seconds is not None:
                left.append(seconds)
        if left:
            parts.append(f"about {_duration(max(left))} left")
        if waiting and self.current and now - self.current_since >= self.every:  # long, not just begun
            parts.append(f"reading {self.current} for {_duration(now - self.current_since)}")
        stderr_console().print(" · ".join(parts), markup=False, highlight=False, soft_wrap=True)
        self.printed, self.changed = now, False


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"
