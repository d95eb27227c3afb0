"""The page signals of ranking (issue 18: page support, the furniture, dated and no-prose
penalties, the overview bonus), the number boost, respelling, closed-up words and joined sections,
measured one at a time on every set in one process.

Each variant is a `RetrievalSettings` change; every set is asked with each variant through the
same `qa eval` code (`run_eval`): the SQLite, BorgBackup and git documentation (indexes you built
of benchmarks/sets/*-docs/corpus; git's is the held-out set, reported and chosen on by no one), the
seed questions, SciFact and SQuAD dev-a (cached indexes, built on first use). Needs
../shared/eval. `--variants` and `--sets` pick some (comma-separated names).

    python -m benchmarks.rank_structure --sqlite-index /tmp/sqlite-docs.qa --borg-index /tmp/borg-docs.qa \
        --git-index /tmp/git-docs.qa
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.common import REPO, load_average, print_table, write_results
from benchmarks.corpora import DOC_QUESTIONS, doc_set_questions

SHARED = REPO.parent / "shared" / "eval"
SETS = {
    **DOC_QUESTIONS,
    "git": doc_set_questions("git"),
    "seeds": SHARED / "seeds" / "questions.jsonl",
    "scifact": SHARED / "scifact",
    "squad": SHARED / "squad" / "dev-a.json",
}
METRICS = {
    "sqlite": ("hit@1", "hit@3", "hit@5", "doc_hit@1", "doc_hit@3", "unanswerable_answered"),
    "borg": ("hit@1", "hit@3", "hit@5", "doc_hit@1", "doc_hit@3", "unanswerable_answered"),
    "git": ("hit@1", "hit@3", "hit@5", "doc_hit@1", "doc_hit@3", "unanswerable_answered"),
    "seeds": ("hit@1", "hit@3", "unanswerable_answered"),
    "scifact": ("ndcg@10",),
    "squad": ("gold@1", "gold@5"),
}
# Support from zero at 0.3 and no dated penalty: the page signals before 2026-12-05.
BEFORE = {"page_support": 0.3, "support_above_head": False, "dated_penalty": 0.0}
VARIANTS = {
    "none of the four": {"page_support": 0.0, "furniture_penalty": 0.0, "number_boost": 0.0, "dated_penalty": 0.0},
    "page support only": {**BEFORE, "furniture_penalty": 0.0, "number_boost": 0.0},
    "furniture penalty only": {"page_support": 0.0, "number_boost": 0.0, "dated_penalty": 0.0},
    "page support and furniture penalty": {**BEFORE, "number_boost": 0.0},
    "before: support from zero 0.3 and no dated penalty": BEFORE,
    "before with re-ranking 30 deep": {**BEFORE, "rerank_depth": 30},
    "before with furniture penalty 0.2": {**BEFORE, "furniture_penalty": 0.2},
    "before with page support 0.5": {**BEFORE, "page_support": 0.5},
    "support above the weakest lead 0.3": {"page_support": 0.3, "dated_penalty": 0.0},
    "support above the weakest lead 0.4": {"dated_penalty": 0.0},
    "support above the weakest lead 0.5": {"page_support": 0.5, "dated_penalty": 0.0},
    "before with dated penalty 0.1": {**BEFORE, "dated_penalty": 0.1},
    "support above the weakest lead 0.4 and dated penalty 0.1 (the default)": {},
    "the default with dated penalty 0.2": {"dated_penalty": 0.2},
    "the default without respelling": {"respell": False},
    "the default without closed-up words": {"close_up": False},
    "the default without joined sections": {"join_depth": 0},
    "the default without the no-prose penalty": {"no_prose_penalty": 0.0},
    "the default with no-prose penalty 0.05": {"no_prose_penalty": 0.05},
    "the default with no-prose penalty 0.2": {"no_prose_penalty": 0.2},
    "the default without the overview bonus": {"overview_bonus": 0.0},
    "the default with overview bonus 0.05": {"overview_bonus": 0.05},
    "the default with overview bonus 0.2": {"overview_bonus": 0.2},
    "the default with sections joined within the first 5": {"join_depth": 5},
    "the default with sections joined within the first 10": {"join_depth": 10},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-index", type=Path, help="an index of the SQLite corpus")
    parser.add_argument("--borg-index", type=Path, help="an index of the BorgBackup corpus")
    parser.add_argument("--git-index", type=Path, help="an index of the git corpus")
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS))
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated variant names")
    args = parser.parse_args()
    indexes = {"sqlite": args.sqlite_index, "borg": args.borg_index, "git": args.git_index}

    from qa.evaluation.datasets import load_eval_set
    from qa.evaluation.runner import run_eval
    from qa.search.retrieval import RetrievalSettings

    names = [name for name in args.sets.split(",") if name]
    chosen = [name for name in args.variants.split(",") if name]
    unknown = [name for name in chosen if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant {unknown[0]!r}; the variants are: {', '.join(VARIANTS)}")
    variants = {name: VARIANTS[name] for name in chosen}
    missing = [name for name in names if name in indexes and indexes[name] is None]
    if missing:
        parser.error(f"--{missing[0]}-index is needed for the {missing[0]} set (or leave it out of --sets)")
    loaded = {name: load_eval_set(SETS[name]) for name in names}
    results: dict[str, dict[str, dict[str, float]]] = {}
    load_before = load_average()
    for variant, changes in variants.items():
        settings = RetrievalSettings(**changes)
        results[variant] = {}
        for name in names:
            started = time.perf_counter()
            index = indexes.get(name)
            report = run_eval(loaded[name], index_dir=index, settings=settings)
            results[variant][name] = {k: round(report.metrics[k], 4) for k in METRICS[name] if k in report.metrics}
            print(f"{variant} · {name}: {results[variant][name]} ({time.perf_counter() - started:.0f} s)", flush=True)
    rows = [
        [variant, *(f"{results[variant][n].get(k, float('nan')):.4f}" for n in names for k in METRICS[n])]
        for variant in variants
    ]
    print_table(
        "Page signals, each set asked with each variant",
        ["variant", *(f"{n} {k}" for n in names for k in METRICS[n])],
        rows,
    )
    write_results(
        "rank_structure",
        {"variants": variants, "results": results, "load_average": [load_before, load_average()]},
    )
    print(json.dumps({"load_average": [load_before, load_average()]}))


if __name__ == "__main__":
    main()
