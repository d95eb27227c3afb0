"""An upload's plan: what it changes in the documents folder, written down (and fsynced) before any
of it is done, so that the upload can be undone, or kept where the index holds it, by this process
or, after it dies, by the next write or server start. Everything here runs under the index's
writer lock.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from qa.collection import Collection
from qa.errors import UnusableUpload
from qa.ingest.documents import file_sha256

logger = logging.getLogger(__name__)

STAGING_PREFIX = ".incoming-"  # hidden, so `qa index` of the documents folder never reads a staged file
PLAN_FILE = "plan.json"
BACKUP = ".previous"  # the stored file an upload replaces, hard-linked beside the staged file
RESTORING = ".restoring"  # a second link to the backup, renamed over the file to put it back
PRIVATE_FILE, PRIVATE_FOLDER = 0o600, 0o700


@dataclass(frozen=True)
class Move:
    """One file of an upload: `staged` goes to `final`, as the version with `sha256`."""

    staged: Path
    final: Path
    sha256: str

    @property
    def backup(self) -> Path:
        return self.staged.with_name(BACKUP)


@dataclass
class Plan:
    """What one upload changes in the documents folder, written down before any of it is done, so
    that it can be undone (or kept, if the index holds it) by this process or after it dies."""

    staging: Path
    documents_dir: Path
    moves: list[Move]
    folders: list[Path]  # the folders it creates, outermost first

    @classmethod
    def write(cls, staging: Path, documents_dir: Path, staged: list[Path], target: Path) -> Plan:
        """The plan for moving `staged` into `target`, saved in `staging` (under the writer lock)."""
        missing = [f for f in [target, *target.parents] if f.is_relative_to(documents_dir) and not f.is_dir()]
        plan = cls(staging, documents_dir, [Move(p, target / p.name, file_sha256(p)) for p in staged], missing[::-1])
        record = {
            "files": [
                {"staged": str(m.staged.relative_to(staging)), "final": plan._relative(m.final), "sha256": m.sha256}
                for m in plan.moves
            ],
            "folders": [plan._relative(folder) for folder in plan.folders],
        }
        draft = staging / f"{PLAN_FILE}.tmp"
        with open(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE), "w") as out:
            json.dump(record, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(draft, staging / PLAN_FILE)
        return plan

    @classmethod
    def load(cls, staging: Path, documents_dir: Path) -> Plan | None:
        """The plan a dead process left in `staging`, or None when it wrote none (nothing moved)."""
        try:
            record = json.loads((staging / PLAN_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        moves = [
            Move(staging / item["staged"], documents_dir / item["final"], item["sha256"]) for item in record["files"]
        ]
        return cls(staging, documents_dir, moves, [documents_dir / folder for folder in record["folders"]])

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.documents_dir).as_posix()

    def apply(self) -> None:
        """Make the folders and move each file into place; the file it replaces stays linked as
        the backup, so the stored file is never absent from its place."""
        for folder in self.folders:
            self._check_inside(folder.parent)
            try:
                folder.mkdir(mode=PRIVATE_FOLDER)
            except FileExistsError:
                if not folder.is_dir():
                    raise UnusableUpload(f"{self._relative(folder)!r} is a file in the documents folder.") from None
        for move in self.moves:
            final = move.final
            self._check_inside(final.parent)
            if final.is_symlink() or (final.exists() and not final.is_file()):
                raise UnusableUpload(f"{final.name}: something other than a file has that name in the documents folder")
            if final.exists():
                os.link(final, move.backup)
            os.replace(move.staged, final)

    def _check_inside(self, folder: Path) -> None:
        """A folder (a symlink an operator left, say) must not lead out of the documents folder."""
        if not folder.resolve().is_relative_to(self.documents_dir):
            raise UnusableUpload("The folder leads outside the documents folder.")

    def settle(self, collection: Collection) -> None:
        """After a failure or a crash: keep each file whose version the index holds at its place,
        put every other back as it was, and remove the folders the upload made (if empty).
        Settling twice does what settling once did."""
        snapshot = collection.snapshot()
        for move in reversed(self.moves):
            indexed = {document.sha256 for _, document in snapshot.documents_at(str(move.final))}
            if move.sha256 in indexed:
                continue
            if move.backup.exists():
                restoring = move.backup.with_name(RESTORING)
                restoring.unlink(missing_ok=True)
                os.link(move.backup, restoring)
                os.replace(restoring, move.final)
            elif not move.staged.exists():  # it was moved in, where no file was
                move.final.unlink(missing_ok=True)
        for folder in reversed(self.folders):
            try:
                folder.rmdir()
            except OSError:
                pass  # not made yet, or it holds a file the index kept

    def forget(self) -> None:
        """The upload is over (done, or settled): its plan must never be applied again."""
        (self.staging / PLAN_FILE).unlink(missing_ok=True)


def recover(collection: Collection, documents_dir: Path, keep: Path | None = None) -> int:
    """Settle every upload whose process died with its plan written (called under the writer lock,
    so no live upload has one), and remove staging folders that dead processes left; `keep` is
    the caller's own. The number settled."""
    settled = 0
    for staging in list(documents_dir.iterdir()) if documents_dir.is_dir() else []:
        if not staging.name.startswith(STAGING_PREFIX) or staging == keep or not staging.is_dir():
            continue
        plan = Plan.load(staging, documents_dir)
        if plan is not None:
            logger.warning("Settling an upload that was interrupted (%s)", staging.name)
            plan.settle(collection)
            plan.forget()
            settled += 1
        elif not abandoned(staging):
            continue  # a live upload still staging its files
        shutil.rmtree(staging, ignore_errors=True)
    return settled


def abandoned(staging: Path) -> bool:
    """Was `staging` left by a process that is gone? Its name holds the pid that made it."""
    try:
        pid = int(staging.name.removeprefix(STAGING_PREFIX).split("-")[0])
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False
