"""Sentence splitting: where each sentence of a normalised text starts and ends.

Linear in the text: each candidate end looks at the word before it and the character after it
through positions, never by slicing the rest of the line (a 1 MB line is split in about the time
its paragraphs are).
"""

from __future__ import annotations

import re

# Words whose trailing period does not end a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt col gen lt sgt capt cmdr adm maj gov sen rep rev hon pres
    no nos vs etc al fig figs eq eqs ref refs vol pp ed eds inc ltd co corp dept univ approx est
    jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e eg ie cf viz u.s u.k u.n a.m p.m ca ps""".split()
)
# A run of end marks, then closing quotes or brackets, before a space. The lookbehind and the
# possessive runs keep a long run of marks from being retried at each of its characters; a match
# can only start where a run starts, as before.
_CANDIDATE_END = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’)\]]*+(?=\s)")
_INITIALS = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")  # "J.I", "U.S.A": the last period is the match's
_WORD = re.compile(r"\S+")
_NOT_SPACE = re.compile(r"\S")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; a line break always ends one. Spans are whitespace-trimmed."""
    spans: list[tuple[int, int]] = []
    line_start = 0
    for line in text.split("\n"):
        start = 0
        words = _Words(line)
        for match in _CANDIDATE_END.finditer(line):
            if _ends_sentence(line, match, words):
                _append_trimmed(spans, line, line_start, start, match.end())
                start = match.end()
        _append_trimmed(spans, line, line_start, start, len(line))
        line_start += len(line) + 1
    return spans


class _Words:
    """The word before a position of a line, for positions asked in increasing order: the line's
    words are walked once, however many positions are asked."""

    def __init__(self, line: str) -> None:
        self._line = line
        self._words = _WORD.finditer(line)
        self._last: re.Match | None = None  # the last word starting before the position asked
        self._next: re.Match | None = next(self._words, None)

    def before(self, position: int) -> str:
        """What `line[:position].rsplit(None, 1)[-1]` is ('' when only spaces come before)."""
        while self._next is not None and self._next.start() < position:
            self._last, self._next = self._next, next(self._words, None)
        if self._last is None:
            return ""
        return self._line[self._last.start() : min(self._last.end(), position)]


def _ends_sentence(line: str, match: re.Match, words: _Words) -> bool:
    following = _NOT_SPACE.search(line, match.end())
    if following is None:
        return True
    if match.group().startswith(("!", "?", "…")):
        return True
    word = words.before(match.start())
    word = word.lstrip("(\"'“‘[").lower().rsplit("-", 1)[-1]  # "Trinity-St." ends in "st"
    if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or _INITIALS.fullmatch(word):
        return False
    return not following.group().islower()


def _append_trimmed(spans: list, line: str, offset: int, start: int, end: int) -> None:
    piece = line[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        spans.append((offset + start + lead, offset + start + lead + len(stripped)))
