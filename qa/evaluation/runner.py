"""Running an evaluation set through the collection, the same way a user's question goes.

JSONL questions are asked of an existing index (the seeds index by default) through
`Collection.ask`, so abstention and follow-ups are measured as users meet them. SQuAD and BEIR
bring their own corpus: it is indexed once with the normal indexing code and cached under the
data home, keyed by the corpus content, the model and the chunking settings.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa.chunking import ChunkingSettings
from qa.evaluation.datasets import EvalQuestion, EvalSet
from qa.evaluation.metrics import RankedResult, hit_at_k, summarize

COMPARE_MODES = ("bm25", "dense")
PASSAGES_FOR_HITS = 20
DOCUMENTS_FOR_RANKING = 100
# Bump when what the cached corpus index holds changes for the same inputs.
CORPUS_INDEX_VERSION = 1

Progress = Callable[[int], None]


@dataclass
class EvalReport:
    """What `qa eval` shows and writes: the metrics of the configured retrieval, and of each
    single-signal mode with `--compare`."""

    dataset: str
    kind: str
    n_questions: int
    index_dir: Path
    model: str
    metrics: dict[str, float | None]
    compare: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def to_json(self) -> dict:
        report = {
            "dataset": self.dataset,
            "kind": self.kind,
            "n_questions": self.n_questions,
            "model": self.model,
            "index": str(self.index_dir),
            "metrics": self.metrics,
        }
        if self.compare:
            report["compare"] = self.compare
        return report


def eval_cache_dir() -> Path:
    from qa.paths import data_home

    return data_home() / "eval-cache"


def corpus_index_key(eval_set: EvalSet, model_name: str, chunking: ChunkingSettings) -> str:
    """Content hash of the corpus plus everything that shapes its index."""
    recipe = json.dumps(
        {
            "content": eval_set.content_hash,
            "model": model_name,
            "chunking": asdict(chunking),
            "version": CORPUS_INDEX_VERSION,
        },
        sort_keys=True,
    )
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def corpus_documents(eval_set: EvalSet) -> list:
    """The set's corpus as documents for the indexer; each keeps its title apart, and the
    indexer puts the title before every passage it embeds and scores."""
    from qa.documents import Document
    from qa.text import normalize_text

    documents = []
    for entry in eval_set.corpus or ():
        text = normalize_text(entry.text) or normalize_text(entry.title)
        documents.append(
            Document(
                doc_id=entry.doc_id,
                source=entry.doc_id,
                title=normalize_text(entry.title),
                text=text,
                sha256=hashlib.sha256(text.encode()).hexdigest(),
                root=eval_set.name,
            )
        )
    return documents


def corpus_index(
    eval_set: EvalSet,
    model: str | None = None,
    chunking: ChunkingSettings | None = None,
    show_progress: bool = False,
) -> Path:
    """The cached index of an evaluation corpus, built on first use."""
    from embeddings.model import resolve_model
    from qa.indexing import index_documents
    from qa.store import MANIFEST_FILE, recover_interrupted_swap

    chunking = chunking or ChunkingSettings()
    model_name = resolve_model(model)[0]
    index_dir = eval_cache_dir() / f"{eval_set.name}-{corpus_index_key(eval_set, model_name, chunking)}"
    recover_interrupted_swap(index_dir)
    if not (index_dir / MANIFEST_FILE).exists():
        if show_progress:
            from qa.console import stderr_console

            stderr_console().print(
                f"Indexing the {len(eval_set.corpus or ())} documents of {eval_set.name} into {index_dir} (cached)…"
            )
        index_documents(
            corpus_documents(eval_set), index_dir, model=model, show_progress=show_progress, chunking=chunking
        )
    return index_dir


def run_eval(
    eval_set: EvalSet,
    index_dir: Path | None = None,
    model: str | None = None,
    compare: bool = False,
    show_progress: bool = False,
    chunking: ChunkingSettings | None = None,
    settings=None,
) -> EvalReport:
    """Evaluate the configured retrieval (and, with `compare`, BM25 only and dense only)."""
    from qa.collection import Collection, ensure_default_index

    if eval_set.corpus is not None:
        index_dir = corpus_index(eval_set, model, chunking, show_progress)
    elif index_dir is None:
        index_dir = ensure_default_index(model, show_progress=show_progress)
    collection = Collection.open(index_dir, model=model, settings=settings)
    modes: list[str | None] = [None] + (list(COMPARE_MODES) if compare else [])
    all_metrics = {}
    for mode in modes:
        label = mode or collection.retriever.settings.mode
        with _progress_bar(f"Asking ({label})", len(eval_set.questions), show_progress) as advance:
            results = run_questions(collection, eval_set, mode, advance)
        all_metrics[mode] = summarize(eval_set, results) | answer_metrics(eval_set, results)
    return EvalReport(
        dataset=eval_set.name,
        kind=eval_set.kind,
        n_questions=len(eval_set.questions),
        index_dir=Path(index_dir),
        model=collection.manifest.model.name,
        metrics=all_metrics[None],
        compare={mode: all_metrics[mode] for mode in modes if mode},
    )


def answer_metrics(eval_set: EvalSet, results: dict[str, RankedResult]) -> dict[str, float]:
    """What `summarize` leaves out: hit@3 of the follow-up questions (those with a history),
    and the share of answerable questions wrongly abstained on."""
    metrics = {}
    followups = [q for q in eval_set.questions if q.history and q.answers]
    if followups:
        hits = [hit_at_k(results[q.id].passage_texts, q.answers, 3) for q in followups]
        metrics["followup_hit@3"] = sum(hits) / len(hits)
    answerable = [q for q in eval_set.questions if q.answerable]
    if answerable:
        metrics["answerable_abstained"] = sum(results[q.id].abstained for q in answerable) / len(answerable)
    return metrics


def run_questions(
    collection, eval_set: EvalSet, mode: str | None = None, advance: Progress | None = None
) -> dict[str, RankedResult]:
    """One ranked result per question, timed from question to ranked passages."""
    if eval_set.corpus is None:
        ask = _asker(collection, mode)
    else:
        ask = _ranker(collection, mode, eval_set.kind)
    results = {}
    for question in eval_set.questions:
        results[question.id] = ask(question)
        if advance:
            advance(1)
    return results


def _asker(collection, mode: str | None) -> Callable[[EvalQuestion], RankedResult]:
    """Questions about a user's index: the very `ask` the CLI and API call."""

    def ask(question: EvalQuestion) -> RankedResult:
        started = time.perf_counter()
        answer = collection.ask(question.question, top_k=PASSAGES_FOR_HITS, history=question.history, mode=mode)
        latency_ms = (time.perf_counter() - started) * 1000
        return RankedResult(
            passage_texts=[passage.text for passage in answer.passages],
            doc_ids=[passage.citation.doc_id for passage in answer.passages],
            abstained=not answer.answered,
            latency_ms=latency_ms,
        )

    return ask


def _ranker(collection, mode: str | None, kind: str) -> Callable[[EvalQuestion], RankedResult]:
    """Questions about an evaluation corpus: ranked passages, and documents ranked by their
    best passage, deep enough for Recall@100."""
    rows = collection._passages.db.execute("SELECT id, doc_id, text FROM passages").fetchall()
    doc_of = {row["id"]: row["doc_id"] for row in rows}
    text_of = {row["id"]: row["text"] for row in rows}
    passages_per_doc = max(1.0, len(rows) / max(1, len({row["doc_id"] for row in rows})))
    depth = DOCUMENTS_FOR_RANKING if kind == "beir" else PASSAGES_FOR_HITS
    k = int(depth * passages_per_doc * 2) + PASSAGES_FOR_HITS

    def rank(question: EvalQuestion) -> RankedResult:
        started = time.perf_counter()
        ranking = collection.rank(question.question, k, history=question.history, mode=mode)
        latency_ms = (time.perf_counter() - started) * 1000
        ids = [hit.passage_id for hit in ranking.hits]
        return RankedResult(
            passage_texts=[text_of[i] for i in ids[:PASSAGES_FOR_HITS]],
            doc_ids=[doc_of[i] for i in ids],
            abstained=not ranking.confident,
            latency_ms=latency_ms,
        )

    return rank


class _progress_bar:
    """A rich progress bar on stderr, or nothing."""

    def __init__(self, label: str, total: int, show: bool) -> None:
        self.label, self.total, self.show = label, total, show
        self._progress = None

    def __enter__(self) -> Progress:
        if not self.show:
            return lambda n: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from qa.console import stderr_console

        self._progress = Progress(
            TextColumn(self.label),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=stderr_console(),
            transient=True,
        )
        self._progress.start()
        task = self._progress.add_task(self.label, total=self.total)
        return lambda n: self._progress.advance(task, n)

    def __exit__(self, *exc_info) -> None:
        if self._progress is not None:
            self._progress.stop()


METRIC_ORDER = (
    "hit@1", "hit@3", "hit@5", "hit@20", "gold@1", "gold@5", "gold@20", "mrr@10", "ndcg@10", "recall@100",
    "followup_hit@3", "abstain_precision", "abstain_recall", "answerable_abstained", "p50_ms", "p95_ms",
)  # fmt: skip


def print_report(report: EvalReport, eval_set: EvalSet | None = None) -> None:
    """The metrics as a rich table: one column per retrieval mode."""
    from rich.table import Table

    from qa.console import stdout_console

    columns = {"hybrid": report.metrics, **report.compare}
    table = Table(title=f"{report.dataset} · {report.n_questions} questions · {report.kind}", title_justify="left")
    table.add_column("metric")
    for name in columns:
        table.add_column(name, justify="right")
    keys = [key for key in METRIC_ORDER if key in report.metrics]
    counts = _denominators(eval_set) if eval_set is not None else {}
    for key in keys:
        table.add_row(key, *(_format(key, metrics.get(key), counts) for metrics in columns.values()))
    console = stdout_console()
    console.print(table)
    console.print(f"index {report.index_dir} · model {report.model}", style="dim")


def _denominators(eval_set: EvalSet) -> dict[str, int]:
    """Question counts behind the fractions, shown for small sets where '12/13' reads better."""
    if len(eval_set.questions) > 100:
        return {}
    answerable = sum(1 for q in eval_set.questions if q.answers)
    unanswerable = sum(1 for q in eval_set.questions if not q.answerable)
    counts = {f"hit@{k}": answerable for k in (1, 3, 5, 20)}
    counts["abstain_recall"] = unanswerable
    counts["followup_hit@3"] = sum(1 for q in eval_set.questions if q.history and q.answers)
    counts["answerable_abstained"] = sum(1 for q in eval_set.questions if q.answerable)
    return counts


def _format(key: str, value: float | None, counts: dict[str, int]) -> str:
    if value is None:
        return "–"
    if key.endswith("_ms"):
        return f"{value:.1f} ms"
    if key in counts and counts[key]:
        return f"{value:.3f} ({round(value * counts[key])}/{counts[key]})"
    return f"{value:.3f}"


def write_json(report: EvalReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
