"""Progress from the core, drawn with rich on stderr: a bar per counted task, a line per note."""

from __future__ import annotations

from qa.cli.console import stderr_console
from qa.events import Progress


class ProgressBars:
    """An `on_progress` listener; use as a context manager so the bars are cleared at the end."""

    def __init__(self) -> None:
        self._progress = None
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __call__(self, event: Progress) -> None:
        if event.total is None:
            stderr_console().print(event.task, markup=False, highlight=False)
            return
        progress = self._bars()
        task = self._tasks.get(event.task)
        if task is None:
            task = self._tasks[event.task] = progress.add_task(event.task, total=event.total)
        progress.update(task, completed=event.done, total=event.total)

    def _bars(self):
        if self._progress is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=stderr_console(),
                transient=True,
            )
            self._progress.start()
        return self._progress
