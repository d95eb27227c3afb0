"""BM25's pruned top-n: the passages and scores a question gets must be those of scoring every
matching passage, whatever the segments, deletions, filters and repeated terms."""

import numpy as np
import pytest

from qa.search import bm25 as bm25_module
from qa.search.bm25 import BM25, LexicalPart
from qa.store.postings import Postings


@pytest.fixture(autouse=True)
def always_prune(monkeypatch):
    """These corpora are small: prune them as a large index would be."""
    monkeypatch.setattr(bm25_module, "PRUNE_ABOVE", 0)


# Zipf-like words: a few in most passages, most in few, as in real text.
WORDS = [f"w{i:03d}x" for i in range(300)]


def corpus(rng: np.random.Generator, size: int) -> list[str]:
    weights = 1 / np.arange(1, len(WORDS) + 1)
    weights /= weights.sum()
    return [" ".join(rng.choice(WORDS, size=rng.integers(3, 40), p=weights)) for _ in range(size)]


def parts(rng: np.random.Generator, sizes: list[int], deleted: float, shuffled_ids: bool) -> list[LexicalPart]:
    ids = rng.permutation(sum(sizes)) if shuffled_ids else np.arange(sum(sizes))
    found, start = [], 0
    for size in sizes:
        live = rng.random(size) >= deleted if deleted else None
        found.append(LexicalPart(Postings.build(corpus(rng, size)), ids[start : start + size].astype(np.int64), live))
        start += size
    return found


def best_of_all(bm25: BM25, terms, n, allowed=None) -> tuple[np.ndarray, np.ndarray]:
    """The n best of every matching passage's score, equal scores by id."""
    ids, scores = bm25.scores(terms, allowed)
    best = np.lexsort((ids, -scores))[:n]
    return ids[best], scores[best]


@pytest.mark.parametrize("seed", range(6))
def test_the_pruned_top_n_is_the_top_n_of_every_score(seed):
    rng = np.random.default_rng(seed)
    bm25 = BM25(parts(rng, [400, 250, 60], deleted=0.2 if seed % 2 else 0.0, shuffled_ids=seed >= 3))
    for _ in range(25):
        terms = list(rng.choice(WORDS[:120], size=rng.integers(1, 9)))  # some repeated, some common
        n = int(rng.choice([1, 5, 20, 100]))
        ids, scores = bm25.top(terms, n)
        expected_ids, expected_scores = best_of_all(bm25, terms, n)
        assert sorted(ids.tolist()) == ids.tolist()
        order = np.lexsort((ids, -scores))
        np.testing.assert_array_equal(ids[order], expected_ids)
        np.testing.assert_array_equal(scores[order], expected_scores)  # the same bits


def test_the_pruning_skips_passages_that_only_hold_common_words():
    """Not only the same answer: less work. A question with a rare and a common word scores the
    passages holding the rare one, not the thousands holding the common one."""
    rng = np.random.default_rng(7)
    texts = corpus(rng, 3000)
    texts[17] += " zzrare"
    texts[1234] += " zzrare zzrare"
    bm25 = BM25([LexicalPart(Postings.build(texts), np.arange(len(texts)), None)])
    common = "w000x"
    assert sum(common in text.split() for text in texts) > 2000
    scored = []
    real_exact = bm25._exact
    bm25._exact = lambda part, rows, terms, idf: scored.append(len(rows)) or real_exact(part, rows, terms, idf)
    ids, _ = bm25.top(["zzrare", common], 2)
    assert sorted(ids.tolist()) == [17, 1234]
    assert sum(scored) <= 2


def test_passages_asked_for_are_scored_too_and_only_if_they_match_and_live():
    rng = np.random.default_rng(3)
    found = parts(rng, [300, 200], deleted=0.3, shuffled_ids=True)
    bm25 = BM25(found)
    terms = ["w001x", "w040x"]
    all_ids, all_scores = bm25.scores(terms)
    score_of = dict(zip(all_ids.tolist(), all_scores.tolist()))
    asked = rng.choice(500, size=60, replace=False)
    ids, scores = bm25.top(terms, 3, also=asked)
    best, _ = best_of_all(bm25, terms, 3)
    expected = set(best.tolist()) | {int(i) for i in asked if int(i) in score_of}
    assert set(ids.tolist()) == expected  # a deleted or non-matching passage asked for is left out
    assert all(score_of[int(i)] == s for i, s in zip(ids, scores))


def test_a_filter_limits_the_top_n_and_keeps_collection_wide_idf():
    rng = np.random.default_rng(5)
    found = parts(rng, [300, 200], deleted=0.1, shuffled_ids=False)
    bm25 = BM25(found)
    allowed = [rng.random(len(part.ids)) < 0.3 for part in found]
    terms = ["w002x", "w010x", "w055x"]
    ids, scores = bm25.top(terms, 10, allowed)
    expected_ids, expected_scores = best_of_all(bm25, terms, 10, allowed)
    order = np.lexsort((ids, -scores))
    np.testing.assert_array_equal(ids[order], expected_ids)
    np.testing.assert_array_equal(scores[order], expected_scores)


def test_terms_nobody_holds_give_nothing():
    rng = np.random.default_rng(1)
    bm25 = BM25(parts(rng, [50], deleted=0.0, shuffled_ids=False))
    ids, scores = bm25.top(["nowhere"], 10, also=np.array([1, 2]))
    assert len(ids) == len(scores) == 0


def test_with_few_postings_every_match_comes_back(monkeypatch):
    """Below PRUNE_ABOVE postings, `top` gives what `scores` gives: a superset of the n best."""
    monkeypatch.setattr(bm25_module, "PRUNE_ABOVE", 100_000)
    rng = np.random.default_rng(2)
    bm25 = BM25(parts(rng, [200, 100], deleted=0.1, shuffled_ids=True))
    terms = ["w001x", "w030x"]
    ids, scores = bm25.top(terms, 5)
    expected_ids, expected_scores = bm25.scores(terms)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_array_equal(scores, expected_scores)
    assert len(ids) > 5


def test_distinct_ids_are_what_numpy_unique_gives():
    from qa.search.arrays import distinct

    generator = np.random.default_rng(7)
    for size in [0, 1, 2, 5, 1000]:
        values = generator.integers(0, 50, size=size).astype(np.int64)
        assert np.array_equal(distinct(values), np.unique(values))
        assert distinct(values).dtype == np.int64
