"""What reading a question against its first passage costs a question, and how many are read.

`Collection.ask` on every question of each set given, twice over the same index in one process:
with the encoder as it is (the question read against its first passage where the five signals
leave the verdict open, qa.search.confidence) and with the same encoder unable to read word
pieces (the five signals alone, as before). The two alternate round by round; each round is the
p50 and p95 of the set's questions, and the median round is shown, with the ratio of the two and
the share of questions read. The cost of one read is timed apart: `reading_of` the first question
and its first passage.

    python -m benchmarks.bench_reading --docs sqlite=/tmp/sqlite.qa borg=/tmp/borg.qa git=/tmp/git.qa \
        pdf=/tmp/pdf.qa [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.common import load_average, print_table, write_results
from benchmarks.corpora import SEED_QUESTIONS, doc_set_questions


class FiveSignalsOnly:
    """The encoder without `read_tokens`: what answering was before the sixth signal, and what a
    custom encoder that cannot read word pieces gets (tests/test_abstention.py)."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name: str):
        if name == "read_tokens":
            raise AttributeError(name)
        return getattr(self._inner, name)


def timed_asks(collection, questions) -> tuple[float, float, int]:
    """p50 and p95 ms of `ask` over the questions, and how many were read."""
    took, read = [], 0
    for question in questions:
        started = time.perf_counter()
        collection.ask(question.question, history=question.history)
        took.append((time.perf_counter() - started) * 1000)
        read += collection.rank(question.question, 5, history=question.history).confidence.reading is not None
    return float(np.percentile(took, 50)), float(np.percentile(took, 95)), read


def main() -> None:
    from qa.collection import Collection, ensure_default_index
    from qa.evaluation.datasets import load_questions
    from qa.search.confidence import reading_of

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", nargs="*", default=[], help="NAME=INDEX for the documentation sets")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    load = load_average()
    reading = Collection.open(ensure_default_index())
    encoder = reading.encoder
    sets = [("seeds", load_questions(SEED_QUESTIONS).questions, reading.index_dir)]
    for pair in args.docs:
        name, index = pair.split("=", 1)
        sets.append((name, load_questions(doc_set_questions(name)).questions, Path(index)))
    results, rows = {}, []
    for name, questions, index in sets:
        with_reading = Collection.open(index, encoder=encoder)
        without = Collection.open(index, encoder=FiveSignalsOnly(encoder))
        for collection in (with_reading, without):
            collection.ask("warm up")
        rounds = {"with reading": [], "five signals": []}
        read = 0
        for _ in range(args.rounds):
            for label, collection in (("five signals", without), ("with reading", with_reading)):
                p50, p95, n = timed_asks(collection, questions)
                rounds[label].append((p50, p95))
                read = n if label == "with reading" else read
        p50s = {label: statistics.median(r[0] for r in runs) for label, runs in rounds.items()}
        p95s = {label: statistics.median(r[1] for r in runs) for label, runs in rounds.items()}
        sample = with_reading.rank(questions[0].question, 5)
        top = with_reading.snapshot().passages([sample.hits[0].passage_id])[sample.hits[0].passage_id]
        one_read = []
        for _ in range(20):
            started = time.perf_counter()
            reading_of(encoder, sample.query.text, top.text, top.section)
            one_read.append((time.perf_counter() - started) * 1000)
        results[name] = {
            "questions": len(questions),
            "read": read,
            "p50_ms": p50s,
            "p95_ms": p95s,
            "rounds": rounds,
            "one_read_ms": statistics.median(one_read),
        }
        rows.append(
            [
                name,
                f"{read}/{len(questions)}",
                f"{p50s['five signals']:.1f} / {p95s['five signals']:.1f}",
                f"{p50s['with reading']:.1f} / {p95s['with reading']:.1f}",
                " / ".join(f"{of['with reading'] / of['five signals']:.2f}" for of in (p50s, p95s)),
                f"{statistics.median(one_read):.1f}",
            ]
        )
    print_table(
        "Reading the first passage where the verdict is open: ask latency, median of rounds",
        ["set", "read", "five signals p50 / p95 ms", "with reading p50 / p95 ms", "ratio", "one read ms"],
        rows,
    )
    write_results("reading_cost", {"args": vars(args), "load": [load, load_average()], "sets": results})


if __name__ == "__main__":
    main()
