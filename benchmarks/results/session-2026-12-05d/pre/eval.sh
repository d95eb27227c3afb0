#!/bin/bash
export HF_HUB_OFFLINE=1; unset OMP_NUM_THREADS PYTHONDONTWRITEBYTECODE
PY=/work/main/.venv/bin/python
O=/tmp/pre/out; mkdir -p $O
for L in before after; do
  if [ $L = before ]; then T=/tmp/wt-before; else T=/work/main; fi
  cd $T
  for S in borg sqlite; do
    PYTHONPATH=$T $PY -m qa eval /work/main/benchmarks/sets/$S-docs/questions.jsonl --index /tmp/pre/$L-$S.qa --compare --json $O/$L-$S.json > /dev/null
    PYTHONPATH=$T $PY /work/main/benchmarks/highlight_prose.py /work/main/benchmarks/sets/$S-docs/questions.jsonl --index /tmp/pre/$L-$S.qa --show > $O/$L-$S-highlights.txt
  done
done
uptime
