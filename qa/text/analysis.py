"""The one analyser: how text becomes search terms, for passages and for questions alike."""

from __future__ import annotations

import re
from collections.abc import Container
from functools import lru_cache

# bm25s's English lists: the short one for passages, NLTK's longer one for questions, which also
# drops question words and auxiliaries ("what", "did", "who") that would otherwise match at random.
PASSAGE_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they "
    "this to was will with".split()
)
QUESTION_STOPWORDS = PASSAGE_STOPWORDS | frozenset(
    """about above after again against ain all am any aren aren't because been before being below between both can
    couldn couldn't d did didn didn't do does doesn doesn't doing don don't down during each few from further had
    hadn hadn't has hasn hasn't have haven haven't having he her here hers herself him himself his how i isn isn't
    it's its itself just ll m ma me mightn mightn't more most mustn mustn't my myself needn needn't nor now o off
    once only other our ours ourselves out over own re s same shan shan't she she's should should've shouldn
    shouldn't so some t than that'll theirs them themselves those through too under until up ve very wasn wasn't
    we were weren weren't what when where which while who whom why won won't wouldn wouldn't y you you'd you'll
    you're you've your yours yourself yourselves""".split()
)

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def analyze(text: str, stopwords: frozenset[str] = PASSAGE_STOPWORDS) -> list[str]:
    """The one analyser: lower case, words of two or more characters, stop words out, Snowball stems."""
    return _stemmer().stemWords([word for word in _TOKEN.findall(text.lower()) if word not in stopwords])


def question_terms(text: str) -> list[str]:
    """A question's search terms (the longer stop list)."""
    return analyze(text, QUESTION_STOPWORDS)


def words_not_found(question: str, found_terms: Container[str]) -> list[str]:
    """The question's words whose search terms are not among `found_terms` (those some passage
    holds), as the question spells them, once each: a typo, or what the documents never mention."""
    return _first_spellings(_not_found(question, found_terms))


def names_not_found(question: str, found_terms: Container[str]) -> list[str]:
    """The words of `words_not_found` that the question writes as names: a capital letter where no
    sentence starts ("Docker", "S3", "JSON") or inside the word ("macOS", "GitHub"). A question
    about a thing the documents never name is seldom answered by them, however close its other
    words come (docs/EVALUATION.md, "A name the documents never mention"). A question written in
    capitals or title case says nothing by its capitals, and names none."""
    if _in_title_case(question):
        return []
    missing = _not_found(question, found_terms)
    named = {match.group().lower() for match in missing if _written_as_name(question, match)}
    return [word for word in _first_spellings(missing) if word.lower() in named]


# What comes before a word that starts a sentence: an end mark and space, or nothing (the
# question's start), then any opening quotes or brackets.
_AFTER_END_MARK = re.compile(r"[.?!:;]\s+[\"'“‘(\[]*$")
_OPENING = re.compile(r"[\s\"'“‘(\[]*")
_LOOK_BACK = 16


def _in_title_case(question: str) -> bool:
    """Written in capitals, or with a small word capitalised where no sentence starts ("How Do I
    Run It In Docker")."""
    if not any(letter.islower() for letter in question):
        return True
    return any(
        match.group().lower() in QUESTION_STOPWORDS and _written_as_name(question, match)
        for match in _TOKEN.finditer(question)
    )


def _written_as_name(question: str, match: re.Match) -> bool:
    """A capital inside the word, or a capital first where no sentence starts."""
    word = match.group()
    if any(letter.isupper() for letter in word[1:]) and any(letter.islower() for letter in word):
        return True  # "macOS", "GitHub", "iOS"
    return word[0].isupper() and not _starts_sentence(question, match.start())


def _starts_sentence(question: str, start: int) -> bool:
    """Whether a sentence starts at `start`: after the question's opening, or after an end mark, with
    any opening quotes. Only the few characters before it are read, so that a long question (and the
    follow-ups joined to it) is read in linear time."""
    before = question[max(0, start - _LOOK_BACK) : start]
    return bool(_AFTER_END_MARK.search(before)) or (start <= _LOOK_BACK and bool(_OPENING.fullmatch(before)))


def _not_found(question: str, found_terms: Container[str]) -> list[re.Match]:
    """Each place in the question of a word whose search terms no passage holds."""
    missing = []
    for match in _TOKEN.finditer(question):
        terms = question_terms(match.group())  # the analyser's own terms, so a word is judged as it was searched
        if terms and not all(term in found_terms for term in terms):
            missing.append(match)
    return missing


def _first_spellings(matches: list[re.Match]) -> list[str]:
    """Each word once (case aside), as first written."""
    first: dict[str, str] = {}
    for match in matches:
        first.setdefault(match.group().lower(), match.group())
    return list(first.values())
