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

from embeddings import Encoder
from qa.errors import InvalidInput
from qa.evaluation.datasets import EvalQuestion, EvalSet
from qa.evaluation.metrics import (
    QuestionOutcome,
    RankedResult,
    first_answers,
    hit_at_k,
    question_outcomes,
    summarize,
)
from qa.events import OnProgress, Progress, ignore
from qa.ingest.chunking import ChunkingSettings

COMPARE_MODES = ("bm25", "dense")
PASSAGES_FOR_HITS = 20
DOCUMENTS_FOR_RANKING = 100
# Bump when what the cached corpus index holds changes for the same inputs.
CORPUS_INDEX_VERSION = 2

Advance = Callable[[int], None]


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
    # Each question's outcome with the configured retrieval, for sets asked of an index (JSONL).
    questions: list[QuestionOutcome] = field(default_factory=list)

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
        if self.questions:
            report["questions"] = [asdict(outcome) for outcome in self.questions]
        return report


def eval_cache_dir() -> Path:
    from qa.config import data_home

    return data_home() / "eval-cache"


def corpus_index_key(
    eval_set: EvalSet, model_name: str, chunking: ChunkingSettings, quantized: bool = False, passages: str = "float32"
) -> str:
    """Content hash of the corpus plus everything that shapes its index."""
    recipe = {
        "content": eval_set.content_hash,
        "model": model_name,
        "chunking": asdict(chunking),
        "version": CORPUS_INDEX_VERSION,
    }
    if quantized:  # only then, so that the float32 caches made before int8 keep their keys
        recipe["quantized"] = True
    elif passages != "float32":  # the same for bfloat16 passages
        recipe["passages"] = passages
    recipe = json.dumps(recipe, sort_keys=True)
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def corpus_documents(eval_set: EvalSet) -> list:
    """The set's corpus as documents for the indexer; each keeps its title apart, and the
    indexer puts the title before every passage it embeds and scores."""
    from qa.ingest.documents import Document
    from qa.text.normalize import normalize_text

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
    encoder: Encoder | None = None,
    on_progress: OnProgress = ignore,
) -> Path:
    """The cached index of an evaluation corpus, built on first use."""
    from qa.ingest.indexing import ensure_index, new_index_encoder

    chunking = chunking or ChunkingSettings()
    encoder = encoder or new_index_encoder(model)  # to know what it embeds passages in
    passages = getattr(encoder, "passage_precision", "float32")
    key = corpus_index_key(eval_set, encoder.name, chunking, encoder.quantized, passages)
    index_dir = eval_cache_dir() / f"{eval_set.name}-{key}"
    name = f"the {len(eval_set.corpus or ())} documents of {eval_set.name}"
    return ensure_index(index_dir, corpus_documents(eval_set), name, model, encoder, chunking, on_progress)


def asked_elsewhere(eval_set: EvalSet, corpus_set: EvalSet | None = None) -> EvalSet:
    """`eval_set`'s questions with no answer, to ask of a corpus that cannot answer them (another
    set's corpus, or an index of other documents): the unanswerable side of the calibration set
    (docs/EVALUATION.md). Every one should abstain."""
    questions = [EvalQuestion(id=q.id, question=q.question, history=q.history) for q in eval_set.questions]
    where = corpus_set.name if corpus_set is not None else "the index"
    return EvalSet(
        name=f"{eval_set.name} asked of {where}",
        kind="questions",
        questions=questions,
        corpus=corpus_set.corpus if corpus_set is not None else None,
        content_hash=eval_set.content_hash,
    )


def run_eval(
    eval_set: EvalSet,
    index_dir: Path | None = None,
    model: str | None = None,
    compare: bool = False,
    chunking: ChunkingSettings | None = None,
    settings=None,
    encoder: Encoder | None = None,
    on_progress: OnProgress = ignore,
    against: EvalSet | None = None,
) -> EvalReport:
    """Evaluate the configured retrieval (and, with `compare`, BM25 only and dense only).

    With `against`, the questions are asked of that set's corpus instead, where none has an answer.
    """
    from qa.collection import Collection, ensure_default_index
    from qa.ingest.indexing import new_index_encoder

    if against is not None or eval_set.corpus is not None:  # one encoder builds the corpus's index and asks
        encoder = encoder or new_index_encoder(model)
    if against is not None:
        if against.corpus is None:
            raise InvalidInput(f"--against needs a SQuAD file or a BEIR folder (a corpus), not {against.name}")
        index_dir = corpus_index(against, model, chunking, encoder, on_progress)
        eval_set = asked_elsewhere(eval_set, against)
    elif eval_set.corpus is not None:
        index_dir = corpus_index(eval_set, model, chunking, encoder, on_progress)
    if index_dir is None:
        index_dir = ensure_default_index(model, encoder, on_progress)
    collection = Collection.open(index_dir, model=model, encoder=encoder, settings=settings)
    modes: list[str | None] = [None] + (list(COMPARE_MODES) if compare else [])
    all_metrics, outcomes = {}, []
    for mode in modes:
        task = f"Asking ({mode or collection.retriever.settings.mode})"
        total = len(eval_set.questions)

        def advance(done: int, task: str = task, total: int = total) -> None:
            on_progress(Progress(task, done, total))

        results = run_questions(collection, eval_set, mode, advance)
        all_metrics[mode] = summarize(eval_set, results) | answer_metrics(eval_set, results)
        if mode is None and eval_set.corpus is None:
            outcomes = question_outcomes(eval_set, results)
    return EvalReport(
        dataset=eval_set.name,
        kind=eval_set.kind,
        n_questions=len(eval_set.questions),
        index_dir=Path(collection.index_dir),
        model=collection.manifest.model.name,
        metrics=all_metrics[None],
        compare={mode: all_metrics[mode] for mode in modes if mode},
        questions=outcomes,
    )


def fit_abstention(
    eval_set: EvalSet,
    index_dir: Path | None = None,
    model: str | None = None,
    fitted_on: str = "",
    on_progress: OnProgress = ignore,
):
    """Fit when the index abstains to `eval_set`'s questions, answerable and not, and keep the
    threshold beside the index (qa.search.abstention); returns the fit's report."""
    from qa.collection import Collection, ensure_default_index
    from qa.search import abstention
    from qa.search.confidence import WITHOUT_READING
    from qa.store.manifest import utc_now

    if eval_set.corpus is not None:
        raise InvalidInput(
            "--fit-abstention fits an index to its own questions: give a JSONL file of questions about it, "
            "not a SQuAD or BEIR set"
        )
    answerable = [question.answerable for question in eval_set.questions]
    try:
        abstention.require_both_kinds(answerable)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    if index_dir is None:
        index_dir = ensure_default_index(model, None, on_progress)
    collection = Collection.open(index_dir, model=model)
    probabilities, known, named, by_default = [], [], [], []
    for done, question in enumerate(eval_set.questions, 1):
        # Judged as if no threshold were fitted: the default's verdict (reading where it reads), and
        # today's five signals' probability, which a fitted threshold is fitted to.
        judged = collection.rank(question.question, PASSAGES_FOR_HITS, question.history, judged=abstention.DEFAULT)
        confidence = judged.confidence
        probabilities.append(WITHOUT_READING.judges(confidence))
        known.append(confidence.known)
        named.append(confidence.names > 0)
        by_default.append(not confidence.confident)
        on_progress(Progress("Fitting when to abstain", done, len(eval_set.questions)))
    report = abstention.fit(probabilities, answerable, fitted_on, utc_now().isoformat(), known, named, by_default)
    if report.keeps_default:
        abstention.clear(collection.index_dir)
    else:
        abstention.write(collection.index_dir, report.abstention)
    return report


def answer_metrics(eval_set: EvalSet, results: dict[str, RankedResult]) -> dict[str, float]:
    """What `summarize` leaves out: hit@3 of the follow-up questions (those with a history), the
    share of answerable questions wrongly abstained on (`answerable_abstained`; and among them,
    `answer_abstained`: those whose first passage answered, where abstaining hid a right answer
    rather than a wrong one), and of unanswerable ones answered."""
    metrics = {}
    followups = [q for q in eval_set.questions if q.history and q.answers]
    if followups:
        hits = [hit_at_k(results[q.id].passage_texts, q.answers, 3) for q in followups]
        metrics["followup_hit@3"] = sum(hits) / len(hits)
    answerable = [q for q in eval_set.questions if q.answerable]
    if answerable:
        metrics["answerable_abstained"] = sum(results[q.id].abstained for q in answerable) / len(answerable)
        hidden = sum(results[q.id].abstained and first_answers(q, results[q.id]) for q in answerable)
        metrics["answer_abstained"] = hidden / len(answerable)
    unanswerable = [q for q in eval_set.questions if not q.answerable]
    if unanswerable:
        metrics["unanswerable_answered"] = sum(not results[q.id].abstained for q in unanswerable) / len(unanswerable)
    return metrics


def run_questions(
    collection, eval_set: EvalSet, mode: str | None = None, advance: Advance | None = None
) -> dict[str, RankedResult]:
    """One ranked result per question, timed from question to ranked passages."""
    if eval_set.corpus is None:
        ask = _asker(collection, mode)
    else:
        ask = _ranker(collection, mode, eval_set.kind)
    results = {}
    for done, question in enumerate(eval_set.questions, 1):
        results[question.id] = ask(question)
        if advance:
            advance(done)
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
            sources=[(p.citation.source, *(also.source for also in p.also)) for p in answer.passages],
            first_quote=answer.passages[0].highlighted if answer.passages else None,
            missing_words=answer.missing_words,
        )

    return ask


def _ranker(collection, mode: str | None, kind: str) -> Callable[[EvalQuestion], RankedResult]:
    """Questions about an evaluation corpus: ranked passages, and documents ranked by their
    best passage, deep enough for Recall@100."""
    searcher = collection.searcher()
    doc_of, text_of = {}, {}
    for passage_id, doc_id, text in searcher.snapshot.passage_texts():
        doc_of[passage_id], text_of[passage_id] = doc_id, text
    passages_per_doc = max(1.0, len(doc_of) / max(1, len(set(doc_of.values()))))
    depth = DOCUMENTS_FOR_RANKING if kind == "beir" else PASSAGES_FOR_HITS
    k = int(depth * passages_per_doc * 2) + PASSAGES_FOR_HITS

    def rank(question: EvalQuestion) -> RankedResult:
        started = time.perf_counter()
        ranking = collection.rank(question.question, k, history=question.history, mode=mode, searcher=searcher)
        latency_ms = (time.perf_counter() - started) * 1000
        ids = [hit.passage_id for hit in ranking.hits]
        return RankedResult(
            passage_texts=[text_of[i] for i in ids[:PASSAGES_FOR_HITS]],
            doc_ids=[doc_of[i] for i in ids],
            abstained=not ranking.confident,
            latency_ms=latency_ms,
        )

    return rank


def write_json(report: EvalReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
