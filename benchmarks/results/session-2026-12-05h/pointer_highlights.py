"""How many highlights of the first `--top-k` passages only point elsewhere ("See X.").

Asks each question of an index with the checkout on PYTHONPATH, and judges each highlight with
this repository's `qa.text.prose.is_pointer` (loaded from its file, so an old checkout is judged
by the same rule):

    PYTHONPATH=CHECKOUT python benchmarks/results/session-2026-12-05h/pointer_highlights.py QUESTIONS --index INDEX

QUESTIONS is a question set (.jsonl) or a text file of one question a line.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

PROSE = Path(__file__).resolve().parents[3] / "qa" / "text" / "prose.py"


def is_pointer():
    spec = importlib.util.spec_from_file_location("prose_now", PROSE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.is_pointer


def questions(path: Path) -> list[str]:
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if path.suffix == ".jsonl":
        return [json.loads(line)["question"] for line in lines]
    return [line.split("\t")[0] for line in lines]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--top-k", type=int, default=5)
    args = parser.parse_args()
    from qa.collection import Collection

    pointer = is_pointer()
    collection = Collection.open(args.index)
    shown = pointers = first = 0
    for question in questions(args.questions):
        for passage in collection.ask(question, top_k=args.top_k).passages:
            sentence = passage.text[passage.highlight.start : passage.highlight.end]
            shown += 1
            if pointer(sentence):
                pointers += 1
                first += passage.rank == 1
    print(f"{args.index.name}: {pointers} of {shown} highlights point elsewhere ({first} on a first passage)")


if __name__ == "__main__":
    main()
