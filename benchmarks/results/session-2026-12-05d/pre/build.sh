#!/bin/bash
export HF_HUB_OFFLINE=1; unset OMP_NUM_THREADS PYTHONDONTWRITEBYTECODE
PY=/work/main/.venv/bin/python
for L in before after; do
  if [ $L = before ]; then T=/tmp/wt-before; else T=/work/main; fi
  for S in borg sqlite; do
    rm -rf /tmp/pre/$L-$S.qa
    (cd $T && PYTHONPATH=$T /usr/bin/time -f "$L $S %e s" $PY -m qa index /work/main/benchmarks/sets/$S-docs/corpus --index /tmp/pre/$L-$S.qa > /dev/null 2>>/tmp/pre/times.txt)
  done
done
uptime >> /tmp/pre/times.txt
