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
  other words can come as close as an answerable question's;
- `reading`: how much of the question the first passage speaks to as the model reads the two word
  by word: each of the question's words takes the cosine of the passage's closest word piece, in
  context, and the mean is the signal (MaxSim, as late-interaction retrievers score; `read`). A
  question in a user's words looks, word by word as an index counts them, like one the documents
  cannot answer: "Is it safe to use libtasn1 from several threads at the same time?" of a manual
  that says "multiple library handles ... may be used in parallel" and never "safe". Read in
  context, its words meet the passage's.

An index fitted to its own questions (qa.search.abstention) may also abstain on every question that
names what no passage holds.

Everything but `reading` comes from the ranking, the IDF and the sentence terms already computed
for it, in microseconds; `reading` runs the model once more, over the first passage (9–31 ms
here, by its length), so it is read only where the five leave the verdict open (`needs_reading`:
their probability between 0.05 and 0.5, and no name missing: a fifth of the documentation sets'
questions and an eighth of the calibration set's). It is never read under a threshold fitted to the
index (fitted to the five), nor with an encoder that cannot give word pieces' vectors (a custom one
without `read_tokens`). Without `reading`, the model fitted without it (`WITHOUT_READING`) judges at
its own threshold; outside the band its verdict equalled the six signals' on every question of the
documentation sets and on all but 3 of the calibration set's 11,592.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

from qa.search.sentence_scores import sentence_terms
from qa.text.analysis import QUESTION_STOPWORDS

if TYPE_CHECKING:
    from embeddings import TokenReader, TokenVectors


class Model(NamedTuple):
    """A fitted logistic model: its signals, intercept, weights, and the threshold it answers above."""

    signals: tuple[str, ...]
    intercept: float
    weights: tuple[float, ...]
    threshold: float

    def probability(self, values: Sequence[float]) -> float:
        """The chance that a ranking with these signals (in `signals`' order) answers."""
        z = self.intercept + sum(w * v for w, v in zip(self.weights, values, strict=True))
        return 1 / (1 + math.exp(-z))

    def judges(self, confidence: Confidence) -> float:
        """`probability` of a confidence's signals, read by this model's names."""
        return self.probability([getattr(confidence, name) for name in self.signals])


# Fitted by `python -m benchmarks.calibrate fit` on half of the public calibration set, which holds
# questions asked of their own article without their paragraph since 2026-12-06 (a documentation
# set's unanswerable questions are about its own subject); the threshold is its operating point
# (docs/EVALUATION.md, "Questions about the corpus's own subject").
READING = Model(
    ("dense", "coverage", "known", "margin", "named", "reading"),
    -8.790,
    (3.639, 3.869, 0.969, 1.983, -2.172, 7.413),
    0.133,
)
# The model fitted on the same half without `reading`: it judges every question that is not read
# (most of them, and all of them with an encoder that cannot read word pieces), and a threshold
# fitted to an index is fitted to it.
WITHOUT_READING = Model(READING.signals[:-1], -7.189, (6.446, 6.270, 1.386, 3.798, -2.348), 0.161)
# Where the five signals' probability leaves the verdict open, so the passage is read: the five and
# the six disagree on 226 of the calibration set's questions, all but 3 of them with the five's
# probability in this band, and none above 0.39 (docs/EVALUATION.md).
OPEN = (0.05, 0.5)


def signature(model: Model) -> str:
    """What a threshold fitted to an index names as its model (qa.search.abstention)."""
    return hashlib.sha256(repr(tuple(model[:3])).encode()).hexdigest()[:12]


# What a fitted threshold belongs to: the five signals' model, which judges under it.
MODEL = signature(WITHOUT_READING)
# The five signals' model shipped before questions about the corpus's own subject joined the fit
# (2026-12-06): a threshold fitted to an index then is judged by it until fitted again.
EARLIER = Model(WITHOUT_READING.signals, -10.355, (16.009, 8.655, 1.033, 4.666, -2.058), 0.326)
# Each model a fitted threshold may belong to, by signature. One fitted to other constants means
# something else, so its index abstains at the default until fitted again.
FITTED_TO = {MODEL: WITHOUT_READING, signature(EARLIER): EARLIER}
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
    threshold: float = WITHOUT_READING.threshold  # its model's, or the index's own when fitted (qa.search.abstention)
    min_known: float = 0.0  # the index's floor on `known`, when its fit chose one
    names: int = 0  # the question's names that no passage searched holds
    abstain_on_names: bool = False  # the index's fit chose to abstain whenever `names`
    reading: float | None = None  # None: not read (`WITHOUT_READING` judges)

    @property
    def named(self) -> float:
        return 1.0 if self.names else 0.0

    @property
    def confident(self) -> bool:
        if self.abstain_on_names and self.names:
            return False
        return self.probability >= self.threshold and self.known >= self.min_known

    @property
    def model(self) -> Model:
        return WITHOUT_READING if self.reading is None else READING

    def vector(self) -> list[float]:
        """The signals of its model, in order."""
        return [getattr(self, name) for name in self.model.signals]


NONE = Confidence(dense=0.0, coverage=0.0, known=0.0, margin=0.0, probability=0.0)


def assess(
    terms: Sequence[str],
    idf: Mapping[str, float],
    passages: int,
    hits: Sequence,
    top_text: str | None,
    held: Collection[str] | None = None,
    names: int = 0,
    model: Model = WITHOUT_READING,
) -> Confidence:
    """Judge a ranking: `terms` and `idf` are the question's, `passages` the index's size (for the
    weight of a word it lacks), `hits` best first, `top_text` the first hit's passage text; `held`,
    the terms the documents searched hold when a filter narrowed them (else those of `idf`);
    `names`, how many names of the question no passage searched holds. Judged by the five signals
    (by `model`, the one an index's fitted threshold belongs to); `with_reading` adds the sixth."""
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
    return replace(signals, probability=model.judges(signals))


def needs_reading(confidence: Confidence) -> bool:
    """Whether the five signals leave the default verdict open enough that the passage is read. A
    question that names what no passage holds is not read: the mean over its pieces hides the one
    missing name ("Why did Moussa Koussa defect to Canada?": "Canada" meets nothing closer than
    "British", 0.32, but the six pieces of "Moussa Koussa" meet themselves, so the reading is 0.80
    and the six signals would answer), while the five know the name is missing."""
    return confidence.reading is None and not confidence.names and OPEN[0] <= confidence.probability <= OPEN[1]


def with_reading(confidence: Confidence, reading: float) -> Confidence:
    """`confidence` judged again with `reading` (`read` of the question against the first hit)."""
    signals = replace(confidence, reading=reading)
    return replace(signals, probability=READING.judges(signals), threshold=READING.threshold)


def read(question: TokenVectors, passage: TokenVectors) -> float:
    """`reading`: for each of the question's words (its word pieces, stop words and punctuation left
    out), the cosine of the passage's closest piece, averaged; 0 when either has none."""
    keep = [
        i for i, piece in enumerate(question.pieces) if piece.strip("#").isalnum() and piece not in QUESTION_STOPWORDS
    ]
    if not keep or not len(passage.vectors):
        return 0.0
    return float((question.vectors[keep] @ passage.vectors.T).max(axis=1).mean())


def reading_of(reader: TokenReader, question: str, passage: str, section: Sequence[str]) -> float:
    """`reading` of a question against a passage as the encoder `reader` reads them: the passage
    with its section path in front."""
    asked, answering = reader.read_tokens([question, " › ".join(section) + "\n" + passage])
    return read(asked, answering)
