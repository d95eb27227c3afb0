"""BM25 over segments, scored with collection-wide statistics.

Each segment stores its postings (term → rows and term frequencies) and passage lengths; the
document frequencies and the average length are summed over the live passages of every segment
at query time, so the same documents rank the same whether they were indexed in one run or in
twenty, before or after merges. Scores equal bm25s's Lucene variant (checked in the tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.store.postings import Postings

# BM25 saturation and length normalisation for passages: lower than Lucene's 1.2 / 0.75, as
# measured on SQuAD and SciFact passages (docs/EVALUATION.md).
PASSAGE_K1 = 0.9
PASSAGE_B = 0.4


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
