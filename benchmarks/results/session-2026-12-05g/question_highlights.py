"""Throwaway: how often is the first passage's highlight a question (ends with '?')?"""
import json, sys
from qa.collection import Collection
sets = {"sqlite": ("/work/main/benchmarks/sets/sqlite-docs/questions.jsonl", "/tmp/evh-after/sqlite-docs.qa"),
        "borg": ("/work/main/benchmarks/sets/borg-docs/questions.jsonl", "/tmp/evh-after/borg-docs.qa"),
        "git": ("/work/main/benchmarks/sets/git-docs/questions.jsonl", "/tmp/evh-after/git-docs.qa"),
        "book": ("/tmp/s7/book-q.txt", "/tmp/s7/book2.qa"), "cargo": ("/tmp/s7/cargo-q.txt", "/tmp/s7/cargo.qa"),
        "seeds": ("/work/shared/eval/seeds/questions.jsonl", "/work/main/benchmarks/results/.cache/seeds-index")}
for name, (qf, idx) in sets.items():
    lines = [l for l in open(qf) if l.strip()]
    qs = [json.loads(l)["question"] for l in lines] if qf.endswith(".jsonl") else [l.strip() for l in lines]
    c = Collection.open(idx); n = 0
    for q in qs:
        a = c.ask(q, top_k=1)
        if a.passages and a.passages[0].highlighted.rstrip().rstrip('"”’)').endswith("?"):
            n += 1; print("   ", name, q[:60], "→", a.passages[0].highlighted[:100].replace("\n", " "))
    print(name, n, "/", len(qs))
