"""Does the best passage answer the question? A calibrated score from signals of one ranking.

A cosine to a whole 254-token passage says little about whether one of its sentences answers,
so several signals are read off the ranking the question already produced, and combined by a
logistic regression fitted on the public calibration set (benchmarks/calibrate.py,
docs/EVALUATION.md):

- `dense`: the best cosine between the question and a top passage (the former rule alone);
- `coverage`: how much of the question (IDF-weighted, words the index lacks weigh the most) the
  best sentence of the top passage holds;
- `known`: how much of the question the index holds at all;
- `margin`: how far the top passage leads the next one in the fused ranking;
- `named`: 1 when the question names what no passage holds, nor a spelling a typo away ("How do I
  run SQLite in Docker?" of pages that never say Docker; qa.text.analysis.names_not_found): its
  other words can come as close as an answerable question's.

An index fitted to its own questions (qa.search.abstention) may also abstain on every such question.

Everything comes from the ranking, the IDF and the sentence terms already computed for it, so
judging costs microseconds, no second model call.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from qa.search.sentence_scores import sentence_terms

# Fitted by `python -m benchmarks.calibrate fit` on half of the public calibration set; the
# threshold is its operating point: on the other half 0.9% of answerable questions abstain and
# 3.7% of unanswerable ones are answered (docs/EVALUATION.md, "A name the documents never mention").
SIGNALS = ("dense", "coverage", "known", "margin", "named")
INTERCEPT = -10.355
WEIGHTS = (16.009, 8.655, 1.033, 4.666, -2.058)
THRESHOLD = 0.326
# What a fitted threshold belongs to (qa.search.abstention): one fitted to other constants means
# something else, so its index abstains at the default until fitted again.
MODEL = hashlib.sha256(repr((SIGNALS, INTERCEPT, WEIGHTS)).encode()).hexdigest()[:12]
# How many leading passages the dense signal looks at.
DENSE_DEPTH = 10


@dataclass(frozen=True)
class Confidence:
    """The signals of one ranking, the probability they give that it answers, and the verdict."""

    dense: float
    coverage: float
    known: float
    margin: float
    probability: float
    threshold: float = THRESHOLD  # the index's own when fitted (qa.search.abstention)
    min_known: float = 0.0  # the index's floor on `known`, when its fit chose one
    names: int = 0  # the question's names that no passage searched holds
    abstain_on_names: bool = False  # the index's fit chose to abstain whenever `names`

    @property
    def named(self) -> float:
        return 1.0 if self.names else 0.0

    @property
    def confident(self) -> bool:
        if self.abstain_on_names and self.names:
            return False
        return self.probability >= self.threshold and self.known >= self.min_known

    def vector(self) -> list[float]:
        return [getattr(self, name) for name in SIGNALS]


NONE = Confidence(dense=0.0, coverage=0.0, known=0.0, margin=0.0, probability=0.0)


def assess(
    terms: Sequence[str],
    idf: Mapping[str, float],
    passages: int,
    hits: Sequence,
    top_text: str | None,
    held: Collection[str] | None = None,
    names: int = 0,
) -> Confidence:
    """Judge a ranking: `terms` and `idf` are the question's, `passages` the index's size (for the
    weight of a word it lacks), `hits` best first, `top_text` the first hit's passage text; `held`,
    the terms the documents searched hold when a filter narrowed them (else those of `idf`);
    `names`, how many names of the question no passage searched holds."""
    if not hits:
        return NONE
    dense = max(hit.dense for hit in hits[:DENSE_DEPTH])
    margin = hits[0].score - hits[1].score if len(hits) > 1 else hits[0].score
    unique = list(dict.fromkeys(terms))
    unknown_idf = math.log(1 + (passages + 0.5) / 0.5)
    weight = {term: idf.get(term, unknown_idf) for term in unique}
    total = sum(weight.values())
    held = idf if held is None else held
    known = sum(w for term, w in weight.items() if term in held) / total if total else 0.0
    coverage = 0.0
    if total and top_text:
        for _, _, _, counts in sentence_terms(top_text):
            coverage = max(coverage, sum(w for term, w in weight.items() if term in counts) / total)
    signals = Confidence(dense=dense, coverage=coverage, known=known, margin=margin, probability=0.0, names=names)
    return replace(signals, probability=probability(signals.vector()))


def probability(values: Sequence[float]) -> float:
    """The fitted logistic model: the chance that a ranking with these signals answers."""
    z = INTERCEPT + sum(w * v for w, v in zip(WEIGHTS, values, strict=True))
    return 1 / (1 + math.exp(-z))
