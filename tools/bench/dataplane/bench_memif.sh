#!/usr/bin/env bash
# In-memory benchmark, no kernel on the packet path: bench_memif (a scripted
# segment generator, core 0) <-net_memif-> twospeed-dataplane (one worker,
# core 1), keep-alive connections. Two runs, one after the other, each with a
# fresh dataplane: POST /echo with a --body byte body (2 KB by default), then
# the small request GET /healthz; --only picks one.
# Not a test: prints requests/s and cycles per request; exits non-zero only
# when a run itself failed (no responses, bad responses, resets).
# Usage: bench_memif.sh DATAPLANE_EXE BENCH_MEMIF_EXE [--seconds N] [--conns N]
#        [--body BYTES] [--only echo|healthz]
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../../tools/scripts/netns.sh"
dp=${1:-}
gen=${2:-}
shift 2 || true
secs=10
conns=16
body=2048
only=""
while [ $# -gt 1 ]; do
	case $1 in
	--seconds) secs=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--body) body=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
[ $# -eq 0 ] || { echo "option $1 needs a value" >&2; exit 2; }
case $only in "" | echo | healthz) ;; *) echo "--only echo|healthz" >&2; exit 2 ;; esac
[ -x "$dp" ] && [ -x "$gen" ] || {
	echo "usage: $0 DATAPLANE_EXE BENCH_MEMIF_EXE [--seconds N] [--conns N] [--body BYTES] [--only echo|healthz]" >&2
	exit 2
}
ns_require_root
ns_hugepages 512
NS_TAG=bench-memif
NS_WORKDIR=$(mktemp -d /tmp/ts-bench-memif.XXXXXX)
trap ns_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cat > "$NS_WORKDIR/dp.conf" << CONF
# written by tools/bench/dataplane/bench_memif.sh
[net]
address = $NS_DP_ADDR/$NS_PREFIX_LEN

[http]
port = 80

[dataplane]
# busy-poll, never sleep: every poll that finds nothing then costs the same,
# which the cycles-per-request estimate below relies on
idle_sleep_max = 0
CONF

# dp_sample: SIGUSR1, wait for the dump, print "wall_ns loops rx_bursts requests
# cpu_ns busy_cycles", cpu_ns the time the dataplane's threads ran on a core (schedstat):
# on a shared machine other jobs take part of core 1, and that time is neither
# the dataplane's busy time nor its empty polls.
dp_sample() {
	local n0 t i run
	n0=$(grep -c '^--- end of counters' "$dplog")
	t=$(date +%s%N)
	run=$(cat /proc/"$dp_pid"/task/*/schedstat 2> /dev/null | awk '{ s += $1 } END { printf "%.0f", s }')
	kill -USR1 "$dp_pid" 2> /dev/null || return 1
	for i in $(seq 50); do
		[ "$(grep -c '^--- end of counters' "$dplog")" -gt "$n0" ] && break
		sleep 0.02
	done
	awk -v t="$t" -v run="${run:-0}" -v want=$((n0 + 1)) '/^--- twospeed-dataplane counters/ { k++; delete v }
		k == want && NF == 2 { v[$1] = $2 }
		/^--- end of counters/ && k == want {
			printf "%s %d %d %d %s %.0f\n", t, v["app.loops"], v["app.rx_bursts"], v["app.http_requests"], run,
			       v["app.busy_cycles"]; exit }' \
		"$dplog"
}

# bench_run NAME GENERATOR-REQUEST-ARGS...: one generator + dataplane pair;
# prints the generator's report and the dataplane's account, returns non-zero
# when the run failed.
bench_run() {
	local name=$1
	shift
	local sock=$NS_WORKDIR/$name.sock
	genlog=$NS_WORKDIR/$name-gen.log
	dplog=$NS_WORKDIR/$name-dp.log
	NS_DPDK_PREFIXES+=("tsbg$name$$" "tsbd$name$$")
	# The generator is the memif server (it creates the socket and waits up to
	# 20 s for the link), the dataplane connects as the client.
	"$gen" -l 0 --no-pci --no-huge -m 512 --file-prefix "tsbg$name$$" \
		--vdev "net_memif0,role=server,socket=$sock,socket-abstract=no" -- \
		--src "$NS_CL_ADDR" --dst "$NS_DP_ADDR" --port 80 --conns "$conns" --seconds "$secs" --warmup 2 "$@" \
		> "$genlog" 2>&1 &
	gen_pid=$!
	NS_PIDS+=("$gen_pid")
	local i
	for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
	[ -S "$sock" ] || { cat "$genlog" >&2; ns_die "generator did not create $sock"; }
	"$dp" -l 1 --no-pci --file-prefix "tsbd$name$$" --vdev "net_memif0,role=client,socket=$sock,socket-abstract=no" \
		-- --config "$NS_WORKDIR/dp.conf" > "$dplog" 2>&1 &
	dp_pid=$!
	NS_PIDS+=("$dp_pid")
	# Server cycles per request, estimated from the dataplane's own poll counters:
	# over a window of the measured interval, busy = wall time - empty polls x the
	# cost of one empty poll, the latter measured once the generator has stopped
	# (the dataplane then busy-polls an idle port). Time other jobs take from its
	# core counts as busy, so on a shared machine this still errs high.
	s1="" s2=""
	for i in $(seq $((secs * 10 + 300))); do
		grep -q '^bench_memif: measuring' "$genlog" && break
		kill -0 "$gen_pid" 2> /dev/null || break
		sleep 0.1
	done
	if grep -q '^bench_memif: measuring' "$genlog"; then
		sleep 0.2
		s1=$(dp_sample)
		sleep "$(awk -v s="$secs" 'BEGIN { print (s > 1.5) ? s - 1 : s / 2 }')"
		s2=$(dp_sample)
	fi
	wait "$gen_pid"
	rc=$?
	ns_forget "$gen_pid"
	sleep 0.5
	s3=$(dp_sample)
	sleep 1
	s4=$(dp_sample)
	kill -TERM "$dp_pid" 2> /dev/null
	for i in $(seq 100); do kill -0 "$dp_pid" 2> /dev/null || break; sleep 0.1; done
	wait "$dp_pid" 2> /dev/null
	ns_forget "$dp_pid"
	grep -v '^EAL\|^TELEMETRY\|^memif' "$genlog"
	# The server's side (its exit dump, whole run including warm-up): polls that
	# found no frame show how far from saturated it was.
	awk '/^--- twospeed-dataplane counters/ { inb = 1 } inb && NF == 2 { v[$1] = $2 }
	     END {
		loops = v["app.loops"]; rx = v["app.rx_bursts"]
		printf "dataplane: %d polls, %d with frames (%.1f%% empty), %d idle sleeps, %d requests, %d retransmits\n",
		       loops, rx, loops ? 100 * (loops - rx) / loops : 0, v["app.idle_sleeps"], v["app.http_requests"], v["tcp.retransmits"]
	     }' "$dplog"
	if [ -n "$s1" ] && [ -n "$s2" ] && [ -n "$s3" ] && [ -n "$s4" ]; then
		hz=$(awk '/TSC/ { for (i = 1; i <= NF; i++) if ($i == "GHz") print $(i - 1) * 1e9 }' "$genlog" | head -n 1)
		echo "$s1 $s2 $s3 $s4" | awk -v hz="${hz:-0}" '{
			# window under load: wall s, polls, polls with frames, requests,
			# s on a core, cycles of polls that did work (app.busy_cycles)
			w = ($7 - $1) / 1e9; loops = $8 - $2; rx = $9 - $3; req = $10 - $4
			run = ($11 - $5) / 1e9; bc = $12 - $6
			# idle calibration: time on a core per empty poll (wall time when
			# schedstat was unreadable)
			iw = ($23 - $17) / 1e9; il = $20 - $14
			if (iw <= 0) iw = ($19 - $13) / 1e9
			if (run <= 0) run = w
			if (hz == 0 || il <= 0 || req <= 0) { print "dataplane: no cycles estimate (sampling failed)"; exit }
			empty_cyc = iw * hz / il
			# the dataplane counts the cycles of its busy polls itself; older
			# builds without app.busy_cycles: time on the core - empty polls
			busy = bc > 0 ? bc : run * hz - (loops - rx) * empty_cyc
			how = bc > 0 ? "app.busy_cycles" : "estimated: time on the core - empty polls"
			printf "dataplane core over %.1f s: %.0f requests/s, ran %.1f%% of the wall time (other jobs: the rest), %.1f%% of that busy\n",
			       w, req / w, 100 * run / w, 100 * busy / (run * hz)
			printf "dataplane cycles/request %.0f (%s; empty poll: %.0f cycles)\n", busy / req, how, empty_cyc
			printf "at this cost one whole dataplane core would serve %.0f requests/s\n", hz * req / busy
		}'
	fi
	if [ "$rc" != 0 ]; then
		echo "bench_memif exited $rc; dataplane log tail:" >&2
		tail -n 30 "$dplog" >&2
		return 1
	fi
	return 0
}

fail=0
if [ "$only" != healthz ]; then
	bench_run echo --req echo --body "$body" || fail=1
fi
if [ "$only" != echo ]; then
	[ "$only" = healthz ] || echo
	bench_run healthz --req healthz || fail=1
fi
exit $fail
