#!/usr/bin/env bash
# Requests/s per worker core for POST /echo with 2 KB bodies over keep-alive
# connections: twospeed-dataplane (net_af_packet on a veth) beside nginx
# through the Linux stack in the same namespace, each pinned to the same core,
# the client (wrk) pinned to the other core in the peer namespace.
# Not a test: prints numbers, fails only when a server does not serve.
# Usage: bench_http.sh DATAPLANE_EXE [--seconds N] [--connections N] [--only nginx|dataplane]
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../../tests/integration/dataplane/lib.sh"

exe=${1:-}
shift || true
secs=10
conns=32
only=""
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) secs=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
[ -n "$exe" ] || { echo "usage: $0 DATAPLANE_EXE [--seconds N] [--connections N] [--only nginx|dataplane]" >&2; exit 2; }
ns_require_root
ns_require_tools wrk nginx taskset
[ -f /usr/lib/nginx/modules/ngx_http_echo_module.so ] || ns_die "nginx echo module missing (Debian package libnginx-mod-http-echo)"
core=${IT_DP_LCORES:-1}
ns_create bench-http

# run_wrk NAME: prints "requests/s" on stdout, the wrk report on stderr
run_wrk() {
	local out=$NS_WORKDIR/wrk.$1
	# warm-up (ARP, connection set-up), then the measured run
	ns_cl taskset -c 0 wrk -t1 -c"$conns" -d2s -s "$HERE/echo2k.lua" "$IT_URL/echo" > /dev/null 2>&1
	ns_cl taskset -c 0 wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$HERE/echo2k.lua" "$IT_URL/echo" > "$out" 2>&1
	sed 's/^/    /' "$out" >&2
	local bad errs
	bad=$(awk '/^bench-bad-responses/ { print $2 }' "$out")
	errs=$(awk '/Socket errors|Non-2xx/' "$out")
	[ "${bad:-x}" = 0 ] || echo "bench: $1: ${bad:-?} bad responses" >&2
	[ -z "$errs" ] || echo "bench: $1: $errs" >&2
	awk '/^Requests\/sec:/ { print $2 }' "$out"
}

rps_nginx=""
rps_dp=""
if [ "$only" != dataplane ]; then
	IT_KIND=nginx
	IT_SRV_LOG=$NS_WORKDIR/nginx.log
	it_start
	rps_nginx=$(run_wrk nginx)
	it_stop
	ns_linux_addr_del "$NS_LX_ADDR"
fi
if [ "$only" != nginx ]; then
	[ -x "$exe" ] || ns_die "dataplane executable '$exe' missing"
	ns_hugepages 512
	IT_KIND=dataplane
	IT_TARGET=$exe
	IT_SRV_LOG=$NS_WORKDIR/dataplane.log
	it_start
	rps_dp=$(run_wrk dataplane)
	it_counters "$NS_WORKDIR/dp.counters"
	ring_drops=$(it_ring_drops "$NS_WORKDIR/dp.counters")
	rtx=$(it_counter_sum "$NS_WORKDIR/dp.counters" '^tcp\.(retransmits|dup_segs)$')
	it_stop
fi
echo
echo "POST /echo, 2 KB bodies, $conns keep-alive connections, ${secs} s, server on core $core, wrk on core 0"
printf '%-28s %12s\n' "server" "requests/s"
[ -n "$rps_nginx" ] && printf '%-28s %12s\n' "nginx (Linux stack)" "$rps_nginx"
[ -n "$rps_dp" ] && printf '%-28s %12s\n' "twospeed-dataplane" "$rps_dp"
[ -n "$rps_dp" ] && echo "dataplane: $ring_drops frames dropped at the af_packet ring, $rtx retransmitted or duplicate segments"
if [ -n "$rps_nginx" ] && [ -n "$rps_dp" ]; then
	awk -v d="$rps_dp" -v n="$rps_nginx" 'BEGIN { printf "%-28s %12.2f\n", "ratio dataplane/nginx", d / n }'
fi
