"""Reading documents: files of several formats become normalised text with a title and pages.

Each loader uses a well-kept parser; a file it cannot read raises UnreadableFile with the reason,
which indexing reports as skipped and an upload as refused.
PDF and DOCX files are compressed, so a small file can expand without bound: they are read in a
separate process with a memory limit and a time limit (`ReadLimits`), killed when it runs over.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import UnreadableFile
from qa.text.normalize import normalize_text

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown", ".rst"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx"}


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


@dataclass
class ScanResult:
    """Files found under the given paths: their (root, path) pairs and what was passed over."""

    files: list[tuple[Path, Path]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


MIB = 1 << 20


@dataclass(frozen=True)
class ReadLimits:
    """What reading one file may cost; a file over any of them is skipped with the reason."""

    max_file_bytes: int = 256 * MIB  # the file as it is on disk
    max_unpacked_bytes: int = 256 * MIB  # a DOCX's zip members together; each PDF stream
    max_parts: int = 10_000  # PDF pages; DOCX zip members
    max_seconds: float = 120.0  # wall time to parse one PDF or DOCX
    max_memory_bytes: int = 2048 * MIB  # address space of the process that parses it


DEFAULT_READ_LIMITS = ReadLimits()
ISOLATED_SUFFIXES = frozenset({".pdf", ".docx"})


def scan_paths(paths: Iterable[Path], root: Path | None = None) -> ScanResult:
    """Supported files under folders (recursively) or given directly, hidden files left out;
    each named relative to `root` when given (and below it), else to the folder it was found by."""
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
        for file in candidates:
            relative = file.relative_to(base)
            if any(part.startswith(".") for part in relative.parts):
                continue
            if file.suffix.lower() in SUPPORTED_SUFFIXES:
                result.files.append((base, file))
            else:
                result.skipped.append(Skipped(str(file), f"unsupported type {file.suffix or '(none)'}"))
    return result


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_file(path: Path, root: Path, doc_id: str, sha256: str, limits: ReadLimits = DEFAULT_READ_LIMITS) -> Document:
    """Read one file within `limits`; raises UnreadableFile with a reason a person can act on."""
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise UnreadableFile(f"{size:,} bytes, over the limit of {limits.max_file_bytes:,}")
    if suffix in ISOLATED_SUFFIXES:
        text, title, page_starts, tags = _parse_in_worker(path, limits)
    else:
        text, title, page_starts, tags = parse_file(path, limits)
    if not text.strip():
        raise UnreadableFile("no text in it")
    return Document(
        doc_id=doc_id,
        source=path.relative_to(root).as_posix(),
        title=title or path.stem,
        text=text,
        sha256=sha256,
        root=str(root),
        page_starts=page_starts,
        modified=path.stat().st_mtime,
        tags=tags,
    )


def parse_file(path: Path, limits: ReadLimits = DEFAULT_READ_LIMITS) -> tuple[str, str, list[int] | None, tuple]:
    """(text, title, page starts, tags) of one file, in this process."""
    suffix = path.suffix.lower()
    tags: tuple[str, ...] = ()
    try:
        if suffix in MARKDOWN_SUFFIXES:
            text, title, page_starts, tags = _load_markdown(path)
        elif suffix in TEXT_SUFFIXES:
            text, title, page_starts = _load_text(path)
        elif suffix in HTML_SUFFIXES:
            text, title, page_starts = _load_html(path)
        elif suffix == ".pdf":
            text, title, page_starts = _load_pdf(path, limits)
        elif suffix == ".docx":
            text, title, page_starts = _load_docx(path, limits)
        else:
            raise UnreadableFile(f"unsupported type {suffix}")
    except UnreadableFile:
        raise
    except MemoryError:
        raise UnreadableFile(f"it needs more than {limits.max_memory_bytes // MIB} MiB to read") from None
    except Exception as error:  # parsers raise many kinds; any of them means "cannot read"
        raise UnreadableFile(f"cannot parse {suffix} file: {error}") from error
    return text, title, page_starts, tags


def _parse_in_worker(path: Path, limits: ReadLimits) -> tuple[str, str, list[int] | None, tuple]:
    """`parse_file` in a child process under a memory limit, killed after `max_seconds`: a
    decompression bomb or a runaway parse costs that process, never the caller."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["qa.ingest.documents", "pypdf", "docx"])  # each worker forks with them loaded
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_worker, args=(sender, str(path), limits), daemon=True)
    worker.start()
    sender.close()
    try:
        if not receiver.poll(limits.max_seconds):
            raise UnreadableFile(f"reading it took longer than {limits.max_seconds:g} s")
        try:
            ok, value = receiver.recv()
        except EOFError:
            raise UnreadableFile(
                f"the reader stopped (over {limits.max_memory_bytes // MIB} MiB of memory, or crashed)"
            ) from None
    finally:
        receiver.close()
        if worker.is_alive():
            worker.kill()
        worker.join()
    if not ok:
        raise UnreadableFile(value)
    return value


def _worker(sender, path: str, limits: ReadLimits) -> None:
    """Runs in the child: limit the address space, parse, send (True, result) or (False, reason)."""
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_AS, (limits.max_memory_bytes, limits.max_memory_bytes))
    except (ValueError, OSError):  # a lower hard limit already applies
        pass
    over = f"it needs more than {limits.max_memory_bytes // MIB} MiB to read"
    try:
        sender.send((True, parse_file(Path(path), limits)))
    except UnreadableFile as error:
        # Parsers report a failed allocation in their own words (lxml: "unknown error"); a peak
        # near the limit says what really happened.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        sender.send((False, over if peak > limits.max_memory_bytes // 2 else str(error)))
    except MemoryError:
        sender.send((False, over))
    finally:
        sender.close()


def decode_bytes(data: bytes) -> str:
    """UTF-8 when it is, else the encoding charset-normalizer finds; binary data is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UnreadableFile("binary file or unknown encoding")
    return str(best)


_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$")


def _load_text(path: Path) -> tuple[str, str, None]:
    text = normalize_text(decode_bytes(path.read_bytes()))
    return text, title_from_lines(text.split("\n")), None


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


def _load_markdown(path: Path) -> tuple[str, str, None, tuple[str, ...]]:
    """Markdown, with its YAML front matter (if any) read for `title:` and `tags:` and left out
    of the text, so it is neither searched nor quoted."""
    raw = decode_bytes(path.read_bytes()).replace("\r\n", "\n")
    meta, body = split_front_matter(raw)
    text = normalize_text(body)
    title = meta.get("title") if isinstance(meta.get("title"), str) else ""
    return text, normalize_text(title) or title_from_lines(text.split("\n")), None, front_matter_tags(meta)


def split_front_matter(text: str) -> tuple[dict, str]:
    """(front matter as a dict, the rest); ({}, text) when there is none or it is not YAML."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    import yaml

    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}, text
    return (meta, text[match.end() :]) if isinstance(meta, dict) else ({}, text)


def front_matter_tags(meta: dict) -> tuple[str, ...]:
    """`tags:` as a YAML list or a comma-separated string; each tag stripped, duplicates dropped."""
    value = meta.get("tags")
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return ()
    tags = [normalize_text(str(tag)) for tag in value if tag is not None and not isinstance(tag, dict | list)]
    return tuple(dict.fromkeys(tag for tag in tags if tag))


def title_from_lines(lines: Iterable[str], look_at: int = 12) -> str:
    """The first line that reads like a heading (a markdown heading counts first), or ''."""
    lines = [line.strip() for line in lines if line.strip()][:look_at]
    for line in lines:
        heading = _MARKDOWN_HEADING.match(line)
        if heading:
            return heading.group(1)
    for line in lines:
        if _looks_like_heading(line):
            return line
    return ""


def _looks_like_heading(line: str) -> bool:
    """Three to twenty words, no sentence-ending period, no navigation separators."""
    words = line.split()
    if not 3 <= len(words) <= 20 or len(line) > 150:
        return False
    if line.endswith((".", ",", ";")) or "|" in line or ":" in line.split()[1:2]:
        return False
    return not line.lower().startswith(("skip to", "by "))


_BLOCK_TAGS = (
    "p div section article main header footer aside nav h1 h2 h3 h4 h5 h6 li ul ol dl dt dd "
    "blockquote pre table tr td th caption figure figcaption br hr address details summary"
).split()
_DROP_TAGS = "script style noscript template svg canvas iframe object embed head form button".split()


def _load_html(path: Path) -> tuple[str, str, None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_bytes(path.read_bytes()), "lxml")
    title_tag = soup.find("title")
    title = normalize_text(title_tag.get_text(" ")) if title_tag else ""
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    body = soup.find("main") or soup.find("article") or soup.body or soup
    for tag in body.find_all(["nav", "footer", "aside"]):
        tag.decompose()
    for tag in body.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = normalize_text(body.get_text(""))
    if not title:
        heading = body.find(["h1", "h2"])
        title = normalize_text(heading.get_text(" ")) if heading else title_from_lines(text.split("\n"))
    return text, title, None


def _load_pdf(path: Path, limits: ReadLimits = DEFAULT_READ_LIMITS) -> tuple[str, str, list[int]]:
    from pypdf import PdfReader

    with _pdf_limits(limits):
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFile("encrypted PDF")
        if len(reader.pages) > limits.max_parts:
            raise UnreadableFile(f"{len(reader.pages):,} pages, over the limit of {limits.max_parts:,}")
        return _pdf_text(reader)


def _pdf_limits(limits: ReadLimits):
    """pypdf's own limits (pypdf ≥ 6) set from ours, so it stops before the memory limit would."""
    from contextlib import nullcontext

    try:
        from pypdf import apply_configuration
    except ImportError:
        return nullcontext()
    unpacked = limits.max_unpacked_bytes
    return apply_configuration(
        page_tree_maximum_entries=limits.max_parts * 2,
        zlib_maximum_output_length=unpacked,
        lzw_maximum_output_length=unpacked,
        run_length_maximum_output_length=unpacked,
        maximum_declared_stream_length=unpacked,
    )


def _pdf_text(reader) -> tuple[str, str, list[int]]:
    pages: list[str] = []
    for page in reader.pages:
        raw = page.extract_text() or ""
        # A PDF line break is layout, not structure: keep blank lines, join wrapped lines.
        paragraphs = re.split(r"\n\s*\n", raw)
        pages.append(normalize_text("\n\n".join(" ".join(p.split("\n")) for p in paragraphs)))
    text, page_starts = join_pages(pages)
    title = ""
    if reader.metadata and reader.metadata.title:
        title = normalize_text(str(reader.metadata.title))
    return text, title or title_from_lines(text.split("\n")), page_starts


def join_pages(pages: list[str]) -> tuple[str, list[int]]:
    """One text from page texts (a blank line between them) and where each page starts."""
    starts, parts, offset = [], [], 0
    for page in pages:
        starts.append(offset)
        parts.append(page)
        offset += len(page) + 2
    return "\n\n".join(parts), starts


def _load_docx(path: Path, limits: ReadLimits = DEFAULT_READ_LIMITS) -> tuple[str, str, None]:
    import docx

    check_zip(path, limits)
    document = docx.Document(str(path))
    lines: list[str] = []
    heading = ""
    for paragraph in document.paragraphs:
        lines.append(paragraph.text)
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if not heading and paragraph.text.strip() and style.startswith(("Title", "Heading")):
            heading = paragraph.text
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    text = normalize_text("\n\n".join(lines))
    title = document.core_properties.title or heading or title_from_lines(text.split("\n"))
    return text, normalize_text(title), None


def check_zip(path: Path, limits: ReadLimits) -> None:
    """Refuse a zip (a DOCX) that would unpack past the limits, before any member is inflated."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > limits.max_parts:
            raise UnreadableFile(f"{len(members):,} parts in the zip, over the limit of {limits.max_parts:,}")
        unpacked = sum(member.file_size for member in members)
        if unpacked > limits.max_unpacked_bytes:
            raise UnreadableFile(
                f"it unpacks to {unpacked:,} bytes, over the limit of {limits.max_unpacked_bytes:,} (a zip bomb?)"
            )


def make_doc_id(relative: Path, taken: Container[str]) -> str:
    """A readable, URL-safe id from the path: the seeds keep their file stem as id."""
    stem = "__".join(relative.with_suffix("").parts)
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("_") or "document"
    doc_id, counter = base, 2
    if doc_id in taken:
        doc_id = f"{base}_{relative.suffix.lstrip('.').lower()}"
    while doc_id in taken:
        doc_id, counter = f"{base}_{counter}", counter + 1
    return doc_id
