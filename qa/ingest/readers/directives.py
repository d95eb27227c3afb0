"""Sphinx's directives, as the reST reader (`.. note::`) and the Markdown reader's MyST fences
(```` ```{note} ````) both meet them: what each holds decides how its body is read.

A directive's body is read as blocks of its own format when it holds the page's words (a note, a
tab of a tab set, a dropdown, an option's description), left out when it holds no words a reader
sees as such (a table of contents, an image, an include), and kept as written, as code, otherwise.
Leaving out a tab's body lost pip's examples ("pip freeze › Examples" was two item lines without
the commands they name); reading a MyST note as code made its sentences code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

from qa.ingest.blocks import BlockText

DirectiveKind = Literal["code", "words", "titled", "container", "described", "rst"]

# Bodies of words whose argument, when there is one, is words of the body too (".. note:: Read
# this."), or the words themselves (".. rubric:: Footnotes").
WORDS = frozenset(
    {
        "note",
        "warning",
        "tip",
        "hint",
        "important",
        "caution",
        "danger",
        "attention",
        "error",
        "seealso",
        "rubric",
        "centered",
        "epigraph",
        "pull-quote",
        "highlights",
        "glossary",
    }
)
# Bodies of words whose argument is a title or a caption, shown only with a body below it (a tab's
# label over a body that was generated at build time is no answer to anything).
TITLED = frozenset(
    {
        "admonition",
        "topic",
        "sidebar",
        "dropdown",
        "card",
        "grid-item-card",
        "tab",
        "tab-item",
        "group-tab",
        "table",
        "list-table",
    }
)
# Bodies of words whose argument is not (a version, class names, a condition, an image's path).
CONTAINER = frozenset(
    {
        "versionadded",
        "versionchanged",
        "deprecated",
        "versionremoved",
        "container",
        "div",
        "compound",
        "class",
        "rst-class",
        "only",
        "ifconfig",
        "tabs",
        "tab-set",
        "grid",
        "grid-item",
        "figure",
        "hlist",
    }
)
# Object descriptions (`.. option:: --user`, `.. py:function:: join(*parts)`, any `domain:name`):
# the argument is the thing described, a term, and the body what it is.
DESCRIBED = frozenset(
    {
        "function",
        "class",
        "method",
        "staticmethod",
        "classmethod",
        "attribute",
        "property",
        "data",
        "exception",
        "decorator",
        "module",
        "option",
        "cmdoption",
        "envvar",
        "describe",
        "object",
        "confval",
    }
)
# Bodies that hold no words a reader sees as such: a table of contents, an image, an included
# file, an index entry, raw HTML, a list of API names to generate pages for.
NOTHING = frozenset(
    {
        "toctree",
        "image",
        "include",
        "literalinclude",
        "contents",
        "index",
        "raw",
        "meta",
        "highlight",
        "default-role",
        "role",
        "sectnum",
        "autosummary",
        "tabularcolumns",
        "currentmodule",
        "program",
    }
)
# Any other directive (a project's own, `.. pip-command-usage::`, ```` ```{pip-cli} ````, or math, a
# CSV table, a diagram's source) is kept as it is written, as code: its words are not lost.

_OPTION = re.compile(r"^\s*:[\w-]+:")

# Directives inside directives are read this deep; deeper bodies are read as plain paragraphs, so a
# hostile file of nested directives costs at most this many passes over each line.
MAX_DEPTH = 8


def kind_of(name: str) -> DirectiveKind | None:
    """How a directive's body is read: as blocks, after its argument as a paragraph when that is
    `words`, or a `titled` body's title; a `container`'s argument left out, a `described` object's
    kept as a term; MyST's `eval-rst` as reStructuredText; a directive of `NOTHING` not at all; any
    other as code, as written."""
    name = name.lower()
    for kind, names in (("words", WORDS), ("titled", TITLED), ("container", CONTAINER), ("described", DESCRIBED)):
        if name in names:
            return kind  # type: ignore[return-value]
    if name in NOTHING:
        return None
    if name == "eval-rst":
        return "rst"
    if ":" in name:  # a domain's object: py:function, c:macro, rst:directive
        return "described"
    return "code"


def without_options(body: list[str]) -> list[str]:
    """A directive's body without its options: `:linenos:`, `:class: tip` lines at its top (or, in
    MyST, a YAML block between `---` lines there), and the blank lines after them."""
    index = 0
    if body and body[0].strip() == "---":
        index = next((at + 1 for at in range(1, len(body)) if body[at].strip() == "---"), 0)
    while index < len(body) and _OPTION.match(body[index]):
        index += 1
    while index < len(body) and not body[index].strip():
        index += 1
    return body[index:]


def add_directive(
    out: BlockText,
    name: str,
    argument: str,
    body: list[str],
    depth: int,
    read: Callable[[str, int], BlockText],
    inline: Callable[[str], str],
    read_rst: Callable[[str, int], BlockText] | None = None,
) -> None:
    """A directive as it reads rendered, by `kind_of`: its body read as blocks of its own format in
    its place (`read(text, depth)`: the reST or the Markdown reader; MyST's `eval-rst` by
    `read_rst`), after its argument where that is words (rendered by `inline`); deeper than
    `MAX_DEPTH`, its body as paragraphs; a directive that holds no words, left out; any other, as
    written."""
    kind = kind_of(name)
    if kind is None:
        return
    content = "\n".join(without_options(body))
    if kind == "code":
        out.add("code", content)
        return
    if kind == "rst" and read_rst is not None:
        out.extend(read_rst(content, depth + 1))
        return
    if depth < MAX_DEPTH:
        inside = read(content, depth + 1)
    else:
        inside = BlockText()
        for paragraph in re.split(r"\n\s*\n", content):
            inside.add("paragraph", inline(paragraph))
    if argument and kind == "described":
        out.add("term", inline(argument))
    elif argument and (kind == "words" or kind == "titled" and inside.blocks):
        out.add("paragraph", inline(argument))
    out.extend(inside)
