#!/bin/bash
# git's AsciiDoc sources of the git set's 57 pages, read as plain text (.txt) and as AsciiDoc
# (.adoc), each indexed and asked the git set's questions (answer strings: doc names differ).
export HF_HUB_OFFLINE=1; unset OMP_NUM_THREADS PYTHONDONTWRITEBYTECODE
PY=/work/main/.venv/bin/python
O=/tmp/adoc/out; mkdir -p $O; cd /work/main
Q=benchmarks/sets/git-docs/questions.jsonl
(uptime; date) >> $O/load.txt
for L in txt adoc; do
  rm -rf /tmp/adoc/$L.qa
  /usr/bin/time -f "$L index %e s" $PY -m qa index /tmp/adoc/$L --index /tmp/adoc/$L.qa > $O/$L-index.log 2>> $O/times.txt
  $PY -m qa eval $Q --index /tmp/adoc/$L.qa --json $O/$L.json > $O/$L-eval.txt 2>&1
  $PY benchmarks/highlight_prose.py $Q --index /tmp/adoc/$L.qa > $O/$L-highlights.txt 2>&1
done
(uptime; date) >> $O/load.txt
