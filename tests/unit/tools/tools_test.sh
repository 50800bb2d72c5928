#!/usr/bin/env bash
# The offline tools as a user runs them: twospeed-classify on the shipped samples
# and on bad input, twospeed-eval on a hand-computed example, and the shipped rule
# set passing the policy linter's static checks.
# tools_test.sh CLASSIFY EVAL POLICY IMAGE SOURCE_ROOT
set -uo pipefail
classify=$1 eval=$2 policy=$3 image=$4 src=$5
pass=0
fail=0
check() { # check NAME CONDITION-COMMAND...
	local name=$1; shift
	if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name"; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. every shipped sample gets a decision with its explanation, exit 0
"$classify" --policy "$image" "$src/conf/samples/requests.jsonl" >"$tmp/out" 2>"$tmp/err"
rc=$?
n_in=$(grep -c . "$src/conf/samples/requests.jsonl")
check "classify exit 0 on samples" test "$rc" -eq 0
check "one line per sample" test "$(wc -l <"$tmp/out")" -eq "$n_in"
check "every line has route, p_frontier, threshold, version, top" \
	test "$(grep -c '"route":"\(local\|frontier\|block\)".*"p_frontier":.*"threshold":.*"policy_version":1,.*"top":\[{"feature"' "$tmp/out")" -eq "$n_in"
check "both routes occur" grep -q '"route":"local"' "$tmp/out"
check "frontier occurs" grep -q '"route":"frontier"' "$tmp/out"
# the prompt-injection sample is forced to the frontier by an injection rule
check "injection forced frontier" \
	grep -q '"id":"prompt-injection","route":"frontier","reason":"force_frontier".*"forced_by":"inject\.' "$tmp/out"

# 2. bad lines: a specific error each, the others still classified, exit 1
printf '%s\n' '{"id":"ok","prompt":"hello there"}' 'not json' \
	'{"id":"t","messages":"nope"}' '{"id":"u","messages":[{"role":"user","content":"a\ud800b"}]}' \
	'{"id":"m","max_tokens":5}' >"$tmp/bad.jsonl"
"$classify" --policy "$image" "$tmp/bad.jsonl" >"$tmp/bad.out" 2>/dev/null
rc=$?
check "exit 1 when a line failed" test "$rc" -eq 1
check "five answers" test "$(wc -l <"$tmp/bad.out")" -eq 5
check "good line classified" grep -q '"id":"ok","route"' "$tmp/bad.out"
check "json error" grep -q '"code":"json"' "$tmp/bad.out"
check "bad type named" grep -q '"id":"t","error":{"code":"request","message":"bad_type:' "$tmp/bad.out"
check "no messages: shape error" grep -q '"id":"m","error":{"code":"shape"' "$tmp/bad.out"

# 3. eval on a hand-computed example. Quality weak-only 1/4, strong-only 3/4.
# By score the router sends c (+1), b (+1), d (0), a (0) to the strong model:
# PGR at k = 0..4 is 0, .5, 1, 1, 1; APGR by the trapezoid rule over k/n = 0.75;
# PGR first reaches 50% at k/n = 0.25 and 80% at 0.5.
printf '%s\n' '{"score":0.1,"strong_score":1,"weak_score":1}' \
	'{"score":0.4,"strong_score":1,"weak_score":0}' \
	'{"score":0.8,"strong_score":1,"weak_score":0}' \
	'{"score":0.2,"strong_score":0,"weak_score":0}' >"$tmp/ev.jsonl"
"$eval" "$tmp/ev.jsonl" >"$tmp/ev.out" 2>&1
check "eval exit 0" test $? -eq 0
check "eval qualities" grep -q 'quality weak 0.2500 strong 0.7500' "$tmp/ev.out"
check "eval APGR/CPT" grep -q 'APGR 0.7500  CPT(50%) 0.2500  CPT(80%) 0.5000' "$tmp/ev.out"

# 4. the shipped rules pass the linter's static shape checks
"$policy" lint --rules "$src/conf/rules" --static >"$tmp/lint" 2>&1
check "shipped rules lint clean (static)" test $? -eq 0

echo "tools: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
