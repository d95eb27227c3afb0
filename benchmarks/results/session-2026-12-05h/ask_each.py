"""Each question of a file asked of an index: the first five passages' sources, section paths and
highlights, as `node-answers-*.txt` show them.

    PYTHONPATH=. python benchmarks/results/session-2026-12-05h/ask_each.py INDEX QUESTIONS
"""

from __future__ import annotations

import sys

from qa.collection import Collection


def main(index: str, questions: str) -> None:
    collection = Collection.open(index)
    asked = [line.split("\t")[0] for line in open(questions) if line.strip() and not line.startswith("#")]
    for question in asked:
        print(f"\n### {question}")
        for passage in collection.ask(question, top_k=5).passages:
            highlight = passage.text[passage.highlight.start : passage.highlight.end].replace("\n", " ")
            section = " › ".join(passage.citation.section)[:70]
            print(f"  {passage.rank}. {passage.citation.source.split('/')[-1]} › {section}\n       » {highlight[:160]}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
