"""What the no-prose penalty and the overview bonus add to a question's time: `Collection.ask` on
the SQLite questions with both rules and with neither, alternated seven times in one process,
median of every question's time (the index: benchmarks/every_set.sh's, at /tmp/evh-after).

    python benchmarks/results/session-2026-12-05f/rule_cost.py [INDEX]
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

from qa.collection import Collection
from qa.search.retrieval import RetrievalSettings

REPO = Path(__file__).resolve().parents[3]
index = sys.argv[1] if len(sys.argv) > 1 else "/tmp/evh-after/sqlite-docs.qa"
questions = [
    json.loads(line)["question"]
    for line in (REPO / "benchmarks/sets/sqlite-docs/questions.jsonl").read_text().splitlines()
    if line.strip()
]
collections = {
    "both rules": Collection.open(index),
    "neither": Collection.open(index, settings=RetrievalSettings(no_prose_penalty=0.0, overview_bonus=0.0)),
}
for collection in collections.values():
    for question in questions:
        collection.ask(question)
times: dict[str, list[float]] = {name: [] for name in collections}
for _ in range(7):
    for name, collection in collections.items():
        for question in questions:
            start = time.perf_counter()
            collection.ask(question)
            times[name].append(time.perf_counter() - start)
medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
print(f"load {os.getloadavg()}", {name: round(ms, 3) for name, ms in medians.items()})
print(f"ratio {medians['both rules'] / medians['neither']:.3f}")
