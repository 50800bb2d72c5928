#!/usr/bin/env bash
# Builds twospeed and runs every test: the release build's suites (unit, golden,
# integration), the fast-path check, the ASan+UBSan build's unit suites (clang) and
# each libFuzzer target for a bounded time. Installs what it needs first.
# Run as root on Debian 12. Exit status 0 only when everything passed.
# Environment: FUZZ_SECONDS (default 20) per fuzz target.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash tools/scripts/setup.sh || { echo "test: setup failed"; exit 1; }

passed=0
failed=0
stage_failed=()

# meson_count DIR: adds the OK/FAIL counts of DIR's last `meson test` run.
meson_count() {
	local log=$1/meson-logs/testlog.json ok bad
	[ -f "$log" ] || return 0
	ok=$(grep -cE '"result": "(OK|EXPECTEDFAIL)"' "$log")
	bad=$(grep -cE '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log")
	passed=$((passed + ok))
	failed=$((failed + bad))
}

run_stage() {
	local name=$1; shift
	echo "=== $name"
	if ! "$@"; then
		stage_failed+=("$name")
		return 1
	fi
}

# 1. Release build (gcc) and all of its test suites.
if run_stage "build (release)" bash tools/scripts/build.sh build; then
	run_stage "tests (release)" meson test -C build --no-rebuild --print-errorlogs --num-processes 2
	meson_count build
else
	failed=$((failed + 1))
fi

# 2. Fast-path discipline, and every header compiling on its own.
for check in "fast-path check:/usr/bin/python3 tools/scripts/check-fastpath.py" \
	"header check:bash tools/scripts/check-headers.sh"; do
	if run_stage "${check%%:*}" ${check#*:}; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

# 3. Sanitizer build (clang, ASan+UBSan): unit suites, then the fuzz targets.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if run_stage "build (asan+ubsan, fuzz)" env CC=clang bash tools/scripts/build.sh build-asan \
	-Db_sanitize=address,undefined -Dbuildtype=debug -Dfuzz=true -Db_lundef=false; then
	run_stage "unit tests (asan+ubsan)" meson test -C build-asan --no-rebuild --suite unit \
		--print-errorlogs --num-processes 2
	meson_count build-asan
	fz=$(mktemp)
	run_stage "fuzz" bash tools/scripts/fuzz.sh build-asan "${FUZZ_SECONDS:-20}" | tee "$fz"
	p=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$fz")
	f=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$fz")
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	rm -f "$fz"
else
	failed=$((failed + 1))
fi

if ((${#stage_failed[@]})); then
	echo "failed stages: ${stage_failed[*]}"
fi
echo "twospeed: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "${#stage_failed[@]}" -eq 0 ]
