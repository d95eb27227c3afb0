"""Text normalisation: every offset we store refers to normalised text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from qa.text.prose import PROMPTS, mostly_words

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DIGITS = re.compile(r"\d+")
_BLANK_RUNS = re.compile(r"\n{3,}")
# A line that starts so is an item, a quote, a table row, markup or an underline, never the rest
# of the sentence above it.
_ITEM = re.compile(r"(?:[-*+•>|#=~`_]|\d+[.)]\s|[A-Za-z][.)]\s)")
# Code, whatever its words: a prompt or comment at a line's start, an operator, a call with
# arguments ("init(pFile, …", not "Contribution(s)" or "open()"), a brace or a continuation at a
# line's end, a comment after a command.
_CODE_STARTS = (*PROMPTS, "--", "//", "/*", "*/", "#")
_CODE = re.compile(r"==|!=|<>|<=|>=|->|::|~=|\s#\s|[A-Za-z_]\w*\((?![a-z]?\))|[{}\\]$|^[)}\]]")
# Within lines kept as typed: columns aligned by spaces (not the two spaces after a sentence), a
# shell prompt, and the punctuation prose has somewhere.
_ALIGNED = re.compile(r"[^\s.!?:;,]\s{2,}\S")
_PROMPT = re.compile(r"[\w.@~:/-]+[>$%#]\s")
_PUNCTUATED = re.compile(r"[.!?,;:](?:\s|$)")
# A paragraph is hard-wrapped when each of its lines but the last fills most of the longest.
WRAP_FILL = 0.55
WRAP_MIN_WIDTH = 40
WRAP_MIN_WORDS = 5


def normalize_text(text: str) -> str:
    """NFKC, one space for any run of spaces, one blank line at most between paragraphs.

    Line breaks are kept because they carry paragraph structure that splitting respects.
    """
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text.replace("\t", " "))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def unwrap_paragraphs(text: str) -> str:
    """Plain text as written at a fixed width ("… must be approved by the\\nhead of the
    department"), each hard-wrapped paragraph back on one line, as the other readers give theirs.
    Else every line break would end a sentence, and highlights and sentence scores would read
    halves of sentences. Only the line breaks within such a paragraph become spaces: lists,
    code, tables, underlined headings and short lines stay as they are."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(_one_line(run) if wrapped else "\n".join(run) for run, wrapped in _line_runs(text))


def wrapped_paragraphs(text: str) -> Iterator[tuple[str, bool]]:
    """The paragraphs of text whose lines were kept as typed (an HTML `pre`), each with whether it
    is a hard-wrapped prose paragraph, given then on one line; any other paragraph as it is. Lines
    kept so are code unless plainly prose, so the bar is higher than in a plain text file: a
    paragraph laid out as code or output (`_laid_out_as_code`) stays as it is."""
    for run, wrapped in _line_runs(text):
        if run[0].strip():
            prose = wrapped and not _laid_out_as_code(run)
            yield (_one_line(run) if prose else "\n".join(run)), prose


def _line_runs(text: str) -> Iterator[tuple[list[str], bool]]:
    """The lines of `text` in order, in runs: each paragraph (lines between blank lines) with
    whether it is hard-wrapped, and each blank line on its own."""
    paragraph: list[str] = []
    for line in text.split("\n"):
        if line.strip():
            paragraph.append(line)
            continue
        if paragraph:
            yield paragraph, len(paragraph) > 1 and _hard_wrapped(paragraph)
            paragraph = []
        yield [line], False
    if paragraph:
        yield paragraph, len(paragraph) > 1 and _hard_wrapped(paragraph)


def _one_line(lines: list[str]) -> str:
    return " ".join([lines[0].rstrip(), *(line.strip() for line in lines[1:])])


def _hard_wrapped(lines: list[str]) -> bool:
    widest = max(len(line.strip()) for line in lines)
    if widest < WRAP_MIN_WIDTH:
        return False
    if any(_ITEM.match(line.lstrip()) for line in lines[1:]):
        return False  # a list, a quotation, a table or markup (one item may wrap: "a) The work must …")
    if len({indentation(line) for line in lines[1:]}) > 1:
        return False  # wrapped prose continues at one indentation (the first line may differ); code does not
    for line in lines[:-1]:
        if len(line.strip()) < widest * WRAP_FILL or len(line.split()) < WRAP_MIN_WORDS:
            return False  # a ragged edge: lines kept short on purpose (verse, an address, a menu)
    if not any(line.lstrip()[:1].islower() for line in lines[1:]):
        return False  # every line starts anew (a table's rows, a list without marks): a sentence goes on in lower case
    if _looks_like_code([line.strip() for line in lines]):
        return False
    return mostly_words(" ".join(lines))


def _looks_like_code(lines: list[str]) -> bool:
    """SQL, shell or C that happens to be wordy: its line breaks are its own."""
    if any(line.startswith(_CODE_STARTS) or _CODE.search(line) for line in lines):
        return True
    if sum(line.endswith(";") for line in lines) >= 2:
        return True  # statements; prose ends a line with ";" now and then, not line after line
    return _one_form(lines)


def _one_form(lines: list[str]) -> bool:
    """Every line starts with the same word, digits aside: one command line after another, or
    log entries ("stash@{0}: WIP …", "stash@{1}: On master …"). A closing "..." does not count."""
    worded = [line for line in lines if any(c.isalpha() for c in line)]
    return len({digits_aside(line.split()[0]) for line in worded}) == 1


def _laid_out_as_code(lines: list[str]) -> bool:
    """Output, a listing or a grammar that passes for wrapped prose (`_hard_wrapped` has already
    ruled out code and lines of one form): columns aligned by runs of spaces ("in-place edit
    :100644 100644 bcd1234"), a prompt ("user@host:~/src$ make"), a shell's `||` or `&&`, or no
    sentence's punctuation anywhere."""
    lines = [line.strip() for line in lines]
    if any(_ALIGNED.search(line) or _PROMPT.match(line) or "||" in line or "&&" in line for line in lines):
        return True
    return not _PUNCTUATED.search(" ".join(lines))


def indentation(line: str) -> int:
    """How many blank characters a line starts with."""
    return len(line) - len(line.lstrip())


def digits_aside(text: str) -> str:
    """`text` as lines repeated from page to page are compared: spacing collapsed, every run of
    digits `#` (a date, a page number, a version change from page to page)."""
    return _DIGITS.sub("#", " ".join(text.split()))
