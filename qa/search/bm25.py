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

from qa.search.arrays import distinct
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
        self._df: dict[str, int] = {}
        self._id_orders: dict[int, tuple[np.ndarray | None, np.ndarray]] = {}

    def _matches(self, term: str):
        for position, part in enumerate(self.parts):
            found = part.postings.term(term)
            if found is None:
                continue
            rows, frequencies = self._live(part, position, *found)
            if len(rows):
                yield part, rows, frequencies

    @staticmethod
    def _live(part: LexicalPart, position: int, rows, frequencies, allowed=None):
        """A term's postings in one part without its deleted rows, and within `allowed`."""
        if part.live is not None:
            keep = part.live[rows]
            rows, frequencies = rows[keep], frequencies[keep]
        if allowed is not None:
            keep = allowed[position][rows]
            rows, frequencies = rows[keep], frequencies[keep]
        return rows, frequencies

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """IDF of each term found in a live passage, over the whole collection."""
        result = {}
        for term in dict.fromkeys(terms):
            if term not in self._idf:
                df = sum(len(rows) for _, rows, _ in self._matches(term))
                self._df[term] = df
                self._idf[term] = float(np.log(1 + (self.passages - df + 0.5) / (df + 0.5))) if df else None
            if self._idf[term] is not None:
                result[term] = self._idf[term]
        return result

    def held(self, terms: Sequence[str], allowed: Sequence[np.ndarray]) -> set[str]:
        """The terms some live passage within `allowed` holds (a caller that may read only some
        documents learns nothing of the others' words; without a filter, `idf` says it)."""
        found = set()
        for term in dict.fromkeys(terms):
            for position, part in enumerate(self.parts):
                postings = part.postings.term(term)
                if postings is not None and len(self._live(part, position, *postings, allowed)[0]):
                    found.add(term)
                    break
        return found

    def spelled_near(self, term: str, distance: int) -> list[str]:
        """The vocabulary's terms within `distance` edits of `term` (a typo, or an accent left out:
        "gospic" of pages that say "gospić"), some of which may be in deleted passages only."""
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        near = []
        for part in self.parts:
            found = process.extract(
                term, part.postings.vocabulary.keys(), scorer=Levenshtein.distance, score_cutoff=distance, limit=10
            )
            near += [choice for choice, _, _ in found]
        return near

    def scores(
        self, terms: Sequence[str], allowed: Sequence[np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(passage ids, scores) of every live passage matching some term, ids ascending.

        A term given twice counts twice, as in bm25s. `allowed` (a mask over each part's rows)
        limits the passages scored; IDF and the average length stay those of the whole collection.
        """
        idf = self.idf(terms)
        weighted = [(term, idf[term]) for term in terms if term in idf]
        ids, scores = [], []
        for position, part in enumerate(self.parts):
            rows, contributions = [], []
            for term, weight in weighted:
                found = part.postings.term(term)
                if found is None:
                    continue
                matched, frequencies = self._live(part, position, *found, allowed)
                norm = self._norm(part.postings.lengths[matched])
                rows.append(matched)
                contributions.append(weight * frequencies / (norm + frequencies))
            if rows:
                matched, summed = _sum_by_row(np.concatenate(rows), np.concatenate(contributions), len(part.ids))
                ids.append(part.ids[matched])
                scores.append(summed)
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ids_all, scores_all = np.concatenate(ids), np.concatenate(scores).astype(np.float32)
        if len(ids_all) > 1 and not (ids_all[1:] > ids_all[:-1]).all():  # segments' ids interleave after merges
            order = np.argsort(ids_all, kind="stable")
            ids_all, scores_all = ids_all[order], scores_all[order]
        return ids_all, scores_all

    def top(
        self,
        terms: Sequence[str],
        n: int,
        allowed: Sequence[np.ndarray] | None = None,
        also: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(passage ids, scores), ids ascending: the `n` best live passages matching some term
        (equal scores by id), and those of the passage ids `also` that match. Their scores are
        `scores`'s to the last bit; the passages that cannot be among the `n` best are not scored.
        When the question's terms hold at most PRUNE_ABOVE postings in all, every matching
        passage is scored and returned (as `scores`): pruning costs more than it saves there.

        MaxScore (Turtle and Flood, 1995), a whole term list at a time: terms are taken rarest first
        until the `n`-th best partial score beats everything the remaining terms could add (their
        IDF); from then on only passages holding a rare term can reach the `n` best, and only those
        whose bound still does are scored in full. The long lists of common words, most of a
        question's postings in a large index, are then read only where a candidate sits.
        """
        idf = self.idf(terms)
        if sum(self._df[term] for term in dict.fromkeys(terms) if term in idf) <= PRUNE_ABOVE:
            return self.scores(terms, allowed)  # few postings: scoring them all is cheaper
        weights: dict[str, float] = {}
        for term in terms:  # a term given twice counts twice
            if term in idf:
                weights[term] = weights.get(term, 0.0) + idf[term]
        order = sorted(weights, key=weights.__getitem__, reverse=True)
        totals: list[np.ndarray | None] = [None] * len(self.parts)  # partial scores by row, per part
        touched: list[list[np.ndarray]] = [[] for _ in self.parts]  # the rows each term added to
        threshold, taken = 0.0, 0
        for taken, term in enumerate(order, start=1):
            added = []
            for position, part in enumerate(self.parts):
                found = part.postings.term(term)
                if found is None:
                    continue
                matched, frequencies = self._live(part, position, *found, allowed)
                if not len(matched):
                    continue
                if totals[position] is None:
                    totals[position] = np.zeros(len(part.ids))
                norm = self._norm(part.postings.lengths[matched])
                totals[position][matched] += weights[term] * frequencies / (norm + frequencies)  # rows unique
                touched[position].append(matched)
                added.append(totals[position][matched])
            # The n-th best among one term's passages (distinct) bounds the n-th best of all from below.
            threshold = max(threshold, nth_best(added, n))
            if sum(weights[t] for t in order[taken:]) < threshold:
                break
        rest_terms = order[taken:]
        rest = sum(weights[t] for t in rest_terms)
        partial = []
        for total, rows in zip(totals, touched):
            if total is None:
                partial.append((np.zeros(0, dtype=np.int64), np.zeros(0)))
                continue
            every = np.concatenate(rows)
            every = every[total[every] + rest >= threshold * SLACK]
            if len(every) * DENSE_FRACTION >= len(total):  # many: one pass over the part, no sort
                every = np.flatnonzero(total >= max(threshold * SLACK - rest, np.finfo(float).tiny))
            else:
                every = distinct(every)
            partial.append((every, total[every]))
        candidates = self._narrow(partial, rest_terms, weights, n, threshold)
        ids, scores = [], []
        for position, part in enumerate(self.parts):
            asked = self._rows_of(position, also, allowed)
            wanted = np.union1d(candidates[position], asked) if len(asked) else candidates[position]
            if len(wanted):
                ids.append(part.ids[wanted])
                scores.append(self._exact(part, wanted, terms, idf))
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ids_all, scores_all = np.concatenate(ids), np.concatenate(scores)
        best = np.lexsort((ids_all, -scores_all))[:n]
        keep = np.zeros(len(ids_all), dtype=bool)
        keep[best] = True
        if also is not None and len(also):
            keep |= np.isin(ids_all, also)
        keep &= scores_all > 0
        order_by_id = np.argsort(ids_all[keep], kind="stable")
        return ids_all[keep][order_by_id], scores_all[keep][order_by_id].astype(np.float32)

    def _narrow(self, partial, rest_terms, weights, n: int, threshold: float) -> list[np.ndarray]:
        """The rows that can still be among the `n` best, once only rows with a partial score can:
        the remaining terms are added one at a time, commonest last, each looked up for the
        candidates only, and a candidate is dropped as soon as its partial score plus all the
        remaining terms could add falls below the `n`-th best partial score."""
        rest = sum(weights[t] for t in rest_terms)
        threshold = max(threshold, nth_best([sums for _, sums in partial], n))
        candidates = [keep(rows, sums, rest, threshold) for rows, sums in partial]
        for term in rest_terms:
            rest -= weights[term]
            for position, (rows, sums) in enumerate(candidates):
                found = self.parts[position].postings.term(term)
                if found is None or not len(rows):
                    continue
                holds, matched = _lookup(*found, rows)
                lengths = self.parts[position].postings.lengths[rows[holds]]
                norm = self._norm(lengths)
                sums = sums.copy()
                sums[holds] += weights[term] * matched / (norm + matched)
                candidates[position] = (rows, sums)
            threshold = max(threshold, nth_best([sums for _, sums in candidates], n))
            candidates = [keep(rows, sums, rest, threshold) for rows, sums in candidates]
        return [rows for rows, _ in candidates]

    def _norm(self, lengths: np.ndarray) -> np.ndarray:
        """BM25's length normalisation of passages of these lengths (k1 included)."""
        return self.k1 * ((1 - self.b) + self.b * lengths / self.average_length)

    def _exact(self, part: LexicalPart, rows: np.ndarray, terms: Sequence[str], idf: dict[str, float]) -> np.ndarray:
        """Full BM25 scores of some rows of a part, summed term by term in the question's order,
        as `scores` sums them, so both give the same bits."""
        total = np.zeros(len(rows))
        norm = self._norm(part.postings.lengths[rows])
        for term in terms:
            if term not in idf:
                continue
            found = part.postings.term(term)
            if found is None:
                continue
            holds, matched = _lookup(*found, rows)
            total[holds] += idf[term] * matched / (norm[holds] + matched)
        return total

    def _rows_of(self, position: int, ids: np.ndarray | None, allowed: Sequence[np.ndarray] | None) -> np.ndarray:
        """The rows of part `position` that hold these passage ids, live and allowed."""
        if ids is None or not len(ids):
            return np.zeros(0, dtype=np.int64)
        part = self.parts[position]
        order, sorted_ids = self._id_order(position)
        at = np.minimum(np.searchsorted(sorted_ids, ids), max(len(sorted_ids) - 1, 0))
        found = at[sorted_ids[at] == ids] if len(sorted_ids) else at[:0]
        rows = found if order is None else order[found]
        if part.live is not None:
            rows = rows[part.live[rows]]
        if allowed is not None:
            rows = rows[allowed[position][rows]]
        return distinct(rows)

    def _id_order(self, position: int) -> tuple[np.ndarray | None, np.ndarray]:
        """(None, the ids) when part `position`'s ids ascend by row (as segments are written), else
        (the rows in id order, the ids in that order); worked out once per generation, not per
        question."""
        if position not in self._id_orders:
            ids = self.parts[position].ids
            if len(ids) < 2 or bool((ids[1:] > ids[:-1]).all()):
                self._id_orders[position] = (None, ids)
            else:
                order = np.argsort(ids, kind="stable")
                self._id_orders[position] = (order, ids[order])
        return self._id_orders[position]


def _lookup(term_rows: np.ndarray, frequencies: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(which of `rows` a term's sorted postings hold, their frequencies), by binary search."""
    at = np.minimum(np.searchsorted(term_rows, rows), len(term_rows) - 1)
    holds = term_rows[at] == rows
    return holds, frequencies[at[holds]]


def nth_best(scores: list[np.ndarray], n: int) -> float:
    """The `n`-th highest of these scores (each a distinct passage's), 0 when there are fewer."""
    every = np.concatenate(scores) if scores else np.zeros(0)
    return float(np.partition(every, len(every) - n)[len(every) - n]) if len(every) >= n > 0 else 0.0


def keep(rows: np.ndarray, sums: np.ndarray, rest: float, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose partial score, with all the remaining terms could add, can still reach
    `threshold`."""
    can = sums + rest >= threshold * SLACK
    return rows[can], sums[can]


def _sum_by_row(rows: np.ndarray, contributions: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(distinct rows ascending, the sum of each one's contributions). Where the rows are many
    against the segment (common terms in a large index), one pass into an array of the segment's
    size: a sort of every posting took most of a question's time at 10M passages."""
    if len(rows) * DENSE_FRACTION >= size:
        totals = np.bincount(rows, weights=contributions, minlength=size)
        matched = np.flatnonzero(totals)  # every contribution is positive (IDF > 0, frequency > 0)
        return matched, totals[matched]
    matched, inverse = np.unique(rows, return_inverse=True)
    return matched, np.bincount(inverse, weights=contributions)


# Below this many postings for a question's terms, `top` scores every match: pruning's own work
# costs more on small indexes (0.86 against 0.39 ms a question on SciFact's 9,225 passages, a
# throwaway timing). The value is a round choice between that and 10M, where pruning wins; it was
# not tuned.
PRUNE_ABOVE = 100_000

# Partial scores are summed in another order than full ones: a bound is kept with this much room.
SLACK = 1 - 1e-9

# Above one posting for every DENSE_FRACTION rows of a segment, scores are summed into an array of
# the segment's size rather than by sorting the postings (benchmarks/bench_lexical.py).
DENSE_FRACTION = 16
