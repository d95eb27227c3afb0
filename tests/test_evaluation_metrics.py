"""Metrics against hand-computed cases, and nDCG/recall against pytrec_eval (what BEIR uses)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from qa.evaluation.datasets import EvalQuestion, EvalSet
from qa.evaluation.metrics import (
    QuestionOutcome,
    RankedResult,
    abstention_precision_recall,
    beir_scores,
    contains_answer,
    distinct_doc_ids,
    doc_hit_at_k,
    gold_at_k,
    hit_at_k,
    latency_percentiles,
    ndcg_at_k,
    normalize_for_match,
    percentile,
    question_outcomes,
    recall_at_k,
    reciprocal_rank,
    summarize,
)


def test_normalize_for_match_applies_nfkc_whitespace_and_case():
    assert normalize_for_match("  The\u00a0ﬁnal\n\tＳＣＯＲＥ  ") == "the final score"


def test_contains_answer_matches_across_case_width_and_line_breaks():
    passage = "Rebels announced a\ncease-fire on ＡＰＲＩＬ 1."
    assert contains_answer(passage, ["Cease-fire on April 1"])
    assert contains_answer(passage, ["truce", "april  1"])
    assert not contains_answer(passage, ["ceasefire"])


def test_blank_answers_never_match():
    assert not contains_answer("anything", ["", "   "])
    assert not hit_at_k(["anything"], [], 5)


def test_hit_at_k_looks_only_at_the_first_k_passages():
    passages = ["nothing here", "still nothing", "Treki refused the post"]
    assert not hit_at_k(passages, ["treki"], 1)
    assert not hit_at_k(passages, ["treki"], 2)
    assert hit_at_k(passages, ["treki"], 3)
    assert hit_at_k(passages, ["treki"], 20)
    assert not hit_at_k([], ["treki"], 20)


def test_distinct_doc_ids_keep_first_occurrence():
    assert distinct_doc_ids(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_gold_at_k_counts_distinct_documents():
    ranked = ["x", "x", "x", "gold"]  # passage-level ranks: gold's document is 2nd distinct
    assert not gold_at_k(ranked, {"gold": 1}, 1)
    assert gold_at_k(ranked, {"gold": 1}, 2)
    assert not gold_at_k(ranked, {"gold": 0}, 20)  # judged not relevant
    assert not gold_at_k([], {"gold": 1}, 20)


def test_reciprocal_rank_by_hand():
    assert reciprocal_rank(["x", "x", "y", "g"], {"g": 1}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["g"], {"g": 1}) == 1.0
    assert reciprocal_rank(["a", "g", "h"], {"g": 1, "h": 2}) == 0.5
    ranked = [f"d{i}" for i in range(10)] + ["g"]
    assert reciprocal_rank(ranked, {"g": 1}, k=10) == 0.0
    assert reciprocal_rank(ranked, {"g": 1}, k=11) == pytest.approx(1 / 11)


def test_ndcg_by_hand_with_graded_relevance():
    # DCG = 1/log2(2) + 0 + 2/log2(4) = 2; ideal = 2/log2(2) + 1/log2(3)
    expected = 2 / (2 + 1 / math.log2(3))
    assert ndcg_at_k(["b", "c", "a"], {"a": 2, "b": 1}, 10) == pytest.approx(expected)
    assert ndcg_at_k(["a", "b"], {"a": 2, "b": 1}, 10) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "y"], {"a": 1}, 10) == 0.0
    assert ndcg_at_k(["a"], {"a": 0}, 10) == 0.0  # nothing relevant: 0, not a division error


def test_ndcg_cuts_at_k_and_ignores_repeated_documents():
    relevance = {"g": 1}
    assert ndcg_at_k(["x", "g"], relevance, 1) == 0.0
    assert ndcg_at_k(["x", "x", "g"], relevance, 2) == pytest.approx(1 / math.log2(3))


def test_recall_by_hand():
    relevance = {"a": 1, "b": 2, "c": 0}
    assert recall_at_k(["a", "x", "c"], relevance, 100) == 0.5
    assert recall_at_k(["x", "a", "b"], relevance, 2) == 0.5
    assert recall_at_k(["b", "a"], relevance, 100) == 1.0
    assert recall_at_k(["a"], {"a": 0}, 100) == 0.0


def test_beir_scores_average_over_qrels_and_count_missing_queries_as_zero():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    run = {"q1": ["a"], "q3": ["b"]}  # q2 unanswered, q3 not judged
    assert beir_scores(run, qrels) == {"ndcg@10": 0.5, "recall@100": 0.5}


def test_abstention_precision_recall_by_hand():
    abstained = [True, True, False, False, True]
    unanswerable = [True, False, True, False, True]
    precision, recall = abstention_precision_recall(abstained, unanswerable)
    assert precision == pytest.approx(2 / 3)
    assert recall == pytest.approx(2 / 3)
    assert abstention_precision_recall([False, False], [True, False]) == (None, 0.0)
    assert abstention_precision_recall([True, False], [False, False]) == (0.0, None)
    with pytest.raises(ValueError):
        abstention_precision_recall([True], [True, False])


def test_percentile_by_hand_and_against_numpy():
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0
    assert latency_percentiles([10, 20, 30]) == {"p50_ms": 20, "p95_ms": pytest.approx(29)}
    rng = random.Random(5)
    for _ in range(50):
        values = [rng.uniform(0, 500) for _ in range(rng.randint(1, 40))]
        for q in (0, 50, 95, 100):
            assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    with pytest.raises(ValueError):
        percentile([], 50)


def _random_case(rng: random.Random, n_queries: int = 30, n_docs: int = 300):
    docs = [f"d{i}" for i in range(n_docs)]
    qrels = {
        f"q{q}": {doc: rng.choice([0, 1, 1, 2, 3]) for doc in rng.sample(docs, rng.randint(1, 8))}
        for q in range(n_queries)
    }
    run = {}
    for query_id, judged in qrels.items():
        if rng.random() < 0.1:
            continue  # no result at all for this query
        pool = rng.sample(docs, rng.randint(0, 150)) + list(judged)
        rng.shuffle(pool)
        run[query_id] = distinct_doc_ids(pool)[: rng.randint(0, 150)]
    return run, qrels


@pytest.mark.parametrize("seed", range(5))
def test_ndcg_and_recall_agree_with_pytrec_eval(seed):
    pytrec_eval = pytest.importorskip("pytrec_eval")
    run, qrels = _random_case(random.Random(seed))
    # Strictly decreasing scores: trec_eval ranks by score, so no ties may reorder the run.
    scored_run = {
        query_id: {doc: float(len(ranked) - rank) for rank, doc in enumerate(ranked)}
        for query_id, ranked in run.items()
        if ranked
    }
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"})
    reference = evaluator.evaluate(scored_run)

    for query_id, judged in qrels.items():
        expected = reference.get(query_id, {"ndcg_cut_10": 0.0, "recall_100": 0.0})
        ranked = run.get(query_id, [])
        assert ndcg_at_k(ranked, judged, 10) == pytest.approx(expected["ndcg_cut_10"])
        assert recall_at_k(ranked, judged, 100) == pytest.approx(expected["recall_100"])

    ours = beir_scores(run, qrels)
    n = len(qrels)  # BEIR convention here: every judged query counts, unanswered ones as 0
    assert ours["ndcg@10"] == pytest.approx(sum(scores["ndcg_cut_10"] for scores in reference.values()) / n)
    assert ours["recall@100"] == pytest.approx(sum(scores["recall_100"] for scores in reference.values()) / n)


def test_passage_level_runs_score_like_their_distinct_documents_in_pytrec_eval():
    pytrec_eval = pytest.importorskip("pytrec_eval")
    qrels = {"q": {"a": 1, "b": 2, "c": 1}}
    passages = ["x", "a", "x", "a", "y", "b", "y", "z", "w", "v", "u", "t", "c"]
    distinct = distinct_doc_ids(passages)
    scored = {"q": {doc: float(len(distinct) - rank) for rank, doc in enumerate(distinct)}}
    reference = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"}).evaluate(scored)["q"]
    assert ndcg_at_k(passages, qrels["q"], 10) == pytest.approx(reference["ndcg_cut_10"])
    assert recall_at_k(passages, qrels["q"], 100) == pytest.approx(reference["recall_100"])


def test_doc_hit_counts_passages_from_a_named_page_in_the_first_k():
    sources = [("index.html",), ("c3ref/open.html",), ("capi3ref.html",), ("c3ref/open.html",)]
    assert not doc_hit_at_k(sources, ["capi3ref.html"], 2)
    assert doc_hit_at_k(sources, ["capi3ref.html"], 3)
    assert doc_hit_at_k(sources, ["limits.html", "c3ref/open.html"], 2)
    assert not doc_hit_at_k(sources, ["open.html"], 4)  # a source is a whole path, not a suffix
    assert not doc_hit_at_k([], ["limits.html"], 5) and not doc_hit_at_k(sources, [], 5)


def _result(texts=(), doc_ids=(), abstained=False, latency_ms=10.0, sources=()) -> RankedResult:
    first_quote = texts[0] if texts else None  # as if the whole first passage were highlighted
    return RankedResult(
        list(texts), list(doc_ids), abstained, latency_ms, [(source,) for source in sources], first_quote
    )


def test_summarize_questions_set():
    questions = [
        EvalQuestion("p1", "Who?", answers=["Koussa"], gold_sources=["a.txt"]),
        EvalQuestion("p2", "What?", answers=["barge"], gold_sources=["b.txt"]),
        EvalQuestion("p3", "Unanswerable?"),
    ]
    eval_set = EvalSet("seeds", "questions", questions, None, "hash")
    results = {
        "p1": _result(["Moussa Koussa flew", "other"], ["a", "b"], latency_ms=10, sources=["a.txt", "b.txt"]),
        "p2": _result(["other", "other", "a mega barge"], ["c", "c", "c"], latency_ms=20, sources=["c.txt"] * 3),
        "p3": _result(["closest"], ["c"], abstained=True, latency_ms=30, sources=["c.txt"]),
    }
    metrics = summarize(eval_set, results)
    assert metrics == {
        "hit@1": 0.5,
        "hit@3": 1.0,
        "hit@5": 1.0,
        "hit@20": 1.0,
        # p2's answer is in a passage of c.txt, not of its page b.txt: a passage hit, no page hit
        "doc_hit@1": 0.5,
        "doc_hit@3": 0.5,
        "doc_hit@5": 0.5,
        "abstain_precision": 1.0,
        "abstain_recall": 1.0,
        "p50_ms": 20,
        "p95_ms": pytest.approx(29),
    }


def test_each_question_says_where_its_answer_and_its_page_came():
    questions = [
        EvalQuestion("first", "Who?", answers=["Koussa"], gold_sources=["a.txt"]),
        EvalQuestion("second", "What?", answers=["barge"], gold_sources=["b.txt"]),
        EvalQuestion("lost", "Where?", answers=["Tunisia"], gold_sources=["d.txt"]),
        EvalQuestion("pages-only", "Which?", gold_sources=["c.txt"]),
        EvalQuestion("none", "Unanswerable?"),
    ]
    eval_set = EvalSet("mine", "questions", questions, None, "hash")
    results = {
        "first": _result(["Moussa Koussa flew", "x"], ["a", "b"], sources=["a.txt", "b.txt"]),
        "second": _result(["x", "a mega barge"], ["c", "b"], abstained=True, sources=["c.txt", "b.txt"]),
        "lost": _result(["x"], ["c"], sources=["c.txt"]),
        "pages-only": _result(["x"], ["c"], sources=["c.txt"]),
        "none": _result(["closest"], ["c"], sources=["c.txt"]),
    }
    outcomes = {outcome.id: outcome for outcome in question_outcomes(eval_set, results)}
    first = QuestionOutcome("first", "Who?", True, False, 1, 1, "a.txt", "Moussa Koussa flew", missed=False)
    assert outcomes["first"] == first
    # answered at rank 2, and it abstained: a miss either way
    assert outcomes["second"] == QuestionOutcome("second", "What?", True, True, 2, 2, "c.txt", "x", missed=True)
    # 0: not among the passages returned; None: the set names no answer strings for it
    assert (outcomes["lost"].answer_rank, outcomes["lost"].page_rank, outcomes["lost"].missed) == (0, 0, True)
    assert (outcomes["pages-only"].answer_rank, outcomes["pages-only"].page_rank) == (None, 1)
    assert not outcomes["pages-only"].missed  # judged by its page when it has no answer strings
    assert outcomes["none"].missed and outcomes["none"].answer_rank is None  # unanswerable, and answered


@pytest.mark.parametrize("kind", ["questions", "squad", "beir"])
def test_an_abstention_that_hid_a_right_first_passage_is_counted_apart(kind):
    """`answerable_abstained` counts every answerable question abstained on; `answer_abstained`
    only those whose first passage answered: a reader was told "not confident" about a right answer."""
    from qa.evaluation.runner import answer_metrics

    right, wrong = (["Denver won", "x"], ["000", "001"]), (["x", "Denver won"], ["001", "000"])
    if kind == "questions":
        ask = dict(answers=["Denver"])
    elif kind == "squad":
        ask = dict(answers=["Denver"], gold_doc_ids={"000": 1})
    else:
        ask = dict(gold_doc_ids={"000": 1})
    questions = [EvalQuestion(name, "Who won?", **ask) for name in ("hidden", "doubted", "answered", "missed")]
    eval_set = EvalSet("set", kind, questions, None if kind == "questions" else [], "hash")
    results = {
        "hidden": _result(*right, abstained=True),
        "doubted": _result(*wrong, abstained=True),  # abstained on a wrong first passage: no answer hidden
        "answered": _result(*right),
        "missed": _result(*wrong),
    }
    metrics = answer_metrics(eval_set, results)
    assert (metrics["answerable_abstained"], metrics["answer_abstained"]) == (0.5, 0.25)


def test_summarize_squad_set():
    questions = [
        EvalQuestion("s1", "q", answers=["Denver"], gold_doc_ids={"000-000": 1}),
        EvalQuestion("s2", "q", answers=["Warsaw"], gold_doc_ids={"001-000": 1}),
    ]
    eval_set = EvalSet("dev", "squad", questions, [], "hash")
    results = {
        "s1": _result(["Denver won", "x"], ["000-000", "001-000"]),
        "s2": _result(["x", "x", "y"], ["000-000", "000-000", "001-000"]),
    }
    metrics = summarize(eval_set, results)
    assert metrics["hit@1"] == 0.5 and metrics["hit@20"] == 0.5
    assert metrics["gold@1"] == 0.5 and metrics["gold@5"] == 1.0 and metrics["gold@20"] == 1.0
    assert metrics["mrr@10"] == pytest.approx((1 + 1 / 2) / 2)
    assert "ndcg@10" not in metrics and "abstain_precision" not in metrics and "doc_hit@1" not in metrics


def test_summarize_beir_set():
    questions = [
        EvalQuestion("1", "claim", gold_doc_ids={"a": 1}),
        EvalQuestion("2", "claim", gold_doc_ids={"b": 1}),
    ]
    eval_set = EvalSet("scifact", "beir", questions, [], "hash")
    results = {"1": _result(["t"], ["a"]), "2": _result()}
    metrics = summarize(eval_set, results)
    assert metrics == {
        "ndcg@10": 0.5,
        "recall@100": 0.5,
        "p50_ms": 10.0,
        "p95_ms": 10.0,
    }


def test_summarize_requires_a_result_for_every_question():
    eval_set = EvalSet("x", "beir", [EvalQuestion("1", "q", gold_doc_ids={"a": 1})], [], "h")
    with pytest.raises(ValueError, match="'1'"):
        summarize(eval_set, {})


def test_doc_hit_counts_every_place_a_passage_cites():
    """A passage quoted once but standing at two places (`also`) finds the right page at either."""
    sources = [("faq.html",), ("usage/general.html", "man_intro.html")]
    assert doc_hit_at_k(sources, ["man_intro.html"], 2)
    assert not doc_hit_at_k(sources, ["man_intro.html"], 1)
