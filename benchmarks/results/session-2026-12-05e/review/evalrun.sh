#!/bin/bash
# usage: evalrun.sh CHECKOUT LABEL OUTDIR — every set with --compare, the calibration check, with
# every index (the seeds, SciFact and SQuAD's cached corpora, the licences and the three
# documentation sets) built by this checkout's own code, in a fresh QA_HOME. The documentation
# sets are asked as judged and, apart, as first written (the `judged` keys removed; code from
# before they existed reads both the same).
set -x
cd "$1"; L=$2; O=$3; mkdir -p $O
export HF_HUB_OFFLINE=1 PYTHONPATH="$1" QA_HOME=/tmp/evh-$L
unset OMP_NUM_THREADS PYTHONDONTWRITEBYTECODE QA_PASSAGES
PY=/work/main/.venv/bin/python
S=/work/main/benchmarks/sets
rm -rf $QA_HOME; mkdir -p $QA_HOME
(uptime; date) > $O/$L-load.txt
for C in licenses sqlite-docs borg-docs git-docs; do
  /usr/bin/time -f "$C %e s" $PY -m qa index $S/$C/corpus --index $QA_HOME/$C.qa > /dev/null 2>> $O/$L-index-times.txt
done
$PY -m qa eval /work/shared/eval/seeds/questions.jsonl --compare --json $O/$L-seeds.json > /dev/null 2>&1
for C in licenses sqlite-docs borg-docs git-docs; do
  $PY -m qa eval $S/$C/questions.jsonl --index $QA_HOME/$C.qa --compare --json $O/$L-$C.json > /dev/null 2>&1
  $PY -c "import json,sys; [print(json.dumps({k: v for k, v in json.loads(l).items() if k != 'judged'}, ensure_ascii=False)) for l in open(sys.argv[1]) if l.strip()]" $S/$C/questions.jsonl > $QA_HOME/$C-as-written.jsonl
  $PY -m qa eval $QA_HOME/$C-as-written.jsonl --index $QA_HOME/$C.qa --compare --json $O/$L-$C-as-written.json > /dev/null 2>&1
  $PY /work/main/benchmarks/highlight_prose.py $S/$C/questions.jsonl --index $QA_HOME/$C.qa > $O/$L-$C-highlights.txt 2>&1
done
SEEDS_INDEX=$(ls -d $QA_HOME/indexes/seeds-all-minilm-l6-v2* | grep -v -- -server | head -1)
$PY /work/main/benchmarks/highlight_prose.py /work/shared/eval/seeds/questions.jsonl --index $SEEDS_INDEX > $O/$L-seeds-highlights.txt 2>&1
$PY -m qa eval /work/shared/eval/scifact --compare --json $O/$L-scifact.json > /dev/null 2>&1
$PY -m qa eval /work/shared/eval/squad/dev-a.json --compare --json $O/$L-squad.json > /dev/null 2>&1
$PY -m benchmarks.calibrate collect > $O/$L-calibrate-collect.log 2>&1
$PY -m benchmarks.calibrate check > $O/$L-calibrate-check.log 2>&1
cp benchmarks/results/calibration_check.json $O/$L-calibration_check.json
(uptime; date) >> $O/$L-load.txt
