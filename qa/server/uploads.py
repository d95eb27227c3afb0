"""Documents sent to a shared server: checked against the upload limits, kept in the server's
documents folder, and added to the collection: the same writer lock and commit as `qa index`.

An upload is all or nothing: if any file is refused, nothing is saved and the index is unchanged.
Every file is staged and read in a hidden folder first (`.incoming-PID-XXXXXXXX/` in the documents
folder). Then, under the index's cross-process writer lock (so other server processes and a
`qa index` beside the server wait), a plan is written that names each file's place and version,
the files move into place (a file they replace stays hard-linked in the staging folder), and one
generation is committed. If anything fails, or the process dies before the plan is removed, the
plan settles the folder by the index: a file whose new version the index holds stays, every other
is put back as it was, and folders the upload created are removed. A process that dies mid-upload
is settled by the next write or the next server start.

What the server stores is the owner's alone: folders 0o700, files 0o600, whatever the umask.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel, Field

from qa.collection import Collection
from qa.compressed import shown_suffix
from qa.config import DEFAULT_WAIT
from qa.errors import UnreadableFile, UnusableUpload, UploadTooLarge
from qa.ingest.documents import parse_file
from qa.ingest.indexing import IndexOptions
from qa.ingest.limits import MIB, ReadLimits
from qa.ingest.readers import ParsedFile, reader_for, supported_types
from qa.server.upload_plan import PLAN_FILE, PRIVATE_FILE, PRIVATE_FOLDER, RESTORING, STAGING_PREFIX, Plan, recover

logger = logging.getLogger(__name__)

CHUNK = 1 << 20


@dataclass(frozen=True)
class UploadLimits:
    """What one `POST /documents` may send and cost."""

    max_files: int = 100
    max_file_bytes: int = 20 * MIB
    max_total_bytes: int = 100 * MIB
    parse_seconds: float = 30.0  # to read one PDF or DOCX
    max_unpacked_bytes: int = 200 * MIB  # what one compressed file may expand to

    def read_limits(self) -> ReadLimits:
        return ReadLimits(
            max_file_bytes=self.max_file_bytes,
            max_unpacked_bytes=self.max_unpacked_bytes,
            max_seconds=self.parse_seconds,
        )


@dataclass
class IncomingFile:
    """One file of an upload as the HTTP layer received it."""

    name: str
    data: BinaryIO


class UploadedFile(BaseModel):
    name: str = Field(description="Where the file is kept, relative to the server's documents folder.")
    doc_id: str
    status: Literal["added", "updated", "skipped"]
    reason: str


class UploadResult(BaseModel):
    """`POST /documents`: what happened to each file, and the generation that holds them."""

    added: int
    updated: int
    skipped: int
    generation: int = Field(description="The index generation to ask; questions see it at once.")
    files: list[UploadedFile]


class DeleteResult(BaseModel):
    """`DELETE /documents/{doc_id}`."""

    doc_id: str
    source: str
    generation: int
    file_deleted: bool = Field(description="The file was in the server's documents folder and is gone too.")


REASONS = {
    "added": "a new document",
    "updated": "its content changed, so it replaced the indexed copy",
    "skipped": "the same content is already indexed",
}


def add_documents(
    collection: Collection,
    files: Sequence[IncomingFile],
    documents_dir: Path,
    folder: str | None = None,
    limits: UploadLimits = UploadLimits(),
    wait: float = DEFAULT_WAIT,
) -> UploadResult:
    """Save `files` under `documents_dir/folder` and add them to `collection`.

    Every check (count, sizes, names, types, the folder and path lengths, and reading each file
    within the read limits) runs before anything is saved; a refusal raises UploadTooLarge or
    UnusableUpload naming the file. `wait` bounds the wait for the writer lock (IndexBusy after).
    """
    if not files:
        raise UnusableUpload("No files in the upload; send them in the form field `files`.")
    if len(files) > limits.max_files:
        raise UploadTooLarge(f"{len(files)} files in one upload; the limit is {limits.max_files}.")
    documents_dir = Path(documents_dir).expanduser().resolve()
    target = documents_dir.joinpath(*folder_parts(folder))
    names = [safe_name(file.name) for file in files]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UnusableUpload(f"{repeated[0]} is sent twice in one upload; send each file once.")
    _check_place(documents_dir, target, names)
    _make_private_folder(documents_dir)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=documents_dir))
    try:
        staged = _stage(files, names, staging, limits)
        parsed = _read_each(staged, limits.read_limits())
        with collection.writer_lock(wait) as lock:
            recover(collection, documents_dir, keep=staging)
            plan = Plan.write(staging, documents_dir, staged, target)
            try:
                plan.apply()
                options = IndexOptions(limits=limits.read_limits(), root=documents_dir, lock=lock)
                already_read = {move.final.resolve(): content for move, content in zip(plan.moves, parsed)}
                report = collection.add([move.final for move in plan.moves], options, parsed=already_read)
            except BaseException:
                plan.settle(collection)  # if this fails too, the plan stays for the next write to settle
                plan.forget()
                raise
            plan.forget()
    finally:
        if not (staging / PLAN_FILE).exists():  # else a plan that could not settle waits for the next write
            shutil.rmtree(staging, ignore_errors=True)
    uploaded = []
    for move in plan.moves:
        doc_id, change = report.files[str(move.final)]
        status = "skipped" if change == "unchanged" else change
        name = move.final.relative_to(documents_dir).as_posix()
        uploaded.append(UploadedFile(name=name, doc_id=doc_id, status=status, reason=REASONS[status]))
    counts = {"added": report.added, "updated": report.updated, "skipped": report.unchanged}
    return UploadResult(**counts, generation=report.generation, files=uploaded)


def delete_document(
    collection: Collection, doc_id: str, documents_dir: Path, wait: float = DEFAULT_WAIT
) -> DeleteResult:
    """Remove a document from the collection by doc_id; its file too when the server keeps it."""
    documents_dir = Path(documents_dir).expanduser().resolve()
    with collection.writer_lock(wait) as lock:
        recover(collection, documents_dir)
        report = collection.remove([doc_id], ids_only=True, lock=lock)
        source = Path(report.removed_sources[0])
        deleted = source.resolve().is_relative_to(documents_dir) and source.is_file()
        if deleted:
            source.unlink()
    return DeleteResult(doc_id=doc_id, source=str(source), generation=report.generation, file_deleted=deleted)


def recover_uploads(collection: Collection, documents_dir: Path, wait: float = DEFAULT_WAIT) -> int:
    """Settle the uploads a dead process left half done (the server calls this when it starts);
    the number settled."""
    documents_dir = Path(documents_dir).expanduser().resolve()
    if not documents_dir.is_dir():
        return 0
    with collection.writer_lock(wait):
        return recover(collection, documents_dir)


def safe_name(name: str | None) -> str:
    """A file name to keep as is, or UnusableUpload: no path in it, nothing hidden, a type we read."""
    name = unicodedata.normalize("NFC", name or "")
    shown = repr(name) if name else "A file"
    if "/" in name or "\\" in name:
        raise UnusableUpload(
            f"{shown}: a file name may not contain a path (/ or \\); name a folder in the `folder` field instead."
        )
    _check_part(name, shown, "file name")
    if reader_for(name) is None:
        suffix = shown_suffix(name).lower()
        raise UnusableUpload(f"{name}: unsupported type {suffix or '(none)'}; send one of {supported_types()}.")
    return name


def folder_parts(folder: str | None) -> list[str]:
    """The `folder` field as safe path parts ("reports/2011" → ["reports", "2011"])."""
    if not folder or not folder.strip("/"):
        return []
    folder = unicodedata.normalize("NFC", folder)
    parts = folder.strip("/").split("/")
    for part in parts:
        _check_part(part, f"folder {folder!r}", "folder name")
    return parts


def _check_part(part: str, shown: str, what: str) -> None:
    if not part or part in {".", ".."} or part.startswith("."):
        raise UnusableUpload(f"{shown}: a {what} may not be empty, '.' or '..', or start with '.'.")
    if "\\" in part or any(unicodedata.category(char).startswith("C") for char in part):
        raise UnusableUpload(f"{shown}: a {what} may not hold control characters or backslashes.")
    if len(part.encode()) > 255:
        raise UnusableUpload(f"{shown}: a {what} may be at most 255 bytes long.")


def _check_place(documents_dir: Path, target: Path, names: list[str]) -> None:
    """Refuse, before anything is read or saved, a folder or name the documents folder cannot hold:
    a path longer than the OS allows, a folder where a file is, a file where a folder is."""
    for name in names:
        _check_length(target / name, documents_dir, name)
    shown = target.relative_to(documents_dir).as_posix()
    for folder in [target, *target.parents]:
        if folder == documents_dir or not folder.is_relative_to(documents_dir):
            break
        if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
            inside = folder.relative_to(documents_dir).as_posix()
            raise UnusableUpload(
                f"folder {shown!r}: {inside!r} is a file in the documents folder, not a folder; choose another folder."
            )
    for name in names:
        final = target / name
        if final.is_symlink() or (final.exists() and not final.is_file()):
            raise UnusableUpload(f"{name}: something other than a file has that name in the documents folder.")


def _check_length(path: Path, documents_dir: Path, name: str) -> None:
    """UnusableUpload when the OS would refuse `path` as too long (PATH_MAX; NAME_MAX per part)."""
    base = documents_dir if documents_dir.exists() else Path("/")
    path_max, name_max = _limit(base, "PC_PATH_MAX", 4096), _limit(base, "PC_NAME_MAX", 255)
    length = len(os.fsencode(path))
    if length >= path_max:
        raise UnusableUpload(
            f"{name}: its path in the server's folders would be {length:,} bytes long, and the limit is "
            f"{path_max - 1:,}; choose a shorter folder or name."
        )
    if any(len(os.fsencode(part)) > name_max for part in path.parts):
        raise UnusableUpload(f"{name}: a folder or file name may be at most {name_max} bytes long.")


def _limit(path: Path, name: str, default: int) -> int:
    try:
        return os.pathconf(path, name)
    except (OSError, ValueError):
        return default


def _make_private_folder(folder: Path) -> None:
    """`folder` (and its parents), a new one readable by the owner alone."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)


def _stage(files: Sequence[IncomingFile], names: list[str], staging: Path, limits: UploadLimits) -> list[Path]:
    """Copy each file into its own folder under `staging`, counting bytes as they come (a
    client's declared sizes are not trusted)."""
    staged, total = [], 0
    for number, (file, name) in enumerate(zip(files, names)):
        path = staging / str(number) / name
        _check_length(path.with_name(max(name, RESTORING, key=lambda n: len(n.encode()))), staging, name)
        path.parent.mkdir(mode=PRIVATE_FOLDER)
        size = 0
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE), "wb") as out:
            while block := file.data.read(CHUNK):
                size += len(block)
                total += len(block)
                if size > limits.max_file_bytes:
                    raise UploadTooLarge(f"{name} is over the limit of {limits.max_file_bytes:,} bytes per file.")
                if total > limits.max_total_bytes:
                    raise UploadTooLarge(f"The upload is over the limit of {limits.max_total_bytes:,} bytes in all.")
                out.write(block)
        if size == 0:
            raise UnusableUpload(f"{name} is empty (0 bytes).")
        staged.append(path)
    return staged


def _read_each(staged: list[Path], limits: ReadLimits) -> list[ParsedFile]:
    """Read each staged file as indexing would (in the bounded worker where its reader needs one),
    so a file that cannot be read refuses the upload before anything is saved; every file that
    fails is named with its reason. Indexing then uses what was read here: each file is parsed once."""
    parsed, problems = [], []
    for path in staged:
        try:
            parsed.append(parse_file(path, limits))
        except UnreadableFile as error:
            problems.append(f"{path.name} ({error})")
    if problems:
        raise UnusableUpload(f"Cannot read {'; '.join(problems)}. Nothing was saved or indexed.")
    return parsed
