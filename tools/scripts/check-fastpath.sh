#!/usr/bin/env bash
# Fast-path discipline (STYLE.md 5): files ending in _fp.c run in the poll loop and
# must not allocate from the heap, lock, make syscalls or log. This greps for the
# usual offenders; a line may opt out with a comment "fp-ok: <reason>".
# Prints one line per finding and "fastpath: N passed, N failed" (files).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
bad_re='(^|[^A-Za-z0-9_.>])(malloc|calloc|realloc|free|strdup|printf|fprintf|vfprintf|puts|perror|syslog|pthread_mutex_lock|pthread_spin_lock|rte_spinlock_lock|sleep|usleep|nanosleep|time|gettimeofday|clock_gettime|open|fopen|read|write|send|recv|ioctl|mmap|hs_alloc_scratch|hs_clone_scratch|mbedtls_calloc|rte_malloc|rte_zmalloc|RTE_LOG)[[:space:]]*\('
pass=0
fail=0
while IFS= read -r f; do
	# a hit counts only when it survives stripping // and one-line /* */ comments
	hits=$(grep -nE "$bad_re" "$f" | grep -v 'fp-ok:' | while IFS= read -r line; do
		n=${line%%:*}
		code=$(sed -n "${n}p" "$f" | sed -e 's://.*$::' -e 's:/\*.*\*/::g')
		if echo "$code" | grep -qE "$bad_re"; then echo "$f:$line"; fi
	done)
	if [ -n "$hits" ]; then
		echo "$hits" | sed 's/^/fastpath: forbidden call: /'
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done < <(find dataplane control -name '*_fp.c' | sort)
echo "fastpath: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
