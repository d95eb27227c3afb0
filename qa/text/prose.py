"""Is this sentence prose? What a highlight should be (issue 18): a whole sentence of words,
not a code line, a heading, a prompt or a fragment.
"""

from __future__ import annotations

import re

MIN_WORDS = 4
_ENDS = re.compile(r"[.!?][\"'”’)\]]*$")
# Prompts, preprocessor lines and comments: a line that starts so is code, however it ends.
PROMPTS = ("sqlite>", "$ ", ">>>", "...>", "#include", "#define", "C:\\", "% ", "# ", "// ", "-- ")
_CODE_ENDS = (";", "{", "}", "(", ",", "\\")
_SYMBOLS = re.compile(r"[{}()\[\];=<>|&*/\\$#@^~`]")
_LINE_ENDS = re.compile(r"[.!?:…][\"'”’)\]]*$")
# Prose has few of `_SYMBOLS`; code has many.
SYMBOL_SHARE = 0.08


def is_prose_line(line: str) -> bool:
    """Ten words or more, or four and more ending like a sentence: the rest is page furniture
    (menus, link lists, index entries, headings)."""
    words = len(line.split())
    return words >= 10 or (words >= 4 and bool(_LINE_ENDS.search(line)))


def is_furniture_line(line: str) -> bool:
    return not is_prose_line(line)


def is_prose_sentence(sentence: str) -> bool:
    """Four words or more, on one line, starting like a sentence and ending like one, and not
    mostly symbols (code)."""
    text = sentence.strip()
    words = text.split()
    if len(words) < MIN_WORDS or "\n" in text or not ends_like_a_sentence(text):
        return False
    if text.startswith(PROMPTS) or text.rstrip(".").endswith(_CODE_ENDS):
        return False
    first = words[0].lstrip("\"'“‘([")
    if first[:1].islower() and not any(c in first for c in "_(.0123456789"):
        return False  # a fragment: it starts in the middle of a sentence
    if first.startswith(("...", "…")) and first.lstrip(".…")[:1].islower():
        return False  # "...increasingly, according to": a quotation taken up mid-sentence
    return mostly_words(text)


def is_introduction(block: str) -> bool:
    """A paragraph of one line that ends with a colon and is otherwise a whole prose sentence:
    "Install it with pip:" says in words what the code after it does. (A line ending with a colon
    inside a block of code, such as a program's prompt, is not one.)"""
    line = block.strip()
    return "\n" not in line and line.endswith(":") and is_prose_sentence(line[:-1] + ".")


def is_question(sentence: str) -> bool:
    """Does it end with a question mark (closing quotes or brackets allowed)? A FAQ's question
    matches a user's question best of all its sentences, yet answers nothing."""
    return bool(_QUESTION_ENDS.search(sentence.rstrip()))


_QUESTION_ENDS = re.compile(r"\?[\"'”’)\]]*$")


def ends_like_a_sentence(text: str) -> bool:
    """`.`, `!` or `?` last, closing quotes or brackets allowed: a sentence's end, not a heading's,
    a term's or a signature's."""
    return bool(_ENDS.search(text.rstrip()))


def mostly_words(text: str) -> bool:
    """At most `SYMBOL_SHARE` of the characters are code symbols (braces, operators, `$`, `#` …)."""
    return len(_SYMBOLS.findall(text)) <= len(text) * SYMBOL_SHARE
