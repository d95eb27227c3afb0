import json
import sys

from qa.collection import Collection

out = {}
for qfile, idx in [
    ("benchmarks/sets/sqlite-docs/questions.jsonl", "/tmp/pre/after2-sqlite.qa"),
    ("benchmarks/sets/borg-docs/questions.jsonl", "/tmp/pre/after-borg.qa"),
    ("benchmarks/sets/git-docs/questions.jsonl", "/tmp/git/after2.qa"),
    ("/work/shared/eval/seeds/questions.jsonl", "/tmp/ev-after-seeds.qa"),
    ("benchmarks/sets/licenses/questions.jsonl", "/tmp/ev-after-lic.qa"),
]:
    c = Collection.open(idx)
    for line in open(qfile):
        if not line.strip():
            continue
        q = json.loads(line)
        for p in c.ask(q["question"], top_k=3, history=q.get("history", [])).passages:
            out[f"{qfile}:{q['id']}:{p.rank}"] = p.text[p.highlight.start : p.highlight.end]
json.dump(out, open(sys.argv[1], "w"))
