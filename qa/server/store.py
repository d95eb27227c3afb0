"""The small SQLite files a shared server keeps beside its index (`INDEX-server/`): API keys and
answer feedback, each a subclass that names its file and schema. Both are the owner's alone: the
folder is created 0o700 and each file 0o600, whatever the umask (SQLite gives its journal files
the database file's mode)."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.config import server_data_dir

logger = logging.getLogger(__name__)


class ServerStore:
    FILE: str
    SCHEMA: str
    TABLE = ""
    ADDED_COLUMNS: dict[str, str] = {}  # TABLE's columns newer than some files on disk: name and type

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / self.FILE
        self._upgraded = False

    @classmethod
    def for_index(cls, index_dir: Path):
        return cls(server_data_dir(index_dir))

    @contextmanager
    def _connect(self, create: bool) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction; `create` makes the file and its table when missing."""
        if create and not self.path.exists():
            self.folder.parent.mkdir(parents=True, exist_ok=True)
            self.folder.mkdir(mode=0o700, exist_ok=True)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:
                if create:
                    db.execute(self.SCHEMA)
                if self.ADDED_COLUMNS and not self._upgraded:
                    self._upgrade(db)
                yield db
        finally:
            db.close()

    def _upgrade(self, db: sqlite3.Connection) -> None:
        """Add the columns a file made by an older version lacks (once per store object)."""
        present = {row[1] for row in db.execute(f"PRAGMA table_info({self.TABLE})")}
        for name, kind in self.ADDED_COLUMNS.items():
            if present and name not in present:
                try:
                    db.execute(f"ALTER TABLE {self.TABLE} ADD COLUMN {name} {kind}")
                    logger.info("%s: added the column %s.%s", self.path, self.TABLE, name)
                except sqlite3.OperationalError as error:  # another process added it first
                    if "duplicate column" not in str(error):
                        raise
        self._upgraded = True
