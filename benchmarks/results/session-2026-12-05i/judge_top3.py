"""Which questions have an answer in the top three passages: a pattern for each answer, written
from what the documents say before any answer was seen (PATTERNS.json: question → regular
expression), applied to the JSON lines of `qa ask QUESTION -k 3 --json` of two runs.

    python benchmarks/results/session-2026-12-05i/judge_top3.py PATTERNS.json BEFORE.jsonl AFTER.jsonl
"""

import json
import re
import sys


def judged(path: str, answers: dict[str, str]) -> dict[str, int | None]:
    """Question → the rank of the first passage holding its answer (None: not in the top three)."""
    ranks = {}
    for line in open(path):
        answer = json.loads(line)
        pattern = answers.get(answer["question"])
        if pattern is not None:
            hits = [p["rank"] for p in answer["passages"][:3] if re.search(pattern, p["text"])]
            ranks[answer["question"]] = hits[0] if hits else None
    return ranks


answers = json.load(open(sys.argv[1]))
before, after = judged(sys.argv[2], answers), judged(sys.argv[3], answers)
for question in answers:
    print(f"{before.get(question) or '-'} → {after.get(question) or '-'}  {question}")
for name, ranks in (("before", before), ("after", after)):
    at1 = sum(rank == 1 for rank in ranks.values())
    at3 = sum(rank is not None for rank in ranks.values())
    print(f"{name}: answer at rank 1 {at1}/{len(ranks)}, in the top three {at3}/{len(ranks)}")
