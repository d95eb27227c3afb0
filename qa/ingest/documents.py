"""Reading documents: a file becomes a `Document` of normalised text with a title and pages.

The format is the reader registry's business (`qa.ingest.readers`, one module per format); this
module finds files, bounds what reading one may cost and names the result. A file that cannot be
read raises UnreadableFile with the reason, which indexing reports as skipped and an upload as
refused. Every built-in format is read in a separate process with a memory and a time limit
(`ReadLimits`, `qa.ingest.isolation`), except a small text or Markdown file, whose cost is linear in
its size and small (`ReadLimits.max_inline_bytes`).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.compressed import compression, plain_name, shown_suffix
from qa.errors import InvalidInput, UnreadableFile
from qa.ingest.blocks import Block
from qa.ingest.limits import DEFAULT_READ_LIMITS, ReadLimits
from qa.ingest.page_sources import SOURCE_OF, built_from
from qa.ingest.readers import ParsedFile, read_here, reader_for
from qa.ingest.readers.docbook import NOT_DOCBOOK
from qa.ingest.readers.images import ICON


@dataclass
class Document:
    """A document ready for indexing: `text` is normalised and all offsets refer to it."""

    doc_id: str
    source: str
    title: str
    text: str
    sha256: str
    root: str = ""
    page_starts: list[int] | None = None
    modified: float | None = None  # the file's mtime when it was read (seconds since the epoch)
    tags: tuple[str, ...] = ()  # Markdown front matter's `tags:`
    blocks: tuple[Block, ...] = ()  # HTML and Markdown: passages follow them (qa.ingest.sections)
    ocr_pages: tuple[int, ...] = ()  # 1-based pages whose text was recognised from an image

    def page_at(self, offset: int) -> int | None:
        """1-based page holding `offset`, for paged formats."""
        if not self.page_starts:
            return None
        page = 0
        for index, start in enumerate(self.page_starts):
            if start <= offset:
                page = index
        return page + 1


@dataclass
class Skipped:
    path: str
    reason: str

    @classmethod
    def unsupported(cls, path: Path) -> Skipped:
        """A file of a type no reader reads (a site's stylesheets, scripts and fonts, a .psd)."""
        return cls(str(path), f"{UNSUPPORTED_TYPE} {shown_suffix(path) or '(none)'}")

    @classmethod
    def source_of(cls, path: Path, page: str) -> Skipped:
        """A page's markup source, beside the page built from it (`qa.ingest.page_sources`)."""
        return cls(str(path), f"{SOURCE_OF} {page}, which is read in its place")

    @classmethod
    def link_to(cls, path: Path, target: str) -> Skipped:
        """A symbolic link to a file the same scan reads (`NEWS.gz` → `changelog.gz`)."""
        return cls(str(path), f"{LINK_TO} {target}, which is read in its place")

    @property
    def is_page_source(self) -> bool:
        return self.reason.startswith(SOURCE_OF)

    @property
    def is_link(self) -> bool:
        return self.reason.startswith(LINK_TO)

    @property
    def kind_not_read(self) -> str | None:
        """What, of a file that is no document, it is, as a summary counts it: its type (".css")
        or "icons"; None for a file that could not be read."""
        if self.reason.startswith((UNSUPPORTED_TYPE, NOT_DOCBOOK)):
            return shown_suffix(self.path) or "(none)"
        return "icons" if self.reason.startswith(ICON) else None


UNSUPPORTED_TYPE = "unsupported type"
LINK_TO = "a link to"
# Files that are no documents are named one by one up to this many; more (a web site's
# stylesheets, scripts, fonts and icons) are counted by type, so the files that could not be read
# stand out.
NAMED_NOT_DOCUMENTS = 5


def skipped_lines(skipped: Sequence[Skipped], listed_where: str = "") -> list[str]:
    """What was skipped, a line each: every file that could not be read, with why, and the files
    that are no documents likewise up to NAMED_NOT_DOCUMENTS, past that counted by type on one line
    (ending with `listed_where`: where each is named)."""
    others = [file for file in skipped if file.kind_not_read is not None]
    sources = [file for file in skipped if file.is_page_source]
    links = [file for file in skipped if file.is_link]
    lines = []
    if len(others) > NAMED_NOT_DOCUMENTS:
        kinds = Counter(file.kind_not_read for file in others)
        counts = ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())
        lines.append(f"{len(others)} that are not documents ({counts}){listed_where}")
    for group, what in ((sources, "sources of pages"), (links, "links to files")):
        if len(group) > NAMED_NOT_DOCUMENTS:
            example = f"{Path(group[0].path).name}: {group[0].reason}"
            lines.append(f"{len(group)} {what} read in their place (such as {example}){listed_where}")
    grouped = {id(file) for group in (others, sources, links) if len(group) > NAMED_NOT_DOCUMENTS for file in group}
    return lines + [f"{file.path}: {file.reason}" for file in skipped if id(file) not in grouped]


# A folder's own list of what to leave out, in .gitignore's syntax ("old-edition/", "print.html").
IGNORE_FILE = ".qaignore"
MAX_IGNORE_BYTES = 1 << 20  # patterns, not data: a larger one is a mistake, and each line is compiled


def ignore_rules(folder: Path) -> Callable[[str], bool] | None:
    """`folder`'s .qaignore as a test of a path relative to it ('/'-separated), or None without one.
    Its patterns mean what they mean in a .gitignore (pathspec's implementation of git's rules)."""
    file = folder / IGNORE_FILE
    if not file.is_file():
        return None
    import pathspec

    try:
        size = file.stat().st_size
        if size > MAX_IGNORE_BYTES:
            raise InvalidInput(f"{file} is {size:,} bytes; a .qaignore is read up to {MAX_IGNORE_BYTES:,}.")
        lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as error:
        raise InvalidInput(f"Cannot read {file}: {error.strerror or error}.") from error
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines).match_file
    except ValueError:
        for number, line in enumerate(lines, 1):  # then one line at a time, to name the bad one
            try:
                pathspec.GitIgnoreSpec.from_lines([line])
            except ValueError as error:
                raise InvalidInput(
                    f"{file}, line {number}: {line!r} is not a pattern .gitignore would take ({error})."
                ) from error
        raise


class IgnoreRules:
    """The .qaignore files of a folder and of the folders below it, each for the paths below its own
    folder, as nested .gitignore files are: a file is left out when one of them names it (a deeper
    one cannot take back what a shallower one leaves out). Each file is read once."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._rules: dict[Path, Callable[[str], bool] | None] = {}

    def ignores(self, file: Path) -> bool:
        parts = file.relative_to(self.base).parts
        folder = self.base
        for depth in range(len(parts)):  # the folders from `base` down to the file's own
            if folder not in self._rules:
                self._rules[folder] = ignore_rules(folder)
            rules = self._rules[folder]
            if rules is not None and rules("/".join(parts[depth:])):
                return True
            folder = folder / parts[depth]
        return False


def is_hidden(path: Path, base: Path) -> bool:
    """Is `path` (below `base`) hidden, or in a hidden folder below `base`? Never read from a folder."""
    return any(part.startswith(".") for part in path.relative_to(base).parts)


def is_read_below(base: Path, rules: IgnoreRules) -> Callable[[Path], bool]:
    """Whether a path is a file that indexing `base` reads: below it, not hidden, not left out
    by a .qaignore, of a type a reader reads."""

    def is_read(path: Path) -> bool:
        if not path.is_relative_to(base) or not path.is_file():
            return False
        return not is_hidden(path, base) and not rules.ignores(path) and reader_for(path) is not None

    return is_read


@dataclass
class ScanResult:
    """Files found under the given paths: their (root, path) pairs, what was passed over, and how
    many files a folder's .qaignore left out."""

    files: list[tuple[Path, Path]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    ignored: int = 0


def scan_paths(paths: Iterable[Path], root: Path | None = None) -> ScanResult:
    """Supported files under folders (recursively) or given directly, hidden files left out, and
    below a folder those its .qaignore files name and the markup sources of pages built beside them
    (`qa.ingest.page_sources`; a file given by name is read whatever they say); each named relative
    to `root` when given (and below it), else to the folder it was found by."""
    result = ScanResult()
    for path in paths:
        path = Path(path).expanduser().resolve()
        if path.is_dir():
            base = path
            candidates: Iterator[Path] = (p for p in sorted(path.rglob("*")) if p.is_file())
        else:
            base = path.parent
            candidates = iter([path])
        if root is not None and path.is_relative_to(Path(root).resolve()):
            base = Path(root).resolve()
        rules = IgnoreRules(base) if path.is_dir() else None
        readable = []
        for file in candidates:
            if is_hidden(file, base):
                continue
            if rules is not None and rules.ignores(file):
                result.ignored += 1
                continue
            if reader_for(file) is not None:
                readable.append(file)
            else:
                result.skipped.append(Skipped.unsupported(file))
        pages = built_from(readable, is_read_below(base, rules)) if rules is not None else {}  # a file named is read
        links = linked_twice(readable) if rules is not None else {}
        for file in readable:
            page, target = pages.get(file), links.get(file)
            if page is not None:
                result.skipped.append(Skipped.source_of(file, page.relative_to(base).as_posix()))
            elif target is not None:
                result.skipped.append(Skipped.link_to(file, target.relative_to(base).as_posix()))
            else:
                result.files.append((base, file))
    return result


def linked_twice(files: Sequence[Path]) -> dict[Path, Path]:
    """Each of `files` that is a symbolic link to a file also among them, with the one read in its
    place: the file itself, or (every name a link) the first name. Debian links a package's
    `NEWS.gz` to its `changelog.gz` and a command's man page to another's: read under each name,
    every answer came twice."""
    names: dict[Path, list[Path]] = {}
    for file in files:  # found below a resolved folder, whose linked folders a scan does not enter
        try:
            names.setdefault(file.resolve() if file.is_symlink() else file, []).append(file)
        except OSError:  # a loop of links: read as it is, and skipped with why
            continue
    links = {}
    for target, group in names.items():
        kept = target if target in group else min(group)
        links.update({file: kept for file in group if file != kept})
    return links


# A web page's words are what lies outside its tags and outside these elements' insides.
_MARKUP_PAGES = frozenset({".html", ".htm", ".xhtml"})
_HIDDEN_ELEMENT = re.compile(rb"<(script|style|svg)\b")
_TAG = re.compile(rb"<[^<>]*>")


def file_size(path: Path | None) -> int:
    """How much a file holds to read, in bytes, at least 1 (1 for no file, or one gone): what the
    time left of a run is reckoned from. A web page counts only its bytes outside its tags,
    scripts, styles and inline drawings: the SQLite site's syntax diagrams make lang_select.html
    1.6 MB for 41 passages, and counted whole, such pages made the time left twice too long."""
    try:
        if path is None:
            return 1
        if path.suffix.lower() in _MARKUP_PAGES:
            return max(1, text_bytes(path.read_bytes()))
        return max(1, path.stat().st_size)
    except OSError:
        return 1


def text_bytes(page: bytes) -> int:
    """The bytes of an HTML page outside its markup (tags, and the insides of script, style and
    svg elements), in one pass: an element left open hides the rest of the page, and a `<` that
    opens no tag is text, so no page makes this slower than linear."""
    lower, kept, at = page.lower(), [], 0
    for opened in _HIDDEN_ELEMENT.finditer(lower):
        if opened.start() < at:
            continue  # inside an element already left out
        kept.append(lower[at : opened.start()])
        closed = lower.find(b"</" + opened.group(1), opened.end())
        at = len(lower) if closed < 0 else closed
    kept.append(lower[at:])
    return len(_TAG.sub(b"", b"".join(kept)))


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes: what tells a changed file from an unchanged one."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def load_file(
    path: Path,
    root: Path,
    doc_id: str,
    sha256: str,
    limits: ReadLimits = DEFAULT_READ_LIMITS,
    parsed: ParsedFile | None = None,
) -> Document:
    """Read one file within `limits` (unless `parsed` already holds what its reader read); raises
    UnreadableFile with a reason a person can act on."""
    parsed = parsed or parse_file(path, limits)
    return Document(
        doc_id=doc_id,
        source=path.relative_to(root).as_posix(),
        title=parsed.title or Path(plain_name(path)).stem,
        text=parsed.text,
        sha256=sha256,
        root=str(root),
        page_starts=parsed.page_starts,
        modified=path.stat().st_mtime,
        tags=parsed.tags,
        blocks=parsed.blocks,
        ocr_pages=parsed.ocr_pages,
    )


def parse_file(path: Path, limits: ReadLimits = DEFAULT_READ_LIMITS) -> ParsedFile:
    """What the reader for this file's type reads of it, within `limits`: in the bounded worker
    for the formats that need one. Raises UnreadableFile; an empty text counts as unreadable."""
    reader = reader_for(path)
    if reader is None:
        raise UnreadableFile(Skipped.unsupported(path).reason)
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise UnreadableFile(f"{size:,} bytes, over the limit of {limits.max_file_bytes:,}")
    inline = reader.linear and size < limits.max_inline_bytes and not compression(path)  # unpacked, it may be large
    if reader.isolated and not inline:
        from qa.ingest.isolation import read_isolated

        parsed = read_isolated(reader, path, limits)
    else:
        parsed = read_here(reader, path, limits)
    if not parsed.text.strip():
        raise UnreadableFile("no text in it")
    return parsed


def make_doc_id(relative: Path, taken: Container[str]) -> str:
    """A readable, URL-safe id from the path: the seeds keep their file stem as id."""
    stem = "__".join(relative.with_name(plain_name(relative)).with_suffix("").parts)
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("_")
    if not base.strip("."):  # "." and ".." are no ids: /documents/.. is not a document's URL
        base = "document"
    doc_id, counter = base, 2
    if doc_id in taken:
        doc_id = f"{base}_{relative.suffix.lstrip('.').lower()}"
    while doc_id in taken:
        doc_id, counter = f"{base}_{counter}", counter + 1
    return doc_id
