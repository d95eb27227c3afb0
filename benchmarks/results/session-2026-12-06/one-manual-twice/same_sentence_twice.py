"""How many questions show one highlighted sentence twice among their top 3 passages (the same
manual indexed as PDF and as HTML, cut into passages at other places). Prints each such question
with the sources of its three passages, then the count.

    python benchmarks/results/session-2026-12-06/one-manual-twice/same_sentence_twice.py INDEX QUESTIONS.jsonl
"""

import json
import sys

from qa.collection import Collection


def main():
    col = Collection.open(sys.argv[1])
    n = dup = 0
    for line in open(sys.argv[2]):
        r = json.loads(line)
        a = col.ask(r["question"], top_k=3)
        hs = [" ".join(p.highlighted.split()) for p in a.passages]
        docs = [p.citation.source for p in a.passages]
        n += 1
        if len(set(hs)) < len(hs):
            dup += 1
            print(r["id"], docs)
    print(f"{dup}/{n} questions with one highlighted sentence twice in the top 3")


if __name__ == "__main__":
    main()
