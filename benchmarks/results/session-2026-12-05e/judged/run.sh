#!/bin/bash
# usage: run.sh INDEXES OUTDIR: each documentation set asked of its index (built by `qa index
# benchmarks/sets/<set>/corpus --index INDEXES/<set>.qa`) twice in one run: with the answers
# judged from the returned passages ("judged" keys) and as first written (the keys removed).
set -e
I=$1; O=$2; mkdir -p $O
export HF_HUB_OFFLINE=1
(uptime; date) > $O/load.txt
for C in sqlite-docs borg-docs git-docs; do
  Q=benchmarks/sets/$C/questions.jsonl
  python -c "import json,sys; [print(json.dumps({k: v for k, v in json.loads(l).items() if k != 'judged'}, ensure_ascii=False)) for l in open(sys.argv[1]) if l.strip()]" $Q > $O/$C-as-written.jsonl
  qa eval $Q --index $I/$C.qa --compare --json $O/$C-judged.json > $O/$C-judged.txt 2>&1
  qa eval $O/$C-as-written.jsonl --index $I/$C.qa --compare --json $O/$C-as-written.json > $O/$C-as-written.txt 2>&1
done
(uptime; date) >> $O/load.txt
