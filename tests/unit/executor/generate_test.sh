#!/bin/sh
# twospeed-generate's contract: golden greedy output, exit codes 2 (usage) and
# 1 (bad model file, with its precise error).
# usage: generate_test.sh TWOSPEED_GENERATE STORIES260K_DIR
gen=$1
dir=$2
ref=$dir/reference/runc_t0_n64_prompt_Once_upon_a_time.stdout
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
if [ ! -f "$dir/stories260K.gguf" ] || [ ! -f "$ref" ]; then
	echo "FAIL: test model or reference missing under $dir"
	exit 1
fi
"$gen" "$dir/stories260K.gguf" --temp 0 -n 60 -p "Once upon a time" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -ne 0 ] || ! cmp -s "$tmp/out" "$ref"; then
	echo "FAIL: greedy output differs from $ref (exit $rc)"; fail=1
fi
grep -q '^generated tokens: 60$' "$tmp/err" || { echo "FAIL: stats: $(cat "$tmp/err")"; fail=1; }
"$gen" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q '^usage:' "$tmp/err" || { echo "FAIL: no arguments: exit $rc"; fail=1; }
"$gen" "$dir/stories260K.gguf" -p x --top-p 2 >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || { echo "FAIL: --top-p 2: exit $rc"; fail=1; }
"$gen" "$dir/stories260K.gguf" -p x -n abc >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || { echo "FAIL: -n abc: exit $rc"; fail=1; }
printf 'GGUF\003\000\000\000' >"$tmp/trunc.gguf"
"$gen" "$tmp/trunc.gguf" -p x >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'offset' "$tmp/err" || { echo "FAIL: truncated model: exit $rc: $(cat "$tmp/err")"; fail=1; }
"$gen" "$tmp/missing.gguf" -p x >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'No such file' "$tmp/err" || { echo "FAIL: missing model: exit $rc"; fail=1; }
[ $fail -eq 0 ] && echo PASS
exit $fail
