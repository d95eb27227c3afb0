"""Ranking experiment: blend each leading candidate's best sentence cosine into its dense score.

For the `--depth` best candidates of the hybrid ranking, every sentence of the passage is
embedded with the question encoder (as the query path would do), and the passage's cosine in
the fusion becomes `(1 - beta) · passage cosine + beta · best sentence cosine`; the head is
re-sorted, the rest keeps its order. Measured on SciFact, SQuAD dev-a and the seed questions in
one run, with `qa eval`'s own metrics. Sentence vectors are cached per passage for the run, so
the sweep costs one embedding per sentence; `encode_ms_per_question` is what embedding them
at query time would cost (the head's sentences of one question, one batch, median).

    python -m benchmarks.rank_sentences [--depth 10] [--betas 0.25 0.5] [--squad-sample 2000]
    python -m benchmarks.rank_sentences --sets sqlite,borg --sqlite-index I --borg-index J

The documentation sets (benchmarks/sets/*-docs) are asked of indexes you built of their corpora.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.common import load_average, print_table, write_results
from benchmarks.corpora import DOC_QUESTIONS, ranking_sets
from qa.text.sentences import sentence_spans


class SentenceVectors:
    """Sentence vectors of passages, embedded once per passage for the run."""

    def __init__(self, collection, snapshot, with_title: bool) -> None:
        self.collection, self.snapshot, self.with_title = collection, snapshot, with_title
        self.cache: dict[int, np.ndarray] = {}
        self.batch_ms: list[float] = []

    def of(self, passage_ids: list[int]) -> dict[int, np.ndarray]:
        missing = [i for i in passage_ids if i not in self.cache]
        if missing:
            rows = self.snapshot.passages(missing)
            texts, owners = [], []
            for passage_id in missing:
                row = rows[passage_id]
                for start, end in sentence_spans(row.text) or [(0, len(row.text))]:
                    sentence = row.text[start:end]
                    texts.append(f"{row.title}. {sentence}" if self.with_title and row.title else sentence)
                    owners.append(passage_id)
            started = time.perf_counter()
            vectors = self.collection.encoder.encode_queries(texts)
            if len(missing) == len(passage_ids):  # a question whose whole head was new: query-time cost
                self.batch_ms.append((time.perf_counter() - started) * 1000)
            owners_array = np.array(owners)
            for passage_id in missing:
                self.cache[passage_id] = vectors[owners_array == passage_id]
        return {i: self.cache[i] for i in passage_ids}


def rerank(ranking, vectors: SentenceVectors, depth: int, beta: float, weight: float) -> list[int]:
    """Passage ids, the head re-sorted with the blended cosine."""
    hits = ranking.hits
    head = hits[:depth]
    found = vectors.of([hit.passage_id for hit in head])
    scores = [
        hit.score + weight * beta * (float((found[hit.passage_id] @ ranking.query.vector).max()) - hit.dense)
        for hit in head
    ]
    order = sorted(range(len(head)), key=lambda i: -scores[i])
    return [head[i].passage_id for i in order] + [hit.passage_id for hit in hits[depth:]]


def evaluate(eval_set, collection, depth: int, betas: list[float], with_title: bool) -> dict:
    from qa.evaluation.metrics import RankedResult, summarize
    from qa.evaluation.runner import DOCUMENTS_FOR_RANKING, PASSAGES_FOR_HITS

    searcher = collection.searcher()

    snapshot = searcher.snapshot
    doc_of, text_of = {}, {}
    for passage_id, doc_id, text in snapshot.passage_texts():
        doc_of[passage_id], text_of[passage_id] = doc_id, text
    passages_per_doc = max(1.0, len(doc_of) / max(1, len(set(doc_of.values()))))
    k = int((DOCUMENTS_FOR_RANKING if eval_set.kind == "beir" else PASSAGES_FOR_HITS) * passages_per_doc * 2) + 20
    if eval_set.kind == "questions":
        k = PASSAGES_FOR_HITS
    vectors = SentenceVectors(collection, snapshot, with_title)
    weight = collection.retriever.settings.dense_weight
    results: dict[float, dict] = {beta: {} for beta in [0.0, *betas]}
    for question in eval_set.questions:
        ranking = collection.rank(question.question, k, history=question.history, searcher=searcher)
        for beta in results:
            ids = (
                [hit.passage_id for hit in ranking.hits] if beta == 0 else rerank(ranking, vectors, depth, beta, weight)
            )
            results[beta][question.id] = RankedResult(
                passage_texts=[text_of[i] for i in ids[:PASSAGES_FOR_HITS]],
                doc_ids=[doc_of[i] for i in ids],
                abstained=not ranking.confident,
                latency_ms=0.0,
            )
    metrics = {}
    for beta, ranked in results.items():
        summary = summarize(eval_set, ranked)
        metrics[str(beta)] = {
            key: summary[key]
            for key in ("ndcg@10", "recall@100", "gold@1", "gold@5", "hit@1", "hit@3")
            if key in summary
        }
    encode = statistics.median(vectors.batch_ms) if vectors.batch_ms else None
    return {
        "metrics": metrics,
        "encode_ms_per_question": encode,
        "sentences_embedded": sum(map(len, vectors.cache.values())),
    }


def doc_sets(indexes: dict[str, Path | None], encoder) -> list[tuple[str, object, object]]:
    """(name, eval set, collection) for the documentation sets asked for, on the given indexes."""
    from qa.collection import Collection
    from qa.evaluation.datasets import load_questions

    sets = []
    for name, index in indexes.items():
        if index is None:
            raise SystemExit(f"--{name}-index is needed for the {name} set")
        collection = Collection.open(index, encoder=encoder)
        encoder = collection.encoder
        sets.append((name, load_questions(DOC_QUESTIONS[name]), collection))
    return sets


def main() -> None:

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--betas", type=float, nargs="+", default=[0.25, 0.5])
    parser.add_argument("--squad-sample", type=int, default=2000, help="SQuAD questions (a seeded sample)")
    parser.add_argument("--with-title", action="store_true", help="embed 'title. sentence' instead of the sentence")
    parser.add_argument("--sets", default="SciFact,SQuAD dev-a,seeds", help="comma-separated; also sqlite, borg")
    parser.add_argument("--sqlite-index", type=Path, help="an index of the SQLite corpus")
    parser.add_argument("--borg-index", type=Path, help="an index of the BorgBackup corpus")
    args = parser.parse_args()
    chosen = args.sets.split(",")
    load = load_average()
    sets = ranking_sets(args.squad_sample) if {"SciFact", "SQuAD dev-a", "seeds"} & set(chosen) else []
    sets = [entry for entry in sets if entry[0] in chosen] + doc_sets(
        {name: getattr(args, f"{name}_index") for name in ("sqlite", "borg") if name in chosen},
        sets[0][2].encoder if sets else None,
    )
    results, rows = {}, []
    for name, eval_set, collection in sets:
        started = time.perf_counter()
        results[name] = evaluate(eval_set, collection, args.depth, args.betas, args.with_title)
        print(f"{name}: {time.perf_counter() - started:.0f} s", flush=True)
        for beta, metrics in results[name]["metrics"].items():
            rows.append([name, beta, *(f"{key} {value:.4f}" for key, value in metrics.items())])
    print_table(f"Sentence cosine blended into the top {args.depth}", ["set", "beta", "", "", ""], rows)
    write_results(
        f"rank_sentences{'_title' if args.with_title else ''}{'' if 'SciFact' in chosen else '_docs'}",
        {
            "args": {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
            "load": [load, load_average()],
            "sets": results,
        },
    )


if __name__ == "__main__":
    main()
