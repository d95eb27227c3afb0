#!/bin/bash
# usage: evalsets.sh LABEL
source /work/main/.venv/bin/activate; export HF_HUB_OFFLINE=1
cd /work/main
for s in sqlite borg git; do
  qa eval benchmarks/sets/$s-docs/questions.jsonl --index /tmp/evh-after/$s-docs.qa --json /tmp/s7/$1-$s.json > /dev/null 2>&1
  qa eval /tmp/evh-after/$s-docs-as-written.jsonl --index /tmp/evh-after/$s-docs.qa --json /tmp/s7/$1-$s-aw.json > /dev/null 2>&1
done
qa eval benchmarks/sets/licenses/questions.jsonl --index /tmp/evh-after/licenses.qa --json /tmp/s7/$1-licenses.json > /dev/null 2>&1
