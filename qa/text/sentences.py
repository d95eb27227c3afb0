"""Sentence splitting: where each sentence of a normalised text starts and ends."""

from __future__ import annotations

import re

# Words whose trailing period does not end a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt col gen lt sgt capt cmdr adm maj gov sen rep rev hon pres
    no nos vs etc al fig figs eq eqs ref refs vol pp ed eds inc ltd co corp dept univ approx est
    jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e cf viz u.s u.k u.n a.m p.m ca ps""".split()
)
_CANDIDATE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_INITIALS = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")  # "J.I", "U.S.A": the last period is the match's


def _ends_sentence(text: str, match: re.Match) -> bool:
    following = text[match.end() :].lstrip()
    if not following:
        return True
    if match.group().startswith(("!", "?", "…")):
        return True
    word = text[: match.start()].rsplit(None, 1)[-1] if text[: match.start()].strip() else ""
    word = word.lstrip("(\"'“‘[").lower().rsplit("-", 1)[-1]  # "Trinity-St." ends in "st"
    if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or _INITIALS.fullmatch(word):
        return False
    return not following[0].islower()


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; a line break always ends one. Spans are whitespace-trimmed."""
    spans: list[tuple[int, int]] = []
    line_start = 0
    for line in text.split("\n"):
        start = 0
        for match in _CANDIDATE_END.finditer(line):
            if _ends_sentence(line, match):
                _append_trimmed(spans, line, line_start, start, match.end())
                start = match.end()
        _append_trimmed(spans, line, line_start, start, len(line))
        line_start += len(line) + 1
    return spans


def _append_trimmed(spans: list, line: str, offset: int, start: int, end: int) -> None:
    piece = line[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        spans.append((offset + start + lead, offset + start + lead + len(stripped)))
