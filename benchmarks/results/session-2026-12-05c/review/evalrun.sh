#!/bin/bash
# usage: evalrun3.sh CHECKOUT LABEL OUTDIR — every set with --compare, the calibration check,
# and the seeds and licences indexed by this checkout's own code
set -x
cd "$1"; L=$2; O=$3; mkdir -p $O
export HF_HUB_OFFLINE=1 PYTHONPATH="$1"
unset OMP_NUM_THREADS PYTHONDONTWRITEBYTECODE
PY=/work/main/.venv/bin/python
rm -rf benchmarks/results/.cache/seeds-index /tmp/ev-$L-seeds.qa /tmp/ev-$L-lic.qa
uptime > $O/$L-load.txt; date >> $O/$L-load.txt
$PY -m qa index /work/main/seeds --index /tmp/ev-$L-seeds.qa > /dev/null 2>&1
$PY -m qa index /work/main/benchmarks/sets/licenses/corpus --index /tmp/ev-$L-lic.qa > /dev/null 2>&1
$PY -m qa eval /work/shared/eval/seeds/questions.jsonl --index /tmp/ev-$L-seeds.qa --compare --json $O/$L-seeds.json > /dev/null
$PY -m qa eval /work/main/benchmarks/sets/licenses/questions.jsonl --index /tmp/ev-$L-lic.qa --compare --json $O/$L-licences.json > /dev/null
$PY -m qa eval /work/main/benchmarks/sets/sqlite-docs/questions.jsonl --index /tmp/m/sqlite.qa --compare --json $O/$L-sqlite.json > /dev/null
$PY -m qa eval /work/main/benchmarks/sets/borg-docs/questions.jsonl --index /tmp/m/borg.qa --compare --json $O/$L-borg.json > /dev/null
$PY -m qa eval /work/shared/eval/scifact --compare --json $O/$L-scifact.json > /dev/null
$PY -m qa eval /work/shared/eval/squad/dev-a.json --compare --json $O/$L-squad.json > /dev/null
$PY -m benchmarks.calibrate collect > $O/$L-calibrate-collect.log 2>&1
$PY -m benchmarks.calibrate check > $O/$L-calibrate-check.log 2>&1
cp benchmarks/results/calibration_check.json $O/$L-calibration_check.json
uptime >> $O/$L-load.txt; date >> $O/$L-load.txt
