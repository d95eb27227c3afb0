"""Finding candidate passages: dense (FAISS) and lexical (BM25) scores fused into one ranking."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODES = ("hybrid", "dense", "bm25")


@dataclass(frozen=True)
class RetrievalSettings:
    """Fusion is a weighted sum of cosine similarity and BM25 scaled by the best BM25 score."""

    mode: str = "hybrid"
    candidates: int = 100
    dense_weight: float = 0.5


@dataclass(frozen=True)
class Hit:
    passage_id: int
    score: float
    dense: float
    lexical: float


@dataclass(frozen=True)
class Ranking:
    """Hits for a question in its conversation: `query` is what was searched."""

    query: str
    hits: list[Hit]
    confident: bool


def followup_query(question: str, history) -> str:
    return question


class HybridRetriever:
    def __init__(self, vectors, lexical, settings: RetrievalSettings = RetrievalSettings()) -> None:
        self.vectors = vectors
        self.lexical = lexical
        self.settings = settings

    def confident(self, hits: list[Hit], mode: str | None = None) -> bool:
        return bool(hits)

    def search(self, query_vector: np.ndarray, query_text: str, k: int, mode: str | None = None) -> list[Hit]:
        """The `k` best passages, best first."""
        mode = mode or self.settings.mode
        n = max(k, self.settings.candidates)
        lexical_all = self.lexical.scores(query_text) if mode != "dense" else None
        candidate_ids: list[np.ndarray] = []
        if mode != "bm25":
            _, dense_ids = self.vectors.search(query_vector[None, :], n)
            candidate_ids.append(dense_ids[0][dense_ids[0] >= 0])
        if lexical_all is not None and lexical_all.size:
            top = np.argpartition(-lexical_all, min(n, lexical_all.size) - 1)[:n]
            top = top[lexical_all[top] > 0]
            candidate_ids.append(np.asarray(self.lexical.passage_ids)[top])
        if not candidate_ids:
            return []
        ids = np.unique(np.concatenate(candidate_ids))
        if not len(ids):
            return []
        dense = self.vectors.vectors(ids) @ query_vector
        lexical = np.zeros(len(ids), dtype=np.float32)
        if lexical_all is not None and lexical_all.size:
            positions = np.searchsorted(self.lexical.passage_ids, ids)
            lexical = lexical_all[np.clip(positions, 0, lexical_all.size - 1)]
            best = float(lexical_all.max())
            lexical = lexical / best if best > 0 else lexical
        weight = {"dense": 1.0, "bm25": 0.0}.get(mode, self.settings.dense_weight)
        fused = weight * dense + (1 - weight) * lexical
        order = np.argsort(-fused, kind="stable")[:k]
        return [Hit(int(ids[i]), float(fused[i]), float(dense[i]), float(lexical[i])) for i in order]
