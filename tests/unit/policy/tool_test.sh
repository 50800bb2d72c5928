#!/bin/sh
# End-to-end checks of twospeed-policy: compile, inspect, verify, lint and the
# exit codes (0 ok, 1 refused, 2 usage). Usage: tool_test.sh TOOL SRCROOT
set -u
tool=$1
src=$2
tmp=$(mktemp -d /tmp/ts-policy-tool.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0

# expect CODE DESCRIPTION -- command...
expect() {
	want=$1
	what=$2
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: $what: exit $got, want $want"
		sed 's/^/  | /' "$tmp/out" "$tmp/err"
		fails=$((fails + 1))
	else
		echo "ok: $what"
	fi
}

# expect_text PATTERN FILE DESCRIPTION
expect_text() {
	if grep -q -- "$1" "$2"; then
		echo "ok: $3"
	else
		echo "FAIL: $3: no \"$1\" in $2"
		sed 's/^/  | /' "$2"
		fails=$((fails + 1))
	fi
}

cat >"$tmp/t.rules" <<'R'
code.fence code score 1 /```/
greet.hello greeting force_local 0.5 /\bhello\b/i
R
cat >"$tmp/t.scorer" <<'S'
twospeed-scorer 1
kind logistic
threshold 0.5
bias -0.5
feature len_bytes 100 50 0.5
feature code_hits 0 1 1
S
cat >"$tmp/t.conf" <<'C'
[request]
max_body = 1M
[route.frontier]
model = "frontier-x"
usd_per_mtok_in = 3
C

expect 0 "compile" -- "$tool" compile --rules "$tmp/t.rules" --scorer "$tmp/t.scorer" \
	--config "$tmp/t.conf" --version 9 --name unit --platform sse -o "$tmp/p.tspol"
expect 0 "verify a fresh image" -- "$tool" verify "$tmp/p.tspol"
expect_text "ok: unit version 9, 2 rules, 2 features" "$tmp/out" "verify says what it checked"
expect 0 "inspect" -- "$tool" inspect "$tmp/p.tspol"
cp "$tmp/out" "$tmp/inspect"
expect_text "version    9" "$tmp/inspect" "inspect: version"
expect_text "by category: code=1 greeting=1" "$tmp/inspect" "inspect: rules per category"
expect_text "by action: score=1 force_local=1" "$tmp/inspect" "inspect: rules per action"
expect_text "frontier model frontier-x" "$tmp/inspect" "inspect: route from the config"
expect_text "usd/Mtok in 3.0000 out 10.0000" "$tmp/inspect" "inspect: price from the config"
expect_text "code_hits" "$tmp/inspect" "inspect: scorer features"
expect_text "xxh3-64 of the payload, ok" "$tmp/inspect" "inspect: checksum"
expect_text "xxh3-64 of the header, ok" "$tmp/inspect" "inspect: header sum"
expect_text "abi        2.0" "$tmp/inspect" "inspect: ABI"
expect_text "hyperscan  ungated" "$tmp/inspect" "inspect: the ungated database"

# gated rules: one HSDB_GATED section per gate, shown by inspect
cat >"$tmp/g.rules" <<'R'
code.fence code score 1 /```/
pii.email pii score 2 gate=at /@[a-z]{1,30}\.[a-z]{2,6}/
pii.ssn pii score 3 gate=digits /[0-9]{3}-[0-9]{2}-[0-9]{4}/
script.cyr script score 1 gate=nonascii /(?:о|е)/8H
R
expect 0 "compile gated rules" -- "$tool" compile --rules "$tmp/g.rules" --scorer "$tmp/t.scorer" \
	--version 3 -o "$tmp/g.tspol"
expect_text "4 rules (3 gated)" "$tmp/out" "compile counts gated rules"
expect 0 "inspect gated" -- "$tool" inspect "$tmp/g.tspol"
expect_text "HSDB_GATED .*count 1 (gate nonascii)" "$tmp/out" "inspect: nonascii section"
expect_text "HSDB_GATED .*count 2 (gate at)" "$tmp/out" "inspect: at section"
expect_text "HSDB_GATED .*count 3 (gate digits)" "$tmp/out" "inspect: digits section"
expect_text "hyperscan  digits" "$tmp/out" "inspect: the digits database"
expect_text "sections   9" "$tmp/out" "inspect: 5 + 4 sections"
printf 'x.y code score 1 gate=dollar /a/\n' >"$tmp/badgate.rules"
expect 1 "compile with an unknown gate" -- "$tool" compile --rules "$tmp/badgate.rules" \
	--scorer "$tmp/t.scorer" --version 1 -o "$tmp/x.tspol"
expect_text "badgate.rules:1: unknown gate" "$tmp/err" "unknown gate is file:line"

# the whole shipped rule set compiles too
expect 0 "compile the shipped rules" -- "$tool" compile --rules "$src/conf/rules" \
	--scorer "$tmp/t.scorer" --version 1 -o "$tmp/shipped.tspol"
expect 0 "verify the shipped-rules image" -- "$tool" verify "$tmp/shipped.tspol"

# refusals
cp "$tmp/p.tspol" "$tmp/bad.tspol"
size=$(wc -c <"$tmp/bad.tspol")
printf '\377' | dd of="$tmp/bad.tspol" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
expect 1 "verify a corrupt image" -- "$tool" verify "$tmp/bad.tspol"
expect_text "checksum mismatch" "$tmp/err" "verify names the reason"
expect 1 "inspect a corrupt image" -- "$tool" inspect "$tmp/bad.tspol"
head -c 100 "$tmp/p.tspol" >"$tmp/short.tspol"
expect 1 "verify a truncated image" -- "$tool" verify "$tmp/short.tspol"
expect_text "truncated" "$tmp/err" "truncation is named"
expect 1 "verify a missing file" -- "$tool" verify "$tmp/none.tspol"
# byte 24 is the low byte of policy_version: covered by the header sum
cp "$tmp/p.tspol" "$tmp/ver.tspol"
printf '\010' | dd of="$tmp/ver.tspol" bs=1 seek=24 conv=notrunc 2>/dev/null
expect 1 "verify an image whose header changed" -- "$tool" verify "$tmp/ver.tspol"
expect_text "header checksum mismatch" "$tmp/err" "a header change is named"
printf 'twospeed-scorer 1\nkind trees\n' >"$tmp/bad.scorer"
expect 1 "compile with a bad scorer" -- "$tool" compile --rules "$tmp/t.rules" \
	--scorer "$tmp/bad.scorer" --version 1 -o "$tmp/x.tspol"
expect_text "bad.scorer:2: unknown scorer kind" "$tmp/err" "scorer error is file:line"
printf 'bad.rule code score 1 /a(/\n' >"$tmp/bad.rules"
expect 1 "compile with a bad rule" -- "$tool" compile --rules "$tmp/bad.rules" \
	--scorer "$tmp/t.scorer" --version 1 -o "$tmp/x.tspol"
printf '[route.local]\nusd_per_mtok_in = -3\n' >"$tmp/bad.conf"
expect 1 "compile with a bad config" -- "$tool" compile --rules "$tmp/t.rules" \
	--scorer "$tmp/t.scorer" --config "$tmp/bad.conf" --version 1 -o "$tmp/x.tspol"
expect_text "bad.conf:2:" "$tmp/err" "config error is file:line"
if [ -e "$tmp/x.tspol" ]; then
	echo "FAIL: a refused compile left an output file"
	fails=$((fails + 1))
fi

# usage
expect 2 "no command" -- "$tool"
expect 2 "unknown command" -- "$tool" frobnicate
expect 2 "compile without -o" -- "$tool" compile --rules "$tmp/t.rules" --scorer "$tmp/t.scorer" --version 1
expect 2 "bad --version" -- "$tool" compile --rules "$tmp/t.rules" --scorer "$tmp/t.scorer" --version -1 -o "$tmp/x.tspol"
expect 2 "bad --platform" -- "$tool" compile --rules "$tmp/t.rules" --scorer "$tmp/t.scorer" --version 1 --platform arm -o "$tmp/x.tspol"
expect 2 "verify without image" -- "$tool" verify
expect 2 "lint without rules" -- "$tool" lint
expect 0 "help" -- "$tool" --help
expect_text "exit status: 0 ok, 1 refused" "$tmp/out" "help documents exit codes"

# lint, shape checks only (timing belongs to the benchmark, not a unit test)
expect 0 "lint --static" -- "$tool" lint --rules "$tmp/t.rules" --static
expect_text "code.fence" "$tmp/out" "lint lists the rules"
printf 'x.y pii score 1 gate=digits /[0-9]{2}-[0-9]{2}/\n' >"$tmp/weakgate.rules"
expect 1 "lint --static flags a gate the pattern does not show" -- "$tool" lint \
	--rules "$tmp/weakgate.rules" --static
expect_text "gate=digits but the pattern shows no run of 4+ digits" "$tmp/out" \
	"lint names the gate finding"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
