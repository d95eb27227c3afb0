"""Evaluation metrics as pure functions over ranked lists, so each can be checked by hand.

doc_hit@k asks whether one of the first k passages comes from a page that holds the answer (a JSONL
question's `docs`, compared to each passage's source, and to the other places an answer's `also`
shows holding the same text): the right page found, whether or not the quoted passage is the one
with the answer. The other document-level metrics (gold@k, MRR, nDCG, recall) look at distinct
document ids in rank order: several passages of one document count once, at the rank of its first
passage. Relevance follows trec_eval (and so BEIR): a document is relevant when its judgement is 1
or more, and nDCG's gain is the judgement itself.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from qa.evaluation.datasets import EvalQuestion, EvalSet

HIT_KS = (1, 3, 5, 20)
GOLD_KS = (1, 5, 20)
DOC_HIT_KS = (1, 3, 5)


def normalize_for_match(text: str) -> str:
    """NFKC, whitespace runs collapsed to one space, lower case: the eval README's answer match."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).lower()


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """True when `text` contains one of `answers` after normalisation; blank answers never match."""
    haystack = normalize_for_match(text)
    return any(needle and needle in haystack for needle in (normalize_for_match(a) for a in answers))


def hit_at_k(passage_texts: Sequence[str], answers: Iterable[str], k: int) -> bool:
    """Does one of the first `k` passages contain an answer string?"""
    answers = list(answers)
    return any(contains_answer(text, answers) for text in passage_texts[:k])


def answer_rank(passage_texts: Sequence[str], answers: Iterable[str]) -> int:
    """The rank (from 1) of the first passage that contains an answer string, 0 if none does."""
    answers = list(answers)
    return next((rank for rank, text in enumerate(passage_texts, 1) if contains_answer(text, answers)), 0)


def page_rank(passage_sources: Sequence[Sequence[str]], gold_sources: Iterable[str]) -> int:
    """The rank (from 1) of the first passage from one of `gold_sources` (as `doc_hit_at_k`), 0 if none."""
    gold = set(gold_sources)
    return next((rank for rank, sources in enumerate(passage_sources, 1) if not gold.isdisjoint(sources)), 0)


def doc_hit_at_k(passage_sources: Sequence[Sequence[str]], gold_sources: Iterable[str], k: int) -> bool:
    """Does one of the first `k` passages come from one of `gold_sources` (exact source paths)? Each
    passage's sources are its citation's path, then those of the other places holding the same text
    (the answer's `also`): each of them quotes it."""
    gold = set(gold_sources)
    return any(not gold.isdisjoint(sources) for sources in passage_sources[:k])


def distinct_doc_ids(ranked_doc_ids: Iterable[str]) -> list[str]:
    """Document ids in order of first appearance (one per document, at its best rank)."""
    return list(dict.fromkeys(ranked_doc_ids))


def gold_at_k(ranked_doc_ids: Sequence[str], relevance: Mapping[str, int], k: int) -> bool:
    """Is a relevant document among the first `k` distinct documents?"""
    return any(relevance.get(doc_id, 0) > 0 for doc_id in distinct_doc_ids(ranked_doc_ids)[:k])


def reciprocal_rank(ranked_doc_ids: Sequence[str], relevance: Mapping[str, int], k: int = 10) -> float:
    """1 / rank of the first relevant document among the first `k` distinct ones, else 0."""
    for rank, doc_id in enumerate(distinct_doc_ids(ranked_doc_ids)[:k], start=1):
        if relevance.get(doc_id, 0) > 0:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked_doc_ids: Sequence[str], relevance: Mapping[str, int], k: int = 10) -> float:
    """trec_eval's ndcg_cut: gain = judgement, discount log2(rank + 1), ideal from all judgements."""
    gains = [max(relevance.get(doc_id, 0), 0) for doc_id in distinct_doc_ids(ranked_doc_ids)[:k]]
    ideal_gains = sorted((r for r in relevance.values() if r > 0), reverse=True)[:k]
    ideal = _dcg(ideal_gains)
    return _dcg(gains) / ideal if ideal > 0 else 0.0


def recall_at_k(ranked_doc_ids: Sequence[str], relevance: Mapping[str, int], k: int = 100) -> float:
    """Share of the relevant documents found among the first `k` distinct ones (0 if none exist)."""
    relevant = {doc_id for doc_id, r in relevance.items() if r > 0}
    if not relevant:
        return 0.0
    found = relevant.intersection(distinct_doc_ids(ranked_doc_ids)[:k])
    return len(found) / len(relevant)


def beir_scores(
    run: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Mapping[str, int]],
    ndcg_k: int = 10,
    recall_k: int = 100,
) -> dict[str, float]:
    """Mean nDCG@k and Recall@k over every query in `qrels`; a query absent from `run` scores 0.

    `run` maps a query id to its ranked document ids. BEIR computes the same per-query figures
    with pytrec_eval (`ndcg_cut.10`, `recall.100`).
    """
    if not qrels:
        raise ValueError("no queries to evaluate")
    ndcg = [ndcg_at_k(run.get(query_id, ()), judged, ndcg_k) for query_id, judged in qrels.items()]
    recall = [recall_at_k(run.get(query_id, ()), judged, recall_k) for query_id, judged in qrels.items()]
    return {f"ndcg@{ndcg_k}": _mean(ndcg), f"recall@{recall_k}": _mean(recall)}


def abstention_precision_recall(
    abstained: Sequence[bool], unanswerable: Sequence[bool]
) -> tuple[float | None, float | None]:
    """Precision: share of abstentions that were right; recall: share of unanswerable questions
    abstained on. Either is None when its denominator is 0 (nothing abstained / nothing to)."""
    if len(abstained) != len(unanswerable):
        raise ValueError("abstained and unanswerable must have one entry per question")
    right = sum(1 for a, u in zip(abstained, unanswerable, strict=True) if a and u)
    n_abstained = sum(1 for a in abstained if a)
    n_unanswerable = sum(1 for u in unanswerable if u)
    precision = right / n_abstained if n_abstained else None
    recall = right / n_unanswerable if n_unanswerable else None
    return precision, recall


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolating linearly between closest ranks.

    The method is numpy's default ("linear", Hyndman & Fan type 7): position (n - 1) * q / 100.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0-100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def latency_percentiles(latencies_ms: Sequence[float]) -> dict[str, float]:
    """p50 and p95 query latency in milliseconds (see `percentile` for the method)."""
    return {"p50_ms": percentile(latencies_ms, 50), "p95_ms": percentile(latencies_ms, 95)}


@dataclass(frozen=True)
class RankedResult:
    """What the system returned for one question, reduced to what the metrics read.

    `doc_ids[i]` is the document of passage `i` and `sources[i]` its source paths: its citation's,
    then those of the other places holding the same text (filled for questions asked of an index,
    where `docs` name files); all lists are in rank order. Passages returned with an
    abstention still count for hit@k and the ranking metrics. `first_quote` is the first passage's
    highlighted sentence (questions asked of an index), for a person judging a miss, and
    `missing_words` the question's words that no passage holds.
    """

    passage_texts: list[str]
    doc_ids: list[str]
    abstained: bool
    latency_ms: float
    sources: list[tuple[str, ...]] = field(default_factory=list)
    first_quote: str | None = None
    missing_words: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class QuestionOutcome:
    """One question's fate, for a person reading why a set scored as it did (`qa eval --misses`,
    and `--json`'s `questions`): the rank (from 1) of the first passage holding an answer string and
    of the first from a page that holds one (0: none of the passages returned; None: the set gives
    no answer strings, or no pages, for it), whether it abstained, and where the first passage
    came from and what its highlight says (a miss may answer in other words: the set's `judged`),
    and the question's words that no passage holds (`missing_words` of the answer)."""

    id: str
    question: str
    answerable: bool
    abstained: bool
    answer_rank: int | None
    page_rank: int | None
    first_source: str | None
    first_quote: str | None
    # Answerable, and it abstained or its first passage holds no answer string (with pages only:
    # is from another page); or unanswerable, and it answered.
    missed: bool
    missing_words: list[str] = field(default_factory=list)


def first_answers(question: EvalQuestion, result: RankedResult) -> bool:
    """Does the first passage answer: hold an answer string; for a question that names only its
    pages, come from one; for SQuAD and BEIR, come from a relevant document?"""
    if question.answers:
        return hit_at_k(result.passage_texts, question.answers, 1)
    if question.gold_sources:
        return doc_hit_at_k(result.sources, question.gold_sources, 1)
    return gold_at_k(result.doc_ids, question.gold_doc_ids, 1)


def question_outcomes(eval_set: EvalSet, results: Mapping[str, RankedResult]) -> list[QuestionOutcome]:
    """Each question's outcome, in the set's order."""
    outcomes = []
    for question in eval_set.questions:
        result = results[question.id]
        by_answer = answer_rank(result.passage_texts, question.answers) if question.answers else None
        by_page = page_rank(result.sources, question.gold_sources) if question.gold_sources else None
        first_right = first_answers(question, result)
        outcomes.append(
            QuestionOutcome(
                id=question.id,
                question=question.question,
                answerable=question.answerable,
                abstained=result.abstained,
                answer_rank=by_answer,
                page_rank=by_page,
                first_source=result.sources[0][0] if result.sources else None,
                first_quote=result.first_quote,
                missed=(result.abstained or not first_right) if question.answerable else not result.abstained,
                missing_words=result.missing_words,
            )
        )
    return outcomes


def summarize(eval_set: EvalSet, results: Mapping[str, RankedResult]) -> dict[str, float | None]:
    """The metrics that apply to this set, under the keys `qa eval --json` writes.

    hit@k over questions with answer strings; doc_hit@k over questions that name their pages
    (`docs`); gold@k and mrr@10 for SQuAD; ndcg@10 and
    recall@100 for BEIR; abstention precision/recall when some question is unanswerable
    (None when undefined); latency always. `results` maps every question id to its result.
    """
    missing = [question.id for question in eval_set.questions if question.id not in results]
    if missing:
        raise ValueError(f"no result for question {missing[0]!r}")
    pairs: list[tuple[EvalQuestion, RankedResult]] = [
        (question, results[question.id]) for question in eval_set.questions
    ]
    metrics: dict[str, float | None] = {}

    with_answers = [(q, r) for q, r in pairs if q.answers]
    if with_answers:
        for k in HIT_KS:
            metrics[f"hit@{k}"] = _mean(hit_at_k(r.passage_texts, q.answers, k) for q, r in with_answers)

    with_pages = [(q, r) for q, r in pairs if q.gold_sources]
    if with_pages:
        for k in DOC_HIT_KS:
            metrics[f"doc_hit@{k}"] = _mean(doc_hit_at_k(r.sources, q.gold_sources, k) for q, r in with_pages)

    with_gold = [(q, r) for q, r in pairs if q.gold_doc_ids]
    if eval_set.kind == "squad" and with_gold:
        for k in GOLD_KS:
            metrics[f"gold@{k}"] = _mean(gold_at_k(r.doc_ids, q.gold_doc_ids, k) for q, r in with_gold)
        metrics["mrr@10"] = _mean(reciprocal_rank(r.doc_ids, q.gold_doc_ids, 10) for q, r in with_gold)

    if eval_set.kind == "beir":
        metrics.update(beir_scores({q.id: r.doc_ids for q, r in pairs}, {q.id: q.gold_doc_ids for q, _ in pairs}))

    if any(not q.answerable for q, _ in pairs):
        precision, recall = abstention_precision_recall(
            [r.abstained for _, r in pairs], [not q.answerable for q, _ in pairs]
        )
        metrics["abstain_precision"] = precision
        metrics["abstain_recall"] = recall

    metrics.update(latency_percentiles([r.latency_ms for _, r in pairs]))
    return metrics


def _dcg(gains: Sequence[float]) -> float:
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0
