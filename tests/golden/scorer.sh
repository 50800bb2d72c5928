#!/usr/bin/env bash
# Golden: the shipped scorer (conf/scorer/default.scorer) is exactly what
# twospeed-train makes from the shipped rules and ../shared/data/routing, and on
# the held-out part it routes better than a prompt-length router, which beats a
# random one (the README's numbers). Fails when rules change without retraining.
# scorer.sh TRAIN_EXE SOURCE_ROOT
set -euo pipefail
train=$1
src=$2
data=$src/../shared/data/routing/routellm_train.jsonl.gz
[ -f "$data" ] || { echo "scorer: missing $data (../shared beside the repository)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$train" --data "$data" --rules "$src/conf/rules" -o "$tmp/s" > "$tmp/out" 2>&1 ||
	{ cat "$tmp/out"; exit 1; }
if ! diff <(grep -v '^#' "$src/conf/scorer/default.scorer") <(grep -v '^#' "$tmp/s"); then
	echo "scorer: conf/scorer/default.scorer differs from a fresh training run (retrain:"
	echo "  twospeed-train --data $data --rules conf/rules -o conf/scorer/default.scorer)"
	exit 1
fi
apgr() { awk -v r="$1" '$0 ~ "^  "r { print $(NF-2) }' "$tmp/out"; }
t=$(apgr "trained scorer")
l=$(apgr "length")
r=$(apgr "random")
echo "held-out APGR: trained $t, length $l, random $r"
awk -v t="$t" -v l="$l" -v r="$r" 'BEGIN { exit !(t > l && l > r && r > 0.45 && r < 0.55) }' ||
	{ echo "scorer: expected trained > length > random (~0.5)"; exit 1; }
