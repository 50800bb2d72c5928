#!/bin/sh
# twospeed-generate's contract: golden greedy output (with a prompt and from
# BOS only), --logprobs, --chat, seeded sampling, exit codes 2 (usage) and
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
# BOS-only prompt: llama2.c's greedy runs of 200 and 256 steps.
for n in 200 256; do
	r=$dir/reference/runc_t0_n${n}_noprompt.stdout
	"$gen" "$dir/stories260K.gguf" -p "" --temp 0 -n $n >"$tmp/out" 2>"$tmp/err"; rc=$?
	if [ $rc -ne 0 ] || [ ! -f "$r" ] || ! cmp -s "$tmp/out" "$r"; then
		echo "FAIL: BOS-only -n $n differs from $r (exit $rc)"; fail=1
	fi
done
# --logprobs: one value per generated token, <= 0, their mean the reported one.
"$gen" "$dir/stories260K.gguf" --temp 0 -n 60 -p "Once upon a time" --logprobs \
	>"$tmp/out" 2>"$tmp/err"; rc=$?
lp=$(grep '^{"logprobs":\[' "$tmp/err")
mean=$(sed -n 's/^mean logprob: //p' "$tmp/err")
echo "$lp" | sed 's/.*\[\(.*\)\].*/\1/' | awk -F, -v want="$mean" '
	{ for (i = 1; i <= NF; i++) { if ($i > 0) bad = 1; s += $i; n++ } }
	END { if (n != 60 || bad || (s / n - want) > 0.0001 || (want - s / n) > 0.0001) exit 1 }' ||
	{ echo "FAIL: --logprobs: exit $rc: $lp (mean $mean)"; fail=1; }
cmp -s "$tmp/out" "$ref" || { echo "FAIL: --logprobs changed the text"; fail=1; }
# --chat renders through the model's template: runs and says something.
"$gen" "$dir/stories260K.gguf" --chat -p "Tell me a story." --temp 0 -n 30 >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && [ "$(wc -c <"$tmp/out")" -gt 17 ] ||
	{ echo "FAIL: --chat: exit $rc: $(cat "$tmp/err")"; fail=1; }
# Sampling: the same seed gives the same text, another seed another text.
for s in 1 1 2; do
	"$gen" "$dir/stories260K.gguf" -p "" --temp 1 --seed $s -n 100 >"$tmp/seed$s.$$" 2>/dev/null ||
		{ echo "FAIL: --seed $s: exit $?"; fail=1; }
	[ -f "$tmp/seed$s" ] || mv "$tmp/seed$s.$$" "$tmp/seed$s"
done
cmp -s "$tmp/seed1" "$tmp/seed1.$$" || { echo "FAIL: --seed 1 twice differs"; fail=1; }
cmp -s "$tmp/seed1" "$tmp/seed2" && { echo "FAIL: --seed 1 and 2 give the same text"; fail=1; }
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
