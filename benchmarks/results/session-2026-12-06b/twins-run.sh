#!/bin/bash
# usage: twins-run.sh TREE LABEL — the MIME specification's questions asked of its PDF, its HTML
# pages and its DocBook source, each indexed alone with TREE's code (OUT env var, default /tmp/twins)
set -e
TREE=$1; L=$2; OUT=${OUT:-/tmp/twins}/$L; rm -rf $OUT; mkdir -p $OUT
HERE=$(cd "$(dirname "$0")" && pwd); S=$HERE/../../sets/pdf-docs
cd /tmp
qa() { PYTHONPATH=$TREE python -c "import sys; sys.argv=['qa']+sys.argv[1:]; from qa.cli import main; main()" "$@"; }
mkdir -p $OUT/pdf-only && cp $S/corpus/shared-mime-info-spec.pdf $OUT/pdf-only/
( time qa index $OUT/pdf-only --index $OUT/pdf.qa ) > $OUT/index-pdf.txt 2>&1
( time qa index $S/html-twin --index $OUT/html.qa ) > $OUT/index-html.txt 2>&1
( time qa index $S/xml-twin --index $OUT/xml.qa ) > $OUT/index-xml.txt 2>&1
python - "$S" <<'PY' > $OUT/mime-pdf-questions.jsonl
import json,sys
for l in open(sys.argv[1]+'/questions-mime-html.jsonl'):
    r=json.loads(l)
    if r['docs']: r['docs']=['shared-mime-info-spec.pdf']
    print(json.dumps(r))
PY
qa eval $OUT/mime-pdf-questions.jsonl --index $OUT/pdf.qa --compare --json $OUT/pdf.json > $OUT/pdf-eval.txt 2>&1
qa eval $S/questions-mime-html.jsonl --index $OUT/html.qa --compare --json $OUT/html.json > $OUT/html-eval.txt 2>&1
qa eval $S/questions-mime-xml.jsonl --index $OUT/xml.qa --compare --json $OUT/xml.json > $OUT/xml-eval.txt 2>&1
for K in pdf html xml; do
  Q=$S/questions-mime-$K.jsonl; [ $K = pdf ] && Q=$OUT/mime-pdf-questions.jsonl
  PYTHONPATH=$TREE python $HERE/../../highlight_prose.py $Q --index $OUT/$K.qa > $OUT/$K-highlights.txt 2>&1
done
