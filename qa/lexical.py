"""BM25 over passages (bm25s, English stop words and Snowball stemming), kept in the index folder."""

from __future__ import annotations

import re
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

# BM25 saturation and length normalisation: lower than Lucene's 1.2 / 0.75, as measured on
# SQuAD and SciFact passages (docs/EVALUATION.md).
K1 = 0.9
B = 0.4


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop words out, stemmed: how passages are indexed."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1)
def _index_stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def terms(text: str) -> list[str]:
    """`tokenize` for one short text, without bm25s's per-call overhead: the same steps (lower
    case, bm25s's token pattern, stop words out, Snowball stems), checked against it in tests."""
    stop = _index_stopwords()
    return _stemmer().stemWords([word for word in _TOKEN.findall(text.lower()) if word not in stop])


def tokenize_query(text: str) -> list[str]:
    """A question's search terms: as `tokenize`, with the longer NLTK stop list, which also drops
    question words and auxiliaries ("what", "did", "who") that would otherwise match at random."""
    import bm25s
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return bm25s.tokenize(
        [text], stopwords=STOPWORDS_EN_PLUS, stemmer=_stemmer(), return_ids=False, show_progress=False
    )[0]


class LexicalIndex:
    """BM25 scores for passage ids; rebuilt with the index, memory-mapped when loaded."""

    def __init__(self, retriever, passage_ids: np.ndarray) -> None:
        self._retriever = retriever
        self.passage_ids = passage_ids
        self._vocab = retriever.vocab_dict

    @classmethod
    def build(cls, passage_ids: np.ndarray, texts: list[str]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25(k1=K1, b=B)
        tokens = tokenize(texts) if texts else []
        # bm25s needs a non-empty vocabulary; an empty corpus gets a placeholder document.
        retriever.index(tokens or [["\x00"]], show_progress=False)
        return cls(retriever, np.asarray(passage_ids, dtype=np.int64))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        return cls(retriever, np.load(folder / "passage_ids.npy", mmap_mode="r"))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._retriever.save(str(folder), show_progress=False)
        np.save(folder / "passage_ids.npy", self.passage_ids)

    @cached_property
    def idf(self) -> dict[str, float]:
        """Inverse document frequency of each indexed term, as bm25s's Lucene variant has it,
        so sentences can be scored on the same scale as passages."""
        matrix = self._retriever.scores
        frequencies = np.diff(np.asarray(matrix["indptr"]))
        total = float(matrix["num_docs"])
        return {
            term: float(np.log(1 + (total - frequencies[i] + 0.5) / (frequencies[i] + 0.5)))
            for term, i in self._vocab.items()
            if i < len(frequencies)
        }

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage (aligned with `passage_ids`), zeros when nothing matches."""
        tokens = [token for token in tokenize_query(query) if token in self._vocab]
        if not tokens or not len(self.passage_ids):
            return np.zeros(len(self.passage_ids), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)[: len(self.passage_ids)]
