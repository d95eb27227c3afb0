"""BM25 over passages (bm25s, English stop words and Snowball stemming), kept in the index folder."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop words out, stemmed: the same for passages and questions."""
    import bm25s

    return bm25s.tokenize(
        texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )


class LexicalIndex:
    """BM25 scores for passage ids; rebuilt with the index, memory-mapped when loaded."""

    def __init__(self, retriever, passage_ids: np.ndarray) -> None:
        self._retriever = retriever
        self.passage_ids = passage_ids
        self._vocab = retriever.vocab_dict

    @classmethod
    def build(cls, passage_ids: np.ndarray, texts: list[str]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25()
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

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage (aligned with `passage_ids`), zeros when nothing matches."""
        tokens = [token for token in tokenize([query])[0] if token in self._vocab]
        if not tokens or not len(self.passage_ids):
            return np.zeros(len(self.passage_ids), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)[: len(self.passage_ids)]
