#!/usr/bin/env bash
# A 50 MB body up and back down through POST /echo, verified by sha256: once
# with Content-Length, once with chunked transfer coding.  With --loss P the
# client namespace drops packets at random with probability P in both
# directions (iptables statistic), so retransmission and recovery do the work.
# Usage: echo.sh TARGET [--loss 0.03] [--size-mb 50]
set -uo pipefail
. "$(dirname "$0")/lib.sh"
target=${1:-}
shift || true
loss=""
size_mb=50
while [ $# -gt 0 ]; do
	case $1 in
	--loss) loss=$2; shift 2 ;;
	--size-mb) size_mb=$2; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
it_init "echo${loss:+-loss}" "$target"
W=$NS_WORKDIR
[ -n "$loss" ] && ns_require_tools iptables

head -c "$((size_mb * 1024 * 1024))" /dev/urandom > "$W/body"
want=$(sha256sum < "$W/body" | cut -d' ' -f1)
[ -n "$loss" ] && ns_loss "$loss"

# Under loss a 50 MB transfer may take a while; the meson timeout bounds the test.
max_time=$([ -n "$loss" ] && echo 400 || echo 120)

run_one() {
	local mode=$1 hdr=()
	[ "$mode" = chunked ] && hdr=(-H 'Transfer-Encoding: chunked')
	rm -f "$W/out"
	local t0 t1 res
	t0=$(date +%s.%N)
	res=$(ns_cl taskset -c 0 curl -sS --max-time "$max_time" "${hdr[@]}" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$W/body" \
		-o "$W/out" -w '%{http_code} %{size_upload} %{size_download}' "$IT_URL/echo" 2> "$W/curl.err") ||
		it_fail "$mode: curl exit $? after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s: $(head -c 300 "$W/curl.err") (status/up/down: $res)"
	t1=$(date +%s.%N)
	set -- $res
	[ "$1" = 200 ] || it_fail "$mode: status $1"
	local got
	got=$(sha256sum < "$W/out" | cut -d' ' -f1)
	[ "$got" = "$want" ] || it_fail "$mode: sha256 of the echoed body differs ($3 bytes back of $((size_mb * 1048576)))"
	ns_log "$mode ${size_mb} MB echo ok in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s (up $2, down $3 bytes)"
}

run_one content-length
it_alive
run_one chunked
it_alive
if [ -n "$loss" ]; then
	dropped=$(ns_loss_dropped)
	ns_log "loss rules dropped $dropped packets"
	[ "$dropped" -gt 100 ] || it_fail "loss rules dropped only $dropped packets: the loss path was not exercised"
	ns_loss_clear
fi
# still serving after the big transfers
[ "$(ns_cl curl -s -o /dev/null -m 5 -w '%{http_code}' "$IT_URL/healthz")" = 200 ] || it_fail "GET /healthz after the transfers"
it_counters "$W/run.counters"
if [ "$IT_KIND" = dataplane ]; then
	echoed=$(it_counter_sum "$W/run.counters" '^app\.http_echo_bytes$')
	[ "$echoed" -ge $((2 * size_mb * 1048576)) ] || it_fail "app.http_echo_bytes $echoed < the $((2 * size_mb)) MB echoed"
fi
if [ "$IT_KIND" = dataplane ] && [ -n "$loss" ]; then
	rtx=$(it_counter_sum "$W/run.counters" 'retransmits$')
	ns_log "dataplane retransmission counters: $rtx"
	[ "$rtx" -gt 0 ] || it_fail "no retransmission counted by the dataplane under ${loss} loss"
fi
it_stop
ns_log "PASS"
