"""Markdown (.md, .markdown), with its YAML front matter read for `title:` and `tags:` and left out
of the text, so it is neither searched nor quoted. The text is read as blocks (headings, list
items, quotes, table rows, fenced code, paragraphs); a paragraph's wrapped lines are joined by
spaces, and the Markdown marks (`#`, `-`, `>`, `|`) stay in the text as they are in the file.
MyST, the Markdown of Sphinx projects, reads as rendered: a directive's fence (```` ```{note} ````,
`:::{tab-item} Linux`) by what it holds (`qa.ingest.readers.directives`: a note's body as blocks, a
toctree not at all), and a role as its words ("{ref}`the cache <pip cache>`" reads "the cache").

Linear in the file, as text is, once the front matter is bounded: YAML is read with aliases refused
(a "billion laughs" block of 433 bytes stood for 425 MB) and only from a block of at most
`MAX_FRONT_MATTER_CHARS` (pure-Python YAML costs up to ~30 µs a character). So a small Markdown file
is read in the caller's process, a large one in the bounded worker.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from qa.errors import UnreadableFile
from qa.ingest.blocks import BlockKind, BlockText
from qa.ingest.readers.common import decode_bytes, title_from_lines
from qa.ingest.readers.directives import add_directive, kind_of
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.ingest.readers.rst import rst_body_blocks
from qa.text.normalize import normalize_text

# Hand-written rather than python-frontmatter: we need two keys from one YAML block, and reading it
# here lets us use a loader that refuses aliases (python-frontmatter would add a dependency and
# still hand the block to yaml with aliases on).
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
MAX_FRONT_MATTER_CHARS = 16_384  # a longer block is not read as front matter: it stays in the text
MAX_TAGS = 64
MAX_TAG_CHARS = 200


def read_markdown(path: Path, limits=None) -> ParsedFile:
    raw = decode_bytes(path.read_bytes()).replace("\r\n", "\n")
    meta, body = split_front_matter(raw)
    built = markdown_blocks(body)
    text = built.text
    title = meta.get("title") if isinstance(meta.get("title"), str) else ""
    tags = front_matter_tags(meta)
    if len(tags) > MAX_TAGS:
        raise UnreadableFile(f"{len(tags)} tags in its front matter, over the limit of {MAX_TAGS}")
    if too_long := [tag for tag in tags if len(tag) > MAX_TAG_CHARS]:
        raise UnreadableFile(
            f"a tag of {len(too_long[0]):,} characters in its front matter, over the limit of {MAX_TAG_CHARS}"
        )
    title = normalize_text(title) or title_from_lines(text.split("\n"))
    return ParsedFile(text, title, None, tags, tuple(built.blocks))


_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+|$)")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_DIRECTIVE = re.compile(r"^ {0,3}(`{3,}|~{3,}|:{3,})\{([\w:.+-]+)\}[ \t]*(.*)$")  # MyST: ```{note} Read this.
_TARGET = re.compile(r"^ {0,3}\([^()\s]+\)=[ \t]*$")  # MyST: (wheel-caching)= names the heading below
# MyST: {ref}`text <target>`; bounded, so that roles left open do not each scan to the paragraph's end.
_ROLE = re.compile(r"\{[\w:.+-]{1,40}\}`[~!]?([^`<]{0,300}?)\s*(?:<[^`>]{0,300}>)?`")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
_QUOTE = re.compile(r"^ {0,3}>")
_ROW = re.compile(r"^\s*\|")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_RULE = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")


def markdown_blocks(body: str, depth: int = 0) -> BlockText:
    """The blocks of a Markdown text, by its lines (CommonMark's common cases, not every corner);
    `depth`: how many MyST directives this text is inside."""
    out = BlockText()
    lines = body.split("\n")
    current: list[str] = []
    kind: BlockKind = "paragraph"

    def flush() -> None:
        nonlocal current
        if current:
            out.add(kind, _inline(" ".join(current)))
        current = []

    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        directive = _DIRECTIVE.match(line)
        fence = directive or _FENCE.match(line)
        if fence:
            flush()
            code = [line]
            while index < len(lines):
                code.append(lines[index])
                index += 1
                if lines[index - 1].strip().startswith(fence.group(1)):
                    break
            if directive and kind_of(directive.group(2)) != "code":
                closed = len(code) > 1 and code[-1].strip().startswith(fence.group(1))
                body = code[1 : -1 if closed else None]
                add_directive(
                    out,
                    directive.group(2),
                    directive.group(3).strip(),
                    body,
                    depth,
                    markdown_blocks,
                    _inline,
                    rst_body_blocks,
                )
            else:
                out.add("code", "\n".join(code))
        elif (
            not line.strip()
            or _TARGET.match(line)
            or _RULE.match(line)
            and not (current and line.strip().startswith("-"))
        ):
            flush()
        elif heading := _ATX.match(line):
            flush()
            out.add("heading", _inline(line), len(heading.group(1)))
        elif current and kind == "paragraph" and _SETEXT.match(line):
            text = " ".join(current)
            current = []
            out.add("heading", text, 1 if line.strip().startswith("=") else 2)  # the underline is markup
        elif _ITEM.match(line) or _QUOTE.match(line) or _ROW.match(line):
            flush()
            kind = "item" if _ITEM.match(line) else "quote" if _QUOTE.match(line) else "row"
            if kind == "row" and index < len(lines) and _TABLE_RULE.match(lines[index]):
                kind = "table_head"
            current = [line]
        elif current and kind in ("item", "quote") and line.startswith((" ", "\t")) or current and kind == "quote":
            current.append(line)  # a wrapped list item or quote goes on
        else:
            if current and kind != "paragraph":
                flush()
            kind = "paragraph" if not current else kind
            current.append(line)
    flush()
    return out


def _inline(text: str) -> str:
    """A directive's argument or a paragraph: MyST's roles as their words."""
    return _ROLE.sub(r"\1", text)


def split_front_matter(text: str) -> tuple[dict, str]:
    """(front matter as a dict, the rest); ({}, text) when there is none, it is not YAML, it uses
    YAML aliases, it nests too deep or it is over `MAX_FRONT_MATTER_CHARS`."""
    match = _FRONT_MATTER.match(text)
    if not match or len(match.group(1)) > MAX_FRONT_MATTER_CHARS:
        return {}, text
    import yaml

    try:
        meta = yaml.load(match.group(1), Loader=_loader())  # noqa: S506 - a SafeLoader without aliases
    except (yaml.YAMLError, RecursionError):  # yaml composes nested collections recursively
        return {}, text
    return (meta, text[match.end() :]) if isinstance(meta, dict) else ({}, text)


@cache
def _loader():
    """yaml's SafeLoader refusing aliases: nested aliases (a "billion laughs") make a small block
    stand for an exponentially large value, and a title and tags never need them."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise yaml.composer.ComposerError(None, None, "aliases are not read in front matter")
            return super().compose_node(parent, index)

    return NoAliasLoader


def front_matter_tags(meta: dict) -> tuple[str, ...]:
    """`tags:` as a YAML list or a comma-separated string; each tag stripped, duplicates dropped."""
    value = meta.get("tags")
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return ()
    tags = [normalize_text(str(tag)) for tag in value if tag is not None and not isinstance(tag, dict | list)]
    return tuple(dict.fromkeys(tag for tag in tags if tag))


register(
    Reader(
        "markdown",
        frozenset({".md", ".markdown"}),
        read_markdown,
        isolated=True,
        linear=True,
        preload=("yaml", "charset_normalizer"),
    )
)
