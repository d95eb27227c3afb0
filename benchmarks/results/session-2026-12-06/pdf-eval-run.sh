#!/bin/bash
# usage: run.sh TREE LABEL  — index the PDF set and its HTML twin with TREE's code, then qa eval --compare
set -e
TREE=$1; L=$2; OUT=${OUT:-/tmp/pdfeval}/$L; rm -rf $OUT; mkdir -p $OUT
S=$(cd "$(dirname "$0")/../../sets/pdf-docs" && pwd)  # the set as this repository holds it (the runs read a copy in /tmp)
cd /tmp
qa() { PYTHONPATH=$TREE python -c "import sys; sys.argv=['qa']+sys.argv[1:]; from qa.cli import main; main()" "$@"; }
( time qa index $S/corpus --index $OUT/pdf.qa ) > $OUT/index-pdf.txt 2>&1
( time qa index $S/html-twin --index $OUT/html.qa ) > $OUT/index-html.txt 2>&1
qa eval $S/questions.jsonl --index $OUT/pdf.qa --compare --json $OUT/pdf.json > $OUT/pdf-eval.txt 2>&1
qa eval $S/questions-mime-html.jsonl --index $OUT/html.qa --compare --json $OUT/html.json > $OUT/html-eval.txt 2>&1
python - "$S" <<'PY' > $OUT/mime-pdf-questions.jsonl
import json,sys
for l in open(sys.argv[1]+'/questions.jsonl'):
    r=json.loads(l)
    if r['id'].startswith('mime') or r['id'] in ('none-windows-registry','none-thumbnailer','none-markdown-type','none-macos-uti'): print(json.dumps(r))
PY
qa eval $OUT/mime-pdf-questions.jsonl --index $OUT/pdf.qa --compare --json $OUT/mime-pdf.json > $OUT/mime-pdf-eval.txt 2>&1
