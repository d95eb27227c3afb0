"""The calibrated confidence's signals for each question of a set, asked of an index: whether it is
answerable, whether the default threshold answers it, the probability and the four signals
(qa/search/confidence.py). What docs/EVALUATION.md's "A set of PDFs" reads the abstentions from.

    python benchmarks/results/session-2026-12-06/pdf_signals.py INDEX QUESTIONS.jsonl
"""

import json
import sys

from qa.collection import Collection


def main() -> None:
    index, questions = sys.argv[1], sys.argv[2]
    collection = Collection.open(index)
    for line in open(questions):
        record = json.loads(line)
        c = collection.rank(record["question"], 20).confidence
        kind = "A" if record["answers"] else "U"
        verdict = "ok " if c.confident else "ABS"
        print(
            f"{record['id'][:26]:26} {kind} {verdict} p={c.probability:.3f} dense={c.dense:.3f}"
            f" cov={c.coverage:.3f} known={c.known:.3f} margin={c.margin:.3f}"
        )


if __name__ == "__main__":
    main()
