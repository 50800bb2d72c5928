#!/usr/bin/env bash
# build.sh DIR [meson options...]: configure DIR once, then build it. Quiet when it
# works; on failure the configure or compiler output is shown.
set -euo pipefail
dir=$1; shift
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ ! -f "$dir/build.ninja" ]; then
	if ! meson setup "$dir" "$@" >"$log" 2>&1; then
		cat "$log"
		exit 1
	fi
fi
if ! ninja -C "$dir" >"$log" 2>&1; then
	grep -v '^\[[0-9]*/[0-9]*\] ' "$log" | tail -n 60
	exit 1
fi
