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
    missing: dict[str, str] = {}
    for word in _TOKEN.findall(question):
        terms = question_terms(word)  # the analyser's own terms, so a word is judged as it was searched
        if terms and not all(term in found_terms for term in terms):
            missing.setdefault(word.lower(), word)
    return list(missing.values())
