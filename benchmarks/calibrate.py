"""Calibrating `answered`: the public calibration set, the signals of each question, the fit.

The set (docs/EVALUATION.md) pairs questions with corpora, from ../shared/eval only:

- answerable: SQuAD dev-a questions on their own paragraphs; SciFact test claims on SciFact;
  the seeds' answerable questions on the seeds;
- unanswerable: SciFact claims on SQuAD paragraphs and on the seeds; SQuAD questions on the
  seeds and on SciFact; the seeds' answerable questions on SQuAD and SciFact; the seeds'
  unanswerable questions on the seeds; SQuAD questions on their own article with their paragraph
  withheld (`withheld_squad`: about the corpus's own subject, as a documentation set's are; in the
  fit, and reported apart from the targets).

`collect` asks every question through `Collection.rank` (the query path) on the cached indexes
and writes each one's confidence signals to benchmarks/results/calibration_signals.json; `fit`
fits a logistic regression on half of them (SQuAD split by article, the rest by question id),
picks the operating point on that half, and reports it on the other half and on each source.

    python -m benchmarks.calibrate collect [--sample 1000]
    python -m benchmarks.calibrate fit
    python -m benchmarks.calibrate check   # qa/search/confidence.py's constants on the signals collected now
    python -m benchmarks.calibrate holdout --sqlite-index I --borg-index J
    python -m benchmarks.calibrate withheld --docs FOLDER   # FOLDER holds sqlite-docs.qa … pdf-docs.qa
    python -m benchmarks.calibrate ceiling   # how far abstention can go on the documentation sets

`holdout` asks whether the documentation sets' questions (benchmarks/sets/*-docs, on indexes you
built of their corpora) belong in the fit: it refits on the public fit half plus one documentation
set, its questions weighing `alpha` times the public ones in total, and judges the other
documentation set, which the fit never saw, and the public report half. `withheld` refits with the
withheld-paragraph questions weighing from none to half of the unanswerable side, and judges each
refit on the four documentation sets, which no fit sees.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import zlib
from pathlib import Path

import numpy as np

from benchmarks.common import REPO, RESULTS, load_average, print_table, write_results
from benchmarks.corpora import DOC_QUESTIONS, doc_set_questions
from qa.search.confidence import READING, WITHOUT_READING
from qa.search.sentence_scores import sentence_terms

SHARED_EVAL = REPO.parent / "shared" / "eval"
SIGNALS_FILE = RESULTS / "calibration_signals.json"
FOUR = ("dense", "coverage", "known", "margin")  # the signals before `named` (docs/EVALUATION.md)
FIVE = WITHOUT_READING.signals  # before `reading`
SIGNALS = READING.signals  # the shipped six
# The targets: at most 1% of answerable questions abstain, at most 5% of unanswerable ones are
# answered. The threshold is chosen on the fit half at 0.75% abstained: a half holds ~3,000
# answerable questions, whose abstention rate moves by ±0.2 point from one half to the other.
MAX_ANSWERABLE_ABSTAINED = 0.01
MAX_UNANSWERABLE_ANSWERED = 0.05
FIT_ANSWERABLE_ABSTAINED = 0.0075
RANKED = 20
# SQuAD questions asked of their article without their paragraph: unanswerable, like the rest of
# the unanswerable side, but asked of the corpus's own subject. They are in the fit; the targets
# are judged without them (no model here answers fewer than 70 % of them), and they are reported apart.
WITHHELD = "squad→squad, paragraph withheld"


def _half(key: str) -> str:
    return "fit" if zlib.crc32(key.encode()) % 2 == 0 else "report"


def _squad_half(question) -> str:
    article = int(next(iter(question.gold_doc_ids)).split("-")[0])
    return "fit" if article % 2 == 0 else "report"


def _sample(items: list, size: int | None, seed: int = 0) -> list:
    if size is None or len(items) <= size:
        return list(items)
    return random.Random(seed).sample(items, size)


def _scifact_claims() -> list[tuple[str, str]]:
    lines = (SHARED_EVAL / "scifact" / "queries.jsonl").read_text("utf-8").splitlines()
    return [(record["_id"], record["text"]) for record in map(json.loads, filter(str.strip, lines))]


def public_sets() -> tuple:
    """SQuAD dev-a, SciFact and the seed questions from ../shared/eval, and SQuAD's even
    paragraphs with the questions they leave unanswered (`withheld_squad`)."""
    from qa.evaluation.datasets import load_beir, load_questions, load_squad

    squad = load_squad(SHARED_EVAL / "squad" / "dev-a.json")
    scifact = load_beir(SHARED_EVAL / "scifact")
    seeds = load_questions(SHARED_EVAL / "seeds" / "questions.jsonl")
    return squad, scifact, seeds, *withheld_squad(squad)


def questions_plan(squad, scifact, seeds, withheld, sample: int) -> list[tuple[str, str, bool, list[tuple]]]:
    """The calibration set: (source, corpus, answerable, [(id, question, history, half)]) for each
    pairing of questions with a corpus (the module's docstring lists them); `sample` questions per
    cross-corpus source."""
    claims = _scifact_claims()
    squad_sample = _sample(squad.questions, sample)
    seeds_answerable = [q for q in seeds.questions if q.answerable]
    return [
        ("squad→squad", "squad", True, [(q.id, q.question, [], _squad_half(q)) for q in squad.questions]),
        ("scifact→scifact", "scifact", True, [(q.id, q.question, [], _half(q.id)) for q in scifact.questions]),
        ("seeds→seeds", "seeds", True, [(q.id, q.question, q.history, _half(q.id)) for q in seeds_answerable]),
        (
            "seeds unanswerable→seeds",
            "seeds",
            False,
            [(q.id, q.question, q.history, _half(q.id)) for q in seeds.questions if not q.answerable],
        ),
        ("scifact→squad", "squad", False, [(i, text, [], _half(i)) for i, text in _sample(claims, sample)]),
        ("scifact→seeds", "seeds", False, [(i, text, [], _half(i)) for i, text in _sample(claims, sample, 1)]),
        ("squad→seeds", "seeds", False, [(q.id, q.question, [], _squad_half(q)) for q in squad_sample]),
        ("squad→scifact", "scifact", False, [(q.id, q.question, [], _squad_half(q)) for q in squad_sample]),
        (
            "squad→squad, paragraph withheld",
            "squad-even",
            False,
            [(q.id, q.question, [], _squad_half(q)) for q in withheld],
        ),
        ("seeds→squad", "squad", False, [(q.id, q.question, q.history, _half(q.id)) for q in seeds_answerable]),
        ("seeds→scifact", "scifact", False, [(q.id, q.question, q.history, _half(q.id)) for q in seeds_answerable]),
    ]


def collect(
    sample: int, only: set[str] | None = None, collections: dict | None = None, sentence_dense: bool = True
) -> list[dict]:
    """The signals of every question in the plan. `collections` ({"squad", "scifact", "seeds"}:
    Collection) replaces the cached indexes of the default model (benchmarks.compare_int8 passes
    int8 ones); without `sentence_dense` the experimental signal is left at 0."""
    squad, scifact, seeds, even_paragraphs, withheld = public_sets()
    collections = collections or default_collections(squad, scifact, even_paragraphs)

    known_sentence_dense = {}
    if sentence_dense and SIGNALS_FILE.exists():
        for row in json.loads(SIGNALS_FILE.read_text("utf-8"))["rows"]:
            known_sentence_dense[(row["source"], row["id"])] = row["sentence_dense"]
    plan = questions_plan(squad, scifact, seeds, withheld, sample)
    rows = []
    for source, corpus, answerable, questions in plan:
        if only and source not in only:
            continue
        collection = collections[corpus]
        searcher = collection.searcher()
        snapshot = searcher.snapshot
        started = time.perf_counter()
        for question_id, question, history, half in questions:
            ranking = read_anyway(collection, collection.rank(question, RANKED, history=history, searcher=searcher))
            confidence = ranking.confidence
            dense_of_sentence = 0.0
            if sentence_dense:
                dense_of_sentence = known_sentence_dense.get((source, question_id)) or _sentence_dense(
                    collection, snapshot, ranking
                )
            rows.append(
                {
                    "source": source,
                    "id": question_id,
                    "answerable": answerable,
                    "half": half,
                    **dict(zip(SIGNALS, confidence.vector())),
                    **_candidates(snapshot, ranking),
                    "sentence_dense": dense_of_sentence,
                }
            )
        print(f"{source}: {len(questions)} questions in {time.perf_counter() - started:.0f} s", flush=True)
    return rows


def read_anyway(collection, ranking):
    """`ranking` with its question read against its first passage, as answering reads it where the
    five signals leave the verdict open: the sixth signal of every question, for the fit."""
    from dataclasses import replace

    from qa.search.confidence import reading_of, with_reading

    confidence = ranking.confidence
    if confidence.reading is not None or not ranking.hits or collection.reader is None:
        return ranking
    top = collection.snapshot().passages([ranking.hits[0].passage_id])[ranking.hits[0].passage_id]
    return replace(
        ranking,
        confidence=with_reading(confidence, reading_of(collection.reader, ranking.query.text, top.text, top.section)),
    )


def withheld_squad(squad):
    """SQuAD dev-a with every other paragraph of each article withheld, and the questions of the
    withheld paragraphs whose answers no kept paragraph holds: unanswerable questions asked of the
    corpus's own subject (the article's other paragraphs), as a documentation set's are, where the
    other unanswerable sources ask of another corpus."""
    from dataclasses import replace

    from qa.evaluation.metrics import normalize_for_match

    kept = [doc for doc in squad.corpus if int(doc.doc_id.split("-")[1]) % 2 == 0]
    text = normalize_for_match("\n".join(doc.text for doc in kept))  # once, not once a question
    withheld = [
        q
        for q in squad.questions
        if int(next(iter(q.gold_doc_ids)).split("-")[1]) % 2 == 1
        and not any(normalize_for_match(answer) in text for answer in q.answers)
    ]
    corpus = replace(
        squad, name=f"{squad.name}-even-paragraphs", corpus=kept, content_hash=squad.content_hash + "-even"
    )
    return corpus, withheld


def default_collections(squad, scifact, even_paragraphs) -> dict:
    """The cached corpus indexes of SQuAD dev-a, of its even paragraphs (`withheld_squad`) and of
    SciFact, and the seeds index, as `qa eval` makes them."""
    from qa.collection import Collection, ensure_default_index
    from qa.evaluation.runner import corpus_index

    collections = {"squad": Collection.open(corpus_index(squad))}
    encoder = collections["squad"].encoder
    collections["scifact"] = Collection.open(corpus_index(scifact), encoder=encoder)
    collections["seeds"] = Collection.open(ensure_default_index(encoder=encoder), encoder=encoder)
    collections["squad-even"] = Collection.open(corpus_index(even_paragraphs), encoder=encoder)
    return collections


def _candidates(snapshot, ranking) -> dict[str, float]:
    """Further cheap signals tried beside qa.search.confidence's (docs/EVALUATION.md says which helped)."""
    hits = ranking.hits
    if not hits:
        return dict.fromkeys(CANDIDATES, 0.0)
    terms = list(dict.fromkeys(ranking.query.terms))
    dense = [hit.dense for hit in hits[:10]]
    top_text = snapshot.passages([hits[0].passage_id])[hits[0].passage_id].text
    passage_terms = set().union(*(counts for _, _, _, counts in sentence_terms(top_text)))
    idf_total = sum(ranking.idf.values()) or 1.0
    return {
        "dense_first": hits[0].dense,
        "dense_gap": dense[0] - float(np.mean(dense[1:])) if len(dense) > 1 else dense[0],
        "terms": float(len(terms)),
        "passage_coverage": sum(1 for t in terms if t in passage_terms) / len(terms) if terms else 0.0,
        "lexical_share": hits[0].lexical / idf_total,
    }


CANDIDATES = ("dense_first", "dense_gap", "terms", "passage_coverage", "lexical_share")


def _sentence_dense(collection, snapshot, ranking) -> float:
    """Experimental signal, not on the query path: the cosine between the question and the best
    (BM25) sentence of each of the top 3 passages, encoded now; the highest."""
    texts = snapshot.passages([hit.passage_id for hit in ranking.hits[:3]])
    sentences = []
    for hit in ranking.hits[:3]:
        row = texts.get(hit.passage_id)
        if row is not None and hit.sentence is not None:
            sentences.append(row.text[hit.sentence.start : hit.sentence.end])
    if not sentences:
        return 0.0
    return float((collection.encoder.encode_queries(sentences) @ ranking.query.vector).max())


# ---- fitting -------------------------------------------------------------------------------


def features(rows: list[dict], names=SIGNALS) -> np.ndarray:
    return np.array([[row[name] for name in names] for row in rows], dtype=np.float64)


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    l2: float = 1e-3,
    steps: int = 50,
    groups: list[tuple[np.ndarray, float]] = (),
    scale: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """Logistic regression by Newton's method with a small L2 penalty (not on the intercept);
    answerable and unanswerable questions weigh the same in total, whatever their counts. With
    `groups` ((mask, total weight) pairs covering every question), that balance holds within each
    group, and each group weighs its total. `scale` multiplies each question's weight within its
    class before the classes are balanced."""
    weights = np.zeros(len(y))
    scale = np.ones(len(y)) if scale is None else scale
    for part, total in groups or [(np.ones(len(y), dtype=bool), 1.0)]:
        for label in (True, False):
            members = part & ((y == 1) == label)
            weights[members] = 0.5 * total * scale[members] / scale[members].sum()
    weights *= len(y) / weights.sum()
    design = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(design.shape[1])
    penalty = np.eye(design.shape[1]) * l2 * len(y)
    penalty[0, 0] = 0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ beta))
        gradient = design.T @ (weights * (p - y)) + penalty @ beta
        hessian = (design * (weights * p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(beta[0]), beta[1:]


def fit_raw(
    x: np.ndarray, y: np.ndarray, groups: list[tuple[np.ndarray, float]] = (), weights: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """`fit_logistic` on standardised signals, returned for the raw ones, so the constants in
    qa/search/confidence.py need no scaling."""
    mean, scale = x.mean(0), x.std(0) + 1e-9
    intercept, coefficients = fit_logistic((x - mean) / scale, y.astype(float), groups=groups, scale=weights)
    return intercept - float((coefficients * mean / scale).sum()), coefficients / scale


def predict(intercept: float, coefficients: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(intercept + x @ coefficients)))


def operating_point(scores: np.ndarray, answerable: np.ndarray, max_abstained: float) -> float:
    """The highest threshold at which at most `max_abstained` of answerable questions fall below."""
    ordered = np.sort(scores[answerable])
    allowed = int(np.floor(max_abstained * len(ordered)))
    return float(ordered[allowed]) if allowed < len(ordered) else float(ordered[-1])


def rates(scores: np.ndarray, answerable: np.ndarray, threshold: float) -> dict[str, float]:
    answered = scores >= threshold
    abstained_answerable = float((~answered[answerable]).mean()) if answerable.any() else None
    answered_unanswerable = float(answered[~answerable].mean()) if (~answerable).any() else None
    precision = (
        float((~answered & ~answerable).sum() / (~answered).sum()) if (~answered).any() else None
    )  # of abstentions, the right ones
    return {
        "answerable_abstained": abstained_answerable,
        "unanswerable_answered": answered_unanswerable,
        "abstain_precision": precision,
        "abstain_recall": None if answered_unanswerable is None else 1 - answered_unanswerable,
    }


def fit(rows: list[dict]) -> dict:
    y = np.array([row["answerable"] for row in rows])
    half = np.array([row["half"] for row in rows])
    src = np.array([row["source"] for row in rows])
    sources = sorted(set(src))
    report_half = (half == "report") & (src != WITHHELD)  # the targets' part
    withheld_half = (half == "report") & (src == WITHHELD)
    results: dict = {"models": {}}
    models = {
        "dense only (the former rule)": ("dense",),
        "dense + coverage + known + margin": FOUR,
        "dense + coverage + known + margin + named (without reading)": FIVE,
        "dense + coverage + known + margin + named + reading (shipped)": SIGNALS,
        "dense + coverage + known + margin + sentence cosine": (*FOUR, "sentence_dense"),
        "dense + coverage + known + margin + 5 more cheap signals": (*FOUR, *CANDIDATES),
    }
    table = []
    for label, names in models.items():
        x = features(rows, names)
        raw_intercept, raw = fit_raw(x[half == "fit"], y[half == "fit"])
        scores = predict(raw_intercept, raw, x)
        threshold = operating_point(scores[half == "fit"], y[half == "fit"], FIT_ANSWERABLE_ABSTAINED)
        report = rates(scores[report_half], y[report_half], threshold)
        withheld_answered = rates(scores[withheld_half], y[withheld_half], threshold)["unanswerable_answered"]
        per_source = {
            source: rates(
                scores[(half == "report") & (src == source)], y[(half == "report") & (src == source)], threshold
            )
            for source in sources
        }
        curve = []
        for target in (0.0025, 0.005, FIT_ANSWERABLE_ABSTAINED, 0.01, 0.02, 0.03, 0.05, 0.10):
            t = operating_point(scores[half == "fit"], y[half == "fit"], target)
            curve.append({"fit_max_abstained": target, "threshold": t, **rates(scores[report_half], y[report_half], t)})
        results["models"][label] = {
            "signals": list(names),
            "intercept": raw_intercept,
            "weights": raw.tolist(),
            "threshold": threshold,
            "report_half": report,
            "withheld_answered_report_half": withheld_answered,
            "fit_half": rates(scores[half == "fit"], y[half == "fit"], threshold),
            "per_source_report_half": per_source,
            "curve_report_half": curve,
        }
        table.append(
            [
                label,
                f"{threshold:.3f}",
                f"{report['answerable_abstained']:.4f}",
                f"{report['unanswerable_answered']:.4f}",
                f"{report['abstain_precision']:.3f}",
                "–" if withheld_answered is None else f"{withheld_answered:.3f}",
            ]
        )
    print_table(
        "Calibration, report half (without the withheld paragraphs' questions, reported apart)",
        [
            "model",
            "threshold",
            "answerable abstained",
            "unanswerable answered",
            "abstain precision",
            "withheld answered",
        ],
        table,
    )
    counts = {source: sum(1 for row in rows if row["source"] == source) for source in sources}
    results["counts"] = counts
    return results


def cascade(rows: list[dict], five=WITHOUT_READING, six=READING) -> np.ndarray:
    """Each question's probability less its model's threshold (answered at 0 or above): the five
    signals' verdict, and the six's where `qa.search.confidence.needs_reading` reads, as answering does."""
    from qa.search.confidence import Confidence, needs_reading

    scores = []
    for row in rows:
        p5 = five.probability([row[name] for name in five.signals])
        judged = Confidence(**{name: row[name] for name in FOUR}, probability=p5, names=int(row["named"]))
        if needs_reading(judged):
            scores.append(six.probability([row[name] for name in six.signals]) - six.threshold)
        else:
            scores.append(p5 - five.threshold)
    return np.array(scores)


def check(rows: list[dict]) -> dict:
    """The shipped model (qa/search/confidence.py's constants, not a refit) on each half and source."""
    y = np.array([row["answerable"] for row in rows])
    half = np.array([row["half"] for row in rows])
    source = np.array([row["source"] for row in rows])
    scores = cascade(rows)
    parts = {part: (half == part) & (source != WITHHELD) for part in ("fit", "report")}
    result = {part: rates(scores[mask], y[mask], 0.0) for part, mask in parts.items()}
    result["per_source_report_half"] = {
        name: rates(scores[(half == "report") & (source == name)], y[(half == "report") & (source == name)], 0.0)
        for name in sorted(set(source))
    }
    table = [
        [part, f"{result[part]['answerable_abstained']:.4f}", f"{result[part]['unanswerable_answered']:.4f}"]
        for part in ("fit", "report")
    ]
    print_table(
        "The shipped model (without the withheld paragraphs' questions)",
        ["half", "answerable abstained", "unanswerable answered"],
        table,
    )
    return result


HOLDOUT_ALPHAS = (0.1, 0.25, 0.5, 1.0)
KNOWN_GATES = (0.5, 0.7)
DOC_MAX_ANSWERABLE_ABSTAINED = 0.05  # issue 18's "≤ 1 in 20"


def collect_docs(indexes: dict[str, Path]) -> list[dict]:
    """The signals of every documentation set question, on the index of its corpus."""
    from qa.collection import Collection
    from qa.evaluation.datasets import load_questions

    rows = []
    for name, index in indexes.items():
        collection = Collection.open(index)
        searcher = collection.searcher()
        for q in load_questions(doc_set_questions(name)).questions:
            ranking = read_anyway(collection, collection.rank(q.question, RANKED, history=q.history, searcher=searcher))
            rows.append(
                {
                    "source": name,
                    "id": q.id,
                    "answerable": q.answerable,
                    **dict(zip(SIGNALS, ranking.confidence.vector())),
                }
            )
    return rows


def holdout(public: list[dict], docs: list[dict]) -> dict:
    """The shipped model, and refits on the public fit half plus one documentation set (weighing
    `alpha` times the public questions), each judged on the set it did not see. The threshold is
    the lower of the public fit half's operating point and the one that abstains on at most 1 in
    20 of the training set's answerable questions."""

    fit_rows = [row for row in public if row["half"] == "fit"]
    judged = {
        "public report half": [row for row in public if row["half"] == "report"],
        **{name: [row for row in docs if row["source"] == name] for name in DOC_QUESTIONS},
    }

    def judge(intercept: float, weights: np.ndarray, threshold: float, min_known: float = 0.0) -> dict:
        result = {}
        for name, rows in judged.items():
            y = np.array([row["answerable"] for row in rows])
            known = np.array([row["known"] for row in rows])
            answered = (predict(intercept, weights, features(rows)) >= threshold) & (known >= min_known)
            result[name] = {
                "answerable_abstained": [int((~answered[y]).sum()), int(y.sum())],
                "unanswerable_abstained": [int((~answered[~y]).sum()), int((~y).sum())],
            }
        return result

    models = [
        {
            "trained on": "public (shipped)",
            "alpha": 0.0,
            "threshold": READING.threshold,
            "intercept": READING.intercept,
            "weights": list(READING.weights),
            **judge(READING.intercept, np.array(READING.weights), READING.threshold),
        }
    ]
    for min_known in KNOWN_GATES:  # a rule, not a fit: abstain when the index lacks much of the question
        models.append(
            {
                "trained on": f"public (shipped), and abstain when known < {min_known}",
                "alpha": 0.0,
                "threshold": READING.threshold,
                **judge(READING.intercept, np.array(READING.weights), READING.threshold, min_known),
            }
        )
    for name in DOC_QUESTIONS:
        extra = judged[name]
        rows = fit_rows + extra
        x, y = features(rows), np.array([row["answerable"] for row in rows])
        is_public = np.arange(len(rows)) < len(fit_rows)
        for alpha in HOLDOUT_ALPHAS:
            intercept, weights = fit_raw(x, y, groups=[(is_public, 1.0), (~is_public, alpha)])
            threshold = min(
                operating_point(predict(intercept, weights, x[is_public]), y[is_public], FIT_ANSWERABLE_ABSTAINED),
                operating_point(
                    predict(intercept, weights, x[~is_public]), y[~is_public], DOC_MAX_ANSWERABLE_ABSTAINED
                ),
            )
            models.append(
                {
                    "trained on": f"public + {name}",
                    "alpha": alpha,
                    "threshold": threshold,
                    "intercept": intercept,
                    "weights": weights.tolist(),
                    **judge(intercept, weights, threshold),
                }
            )

    def cell(model: dict, name: str) -> str:
        a, u = model[name]["answerable_abstained"], model[name]["unanswerable_abstained"]
        if name == "public report half":
            return f"{a[0] / a[1]:.4f} / {1 - u[0] / u[1]:.4f}"
        held = "" if name in model["trained on"] else " (held out)"
        return f"{u[0]}/{u[1]}, {a[0]}/{a[1]}{held}"

    print_table(
        "Abstention with the documentation sets in the fit",
        [
            "trained on",
            "alpha",
            "threshold",
            "public: answerable abstained / unanswerable answered",
            "SQLite: unanswerable, answerable abstained",
            "Borg: the same",
        ],
        [
            [
                m["trained on"],
                f"{m['alpha']:g}",
                f"{m['threshold']:.3f}",
                cell(m, "public report half"),
                cell(m, "sqlite"),
                cell(m, "borg"),
            ]
            for m in models
        ],
    )
    return {"models": models, "counts": {name: len(rows) for name, rows in judged.items()}}


WITHHELD_SHARES = (0.0, 0.1, 0.2, 0.35, 0.5)
DOC_SETS = ("sqlite", "borg", "git", "pdf")
DOCS_FILE = RESULTS / "calibration_docs_signals.json"


def fit_models(rows: list[dict], weights: np.ndarray, families: tuple = (FIVE, SIGNALS)) -> tuple:
    """A model for each family of signals (the five's and the six's), each refitted on `rows` (a
    fit half) with `weights` and its threshold at the operating point, as `fit` chooses them."""
    from qa.search.confidence import Model

    y = np.array([row["answerable"] for row in rows])
    models = []
    for names in families:
        x = features(rows, names)
        intercept, coefficients = fit_raw(x, y, weights=weights)
        threshold = operating_point(predict(intercept, coefficients, x), y, FIT_ANSWERABLE_ABSTAINED)
        models.append(Model(names, intercept, tuple(coefficients.tolist()), threshold))
    return tuple(models)


def withheld(public: list[dict], docs: list[dict]) -> dict:
    """Does the fit learn the documentation sets' unanswerable questions (about the corpus's own
    subject) from SQuAD's withheld paragraphs? Refits with that source's questions weighing
    `share` of the unanswerable side, judged on the public report half, that source's report
    half, and the documentation sets, which no fit sees."""
    fit_rows = [row for row in public if row["half"] == "fit"]
    is_withheld = np.array([row["source"] == WITHHELD for row in fit_rows])
    unanswerable = ~np.array([row["answerable"] for row in fit_rows])
    judged = {
        "public report half": [row for row in public if row["half"] == "report" and row["source"] != WITHHELD],
        "withheld, report half": [row for row in public if row["half"] == "report" and row["source"] == WITHHELD],
        **{name: [row for row in docs if row["source"] == name] for name in DOC_SETS},
    }

    def judge(five, six) -> dict:
        result = {}
        for name, rows in judged.items():
            y = np.array([row["answerable"] for row in rows])
            answered = cascade(rows, five, six) >= 0
            result[name] = {
                "answerable_abstained": [int((~answered[y]).sum()), int(y.sum())],
                "unanswerable_abstained": [int((~answered[~y]).sum()), int((~y).sum())],
            }
        return result

    models = [{"model": "shipped", "share": None, **judge(WITHOUT_READING, READING)}]
    for share in WITHHELD_SHARES:
        weights = np.ones(len(fit_rows))
        others = unanswerable & ~is_withheld
        if share == 0.0:
            weights[is_withheld] = 0.0
        else:  # the withheld rows make `share` of the unanswerable side's weight
            weights[is_withheld] = share / (1 - share) * others.sum() / is_withheld.sum()
        five, six = fit_models(fit_rows, weights)
        models.append(
            {
                "model": "refit",
                "share": share,
                "five": five._asdict(),
                "six": six._asdict(),
                **judge(five, six),
            }
        )

    def cell(model: dict, name: str) -> str:
        a, u = model[name]["answerable_abstained"], model[name]["unanswerable_abstained"]
        if name == "public report half":
            return f"{a[0] / a[1]:.4f} / {1 - u[0] / u[1]:.4f}"
        if name.startswith("withheld"):
            return f"{1 - u[0] / u[1]:.3f}"
        return f"{u[0]}/{u[1]}, {a[0]}/{a[1]}"

    print_table(
        "Abstention fitted with questions whose paragraph is withheld",
        ["model", "share", "public: answerable abstained / unanswerable answered", "withheld answered"]
        + [f"{name}: unanswerable, answerable abstained" for name in DOC_SETS],
        [
            [m["model"], "" if m["share"] is None else f"{m['share']:g}"] + [cell(m, name) for name in judged]
            for m in models
        ],
    )
    return {"models": models, "counts": {name: len(rows) for name, rows in judged.items()}}


def ceiling(docs: list[dict]) -> dict:
    """How far abstention can go on each documentation set with the signals there are: the
    answerable questions that score at or below the set's best-scored unanswerable one, which a
    rule abstaining on every unanswerable question must abstain on too, by the shipped models, and
    by a logistic rule over the six signals fitted to the set's own questions (each side weighing
    half), judged on those same questions: a bound no rule fitted on new questions can beat."""
    result = {}
    for name in DOC_SETS:
        rows = [row for row in docs if row["source"] == name]
        y = np.array([row["answerable"] for row in rows])
        shipped = cascade(rows)
        weights = np.where(y, 0.5 / y.sum(), 0.5 / (~y).sum()) * len(y)
        intercept, coefficients = fit_raw(features(rows, SIGNALS), y, weights=weights)
        own = predict(intercept, coefficients, features(rows, SIGNALS))
        result[name] = {
            "answerable": int(y.sum()),
            "unanswerable": int((~y).sum()),
            "allowed": int(np.floor(DOC_MAX_ANSWERABLE_ABSTAINED * y.sum())),
            "shipped": int((shipped[y] <= shipped[~y].max()).sum()),
            "fitted to its own questions": int((own[y] <= own[~y].max()).sum()),
        }
    print_table(
        "Answerable questions abstained on, to abstain on every unanswerable one",
        ["set", "answerable", "unanswerable", "allowed (1 in 20)", "shipped", "fitted to its own questions"],
        [[name, *r.values()] for name, r in result.items()],
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["collect", "fit", "check", "holdout", "withheld", "ceiling"])
    parser.add_argument("--sqlite-index", type=Path, help="holdout: an index of the SQLite corpus")
    parser.add_argument("--borg-index", type=Path, help="holdout: an index of the BorgBackup corpus")
    parser.add_argument(
        "--docs", type=Path, help="withheld: a folder holding sqlite-docs.qa, borg-docs.qa, git-docs.qa, pdf-docs.qa"
    )
    parser.add_argument("--sample", type=int, default=1000, help="questions per cross-corpus source")
    parser.add_argument("--only", nargs="*", help="collect these sources again, keep the others' rows")
    args = parser.parse_args()
    if args.step == "collect":
        load = load_average()
        rows = collect(args.sample, set(args.only or ()))
        if args.only and SIGNALS_FILE.exists():
            kept = [
                row for row in json.loads(SIGNALS_FILE.read_text("utf-8"))["rows"] if row["source"] not in args.only
            ]
            rows = kept + rows
        SIGNALS_FILE.parent.mkdir(parents=True, exist_ok=True)
        SIGNALS_FILE.write_text(json.dumps({"load": [load, load_average()], "rows": rows}) + "\n", encoding="utf-8")
        print(f"{len(rows)} questions → {SIGNALS_FILE}")
    elif args.step == "fit":
        rows = json.loads(SIGNALS_FILE.read_text("utf-8"))["rows"]
        write_results("calibration", fit(rows))
    elif args.step == "check":
        rows = json.loads(SIGNALS_FILE.read_text("utf-8"))["rows"]
        write_results("calibration_check", check(rows))
    elif args.step == "withheld":
        if args.docs:
            load = load_average()
            docs = collect_docs({name: args.docs / f"{name}-docs.qa" for name in DOC_SETS})
            DOCS_FILE.write_text(json.dumps({"load": [load, load_average()], "rows": docs}) + "\n", encoding="utf-8")
        elif not DOCS_FILE.exists():
            parser.error("withheld needs --docs once, to collect the documentation sets' signals")
        docs = json.loads(DOCS_FILE.read_text("utf-8"))["rows"]
        result = withheld(json.loads(SIGNALS_FILE.read_text("utf-8"))["rows"], docs)
        write_results("calibration_withheld", result)
    elif args.step == "ceiling":
        if not DOCS_FILE.exists():
            parser.error("ceiling needs the documentation sets' signals: run withheld --docs FOLDER once")
        write_results("calibration_ceiling", ceiling(json.loads(DOCS_FILE.read_text("utf-8"))["rows"]))
    else:
        if not (args.sqlite_index and args.borg_index):
            parser.error("holdout needs --sqlite-index and --borg-index")
        load = load_average()
        docs = collect_docs({"sqlite": args.sqlite_index, "borg": args.borg_index})
        result = holdout(json.loads(SIGNALS_FILE.read_text("utf-8"))["rows"], docs)
        write_results("calibration_holdout", {"load": [load, load_average()], **result})


if __name__ == "__main__":
    main()
