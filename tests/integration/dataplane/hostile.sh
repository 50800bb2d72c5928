#!/usr/bin/env bash
# Hostile packets (scapy: bad IPv4/TCP checksums, SYN+FIN, no flags, all
# flags, out-of-window RST/SYN/data on an established connection, a 20k SYN
# flood) while a normal client keeps working.  Passes when
#  - the server survives and exits cleanly on SIGTERM,
#  - the established connection attacked out of window still answers,
#  - the normal client's persistent keep-alive connection never failed and
#    >= 90% of its fresh connections during the attack succeeded (all of them
#    once the flood is over, each in < 0.9 s: none needs a retransmission timeout),
#  - the checksum errors, bad flag combinations and out-of-window RSTs were
#    counted, >= 95 % of those sent (dataplane counters, or the kernel's
#    IpInHdrErrors/TcpInCsumErrors for the nginx baseline).
# Usage: hostile.sh TARGET [--flood N]
set -uo pipefail
. "$(dirname "$0")/lib.sh"
target=${1:-}
shift || true
flood=20000
while [ $# -gt 0 ]; do
	case $1 in
	--flood) flood=$2; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
[ -x "$IT_PY" ] && "$IT_PY" -c 'import scapy' 2> /dev/null || { echo "FAIL: $IT_PY with scapy (python3-scapy) needed" >&2; exit 1; }
it_init hostile "$target"
W=$NS_WORKDIR
COUNT=200

it_counters "$W/before.counters"

ns_spawn "$NS_CL" "$W/client.log" taskset -c 0 "$IT_PY" "$IT_DIR/hostile.py" client \
	--dst "$IT_ADDR" --dport "$IT_PORT" --stop "$W/stop" --out "$W/client.json" --max-seconds 240
client_pid=$NS_LAST_PID
sleep 1

ns_cl taskset -c 0 "$IT_PY" "$IT_DIR/hostile.py" attack --iface "$IF_CL" --src "$NS_CL_ADDR" --dst "$IT_ADDR" \
	--dport "$IT_PORT" --count "$COUNT" --flood "$flood" --out "$W/attack.json" > "$W/attack.log" 2>&1
arc=$?
touch "$W/stop"
wait "$client_pid"
crc=$?
ns_forget "$client_pid"
[ -f "$W/attack.json" ] && ns_log "attack: $(tr -d '\n ' < "$W/attack.json")"
[ -f "$W/client.json" ] && ns_log "client: $(cat "$W/client.json")"
it_alive
case $arc in
0) ;;
3) it_fail "the established connection did not survive out-of-window RST/SYN/data (see above)" ;;
*) it_fail "hostile.py attack exited $arc: $(tail -n 5 "$W/attack.log")" ;;
esac
[ "$crc" = 0 ] && [ -f "$W/client.json" ] || it_fail "normal client exited $crc: $(tail -n 5 "$W/client.log")"

read -r p_ok p_fail f_ok f_fail < <("$IT_PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["persistent_ok"], d["persistent_fail"], d["fresh_ok"], d["fresh_fail"])' "$W/client.json")
[ "$p_ok" -gt 100 ] || it_fail "normal client: only $p_ok keep-alive requests answered during the attack"
[ "$p_fail" = 0 ] || it_fail "normal client: $p_fail keep-alive requests failed during the attack"
[ $((f_ok + f_fail)) -gt 0 ] || it_fail "normal client made no fresh connections"
[ $((f_fail * 10)) -le $((f_ok + f_fail)) ] || it_fail "normal client: $f_fail of $((f_ok + f_fail)) fresh connections failed during the attack"

# After the flood: every fresh connection works again within a few seconds
# (half-open connections from spoofed sources time out or were never kept).
sleep 3
bad=0
slowest=0
for i in $(seq 20); do
	read -r code t < <(ns_cl curl -s -o /dev/null -m 3 -w '%{http_code} %{time_total}\n' "$IT_URL/healthz")
	[ "$code" = 200 ] || bad=$((bad + 1))
	slowest=$(awk -v a="$slowest" -v b="${t:-3}" 'BEGIN { print (b > a) ? b : a }')
done
ns_log "20 fresh connections after the flood: $bad failed, slowest ${slowest} s"
[ "$bad" = 0 ] || it_fail "$bad of 20 fresh connections failed after the flood"
# None may need a retransmission timeout (the initial RTO is 1 s; Linux/nginx
# answers these in ~10 ms): a SYN-cookie connection whose segments the peer
# drops (e.g. by PAWS) shows up here.
# (collected, not fatal yet: the counter checks below still run and report)
fails=()
awk -v t="$slowest" 'BEGIN { exit !(t < 0.9) }' ||
	fails+=("a fresh connection after the flood took ${slowest} s (>= 0.9 s: it needed a retransmission timeout)")

it_counters "$W/after.counters"
if [ "$IT_KIND" = nginx ]; then
	re_ip='^IpInHdrErrors$'
	re_tcp='^TcpInCsumErrors$'
	checks="ip tcp"
else
	# dataplane counter names (dataplane/net/net.c, dataplane/tcp/tcp.c), printed
	# with or without a module/lcore prefix; at least this many must be counted:
	re_ip='ip_drop_bad_cksum$'                              # 200 bad IPv4 header checksums
	re_tcp='drop_bad_csum$'                                 # 200 bad TCP checksums
	re_oow='rst_ignored$|drop_out_of_window$|challenge_acks$' # 1200 out-of-window RSTs + 10 in-window
	re_flags='drop_bad_flags$'                              # SYN+FIN, no flags, all flags, SYN+RST
	min_oow=1200
	min_flags=100
	checks="ip tcp oow flags"
fi
min_ip=$COUNT
min_tcp=$COUNT
[ "$IT_KIND" = dataplane ] && ns_log "frames the veth delivered but the dataplane never saw (af_packet ring): $(it_ring_drops "$W/after.counters")"
for what in $checks; do
	min_var="min_$what"
	re_var="re_$what"
	b=$(it_counter_sum "$W/before.counters" "${!re_var}")
	a=$(it_counter_sum "$W/after.counters" "${!re_var}")
	ns_log "$what counters (/${!re_var}/): $b -> $a"
	# >= 95 %: the kernel may drop a few frames at the af_packet receive ring
	# when the dataplane's core is taken by other work (2 shared cores); a
	# counter that does not count at all still fails
	[ $(((a - b) * 100)) -ge $((${!min_var} * 95)) ] ||
		fails+=("$what: counted $((a - b)), want >= ${!min_var} (counters matching /${!re_var}/ in $W/after.counters)")
done
it_stop
for f in "${fails[@]}"; do
	ns_log "FAIL: $f"
done
[ ${#fails[@]} = 0 ] || exit 1
ns_log "PASS"
