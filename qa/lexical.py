"""BM25 over segments, scored with collection-wide statistics.

Each segment stores its postings (term → rows and term frequencies) and passage lengths; the
document frequencies and the average length are summed over the live passages of every segment
at query time, so the same documents rank the same whether they were indexed in one run or in
twenty, before or after merges. Scores equal bm25s's Lucene variant (checked in the tests).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

# BM25 saturation and length normalisation for passages: lower than Lucene's 1.2 / 0.75, as
# measured on SQuAD and SciFact passages (docs/EVALUATION.md).
PASSAGE_K1 = 0.9
PASSAGE_B = 0.4

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

VOCABULARY_FILE = "vocabulary.json"
POSTINGS_FILES = ("indptr.npy", "rows.npy", "frequencies.npy", "lengths.npy")


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


def mapped(path: Path) -> np.ndarray:
    """A .npy file memory-mapped, as a plain array: slicing a np.memmap costs several times more."""
    return np.load(path, mmap_mode="r").view(np.ndarray)


class Postings:
    """One segment's lexical index: for each term, the rows (passages) holding it and how often."""

    def __init__(self, vocabulary: dict[str, int], indptr, rows, frequencies, lengths) -> None:
        self.vocabulary = vocabulary
        self.indptr = indptr
        self.rows = rows
        self.frequencies = frequencies
        self.lengths = lengths

    @classmethod
    def build(cls, texts: Sequence[str]) -> Postings:
        """Postings of texts; row i is texts[i]. Memory stays near the size of the postings
        themselves (three small integers each), so a merge of a million passages fits."""
        term_ids: dict[str, int] = {}
        seen: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}  # repeated texts are analysed once
        lengths = np.zeros(len(texts), dtype=np.int32)
        terms_parts, rows_parts, counts_parts = [], [], []
        for row, text in enumerate(texts):
            found = seen.get(text)
            if found is None:
                terms = analyze(text)
                counted = Counter(terms)
                ids = np.fromiter((term_ids.setdefault(t, len(term_ids)) for t in counted), np.int32, len(counted))
                found = (ids, np.fromiter(counted.values(), np.float32, len(counted)), len(terms))
                if len(seen) < 100_000:
                    seen[text] = found
            ids, counts, lengths[row] = found
            terms_parts.append(ids)
            rows_parts.append(np.full(len(ids), row, dtype=np.int32))
            counts_parts.append(counts)
        if not terms_parts:
            return cls({}, np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32), lengths)
        terms_all = np.concatenate(terms_parts)
        del terms_parts
        # Terms in alphabetical order, rows ascending within each term.
        alphabetical = sorted(term_ids)
        rank = np.empty(len(term_ids), dtype=np.int32)
        rank[[term_ids[t] for t in alphabetical]] = np.arange(len(alphabetical), dtype=np.int32)
        terms_all = rank[terms_all]
        order = np.argsort(terms_all, kind="stable")
        rows = np.concatenate(rows_parts)[order]
        frequencies = np.concatenate(counts_parts)[order]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(terms_all, minlength=len(alphabetical)))]).astype(np.int64)
        return cls({term: i for i, term in enumerate(alphabetical)}, indptr, rows, frequencies, lengths)

    @classmethod
    def load(cls, folder: Path) -> Postings:
        vocabulary = {term: i for i, term in enumerate(json.loads((folder / VOCABULARY_FILE).read_text("utf-8")))}
        return cls(vocabulary, *(mapped(folder / name) for name in POSTINGS_FILES))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / VOCABULARY_FILE).write_text(json.dumps(list(self.vocabulary)), encoding="utf-8")
        for name, array in zip(POSTINGS_FILES, (self.indptr, self.rows, self.frequencies, self.lengths)):
            np.save(folder / name, array)

    def term(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(rows, frequencies) of a term, or None when no passage of this segment holds it."""
        i = self.vocabulary.get(term)
        if i is None:
            return None
        start, end = int(self.indptr[i]), int(self.indptr[i + 1])
        return np.asarray(self.rows[start:end]), np.asarray(self.frequencies[start:end])


@dataclass(frozen=True)
class LexicalPart:
    """A segment as BM25 sees it: its postings, its passage ids by row, and which rows are live."""

    postings: Postings
    ids: np.ndarray
    live: np.ndarray | None  # bool per row; None when nothing in the segment was deleted


class BM25:
    """Okapi BM25 (Lucene's IDF) over the live passages of several segments."""

    def __init__(self, parts: Sequence[LexicalPart], k1: float = PASSAGE_K1, b: float = PASSAGE_B) -> None:
        self.parts = list(parts)
        self.k1, self.b = k1, b
        self.passages = 0
        total_length = 0.0
        for part in self.parts:
            lengths = np.asarray(part.postings.lengths)
            if part.live is not None:
                lengths = lengths[part.live]
            self.passages += len(lengths)
            total_length += float(lengths.sum())
        self.average_length = total_length / self.passages if self.passages else 1.0
        self._idf: dict[str, float | None] = {}  # per generation, so it never goes stale

    def _matches(self, term: str, allowed: Sequence[np.ndarray] | None = None):
        for position, part in enumerate(self.parts):
            found = part.postings.term(term)
            if found is None:
                continue
            rows, frequencies = found
            if part.live is not None:
                keep = part.live[rows]
                rows, frequencies = rows[keep], frequencies[keep]
            if allowed is not None:
                keep = allowed[position][rows]
                rows, frequencies = rows[keep], frequencies[keep]
            if len(rows):
                yield part, rows, frequencies

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """IDF of each term found in a live passage, over the whole collection."""
        result = {}
        for term in dict.fromkeys(terms):
            if term not in self._idf:
                df = sum(len(rows) for _, rows, _ in self._matches(term))
                self._idf[term] = float(np.log(1 + (self.passages - df + 0.5) / (df + 0.5))) if df else None
            if self._idf[term] is not None:
                result[term] = self._idf[term]
        return result

    def scores(
        self, terms: Sequence[str], allowed: Sequence[np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(passage ids, scores) of every live passage matching some term, ids ascending.

        A term given twice counts twice, as in bm25s. `allowed` (a mask over each part's rows)
        limits the passages scored; IDF and the average length stay those of the whole collection.
        """
        idf = self.idf(terms)
        ids, contributions = [], []
        for term in terms:
            if term not in idf:
                continue
            found = list(self._matches(term, allowed))
            if not found:
                continue
            # One computation per term over all segments, not one per segment.
            lengths = np.concatenate([part.postings.lengths[rows] for part, rows, _ in found])
            frequencies = np.concatenate([frequencies for _, _, frequencies in found])
            norm = self.k1 * ((1 - self.b) + self.b * lengths / self.average_length)
            ids.append(np.concatenate([part.ids[rows] for part, rows, _ in found]))
            contributions.append(idf[term] * frequencies / (norm + frequencies))
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        unique, inverse = np.unique(np.concatenate(ids), return_inverse=True)
        return unique, np.bincount(inverse, weights=np.concatenate(contributions)).astype(np.float32)
