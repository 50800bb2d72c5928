#!/usr/bin/env bash
# Every header compiles on its own (STYLE.md 3): each .h under include/, dataplane/
# and control/ is compiled alone as a translation unit with the project's warnings.
# check-headers.sh BUILDDIR; prints "headers: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bdir=${1:-build}
cd "$top"
# Include paths: every module folder, the contracts, and the system packages'.
incs=(-Iinclude $(find dataplane control -type d -printf '-I%p ') -isystem /usr/include/dpdk
	-isystem /usr/include/x86_64-linux-gnu/dpdk -isystem /usr/include/hs -include rte_config.h)
flags=(-std=c11 -D_GNU_SOURCE -march=native -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
	-Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wundef -Wwrite-strings -Wvla
	-Wno-unused-function -fsyntax-only)
pass=0
fail=0
while IFS= read -r h; do
	if out=$(printf '#include "%s"\n' "$h" | ${CC:-cc} "${flags[@]}" "${incs[@]}" -I"$(dirname "$h")" -x c - 2>&1); then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "headers: $h does not compile alone:"
		echo "$out" | head -5 | sed 's/^/    /'
	fi
done < <(find include dataplane control -name '*.h' | sort)
echo "headers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
