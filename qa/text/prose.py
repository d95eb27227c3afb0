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


# The marks a list item starts with, where the text keeps them (a PDF, a text file).
BULLETS = "•◦▪▫‣∙●○■□"
# Dots that lead the eye to a page number: a table of contents or a book's index ("Naming . . . . 3").
_LEADER = re.compile(r"(?:\. ?){5}")


def is_prose_line(line: str) -> bool:
    """Ten words or more, or four and more ending like a sentence: the rest is page furniture
    (menus, link lists, index entries, headings), as is a line of entries with dot leaders (a
    PDF's table of contents, its dots counted as words)."""
    words = len(line.split())
    return (words >= 10 or (words >= 4 and bool(_LINE_ENDS.search(line)))) and not _LEADER.search(line)


def is_furniture_line(line: str) -> bool:
    return not is_prose_line(line)


def is_prose_sentence(sentence: str) -> bool:
    """Four words or more, on one line, starting like a sentence and ending like one, and not
    mostly symbols (code)."""
    text = sentence.strip()
    words = text.split()
    if len(words) < MIN_WORDS or "\n" in text or not ends_like_a_sentence(text) or _LEADER.search(text):
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


def is_pointer(sentence: str) -> bool:
    """Does it only send the reader elsewhere ("See Shell requirements and Default Windows shell.",
    "For details, see the FAQ.")? A manual's cross-reference names what the question asks about,
    yet says nothing of it."""
    return len(sentence.split()) <= POINTER_WORDS and bool(_POINTER.match(sentence.strip()))


POINTER_WORDS = 20
_POINTER = re.compile(
    r"(?:for (?:more|further|full|other)?\s*(?:information|details|examples|an example|a description)\b[^,.]*,\s*)?"
    r"(?:please\s+)?(?:see|refer to|consult)\b(?!\s+(?:how|that|what|whether|why|if|when|where)\b)",
    re.IGNORECASE,
)


def ends_like_a_sentence(text: str) -> bool:
    """`.`, `!` or `?` last, closing quotes or brackets allowed: a sentence's end, not a heading's,
    a term's or a signature's."""
    return bool(_ENDS.search(text.rstrip()))


def mostly_words(text: str) -> bool:
    """At most `SYMBOL_SHARE` of the characters are code symbols (braces, operators, `$`, `#` …)."""
    return len(_SYMBOLS.findall(text)) <= len(text) * SYMBOL_SHARE
