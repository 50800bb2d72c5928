# shellcheck shell=bash
# Common part of the dataplane integration tests: namespaces (tools/scripts/
# netns.sh), starting the server under test and reading its counters.
#
# Every test script is called as
#     SCRIPT TARGET [options]
# TARGET is the path of the twospeed-dataplane executable, or the word "nginx"
# to run the very same client side against nginx through the Linux stack (how
# the scripts themselves were proven before the dataplane existed).
#
# Environment knobs (all optional):
#   IT_DP_LCORES   EAL core list of the dataplane (default 1: the client gets core 0)
#   IT_DP_EXTRA    extra EAL arguments
#   IT_KEEP=1      keep the work directory (logs, counters) after the run

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IT_ROOT=$(cd "$IT_DIR/../../.." && pwd)
# shellcheck source=../../../tools/scripts/netns.sh
. "$IT_ROOT/tools/scripts/netns.sh"

IT_PORT=80
IT_PY=/usr/bin/python3
NS_KEEP=${IT_KEEP:-}

it_fail() {
	ns_log "FAIL: $*"
	[ -n "${IT_SRV_LOG:-}" ] && [ -f "$IT_SRV_LOG" ] && { ns_log "server log tail:"; tail -n 40 "$IT_SRV_LOG" >&2; }
	exit 1
}

# it_init NAME TARGET: root check, tools, namespaces, then start the server.
it_init() {
	local name=$1 target=${2:-}
	ns_require_root
	[ -n "$target" ] || { echo "usage: $0 TARGET (twospeed-dataplane path or 'nginx')" >&2; exit 2; }
	ns_require_tools ip ethtool curl sha256sum taskset
	IT_TARGET=$target
	if [ "$target" = nginx ]; then
		ns_require_tools nginx
		[ -f /usr/lib/nginx/modules/ngx_http_echo_module.so ] ||
			{ echo "FAIL: nginx echo module missing (Debian package libnginx-mod-http-echo)" >&2; exit 1; }
		IT_KIND=nginx
	else
		[ -x "$target" ] || { echo "FAIL: dataplane executable '$target' missing or not executable" >&2; exit 1; }
		IT_KIND=dataplane
		ns_hugepages 512
	fi
	ns_create "$name"
	IT_SRV_LOG=$NS_WORKDIR/server.log
	it_start
}

# The dataplane's configuration for the tests: one worker, the plain HTTP
# listener on port 80, limits big enough for the 50 concurrent keep-alive clients.
it_write_dp_conf() {
	cat > "$NS_WORKDIR/dp.conf" << EOF
# written by tests/integration/dataplane/lib.sh
[net]
address = $NS_DP_ADDR/$NS_PREFIX_LEN

[http]
port = $IT_PORT
max_conns = 1024
max_body = 1G
EOF
}

it_write_nginx_conf() {
	mkdir -p "$NS_WORKDIR/nginx"
	cat > "$NS_WORKDIR/nginx/nginx.conf" << EOF
# written by tests/integration/dataplane/lib.sh: the same endpoints as the
# dataplane's plain HTTP listener, through the Linux stack.
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
worker_processes 1;
pid $NS_WORKDIR/nginx/nginx.pid;
error_log $NS_WORKDIR/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $NS_WORKDIR/nginx/body;
	proxy_temp_path $NS_WORKDIR/nginx/proxy;
	fastcgi_temp_path $NS_WORKDIR/nginx/fastcgi;
	uwsgi_temp_path $NS_WORKDIR/nginx/uwsgi;
	scgi_temp_path $NS_WORKDIR/nginx/scgi;
	keepalive_requests 1000000;
	keepalive_timeout 120s;
	server {
		listen $NS_LX_ADDR:$IT_PORT backlog=4096;
		location = /healthz { default_type text/plain; return 200 "ok\n"; }
		location = /echo {
			client_max_body_size 128m;
			client_body_buffer_size 64k;
			default_type application/octet-stream;
			echo_read_request_body;
			echo_request_body;
		}
	}
}
EOF
}

it_start() {
	if [ "$IT_KIND" = nginx ]; then
		ns_linux_addr "$NS_LX_ADDR"
		IT_ADDR=$NS_LX_ADDR
		it_write_nginx_conf
		ns_spawn "$NS_DP" "$IT_SRV_LOG" taskset -c "${IT_DP_LCORES:-1}" nginx -p "$NS_WORKDIR/nginx" -c "$NS_WORKDIR/nginx/nginx.conf" \
			-e "$NS_WORKDIR/nginx/error.log" -g 'daemon off; master_process off;'
	else
		IT_ADDR=$NS_DP_ADDR
		it_write_dp_conf
		IT_VETH_BASE=$(it_veth_counters | awk '$1 == "veth.rx_packets" { print $2 }')
		NS_DPDK_PREFIXES+=("ts$$")
		# shellcheck disable=SC2086
		ns_spawn "$NS_DP" "$IT_SRV_LOG" "$IT_TARGET" -l "${IT_DP_LCORES:-1}" --no-pci \
			--file-prefix "ts$$" --vdev "net_af_packet0,iface=$IF_DP" ${IT_DP_EXTRA:-} \
			-- --config "$NS_WORKDIR/dp.conf"
	fi
	IT_SRV_PID=$NS_LAST_PID
	IT_URL="http://$IT_ADDR:$IT_PORT"
	ns_wait_http "$IT_URL/healthz" 30 || it_fail "$IT_KIND did not answer GET $IT_URL/healthz within 30 s"
	ns_log "$IT_KIND up (pid $IT_SRV_PID) at $IT_URL"
}

it_alive() {
	kill -0 "$IT_SRV_PID" 2> /dev/null || it_fail "$IT_KIND (pid $IT_SRV_PID) is gone"
}

# it_counters OUT: ask the dataplane for its counters (SIGUSR1) and store the
# dump as "name value" lines in OUT.  nginx: the namespace's kernel counters
# (nstat), so the same checks have something real to look at.
it_counters() {
	local out=$1
	if [ "$IT_KIND" = nginx ]; then
		ns_dp nstat -saz 2> /dev/null | awk 'NF >= 2 && $1 !~ /^#/ { print $1, $2 }' > "$out"
		return 0
	fi
	local before i
	before=$(wc -l < "$IT_SRV_LOG")
	kill -USR1 "$IT_SRV_PID" || it_fail "kill -USR1 $IT_SRV_PID"
	# bounded wait for the whole dump (its last line) to be written
	for i in $(seq 100); do
		sleep 0.1
		tail -n +"$((before + 1))" "$IT_SRV_LOG" | grep -q '^--- end of counters' && break
	done
	tail -n +"$((before + 1))" "$IT_SRV_LOG" | it_last_dump | it_parse_counters > "$out"
	[ -s "$out" ] || it_fail "no counters printed within 10 s of SIGUSR1 (log: $IT_SRV_LOG)"
	it_veth_counters >> "$out"
}

# The kernel's view of the dataplane's veth end: frames the veth delivered
# (veth.rx_packets) minus the port's port.rx_pkts is what the af_packet receive
# ring dropped (the PMD does not report it).
it_veth_counters() {
	ns_dp ip -s -j link show dev "$IF_DP" 2> /dev/null | "$IT_PY" -c '
import json, sys
s = json.load(sys.stdin)[0]["stats64"]
print("veth.rx_packets", s["rx"]["packets"])
print("veth.tx_packets", s["tx"]["packets"])'
}

# it_ring_drops FILE: frames that reached the veth since the dataplane started
# but not the dataplane.
it_ring_drops() {
	awk -v base="${IT_VETH_BASE:-0}" '$1 == "veth.rx_packets" { v = $2 } $1 == "port.rx_pkts" { p = $2 }
		END { printf "%d\n", v - base - p }' "$1"
}

# The last counter dump in the input: the lines between the last
# "--- twospeed-dataplane counters ..." and "--- end of counters ---".
it_last_dump() {
	awk '/^--- twospeed-dataplane counters/ { n = 0; inb = 1; next }
	     /^--- end of counters/ { inb = 0; last = n; for (i = 1; i <= n; i++) keep[i] = buf[i]; next }
	     inb { buf[++n] = $0 }
	     END { for (i = 1; i <= last; i++) print keep[i] }'
}

# Counter dump lines -> "name value".  The dataplane prints "module.name TOTAL"
# and, per worker, "module.name VALUE @lcoreN"; only the totals are kept (a
# line whose last field is not a number is skipped).  Also accepts "name: value".
it_parse_counters() {
	awk '{
		gsub(/[:=]/, " ")
		n = split($0, f, " ")
		if (n < 2 || f[n] !~ /^[0-9]+$/) next
		name = f[1]
		for (i = 2; i < n; i++) name = name "." f[i]
		print name, f[n]
	}'
}

# it_counter_sum FILE REGEX: sum of every counter whose name matches REGEX (ERE, case-insensitive).
it_counter_sum() {
	awk -v re="$2" 'BEGIN { IGNORECASE = 1 } $1 ~ re { s += $2 } END { printf "%d\n", s }' "$1"
}

# it_stop: SIGTERM, bounded wait, the exit status must be 0; final counters
# (the exit dump) end up in $NS_WORKDIR/final.counters.
it_stop() {
	local i rc
	kill -TERM "$IT_SRV_PID" 2> /dev/null || it_fail "$IT_KIND already gone before SIGTERM"
	for i in $(seq 100); do
		kill -0 "$IT_SRV_PID" 2> /dev/null || break
		sleep 0.1
	done
	kill -0 "$IT_SRV_PID" 2> /dev/null && it_fail "$IT_KIND did not exit within 10 s of SIGTERM"
	wait "$IT_SRV_PID"
	rc=$?
	ns_forget "$IT_SRV_PID"
	it_last_dump < "$IT_SRV_LOG" | it_parse_counters > "$NS_WORKDIR/final.counters"
	[ "$rc" = 0 ] || it_fail "$IT_KIND exited with status $rc after SIGTERM"
	ns_log "$IT_KIND stopped cleanly"
}
