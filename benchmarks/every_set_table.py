"""The rows that moved between two runs of benchmarks/every_set.sh (and every hybrid row), and the
highlight counts, for docs/EVALUATION.md's before/after tables of a whole change.

    python benchmarks/every_set_table.py OUTDIR before after
"""

import json
import re
import sys
from pathlib import Path

OUT, BEFORE, AFTER = sys.argv[1], sys.argv[2], sys.argv[3]
SETS = [
    ("scifact", ["ndcg@10", "recall@100", "answerable_abstained", "answer_abstained"]),
    ("squad", ["gold@1", "gold@5", "hit@1", "answerable_abstained", "answer_abstained"]),
    ("seeds", ["hit@1", "hit@3", "abstain_recall", "answerable_abstained"]),
    ("licenses", ["hit@1", "hit@3", "doc_hit@1"]),
    *[
        (
            name,
            [
                "hit@1",
                "hit@3",
                "hit@5",
                "doc_hit@1",
                "unanswerable_answered",
                "answerable_abstained",
                "answer_abstained",
            ],
        )
        for name in (
            "sqlite-docs",
            "borg-docs",
            "git-docs",
            "pdf-docs",
            "sqlite-docs-as-written",
            "borg-docs-as-written",
            "git-docs-as-written",
        )
    ],
]


def metrics(label: str, name: str) -> dict:
    """A run's figures for one set, by mode; empty where the run has none (the as-written asks
    came in on 2026-12-05)."""
    path = Path(OUT) / f"{label}-{name}.json"
    if not path.exists():
        return {}
    found = json.loads(path.read_text())
    return {"hybrid": found["metrics"], **found.get("compare", {})}


def shown(value) -> str:
    return "–" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def highlights(label: str, name: str) -> str:
    text = open(f"{OUT}/{label}-{name}-highlights.txt").read()
    every, given = re.search(r"(\d+/\d+) =", text), re.search(r"answers given.*?: (\d+/\d+)", text)
    return f"{every.group(1) if every else '?'} ({given.group(1) if given else '?'})"


for name, keys in SETS:
    before, after = metrics(BEFORE, name), metrics(AFTER, name)
    for mode in ("hybrid", "bm25", "dense"):
        if mode not in before or mode not in after:
            continue
        for key in keys:
            old, new = before[mode].get(key), after[mode].get(key)
            if mode == "hybrid" or old != new:
                print(" | ".join((name, mode, key, shown(old), shown(new))))
for name in ("sqlite-docs", "borg-docs", "git-docs", "pdf-docs", "licenses", "seeds"):
    if not Path(f"{OUT}/{BEFORE}-{name}-highlights.txt").exists():
        continue  # a set that came in after the run
    print(name, "highlights", highlights(BEFORE, name), "->", highlights(AFTER, name))
