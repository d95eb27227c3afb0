#!/bin/bash
# The git set at the code before issue 18 (a492a06) and at this code, float32 passages in both.
export HF_HUB_OFFLINE=1 QA_PASSAGES=float32; unset OMP_NUM_THREADS PYTHONDONTWRITEBYTECODE
PY=/work/main/.venv/bin/python
O=${1:-/tmp/git/out}; mkdir -p $O
Q=/work/main/benchmarks/sets/git-docs/questions.jsonl
C=/work/main/benchmarks/sets/git-docs/corpus
for L in before after; do
  if [ $L = before ]; then T=/tmp/wt-a492; else T=/work/main; fi
  cd $T
  (uptime; date) >> $O/load.txt
  rm -rf /tmp/git/$L.qa
  PYTHONPATH=$T /usr/bin/time -f "$L index %e s" $PY -m qa index $C --index /tmp/git/$L.qa > $O/$L-index.log 2>> $O/times.txt
  PYTHONPATH=$T $PY -m qa eval $Q --index /tmp/git/$L.qa --compare --json $O/$L-git.json > $O/$L-eval.txt 2>&1
  PYTHONPATH=$T $PY /work/main/benchmarks/highlight_prose.py $Q --index /tmp/git/$L.qa --show > $O/$L-highlights.txt 2>&1
done
(uptime; date) >> $O/load.txt
