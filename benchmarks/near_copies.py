"""How often an answer's first passages repeat each other: for each question asked of an index,
whether two of its first `--top-k` passages, from different documents, are near-copies (half or
more of the shorter one's runs of five words in the other: a page and the all-in-one page that
repeats it, cut at other places), and which document the first passage came from.

The measure is deliberately looser than the rule `qa` follows (each sentence said by a passage
already chosen, `qa.search.searcher`), so that it also counts the copies the rule leaves.

    python -m benchmarks.near_copies QUESTIONS --index INDEX [--top-k 5] [--show]

QUESTIONS is a question set (.jsonl, as `qa eval` reads) or a text file of one question a line.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

_WORD = re.compile(r"\w+")


def runs(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + 5]) for i in range(max(1, len(words) - 4))} if words else set()


def near_copies(texts: list[tuple[str, str]]) -> list[tuple[int, int]]:
    """Pairs (earlier, later) of passages of different documents, one half or more in the other."""
    found = []
    for later, (doc_later, text_later) in enumerate(texts):
        for earlier, (doc_earlier, text_earlier) in enumerate(texts[:later]):
            a, b = runs(text_earlier), runs(text_later)
            if doc_earlier != doc_later and a and b and len(a & b) >= 0.5 * min(len(a), len(b)):
                found.append((earlier, later))
    return found


def questions_of(path: Path) -> list[str]:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return [json.loads(line)["question"] for line in lines] if path.suffix == ".jsonl" else lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--show", action="store_true", help="print each question's near-copies")
    args = parser.parse_args()

    from qa.collection import Collection

    collection = Collection.open(args.index)
    questions = questions_of(args.questions)
    with_copies = 0
    first_sources: Counter[str] = Counter()
    for question in questions:
        passages = collection.ask(question, top_k=args.top_k).passages
        first_sources.update([passages[0].citation.source] if passages else [])
        pairs = near_copies([(p.citation.doc_id, p.text) for p in passages])
        with_copies += bool(pairs)
        if pairs and args.show:
            shown = ", ".join(f"{passages[a].citation.source} ~ {passages[b].citation.source}" for a, b in pairs)
            print(f"{question}: {shown}")
    print(f"questions with near-copies among their first {args.top_k} passages: {with_copies}/{len(questions)}")
    print("first passage's document, most often: " + ", ".join(f"{s} {n}" for s, n in first_sources.most_common(3)))


if __name__ == "__main__":
    main()
