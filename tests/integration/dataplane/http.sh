#!/usr/bin/env bash
# Plain HTTP/1.1 over the dataplane's TCP stack, Linux curl as the peer:
#  1. 1,000 sequential requests on ONE keep-alive connection (GET /healthz and
#     POST /echo alternating, every echo body distinct and compared);
#  2. 50 concurrent clients, each 20 requests on its own keep-alive connection;
#  3. 100 requests each on a fresh connection (open/close churn).
# Usage: http.sh TARGET   (twospeed-dataplane path, or "nginx")
set -uo pipefail
. "$(dirname "$0")/lib.sh"
it_init http "${1:-}"

W=$NS_WORKDIR
CURL=(taskset -c 0 curl -sS --max-time 60)

# gen_config FILE N PREFIX: curl config with N requests; odd ones GET /healthz,
# even ones POST /echo with a body that names its request; outputs in $W/out.
gen_config() {
	local cfg=$1 n=$2 pfx=$3 i
	: > "$cfg"
	for ((i = 0; i < n; i++)); do
		# --next resets per-transfer options, so each block carries its own
		printf 'write-out = "%%{http_code} %%{num_connects}\\n"\nmax-time = 60\nheader = "Expect:"\n' >> "$cfg"
		if ((i % 2)); then
			printf 'url = "%s/healthz"\noutput = "/dev/null"\n' "$IT_URL" >> "$cfg"
		else
			printf '%s request %d %s\n' "$pfx" "$i" "$(head -c 24 /dev/urandom | base64)" > "$W/in/$pfx.$i"
			printf 'url = "%s/echo"\ndata-binary = "@%s"\noutput = "%s"\n' \
				"$IT_URL" "$W/in/$pfx.$i" "$W/out/$pfx.$i" >> "$cfg"
		fi
		((i + 1 < n)) && printf 'next\n' >> "$cfg"
	done
}

# check_run PFX N RESULTS: every status 200, one connection, echo bodies intact.
check_run() {
	local pfx=$1 n=$2 res=$3 i
	local got codes conns
	got=$(wc -l < "$res")
	[ "$got" = "$n" ] || { echo "$pfx: $got of $n transfers reported"; return 1; }
	codes=$(awk '$1 != 200' "$res" | wc -l)
	[ "$codes" = 0 ] || { echo "$pfx: $codes responses not 200: $(awk '$1 != 200' "$res" | sort | uniq -c | head -3 | tr '\n' ';')"; return 1; }
	conns=$(awk '{ s += $2 } END { print s + 0 }' "$res")
	[ "$conns" = 1 ] || { echo "$pfx: $conns connections opened for $n keep-alive requests (want 1)"; return 1; }
	for ((i = 0; i < n; i += 2)); do
		cmp -s "$W/in/$pfx.$i" "$W/out/$pfx.$i" || { echo "$pfx: echo body $i differs"; return 1; }
	done
	return 0
}

mkdir -p "$W/in" "$W/out"

# 1. sequential keep-alive
gen_config "$W/seq.cfg" 1000 seq
t0=$(date +%s.%N)
ns_cl "${CURL[@]}" -K "$W/seq.cfg" > "$W/seq.res" 2> "$W/seq.err" ||
	it_fail "sequential: curl exit $? ($(head -c 300 "$W/seq.err"))"
t1=$(date +%s.%N)
msg=$(check_run seq 1000 "$W/seq.res") || it_fail "sequential keep-alive: $msg"
ns_log "1000 sequential keep-alive requests ok ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s)"
it_alive

# 2. 50 concurrent keep-alive clients
pids=()
for c in $(seq 50); do
	gen_config "$W/c$c.cfg" 20 "c$c"
done
for c in $(seq 50); do
	ns_cl "${CURL[@]}" -K "$W/c$c.cfg" > "$W/c$c.res" 2> "$W/c$c.err" &
	pids+=($!)
done
fails=0
for c in $(seq 50); do
	if ! wait "${pids[$((c - 1))]}"; then
		ns_log "client $c: curl failed: $(head -c 200 "$W/c$c.err")"
		fails=$((fails + 1))
		continue
	fi
	msg=$(check_run "c$c" 20 "$W/c$c.res") || { ns_log "client $c: $msg"; fails=$((fails + 1)); }
done
[ "$fails" = 0 ] || it_fail "$fails of 50 concurrent keep-alive clients failed"
ns_log "50 concurrent keep-alive clients x 20 requests ok"
it_alive

# 3. connection churn: a fresh connection per request
bad=0
for i in $(seq 100); do
	code=$(ns_cl "${CURL[@]}" -o /dev/null -w '%{http_code}' "$IT_URL/healthz" 2> /dev/null)
	[ "$code" = 200 ] || bad=$((bad + 1))
done
[ "$bad" = 0 ] || it_fail "$bad of 100 fresh-connection requests failed"
ns_log "100 fresh-connection requests ok"

it_counters "$W/run.counters"
if [ "$IT_KIND" = dataplane ]; then
	# the dataplane's own account of the run: every request parsed and answered 2xx
	req=$(it_counter_sum "$W/run.counters" '^app\.http_requests$')
	ok2=$(it_counter_sum "$W/run.counters" '^app\.http_resp_2xx$')
	bad=$(it_counter_sum "$W/run.counters" '^app\.http_(resp_[45]xx|parse_.*)$')
	opens=$(it_counter_sum "$W/run.counters" '^tcp\.passive_opens$')
	ns_log "dataplane counters: http_requests $req, resp_2xx $ok2, 4xx/5xx/parse errors $bad, passive_opens $opens"
	[ "$req" -ge 2100 ] || it_fail "app.http_requests $req < the 2100 sent"
	[ "$ok2" = "$req" ] || it_fail "app.http_resp_2xx $ok2 != app.http_requests $req"
	[ "$bad" = 0 ] || it_fail "$bad 4xx/5xx responses or parse errors counted"
	[ "$opens" -ge 151 ] || it_fail "tcp.passive_opens $opens < the 151 connections opened"
fi
it_stop
ns_log "PASS"
