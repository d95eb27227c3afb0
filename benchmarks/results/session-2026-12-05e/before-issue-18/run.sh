#!/bin/bash
# The SQLite set asked of the code before issue 18 (a492a06, in a worktree) and of this code, each
# with its own index, as written and with the judged answers folded into `answers` and `docs`
# (which a492a06's loader reads; it ignores `judged`). usage: run.sh BEFORE_CHECKOUT OUTDIR
set -x
REPO=$(cd "$(dirname "$0")/../../../.." && pwd)
PY=$REPO/.venv/bin/python
Q=$REPO/benchmarks/sets/sqlite-docs/questions.jsonl
O=$(mkdir -p "$2" && cd "$2" && pwd)
export HF_HUB_OFFLINE=1 QA_HOME=/tmp/evh-b18
unset OMP_NUM_THREADS PYTHONDONTWRITEBYTECODE QA_PASSAGES
rm -rf $QA_HOME; mkdir -p $QA_HOME
(uptime; date) > $O/load.txt
$PY -c "
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    judged = r.pop('judged', [])
    written = dict(r)
    print(json.dumps(written, ensure_ascii=False), file=open(sys.argv[2], 'a'))
    r['answers'] = list(dict.fromkeys(r['answers'] + [j['answer'] for j in judged]))
    r['docs'] = list(dict.fromkeys(r['docs'] + [j['doc'] for j in judged]))
    print(json.dumps(r, ensure_ascii=False), file=open(sys.argv[3], 'a'))
" $Q $QA_HOME/as-written.jsonl $QA_HOME/judged-folded.jsonl
for T in before:$1 after:$REPO; do
  L=${T%%:*}; C=${T#*:}
  (cd $C && PYTHONPATH=$C /usr/bin/time -f "$L index %e s" $PY -m qa index $REPO/benchmarks/sets/sqlite-docs/corpus --index $QA_HOME/$L.qa > /dev/null 2>> $O/index-times.txt)
  for V in as-written judged-folded; do
    (cd $C && PYTHONPATH=$C $PY -m qa eval $QA_HOME/$V.jsonl --index $QA_HOME/$L.qa --compare --json $O/$L-$V.json > /dev/null 2>&1)
  done
done
(uptime; date) >> $O/load.txt
