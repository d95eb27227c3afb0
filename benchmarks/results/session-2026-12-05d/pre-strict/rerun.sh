#!/bin/bash
# After the stricter test for prose kept as typed: SQLite (bfloat16, the default here) and git
# (float32, as its before) indexed again by this code and asked.
export HF_HUB_OFFLINE=1; unset OMP_NUM_THREADS PYTHONDONTWRITEBYTECODE
PY=/work/main/.venv/bin/python
O=/tmp/pre/out2; mkdir -p $O; cd /work/main
(uptime; date) >> $O/load.txt
rm -rf /tmp/pre/after2-sqlite.qa /tmp/git/after2.qa
/usr/bin/time -f "sqlite index %e s" $PY -m qa index benchmarks/sets/sqlite-docs/corpus --index /tmp/pre/after2-sqlite.qa > /dev/null 2>> $O/times.txt
$PY -m qa eval benchmarks/sets/sqlite-docs/questions.jsonl --index /tmp/pre/after2-sqlite.qa --compare --json $O/after2-sqlite.json > /dev/null 2>&1
$PY benchmarks/highlight_prose.py benchmarks/sets/sqlite-docs/questions.jsonl --index /tmp/pre/after2-sqlite.qa --show > $O/after2-sqlite-highlights.txt 2>&1
QA_PASSAGES=float32 /usr/bin/time -f "git index %e s" $PY -m qa index benchmarks/sets/git-docs/corpus --index /tmp/git/after2.qa > /dev/null 2>> $O/times.txt
$PY -m qa eval benchmarks/sets/git-docs/questions.jsonl --index /tmp/git/after2.qa --compare --json $O/after2-git.json > $O/after2-git.txt 2>&1
$PY benchmarks/highlight_prose.py benchmarks/sets/git-docs/questions.jsonl --index /tmp/git/after2.qa --show > $O/after2-git-highlights.txt 2>&1
(uptime; date) >> $O/load.txt
