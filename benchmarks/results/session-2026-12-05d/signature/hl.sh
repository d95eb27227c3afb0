#!/bin/bash
# highlight_prose on every set's index, at the code in $1 (a checkout)
export HF_HUB_OFFLINE=1; unset OMP_NUM_THREADS PYTHONDONTWRITEBYTECODE
PY=/work/main/.venv/bin/python; cd $1
for pair in "benchmarks/sets/sqlite-docs/questions.jsonl /tmp/pre/after2-sqlite.qa" "benchmarks/sets/borg-docs/questions.jsonl /tmp/pre/after-borg.qa" "benchmarks/sets/git-docs/questions.jsonl /tmp/git/after2.qa" "/work/shared/eval/seeds/questions.jsonl /tmp/ev-after-seeds.qa" "benchmarks/sets/licenses/questions.jsonl /tmp/ev-after-lic.qa"; do
  set -- $pair
  echo "== $1"; PYTHONPATH=$PWD $PY benchmarks/highlight_prose.py $(case $1 in /*) echo $1;; *) echo /work/main/$1;; esac) --index $2 --show 2>/dev/null | sed 's|/work/main//work|/work|'
done
