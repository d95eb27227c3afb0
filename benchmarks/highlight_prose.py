"""How often the top answer's highlight reads as an answer: a whole prose sentence of four words
or more (issue 18), on a question set asked of an existing index.

The check is deliberately simpler than the rule the highlighter follows, so that it does not grade
the rule by itself: the highlight is one line, of four words or more, starting like a sentence
(a capital, a digit, a quote or a bracket) and ending like one (`.`, `!` or `?`, closing quotes
or brackets allowed). A code line, a heading, a fragment cut at a line break or a whole block of
several lines fails it.

    python -m benchmarks.highlight_prose QUESTIONS.jsonl --index INDEX [--show]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

_STARTS = re.compile(r"^[\"'“‘(\[]?[A-Z0-9]")
_ENDS = re.compile(r"[.!?][\"'”’)\]]*$")


def is_prose_sentence(text: str) -> bool:
    text = text.strip()
    return "\n" not in text and len(text.split()) >= 4 and bool(_STARTS.match(text)) and bool(_ENDS.search(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--show", action="store_true", help="print each failing highlight")
    args = parser.parse_args()

    from qa.collection import Collection

    collection = Collection.open(args.index)
    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    good = asked = 0
    for question in questions:
        answer = collection.ask(question["question"], top_k=1, history=question.get("history", []))
        if not answer.passages:
            continue
        passage = answer.passages[0]
        highlight = passage.text[passage.highlight.start : passage.highlight.end]
        asked += 1
        if is_prose_sentence(highlight):
            good += 1
        elif args.show:
            print(f"{question['id']}: {highlight[:120]!r}")
    share = good / asked if asked else 0.0
    print(f"top-1 highlights that are a whole prose sentence of >= 4 words: {good}/{asked} = {share:.3f}")


if __name__ == "__main__":
    main()
