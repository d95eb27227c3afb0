#!/bin/bash
# one fresh `make run </dev/null` per tree: new venv, new QA_HOME and QA_CACHE_DIR
for n in "$@"; do
  d=/tmp/setup-ab/$n; rm -rf $d/venv $d/home $d/cache
  cd $d/tree
  s=$(date +%s.%N); l0=$(cut -d' ' -f1 /proc/loadavg)
  QA_HOME=$d/home QA_CACHE_DIR=$d/cache make run VENV=$d/venv </dev/null > $d/log.txt 2>&1
  rc=$?; e=$(date +%s.%N); l1=$(cut -d' ' -f1 /proc/loadavg)
  size=$(du -sm $d/venv | cut -f1)
  echo "$n rc=$rc seconds=$(echo "$e - $s" | bc) venv_mb=$size load=$l0-$l1 $(date -u +%H:%M:%S)"
done
