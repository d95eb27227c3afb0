#!/bin/bash
# Every set asked by one checkout's code, for a before/after table of a whole change:
#
#   benchmarks/every_set.sh CHECKOUT LABEL OUTDIR
#
# In a fresh QA_HOME (/tmp/evh-LABEL), CHECKOUT's code builds every index (the licences and the
# four documentation sets of benchmarks/sets, the seeds, SciFact's and SQuAD dev-a's cached
# corpora), then: `qa eval … --compare --json` on every set (the documentation sets as judged and,
# apart, as first written: the `judged` keys removed); benchmarks/highlight_prose.py on each
# question set; `python -m benchmarks.calibrate collect` and `check`. Outputs are LABEL-* files in
# OUTDIR; benchmarks/every_set_table.py OUTDIR before after prints the rows that moved. The sets,
# the scripts and the interpreter are this repository's (a worktree of an old commit is asked the
# same questions); ../shared/eval must be present.
set -x
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-$REPO/.venv/bin/python}
S=$REPO/benchmarks/sets
SHARED=$(cd "$REPO/../shared/eval" && pwd)
cd "$1"; L=$2; O=$(mkdir -p "$3" && cd "$3" && pwd)
export HF_HUB_OFFLINE=1 PYTHONPATH="$1" QA_HOME=/tmp/evh-$L
unset OMP_NUM_THREADS PYTHONDONTWRITEBYTECODE QA_PASSAGES
rm -rf $QA_HOME; mkdir -p $QA_HOME
(uptime; date) > $O/$L-load.txt
for C in licenses sqlite-docs borg-docs git-docs pdf-docs; do
  /usr/bin/time -f "$C %e s" $PY -m qa index $S/$C/corpus --index $QA_HOME/$C.qa > /dev/null 2>> $O/$L-index-times.txt
done
$PY -m qa eval $SHARED/seeds/questions.jsonl --compare --json $O/$L-seeds.json > /dev/null 2>&1
for C in licenses sqlite-docs borg-docs git-docs pdf-docs; do
  $PY -m qa eval $S/$C/questions.jsonl --index $QA_HOME/$C.qa --compare --json $O/$L-$C.json > /dev/null 2>&1
  $PY -c "import json,sys; [print(json.dumps({k: v for k, v in json.loads(l).items() if k != 'judged'}, ensure_ascii=False)) for l in open(sys.argv[1]) if l.strip()]" $S/$C/questions.jsonl > $QA_HOME/$C-as-written.jsonl
  $PY -m qa eval $QA_HOME/$C-as-written.jsonl --index $QA_HOME/$C.qa --compare --json $O/$L-$C-as-written.json > /dev/null 2>&1
  $PY $REPO/benchmarks/highlight_prose.py $S/$C/questions.jsonl --index $QA_HOME/$C.qa > $O/$L-$C-highlights.txt 2>&1
done
SEEDS_INDEX=$(ls -d $QA_HOME/indexes/seeds-all-minilm-l6-v2* | grep -v -- -server | head -1)
$PY $REPO/benchmarks/highlight_prose.py $SHARED/seeds/questions.jsonl --index $SEEDS_INDEX > $O/$L-seeds-highlights.txt 2>&1
$PY -m qa eval $SHARED/scifact --compare --json $O/$L-scifact.json > /dev/null 2>&1
$PY -m qa eval $SHARED/squad/dev-a.json --compare --json $O/$L-squad.json > /dev/null 2>&1
$PY -m benchmarks.calibrate collect > $O/$L-calibrate-collect.log 2>&1
$PY -m benchmarks.calibrate check > $O/$L-calibrate-check.log 2>&1
cp benchmarks/results/calibration_check.json $O/$L-calibration_check.json
git checkout -q -- benchmarks/results/calibration_check.json 2>/dev/null  # the check rewrites the tracked file
(uptime; date) >> $O/$L-load.txt
