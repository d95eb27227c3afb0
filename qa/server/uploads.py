"""Documents sent to a shared server: checked against the upload limits, kept in the server's
documents folder, and added to the collection: the same writer lock and commit as `qa index`.

An upload is all or nothing: if any file is refused, nothing is saved and the index is unchanged.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel, Field

from qa.collection import Collection
from qa.config import DEFAULT_WAIT
from qa.errors import UnreadableFile, UnusableUpload, UploadTooLarge
from qa.ingest.documents import parse_file
from qa.ingest.indexing import IndexOptions
from qa.ingest.limits import MIB, ReadLimits
from qa.ingest.readers import ParsedFile, supported_suffixes

CHUNK = 1 << 20
_writing = threading.Lock()  # one upload or delete at a time per process: files and index move together


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

    Every check (count, sizes, names, types, and reading each file within the read limits) runs
    before anything is saved; a refusal raises UploadTooLarge or UnusableUpload naming the file.
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
    documents_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=documents_dir))
    try:
        staged = _stage(files, names, staging, limits)
        parsed = _read_each(staged, limits.read_limits())
        kept: list[Path] = []
        with _writing:
            try:
                _move_into_place(staged, target, staging, kept)
                options = IndexOptions(limits=limits.read_limits(), root=documents_dir, wait=wait)
                already_read = {path.resolve(): content for path, content in zip(kept, parsed)}
                report = collection.add(kept, options, parsed=already_read)
            except BaseException:
                _restore(kept, staging)
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    uploaded = []
    for path in kept:
        doc_id, change = report.files[str(path)]
        status = "skipped" if change == "unchanged" else change
        name = path.relative_to(documents_dir).as_posix()
        uploaded.append(UploadedFile(name=name, doc_id=doc_id, status=status, reason=REASONS[status]))
    counts = {"added": report.added, "updated": report.updated, "skipped": report.unchanged}
    return UploadResult(**counts, generation=report.generation, files=uploaded)


def delete_document(
    collection: Collection, doc_id: str, documents_dir: Path, wait: float = DEFAULT_WAIT
) -> DeleteResult:
    """Remove a document from the collection by doc_id; its file too when the server keeps it."""
    documents_dir = Path(documents_dir).expanduser().resolve()
    with _writing:
        report = collection.remove([doc_id], ids_only=True, wait=wait)
        source = Path(report.removed_sources[0])
        deleted = source.resolve().is_relative_to(documents_dir) and source.is_file()
        if deleted:
            source.unlink()
    return DeleteResult(doc_id=doc_id, source=str(source), generation=report.generation, file_deleted=deleted)


def safe_name(name: str | None) -> str:
    """A file name to keep as is, or UnusableUpload: no path in it, nothing hidden, a type we read."""
    name = unicodedata.normalize("NFC", name or "")
    shown = repr(name) if name else "A file"
    if "/" in name or "\\" in name:
        raise UnusableUpload(
            f"{shown}: a file name may not contain a path (/ or \\); name a folder in the `folder` field instead."
        )
    _check_part(name, shown, "file name")
    suffix = Path(name).suffix.lower()
    supported = supported_suffixes()
    if suffix not in supported:
        raise UnusableUpload(
            f"{name}: unsupported type {suffix or '(none)'}; send one of {' '.join(sorted(supported))}."
        )
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


def _stage(files: Sequence[IncomingFile], names: list[str], staging: Path, limits: UploadLimits) -> list[Path]:
    """Copy each file into its own folder under `staging`, counting bytes as they come (a
    client's declared sizes are not trusted)."""
    staged, total = [], 0
    for number, (file, name) in enumerate(zip(files, names)):
        path = staging / str(number) / name
        path.parent.mkdir()
        size = 0
        with path.open("wb") as out:
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


def _move_into_place(staged: list[Path], target: Path, staging: Path, kept: list[Path]) -> None:
    """Move staged files to `target`, listing each in `kept`; a file they replace is kept in
    `staging` for `_restore`."""
    target.mkdir(parents=True, exist_ok=True)
    if not target.resolve().is_relative_to(staging.parent.resolve()):
        raise UnusableUpload("The folder leads outside the documents folder.")
    for path in staged:
        final = target / path.name
        if final.is_symlink() or (final.exists() and not final.is_file()):
            raise UnusableUpload(f"{final.name}: something other than a file has that name in the documents folder.")
        if final.exists():
            os.replace(final, path.with_name(path.name + ".previous"))
        os.replace(path, final)
        kept.append(final)


def _restore(kept: list[Path], staging: Path) -> None:
    """Undo `_move_into_place` after indexing failed: the folder is as it was before the upload."""
    for final in kept:
        previous = next(staging.glob(f"*/{final.name}.previous"), None)
        if previous is not None:
            os.replace(previous, final)
        else:
            final.unlink(missing_ok=True)
