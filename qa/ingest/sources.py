"""Where documents come from. A `Source` lists items; each item has a stable identity (what the
index stores to find it again), a version (what tells a changed item from an unchanged one), a
name relative to its root, and reads itself into a `Document` through the reader registry.
Indexing plans against any source the same way (`qa.ingest.indexing.plan_files`).

Today there is one kind, `FolderSource`: files and folders on disk. A web site would be another
module with a source of the same shape (identity: the URL, version: a hash of the page).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from qa.ingest.documents import (
    IGNORE_FILE,
    Document,
    IgnoreRules,
    Skipped,
    file_sha256,
    file_size,
    is_hidden,
    is_read_below,
    load_file,
    scan_paths,
)
from qa.ingest.limits import DEFAULT_READ_LIMITS, ReadLimits
from qa.ingest.page_sources import page_of, sources_of
from qa.ingest.readers import ParsedFile, reader_for


class SourceItem(Protocol):
    """One document-to-be of a source."""

    @property
    def identity(self) -> str:
        """Stable across runs; the index finds the item's document by it (`writer.find`)."""
        ...

    @property
    def name(self) -> str:
        """Relative to the item's root, '/'-separated: shown to people, and the doc_id is made from it."""
        ...

    def version(self) -> str:
        """Changes when the content does; the document is read again only then."""
        ...

    def read(self, doc_id: str, version: str, limits: ReadLimits = DEFAULT_READ_LIMITS) -> Document:
        """The item as a document; raises UnreadableFile with the reason when it cannot be read."""
        ...

    def size(self) -> int:
        """How much it holds to read, in bytes (at least 1; a web page's outside its markup): what
        the time left is reckoned from."""
        ...

    def place(self) -> tuple[str, str, float | None]:
        """(root, source, modified) its document is stored under: what a move (a renamed file with
        the same content) changes of a document without reading it again."""
        ...


@dataclass
class SourceScan:
    """What a source lists now: its items, what it passed over (with why), and the identities at or
    below which an indexed document that is no longer listed has gone and is removed."""

    items: list[SourceItem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    kept: list[Skipped] = field(default_factory=list)  # not reached now (a 503): listed, the indexed version kept
    ignored: int = 0  # files a folder's .qaignore left out


class Source(Protocol):
    def scan(self) -> SourceScan: ...


@dataclass(frozen=True)
class FileItem:
    """A file on disk: its identity is its absolute path, its version the sha256 of its bytes.
    `parsed`: what its reader already read of it (an upload reads each file to check it), so it
    is not read twice."""

    root: Path
    path: Path
    parsed: ParsedFile | None = None

    @property
    def identity(self) -> str:
        return str(self.path)

    @property
    def name(self) -> str:
        return self.path.relative_to(self.root).as_posix()

    def version(self) -> str:
        return file_sha256(self.path)

    def read(self, doc_id: str, version: str, limits: ReadLimits = DEFAULT_READ_LIMITS) -> Document:
        return load_file(self.path, self.root, doc_id, version, limits, self.parsed)

    def size(self) -> int:
        return file_size(self.path)

    def place(self) -> tuple[str, str, float | None]:
        return str(self.root), self.name, self.path.stat().st_mtime


@dataclass(frozen=True)
class FolderSource:
    """Files of a supported type below folders (recursively, hidden ones left out) or named directly.
    Files are named relative to `root` when given (the server's documents folder), else to the
    folder they were found by; documents gone from below a folder given are removed."""

    paths: Sequence[Path]
    root: Path | None = None
    parsed: Mapping[Path, ParsedFile] = field(default_factory=dict)  # files already read, by resolved path

    def scan(self) -> SourceScan:
        found = scan_paths(self.paths, self.root)
        folders = [str(Path(p).expanduser().resolve()) for p in self.paths if Path(p).expanduser().is_dir()]
        items = [FileItem(base, path, self.parsed.get(path)) for base, path in found.files]
        return SourceScan(items, list(found.skipped), folders, ignored=found.ignored)


@dataclass(frozen=True)
class ChangedPaths:
    """What a watcher saw change below watched folders, as a source: each changed file that is
    there is listed (named relative to the watched folder it is below), a folder that appeared is
    scanned whole, and each changed path that is gone, or is a folder, is a root, so documents at
    or below it that are no longer there are removed. Hidden files and folders, those a
    .qaignore names, the sources of pages built beside them and links to files read below the
    folder are left out, as `FolderSource` leaves them out (a source indexed before its page
    appeared is removed); a change to a .qaignore is a change to the whole folder it is in."""

    folders: Sequence[Path]  # the watched folders, resolved
    changed: Iterable[Path]

    def scan(self) -> SourceScan:
        scan = SourceScan()
        listed: set[Path] = set()
        rules = {folder: IgnoreRules(folder) for folder in self.folders}  # each .qaignore read once a scan
        changed = {Path(p) for p in self.changed}
        changed = {path.parent if path.name == IGNORE_FILE else path for path in changed}  # its folder, again
        for path in sorted(changed):
            folder = max((f for f in self.folders if path.is_relative_to(f)), key=lambda f: len(f.parts), default=None)
            if folder is None or is_hidden(path, folder):
                continue
            if path.is_dir():
                found = scan_paths([path], folder)
                scan.items += [FileItem(base, file) for base, file in found.files if file not in listed]
                listed.update(file for _, file in found.files)
                scan.skipped += found.skipped
                scan.ignored += found.ignored
                scan.roots.append(str(path))
            elif path.is_file():
                if path in listed:
                    continue
                if rules[folder].ignores(path):
                    scan.ignored += 1
                    scan.roots.append(str(path))  # indexed before the rule named it: removed now
                    continue
                if reader_for(path) is None:
                    scan.skipped.append(Skipped.unsupported(path))
                    continue
                is_read = is_read_below(folder, rules[folder])
                page = page_of(path, is_read)
                if page is not None:  # a page's source, beside it: the page is read in its place
                    scan.skipped.append(Skipped.source_of(path, page.relative_to(folder).as_posix()))
                    scan.roots.append(str(path))  # indexed before its page was built: removed now
                    continue
                target = path.resolve() if path.is_symlink() else None  # one lstat for a file that is no link
                if target is not None and target.is_relative_to(folder) and is_read(target):
                    scan.skipped.append(Skipped.link_to(path, target.relative_to(folder).as_posix()))
                    scan.roots.append(str(path))  # read as itself before: removed now
                    continue
                scan.items.append(FileItem(folder, path))
                listed.add(path)
                scan.roots += [str(source) for source in sources_of(path, folder) if is_read(source)]
            else:
                scan.roots.append(str(path))
        return scan
