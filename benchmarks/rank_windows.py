"""Ranking experiment: short-window dense vectors for each passage, the passage kept for BM25 and display.

Every stored passage (254 tokens) is cut again, as the indexer cuts documents, into windows of
`--windows` tokens (sentence-aware, overlap `--overlap`), and each window is embedded as
`title + "\\n" + window` (ONNX Runtime fp32, the question encoder). A passage that gives one
window keeps its stored vector. The passage's dense score becomes

    (1 - beta) · passage cosine + beta · best window cosine

and everything else (BM25, best-sentence re-scoring) is today's; the fusion weight (0.7) is also
swept, because window cosines are spread differently from passage cosines. Two ways:

- `rescore`: the candidates are today's (dense top 100 ∪ BM25 top 100), only their dense score changes;
- `search`: the dense candidates are the 100 passages with the best blended score over every
  passage and window (exact search, window → passage), ∪ the BM25 top 100.

Dense only (`mode="dense"`) is measured the same two ways. SciFact, SQuAD dev-a and the seed
questions, each in full, with `qa eval`'s metrics, in one run; question vectors are computed once
and reused by every variant. Window vectors are cached under benchmarks/results/.cache/, with how
long their encoding took (`encode_s`, at the load beside it) when they were made.

    python -m benchmarks.rank_windows [--windows 128 64] [--overlap 48] [--betas 0.25 0.5 1.0]
        [--dense-weights 0.5 0.6 0.8]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import time

import numpy as np

from benchmarks.common import RESULTS, load_average, print_table, write_results
from benchmarks.corpora import ranking_sets
from qa.ingest.chunking import ChunkingSettings, split_passages
from qa.search.retrieval import HybridRetriever
from qa.store.segment import searchable_text

CACHE = RESULTS / ".cache"
KEYS = ("ndcg@10", "recall@100", "gold@1", "gold@5", "hit@1", "hit@3", "answerable_abstained")


class Windows:
    """Every live passage's stored vector and the vectors of its windows (window → passage)."""

    def __init__(self, collection, target: int, overlap: int) -> None:
        snapshot = collection.snapshot()
        encoder = collection.encoder
        ids = np.array(sorted(i for i, _, _ in snapshot.passage_texts()), dtype=np.int64)
        rows = snapshot.passages(ids.tolist())
        self.ids = ids
        self.passage_vectors = snapshot.vectors(ids)
        settings = ChunkingSettings(target_tokens=target, overlap_tokens=overlap)
        count, spans_of, limit = encoder.count_tokens, encoder.token_spans, encoder.max_tokens - 2
        texts, owners = [], []
        for position, passage_id in enumerate(ids):
            row = rows[int(passage_id)]
            spans = split_passages(row.text, count, spans_of, limit, settings)
            if len(spans) > 1:
                texts += [searchable_text(row.title, row.text[s.start : s.end]) for s in spans]
                owners += [position] * len(spans)
        self.owners = np.array(owners, dtype=np.int64)
        self.split = np.unique(self.owners)  # positions of passages with more than one window
        self.starts = np.searchsorted(self.owners, self.split)
        recipe = "\x00".join([encoder.name, str(target), str(overlap), *texts])
        path = CACHE / f"windows-{hashlib.sha256(recipe.encode()).hexdigest()[:16]}.npy"
        timing = path.with_suffix(".json")  # how long the encoding took, and at what load, when it was made
        if path.exists():
            self.vectors = np.load(path)
        else:
            before, started = load_average(), time.perf_counter()
            self.vectors = encoder.encode_queries(texts) if texts else np.zeros((0, encoder.dimension), np.float32)
            made = {"encode_s": round(time.perf_counter() - started, 1), "load": [before, load_average()]}
            CACHE.mkdir(parents=True, exist_ok=True)
            np.save(path, self.vectors)
            timing.write_text(json.dumps(made))
        self.encoded = json.loads(timing.read_text()) if timing.exists() else {}
        self.cache_file = path.name
        self.tokens = sum(encoder.count_tokens(texts)) if texts else 0

    def facts(self) -> dict:
        return {
            "passages": len(self.ids),
            "passages_split": len(self.split),
            "windows": len(self.vectors),
            "vectors_per_passage": round((len(self.ids) + len(self.vectors)) / max(1, len(self.ids)), 3),
            "window_tokens": self.tokens,
            **self.encoded,
            "cache": self.cache_file,
        }

    def dense(self, query: np.ndarray, beta: float) -> np.ndarray:
        """The blended dense score of every passage, in `self.ids` order."""
        passage = self.passage_vectors @ query
        if beta == 0 or not len(self.vectors):
            return passage
        best = passage.copy()
        best[self.split] = np.maximum.reduceat(self.vectors @ query, self.starts)
        return (1 - beta) * passage + beta * best


class _Searched:
    """A snapshot whose dense search ranks passages by the blended score (exact, all passages)."""

    def __init__(self, snapshot, ids: np.ndarray, scores: np.ndarray) -> None:
        self._snapshot, self._ids, self._scores = snapshot, ids, scores

    def __getattr__(self, name):
        return getattr(self._snapshot, name)

    def search_vectors(self, query, n, allowed=None):
        top = np.argpartition(-self._scores, min(n, len(self._scores)) - 1)[:n]
        return self._ids[top]


class WindowRetriever(HybridRetriever):
    """Today's hybrid ranking with the blended passage/window cosine as the dense score."""

    def __init__(self, settings, windows: Windows, beta: float, search: bool) -> None:
        super().__init__(settings)
        self.windows, self.beta, self.search = windows, beta, search
        self._dense_all = None

    def rank(self, source, query, k, texts, mode=None, allowed=None):
        self._dense_all = self.windows.dense(query.vector, self.beta)
        if self.search:
            source = _Searched(source, self.windows.ids, self._dense_all)
        return super().rank(source, query, k, texts, mode, allowed)

    def dense_scores(self, source, query, ids):
        return self._dense_all[np.searchsorted(self.windows.ids, ids)].astype(np.float32)


class MemoEncoder:
    """The collection's encoder with question vectors remembered, so every variant ranks the same vectors."""

    def __init__(self, encoder) -> None:
        self._encoder, self._memo = encoder, {}

    def __getattr__(self, name):
        return getattr(self._encoder, name)

    def encode_queries(self, texts):
        missing = [t for t in texts if t not in self._memo]
        if missing:
            for text, vector in zip(missing, self._encoder.encode_queries(missing)):
                self._memo[text] = vector
        return np.stack([self._memo[t] for t in texts])


def main() -> None:
    from qa.evaluation.metrics import summarize
    from qa.evaluation.runner import run_questions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, nargs="+", default=[128, 64], help="window sizes in word pieces")
    parser.add_argument("--overlap", type=int, default=48)
    parser.add_argument("--betas", type=float, nargs="+", default=[0.25, 0.5, 1.0])
    parser.add_argument(
        "--dense-weights", type=float, nargs="*", default=[0.5, 0.6, 0.8], help="fusion weights besides today's 0.7"
    )
    args = parser.parse_args()
    load = load_average()
    sets = ranking_sets()
    encoder = MemoEncoder(sets[0][2].encoder)
    for _, _, collection in sets:
        collection.encoder = encoder
    settings = sets[0][2].retriever.settings
    windows: dict[int, dict[str, Windows]] = {}
    facts: dict[str, dict] = {}
    for size in args.windows:
        for name, _, collection in sets:
            print(f"windows of {size} for {name} (load {load_average()})", flush=True)
            windows.setdefault(size, {})[name] = found = Windows(collection, size, args.overlap)
            facts[f"{size}/{name}"] = found.facts()
            print(facts[f"{size}/{name}"], flush=True)

    # (label, window size or None for today's ranking, beta, search, dense weight)
    variants = [("today", None, 0.0, False, settings.dense_weight)]
    variants += [(f"today w{w}", None, 0.0, False, w) for w in args.dense_weights]
    for size in args.windows:
        for beta in args.betas:
            variants.append((f"{size} b{beta} rescore", size, beta, False, settings.dense_weight))
            variants += [(f"{size} b{beta} rescore w{w}", size, beta, False, w) for w in args.dense_weights]
            variants.append((f"{size} b{beta} search", size, beta, True, settings.dense_weight))
    results, rows = {}, []
    for label, size, beta, search, weight in variants:
        tuned = dataclasses.replace(settings, dense_weight=weight)
        # dense only does not depend on the fusion weight: measured at today's weight only
        for mode in ("hybrid", "dense") if weight == settings.dense_weight else ("hybrid",):
            for name, eval_set, collection in sets:
                if size is None:
                    collection.retriever = HybridRetriever(tuned)
                else:
                    collection.retriever = WindowRetriever(tuned, windows[size][name], beta, search)
                started = time.perf_counter()
                summary = summarize(eval_set, run_questions(collection, eval_set, mode=mode))
                figures = {key: summary[key] for key in KEYS if key in summary}
                results.setdefault(label, {}).setdefault(mode, {})[name] = figures
                seconds = time.perf_counter() - started
                row = [label, mode, name, *(f"{key} {value:.4f}" for key, value in figures.items())]
                rows.append(row)
                print(*row, f"({seconds:.0f} s, load {load_average()[0]})", flush=True)
    print_table("Window cosines in the dense score", ["variant", "mode", "set", "", "", "", ""], rows)
    write_results(
        "rank_windows", {"args": vars(args), "load": [load, load_average()], "windows": facts, "variants": results}
    )


if __name__ == "__main__":
    main()
