#!/usr/bin/env bash
# issue 14: the whole suite (README: npm test) with two CPU burners, three times in a row, retries off
# (vitest.config.ts retry: 0): runs 1-2 on this machine's Node, run 3 on Node 24 (fetched from the npm registry
# by .ci/run into its cache folder). Usage: bash scripts/loaded-run.sh [commit]; logs in /tmp/loaded-run*.log
set -u
commit=${1:-main}
node24="$HOME/.cache/fapiao-guard-ci/node24/node_modules/.bin"
rm -rf /tmp/load-clone && git clone -q "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)" /tmp/load-clone && cd /tmp/load-clone && git checkout -q "$commit"
echo "commit $(git rev-parse --short HEAD)"
current=""
for i in 1 2 3; do
  if [ "$i" != 3 ]; then path="$PATH"; else path="$node24:$PATH"; fi
  v=$(PATH=$path node --version)
  if [ "$v" != "$current" ]; then PATH=$path npm ci --no-audit --no-fund >/dev/null 2>&1 || { echo "npm ci failed on $v"; exit 1; }; current=$v; fi
  (while :; do :; done) & b1=$!
  (while :; do :; done) & b2=$!
  s=$(date +%s)
  CI=true PATH=$path npm test > /tmp/loaded-run$i.log 2>&1; rc=$?
  kill $b1 $b2
  echo "run $i (node $v): exit $rc in $(( $(date +%s) - s )) s; load $(cut -d' ' -f1-3 /proc/loadavg); $(grep -E '^tests: ' /tmp/loaded-run$i.log | tail -1)"
  [ $rc = 0 ] || break
done
