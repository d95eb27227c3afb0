"""`qa chat`'s prompt with an input history: the up arrow recalls earlier questions, also those of
earlier sessions (Python's `readline`, used only when stdin is a terminal)."""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)

HISTORY_FILE = "chat-history"
HISTORY_LENGTH = 1000
# A bold cyan "? "; \001 and \002 tell readline the escape codes take no room on the line.
PROMPT = "\001\033[1;36m\002? \001\033[0m\002"
PLAIN_PROMPT = "? "


class InputHistory:
    def __init__(self, path: Path, readline) -> None:
        self.path = path
        self.readline = readline

    @classmethod
    def start(cls, path: Path | None = None) -> InputHistory:
        """Load the saved history; without a readline module the prompt still works, unaided."""
        from qa.config import data_home

        try:
            import readline
        except ImportError:  # Windows, or a Python built without it
            readline = None
        path = path or data_home() / HISTORY_FILE
        if readline is not None:
            readline.set_history_length(HISTORY_LENGTH)
            try:
                readline.read_history_file(path)
            except FileNotFoundError:  # none yet: start empty
                pass
            except OSError as error:  # unreadable: start empty
                logger.warning("cannot read the question history %s (%s)", path, error)
        return cls(path, readline)

    def ask(self) -> str:
        """One line from the user (EOFError at Ctrl-D); a non-empty one joins the saved history."""
        line = input(PROMPT if self.readline is not None else PLAIN_PROMPT)
        if self.readline is not None and line.strip():
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.readline.write_history_file(self.path)
            except OSError as error:  # a read-only home: history for this session only
                logger.info("cannot save the question history to %s (%s)", self.path, error)
        return line
