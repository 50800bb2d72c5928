#!/usr/bin/env bash
# fuzz.sh BUILDDIR SECONDS: runs every libFuzzer target built in BUILDDIR for
# SECONDS each, starting from its committed seed corpus (copied, so the tree stays
# clean). Prints one line per target and "fuzz: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bdir=$1
secs=${2:-20}
pass=0
fail=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for exe in "$bdir"/tests/fuzz/*/fuzz_*; do
	[ -f "$exe" ] && [ -x "$exe" ] || continue
	name=$(basename "$exe")
	sub=$(basename "$(dirname "$exe")")
	mkdir -p "$work/$name"
	seeds="$top/tests/fuzz/$sub/corpus"
	[ -d "$seeds" ] && cp -r "$seeds/." "$work/$name/"
	if "$exe" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$work/$name-" "$work/$name" >"$work/$name.log" 2>&1; then
		echo "fuzz: $name ok ($(grep -oE 'stat::number_of_executed_units: [0-9]+' "$work/$name.log" | awk '{print $2}') runs)"
		pass=$((pass + 1))
	else
		echo "fuzz: $name FAILED"
		tail -n 40 "$work/$name.log"
		for a in "$work/$name"-*; do [ -f "$a" ] && { echo "input: $a"; od -c "$a" | head -20; }; done
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
