"""Markup sources that stand beside the pages built from them, read once: as the page.

Documentation is often shipped as both: Node.js's API folder holds `readline.md` beside
`readline.html`, and a Sphinx build keeps each page's source in `_sources/` for its "Show source"
link (`_sources/usage/check.rst.txt` for `usage/check.html`), byte for byte, so a project's own
`docs/intro.rst` indexed with its build `docs/_build/html/` is known by its bytes. Indexed as
they are, every answer came twice, once in markup. The page is the one read: it is what readers
read, its text has no markup, and a citation's link opens it at the quoted words. The source is
reported as skipped, naming its page, so nothing leaves the index unsaid; named on the command
line, it is read. A compressed source (`_sources/usage/check.rst.txt.gz`, as Debian ships some)
is known by the name inside it.
"""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

from qa.compressed import COMPRESSIONS, plain_name, type_suffix

# Formats a page is written in before it is built to HTML.
SOURCE_SUFFIXES = frozenset(
    {".md", ".markdown", ".rst", ".txt", ".text", ".adoc", ".asciidoc", ".xml", ".dbk", ".docbook"}
)
PAGE_SUFFIXES = (".html", ".htm")
SPHINX_SOURCES = "_sources"
SOURCE_OF = "the source of"


def built_pages(source: Path) -> list[Path]:
    """Where the page built from `source` would stand, if it is a page's source: `X.html` (or
    .htm) beside `X.md`, and for a file in a Sphinx build's `_sources` folder, the page at the same
    place outside it (`<docname>.html`, or `<docname>/index.html` as the dirhtml builder writes)."""
    if type_suffix(source) not in SOURCE_SUFFIXES:
        return []
    source = source.with_name(plain_name(source))
    pages = [source.with_suffix(suffix) for suffix in PAGE_SUFFIXES]
    parts = source.parts
    if SPHINX_SOURCES in parts[:-1]:
        at = len(parts) - 1 - parts[::-1].index(SPHINX_SOURCES)  # the innermost `_sources`
        build, below = Path(*parts[:at]), Path(*parts[at + 1 :])
        docname = below.name.removesuffix(".txt")  # Sphinx adds .txt to the source's own name
        stem = Path(docname).stem if Path(docname).suffix.lower() in SOURCE_SUFFIXES else docname
        place = build / below.parent
        pages += [place / f"{stem}.html", place / stem / "index.html"]
    return pages


def page_of(source: Path, is_read: Callable[[Path], bool]) -> Path | None:
    """The page `source` was built into, when it stands beside it and is read (`is_read`), or None."""
    return next((page for page in built_pages(source) if is_read(page)), None)


def built_from(files: Sequence[Path], is_read: Callable[[Path], bool]) -> dict[Path, Path]:
    """Each of `files` that is the source of a page read (`is_read`), with that page: by name
    (`page_of`), and by bytes: Sphinx copies each page's source into the build's `_sources/` as it
    is, so a file with the very bytes of such a copy (`docs/intro.rst`, indexed with the build in
    `docs/_build/html/` made from it) is that page's source too."""
    pages = {file: page for file in files if (page := page_of(file, is_read)) is not None}
    copies = [copy for copy in pages if SPHINX_SOURCES in copy.parts[:-1]]
    by_size: dict[int, list[Path]] = {}
    for copy in copies:
        by_size.setdefault(_size(copy), []).append(copy)
    digests: dict[Path, bytes | None] = {}
    for file in files:
        if file in pages or type_suffix(file) not in SOURCE_SUFFIXES:
            continue
        same_size = by_size.get(_size(file), [])
        copy = next((copy for copy in same_size if _same_bytes(copy, file, digests)), None)
        if copy is not None:
            pages[file] = pages[copy]
    return pages


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # gone since the scan listed it: nothing to match
        return -1


def _same_bytes(one: Path, other: Path, digests: dict[Path, bytes | None]) -> bool:
    digest = _digest(one, digests)
    return digest is not None and digest == _digest(other, digests)


def _digest(path: Path, digests: dict[Path, bytes | None]) -> bytes | None:
    if path not in digests:
        try:
            with path.open("rb") as file:
                digests[path] = hashlib.file_digest(file, "sha256").digest()
        except OSError:
            digests[path] = None
    return digests[path]


def sources_of(page: Path, below: Path) -> list[Path]:
    """The files (below the folder `below`) whose built page is `page`: what a page that has just
    appeared takes the place of."""
    if page.suffix.lower() not in PAGE_SUFFIXES:
        return []
    found = [page.with_suffix(suffix + packed) for suffix in SOURCE_SUFFIXES for packed in ("", *COMPRESSIONS)]
    for folder in (page.parent, *page.parent.parents):
        if not folder.is_relative_to(below):
            break
        mirror = folder / SPHINX_SOURCES / page.relative_to(folder)  # …/_sources/usage/check.html
        found += mirror.parent.glob(f"{glob.escape(mirror.stem)}.*")  # …/_sources/usage/check.rst.txt
        found += mirror.parent.parent.glob(f"{glob.escape(mirror.parent.name)}.*")  # dirhtml: check/index.html
    return [source for source in found if source.is_file() and page in built_pages(source)]
