"""`qa eval`'s dataset-independent half: loading evaluation sets and scoring ranked results."""

from qa.evaluation.datasets import CorpusDocument, EvalKind, EvalQuestion, EvalSet, load_eval_set
from qa.evaluation.metrics import RankedResult, summarize

__all__ = [
    "CorpusDocument",
    "EvalKind",
    "EvalQuestion",
    "EvalSet",
    "RankedResult",
    "load_eval_set",
    "summarize",
]
