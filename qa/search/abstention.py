"""When to abstain, fitted to one index's own questions (`qa eval QUESTIONS --fit-abstention`).

The calibrated probability (`qa.search.confidence`) was fitted on SQuAD and SciFact, where its
threshold of 0.161 abstains on 1.0 % of answerable questions and answers 4.4 % of those asked of
another corpus, but 72 % of SQuAD's asked of their own article without their paragraph.
On another corpus the same probability can mean something else: on the SQLite documentation every
question the pages cannot answer scored 0.50–1.00. A user with labelled questions of their own,
some answerable and some not, can fit the threshold to their documents. It is kept beside the
index (`abstention.json`; a rebuild keeps it) and every face (CLI, HTTP, MCP) uses it.

The threshold chosen abstains on as many unanswerable questions as it can while abstaining on at
most one answerable question in 20. Beside it the fit may choose a floor on `known` (the share of
the question's weight in words the index holds): on a corpus about one subject, a question naming
what no page mentions ("Does borg run on Kubernetes?") scores as high as one the pages answer, but
holds a word none of them does. The fit may also choose to abstain on every question that names
what no passage holds (`abstain_on_names`; "How do I run SQLite in Docker?" of pages that never say
Docker). The floor and that rule are kept only where they catch more on the questions fitted. What
the fit will do on new questions is estimated by fitting without each question in turn and judging
that question (leave-one-out), since its figures on the questions it was fitted on flatter it.

The default reads a question against its first passage where the five signals leave the verdict
open, which a threshold fitted to the five never does. Where no fitted rule does better than the
default on the questions (more unanswerable ones abstained, or as many with fewer answerable ones),
the fit keeps the default and writes no file (on the BorgBackup manual, docs/EVALUATION.md).

A threshold belongs to the confidence model it was fitted to (`model`): an index fitted to an
earlier one abstains at the default until fitted again.
"""

from __future__ import annotations

import json
import logging
import math
import os
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import NamedTuple

from qa.search.confidence import FITTED_TO, MODEL, WITHOUT_READING, Model

logger = logging.getLogger(__name__)

FILE = "abstention.json"
# The most answerable questions the fitted threshold may abstain on: the "≤ 1 in 20" of issue 18.
MAX_ANSWERABLE_ABSTAINED = 0.05
MIN_ANSWERABLE = 5
# The floors on `known` the fit tries (0: none); measured on the documentation sets in
# docs/EVALUATION.md ("Abstention fitted with a floor on known words").
KNOWN_FLOORS = (0.0, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)


@dataclass(frozen=True)
class Abstention:
    """The threshold an index answers above, and what it was fitted on (nothing for the default)."""

    threshold: float = WITHOUT_READING.threshold  # the default's: the five signals' (READING's where read)
    answerable: int = 0  # labelled questions it was fitted on
    unanswerable: int = 0
    fitted_on: str = ""  # the questions file
    fitted_at: str = ""
    min_known: float = 0.0  # below this share of the question's words in the index, it abstains too
    abstain_on_names: bool = False  # and on a question naming what no passage holds
    model: str = MODEL  # the confidence model the threshold was fitted to (qa.search.confidence)

    @property
    def is_default(self) -> bool:
        return not (self.answerable or self.unanswerable)

    @property
    def judged_by(self) -> Model:
        """The five signals' model whose probability the threshold was fitted on."""
        return FITTED_TO.get(self.model, WITHOUT_READING)


DEFAULT = Abstention()


@dataclass(frozen=True)
class FitReport:
    """A fitted threshold (or the default, kept), its counts on the questions it was fitted on,
    and the leave-one-out estimate of what it does on new ones: (abstained, out of) for each kind."""

    abstention: Abstention
    answerable_abstained: tuple[int, int]
    unanswerable_abstained: tuple[int, int]
    estimated_answerable_abstained: tuple[int, int]
    estimated_unanswerable_abstained: tuple[int, int]

    @property
    def keeps_default(self) -> bool:
        """No fitted rule did better on these questions than the default."""
        return self.abstention.is_default


def read(index_dir: Path) -> Abstention:
    """The index's fitted threshold, else the default. An unreadable file is warned about and the
    default used: answering goes on."""
    path = Path(index_dir) / FILE
    try:
        fields = json.loads(path.read_text(encoding="utf-8"))
        abstention = Abstention(**{"model": "", **fields})  # a file written before `model` was kept
        if not 0 <= abstention.threshold <= 1:
            raise ValueError(f"threshold {abstention.threshold} is not a probability")
        if not 0 <= abstention.min_known <= 1:
            raise ValueError(f"min_known {abstention.min_known} is not a share")
        if abstention.model not in FITTED_TO:
            logger.warning(
                "%s was fitted to an earlier confidence model; abstaining at the default threshold %.3f until "
                "`qa eval QUESTIONS --fit-abstention` fits it again",
                path,
                WITHOUT_READING.threshold,
            )
            return DEFAULT
        return abstention
    except FileNotFoundError:
        return DEFAULT
    except (OSError, TypeError, ValueError) as error:
        logger.warning(
            "%s is unreadable (%s); abstaining at the default threshold %.3f", path, error, WITHOUT_READING.threshold
        )
        return DEFAULT


def clear(index_dir: Path) -> None:
    """Return the index to the default threshold."""
    (Path(index_dir) / FILE).unlink(missing_ok=True)


def write(index_dir: Path, abstention: Abstention) -> Path:
    """Keep `abstention` beside the index, replacing the file whole."""
    path = Path(index_dir) / FILE
    partial = path.with_name(f".{FILE}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(asdict(abstention), indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def _allowed(answerable: Sequence[bool]) -> int:
    return math.floor(MAX_ANSWERABLE_ABSTAINED * sum(answerable))


def _best_threshold(probabilities: Sequence[float], answerable: Sequence[bool], allowed: int) -> tuple[int, int, float]:
    """(−unanswerable abstained, answerable abstained, threshold) of the best threshold abstaining
    on at most `allowed` answerable questions (on a tie, the fewest answerable abstained, then the
    lowest threshold), placed halfway between the probabilities around it. Counts come from sorted
    lists, so a feedback export of thousands of questions fits at once."""
    if not probabilities:
        return 0, 0, 0.0
    yes = sorted(p for p, a in zip(probabilities, answerable) if a)
    no = sorted(p for p, a in zip(probabilities, answerable) if not a)
    values = sorted(set(probabilities))
    candidates = [values[0] / 2] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [(values[-1] + 1) / 2]
    return min(
        (-bisect_left(no, threshold), bisect_left(yes, threshold), threshold)
        for threshold in candidates
        if bisect_left(yes, threshold) <= allowed  # the lowest candidate abstains on nothing
    )


class Rule(NamedTuple):
    """What a fit chose: the threshold, the floor on `known`, and whether every question naming what
    no passage holds abstains."""

    threshold: float
    min_known: float = 0.0
    abstain_on_names: bool = False

    def abstains(self, probability: float, known: float, named: bool) -> bool:
        return probability < self.threshold or known < self.min_known or (self.abstain_on_names and named)


def fit_rule(
    probabilities: Sequence[float],
    answerable: Sequence[bool],
    known: Sequence[float] | None = None,
    named: Sequence[bool] | None = None,
) -> Rule:
    """With each floor of KNOWN_FLOORS, and with and without abstaining on `named` questions (those
    naming what no passage holds), what these abstain on leaves the rest of the budget of
    answerable abstentions to the threshold; the rule abstaining on the most unanswerable questions
    wins (on a tie, the fewest answerable abstained, no rule on names, the lowest floor, the lowest
    threshold). Without `known` and `named`, the threshold alone."""
    known = [1.0] * len(probabilities) if known is None else known
    named = [False] * len(probabilities) if named is None else named
    if not len(probabilities) == len(answerable) == len(known) == len(named):
        raise ValueError("one probability, known share and named flag per question")
    allowed = _allowed(answerable)
    best = None
    for on_names in (False, True):
        for floor in KNOWN_FLOORS:
            below = [k < floor or (on_names and n) for k, n in zip(known, named)]
            gated_yes = sum(1 for b, a in zip(below, answerable) if b and a)
            if gated_yes > allowed:
                break  # higher floors abstain on at least as many
            gated_no = sum(1 for b, a in zip(below, answerable) if b and not a)
            rest = [i for i, b in enumerate(below) if not b]
            caught, wrong, threshold = _best_threshold(
                [probabilities[i] for i in rest], [answerable[i] for i in rest], allowed - gated_yes
            )
            candidate = (caught - gated_no, wrong + gated_yes, on_names, floor, threshold)
            best = candidate if best is None else min(best, candidate)
    assert best is not None  # the floor 0 without the rule on names abstains on nothing by itself
    return Rule(best[4], best[3], best[2])


def require_both_kinds(answerable: Sequence[bool]) -> tuple[int, int]:
    """(answerable, unanswerable) counts; ValueError, saying why, unless both kinds are there to fit on."""
    n_answerable = sum(answerable)
    n_unanswerable = len(answerable) - n_answerable
    if n_unanswerable == 0 or n_answerable < MIN_ANSWERABLE:
        raise ValueError(
            f"fitting when to abstain needs questions the documents cannot answer and at least {MIN_ANSWERABLE} "
            f"they can; these are {n_answerable} answerable and {n_unanswerable} not"
        )
    return n_answerable, n_unanswerable


def fit(
    probabilities: Sequence[float],
    answerable: Sequence[bool],
    fitted_on: str,
    fitted_at: str,
    known: Sequence[float] | None = None,
    named: Sequence[bool] | None = None,
    by_default: Sequence[bool] | None = None,
) -> FitReport:
    """Fit on every question, and estimate by leave-one-out. Needs unanswerable questions and at
    least MIN_ANSWERABLE answerable ones. With `known` (each question's share of words the index
    holds), the fit may add a floor on it; with `named` (whether each names what no passage holds),
    it may abstain on those (`fit_rule`). With `by_default` (whether the default abstains on each,
    reading the question against its first passage where it reads), the default is kept unless
    the rule does better on the questions fitted (`_keeps_default`); the estimate makes that
    choice again without each question."""
    n_answerable, n_unanswerable = require_both_kinds(answerable)
    shares = list(known) if known is not None else [1.0] * len(probabilities)
    flags = list(named) if named is not None else [False] * len(probabilities)
    everyone = range(len(probabilities))

    def fitted(among: Sequence[int]) -> Rule:
        return fit_rule(
            [probabilities[i] for i in among],
            [answerable[i] for i in among],
            [shares[i] for i in among],
            [flags[i] for i in among],
        )

    def abstains(i: int, rule: Rule | None) -> bool:
        """By `rule`, or by the default where None."""
        return by_default[i] if rule is None else rule.abstains(probabilities[i], shares[i], flags[i])

    def chosen(among: Sequence[int]) -> Rule | None:
        rule = fitted(among)
        if by_default is not None and _keeps_default(
            [answerable[i] for i in among], [abstains(i, rule) for i in among], [by_default[i] for i in among]
        ):
            return None
        return rule

    rule = chosen(everyone)
    estimated = [0, 0]  # answerable abstained, unanswerable abstained
    for held_out in everyone:
        rest = [i for i in everyone if i != held_out]
        others = [answerable[i] for i in rest]
        if all(others) or sum(others) < MIN_ANSWERABLE:
            held = None if by_default is not None else Rule(DEFAULT.threshold)  # the others cannot be fitted on
        else:
            held = chosen(rest)
        if abstains(held_out, held):
            estimated[0 if answerable[held_out] else 1] += 1

    def abstained(kind: bool) -> int:
        return sum(1 for i, a in enumerate(answerable) if a == kind and abstains(i, rule))

    if rule is None:
        kept = replace(DEFAULT, fitted_on=fitted_on, fitted_at=fitted_at)
    else:
        kept = Abstention(
            rule.threshold, n_answerable, n_unanswerable, fitted_on, fitted_at, rule.min_known, rule.abstain_on_names
        )
    return FitReport(
        abstention=kept,
        answerable_abstained=(abstained(True), n_answerable),
        unanswerable_abstained=(abstained(False), n_unanswerable),
        estimated_answerable_abstained=(estimated[0], n_answerable),
        estimated_unanswerable_abstained=(estimated[1], n_unanswerable),
    )


def _keeps_default(answerable: Sequence[bool], by_rule: Sequence[bool], by_default: Sequence[bool]) -> bool:
    """Whether the default does at least as well as a fitted rule on these questions: within the
    budget of answerable abstentions, it abstains on more unanswerable ones, or on as many and on
    no more answerable ones. The default reads where the five signals leave it open, a fitted rule does
    not, so on some indexes no threshold fitted to the five beats it."""

    def counts(abstaining: Sequence[bool]) -> tuple[int, int]:
        caught = sum(1 for a, b in zip(answerable, abstaining, strict=True) if b and not a)
        wrong = sum(1 for a, b in zip(answerable, abstaining, strict=True) if b and a)
        return -caught, wrong

    default, rule = counts(by_default), counts(by_rule)
    return default[1] <= _allowed(answerable) and default <= rule
