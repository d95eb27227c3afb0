"""Padding: a batch of texts padded to its longest in one encoder call, against groups of like length.

`qa serve` encodes the questions that arrive together in one call (api/batching.py), and
`OnnxEncoder.encode` cuts a batch where its texts fall below its longest ÷ `PADDING_SLACK`. This
times both on the same texts, alternated run by run in one process: batches of seed questions as
the server makes them under load, and passage-sized texts as `qa index` hands them over (pieces
of ~1,000 characters of SciFact's first abstracts, title first, when ../shared is present; else
the seeds' ~200-token passages). It also checks
that a text's vector does not depend on its batch. Prints a table and writes
benchmarks/results/padding.json.

    python -m benchmarks.bench_padding [--runs 7]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from benchmarks.common import load_average, median, print_table, timed, write_results
from benchmarks.corpora import SCIFACT, has_scifact, seed_questions
from tests.samples import seed_passages


def scifact_passages(count: int) -> list[str]:
    """Title and ~1,000-character pieces of the first SciFact abstracts, as many as `count`."""
    passages = []
    with open(SCIFACT / "corpus.jsonl") as corpus:
        for line in corpus:
            record = json.loads(line)
            text = f"{record['title']}\n{record['text']}"
            passages.extend(text[start : start + 1000] for start in range(0, len(text), 900))
            if len(passages) >= count:
                return passages[:count]
    return passages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per figure; each figure is their median")
    parser.add_argument("--passages", type=int, default=600)
    args = parser.parse_args()

    import embeddings.onnx_encoder as onnx_encoder
    from benchmarks.load_shared import load_question_encoder

    encoder = load_question_encoder().onnx_encoder
    questions = seed_questions()
    passages = scifact_passages(args.passages) if has_scifact() else seed_passages(args.passages)
    cases = [
        (f"{n} seed questions in one batch", [questions[i % len(questions)] for i in range(n)], 20) for n in (8, 30, 64)
    ]
    cases.append((f"{len(passages)} passages (qa index)", passages, 1))
    grouped_slack = onnx_encoder.PADDING_SLACK
    load_before = load_average()
    rows, results = [], []
    for name, texts, calls in cases:
        times = {"one call": [], "groups": []}
        vectors = {}
        for _ in range(args.runs):
            for method, slack in (("one call", float("inf")), ("groups", grouped_slack)):
                onnx_encoder.PADDING_SLACK = slack
                vectors[method] = encoder.encode(texts)
                times[method].append(median(timed(lambda texts=texts: encoder.encode(texts), calls)) * 1000)
        onnx_encoder.PADDING_SLACK = grouped_slack
        one, groups = median(times["one call"]), median(times["groups"])
        difference = float(np.abs(vectors["one call"] - vectors["groups"]).max())
        rows.append([name, one, groups, groups / one, difference])
        results.append(
            {"case": name, "one_call_ms": one, "groups_ms": groups, "ratio": groups / one}
            | {"max_abs_difference": difference, "runs": times}
        )
    print_table(
        f"Encoder call in ms, median of {args.runs} runs (PADDING_SLACK {grouped_slack})",
        ["texts", "one call, padded to the longest", "groups of like length", "groups ÷ one call", "max |Δ vector|"],
        rows,
    )
    path = write_results("padding", {"slack": grouped_slack, "load": [load_before, load_average()], "cases": results})
    print(f"written to {path}")


if __name__ == "__main__":
    main()
