#!/usr/bin/env bash
# Clean shutdown with live connections.  While the server holds
#  - IDLE keep-alive connections (one GET /healthz answered on each, then idle,
#    the client closes when it sees the server's FIN),
#  - STUBBORN keep-alive connections (answered, then the client ignores the
#    server's FIN and never closes),
#  - one slow raw upload (POST /echo, Content-Length 10 MB, 1 KB every 50 ms,
#    the client keeps sending whatever happens), and
#  - one slow curl upload (curl --limit-rate 20k, POST /echo of 10 MB),
# the server gets SIGTERM (or --signal INT).  Passes when
#  - the server exits with status 0 within drain_timeout + 3 s of the signal and
#    printed its final counter dump ("counters (exit)" ... "end of counters");
#  - every client connection was ended by FIN or RST within drain_timeout + 2 s;
#    dataplane: the idle ones by FIN (a graceful drain), and the ones whose peer
#    never closes (stubborn, raw upload) finally reset (RST, the socket in
#    CLOSE) by then — an unreset connection would hang on a dead server forever;
#  - the curl upload has ended (curl exited) within drain_timeout + 2 s;
#  - a new connection attempt 0.3 s after the signal, while the drain is still
#    running, is refused or times out (1.5 s): the listener is closed.
# nginx (baseline of the client side) closes everything at once on SIGTERM and
# leaves FIN-ignoring peers to the kernel: there only "ended by FIN or RST" and
# the exit status are required.
# --prompt S (dataplane): with every peer closing or reset at once (use with
# --stubborn 0), the server must also exit within S seconds of the signal, not
# sit out drain_timeout for connections that are already over.
# Usage: drain.sh TARGET [--signal TERM|INT] [--idle N] [--stubborn N] [--prompt S]
set -uo pipefail
. "$(dirname "$0")/lib.sh"
target=${1:-}
shift || true
sig=TERM
n_idle=6
n_stub=2
prompt=
while [ $# -gt 0 ]; do
	case $1 in
	--signal) sig=$2; shift 2 ;;
	--idle) n_idle=$2; shift 2 ;;
	--stubborn) n_stub=$2; shift 2 ;;
	--prompt) prompt=$2; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
case $sig in TERM | INT) ;; *) echo "--signal TERM or INT" >&2; exit 2 ;; esac
DRAIN=2 # [dataplane] drain_timeout, seconds

# The shared config plus an explicit drain_timeout, so the bounds below follow it.
eval "orig_$(declare -f it_write_dp_conf)"
# shellcheck disable=SC2317 # called by it_start
it_write_dp_conf() {
	orig_it_write_dp_conf
	printf '\n[dataplane]\ndrain_timeout = %ss\n' "$DRAIN" >> "$NS_WORKDIR/dp.conf"
}

[ -x "$IT_PY" ] || { echo "FAIL: $IT_PY missing" >&2; exit 1; }
it_init "drain-$sig" "$target"
W=$NS_WORKDIR

# The client: sets up every connection, writes $W/ready, then watches each socket's
# TCP state (TCP_INFO) every 5 ms until all have ended or the bound passed, and
# writes one line per connection: kind index how t_end t_reset (seconds after the
# signal, whose wall-clock time the script writes to $W/sigtime; -1 = never).
cat > "$W/client.py" << 'EOF'
import os, socket, sys, time

addr, port = sys.argv[1], int(sys.argv[2])
n_idle, n_stub, bound, wdir = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
ESTABLISHED, CLOSE, CLOSE_WAIT = 1, 7, 8
BODY = 10 * 1000 * 1000

def die(msg):
    print("client: " + msg, file=sys.stderr)
    sys.exit(1)

def state(s):
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]

def get_healthz(s):
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: drain\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            die("connection closed before the /healthz response")
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        die("GET /healthz: " + head.split(b"\r\n")[0].decode(errors="replace"))
    clen = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            clen = int(v)
    while len(body) < clen:
        d = s.recv(4096)
        if not d:
            die("connection closed inside the /healthz body")
        body += d

conns = []  # [kind, sock, t_end, how, t_reset, closed]
for kind, n in (("idle", n_idle), ("stubborn", n_stub)):
    for i in range(n):
        s = socket.create_connection((addr, port), timeout=5)
        get_healthz(s)
        conns.append([kind, s, None, None, None, False])
up = socket.create_connection((addr, port), timeout=5)
up.sendall(b"POST /echo HTTP/1.1\r\nHost: drain\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Length: %d\r\n\r\n" % BODY)
conns.append(["upload", up, None, None, None, False])
for c in conns:
    c[1].setblocking(False)
chunk = b"u" * 1024
sent = 0
next_send = time.monotonic()

def pump(now):
    """One 5 ms step: upload chunk when due, drain input, sample TCP states."""
    global sent, next_send
    t = time.time()
    for c in conns:
        kind, s, _, _, _, closed = c
        if closed:
            continue
        eof = rst = False
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    eof = True
                    break
        except BlockingIOError:
            pass
        except (ConnectionResetError, BrokenPipeError):
            rst = True
        if kind == "upload" and now >= next_send and sent < BODY and not rst:
            try:
                sent += s.send(chunk)
            except BlockingIOError:
                pass
            except (ConnectionResetError, BrokenPipeError):
                rst = True
            next_send = now + 0.05
        st = CLOSE if rst else state(s)
        if c[2] is None and (eof or st != ESTABLISHED):
            c[2] = t
            c[3] = "RST" if st == CLOSE and not eof else "FIN"
        if c[4] is None and st == CLOSE:
            c[4] = t
        if kind == "idle" and c[2] is not None:
            s.close()  # a polite client closes on the server's FIN
            c[5] = True

# let the raw upload run a second before the signal
t_ready = time.monotonic()
while time.monotonic() - t_ready < 1.0:
    pump(time.monotonic())
    time.sleep(0.005)
for c in conns:
    if c[2] is not None:
        die("%s connection ended before the signal (%s)" % (c[0], c[3]))
if sent == 0:
    die("the upload could not send")
open(os.path.join(wdir, "ready.tmp"), "w").write("%d\n" % sent)
os.rename(os.path.join(wdir, "ready.tmp"), os.path.join(wdir, "ready"))

sigfile = os.path.join(wdir, "sigtime")
limit = time.monotonic() + 60
while not os.path.exists(sigfile):
    if time.monotonic() > limit:
        die("no signal within 60 s")
    pump(time.monotonic())
    time.sleep(0.005)
time.sleep(0.01)
t_sig = float(open(sigfile).read())
end = time.monotonic() + (t_sig + bound - time.time())
while time.monotonic() < end:
    pump(time.monotonic())
    if all(c[2] is not None and (c[0] == "idle" or c[4] is not None) for c in conns):
        break
    time.sleep(0.005)
idx = {}
for c in conns:
    i = idx.get(c[0], 0)
    idx[c[0]] = i + 1
    rel = lambda t: "%.3f" % (t - t_sig) if t is not None else "-1"
    print(c[0], i, c[3] or "none", rel(c[2]), rel(c[4]))
    if not c[5]:
        c[1].close()
print("upload_bytes", sent, file=sys.stderr)
EOF

CL_BOUND=$((DRAIN + 2))
ns_cl taskset -c 0 "$IT_PY" "$W/client.py" "$IT_ADDR" "$IT_PORT" "$n_idle" "$n_stub" "$CL_BOUND" "$W" \
	> "$W/client.res" 2> "$W/client.err" &
cl_pid=$!
head -c 10000000 /dev/zero > "$W/upload.bin"
ns_cl taskset -c 0 curl -sS -o /dev/null --max-time 60 --limit-rate 20k -H 'Expect:' \
	--data-binary "@$W/upload.bin" "$IT_URL/echo" 2> "$W/curl.err" &
curl_pid=$!

for i in $(seq 200); do
	[ -f "$W/ready" ] && break
	kill -0 "$cl_pid" 2> /dev/null || break
	sleep 0.05
done
[ -f "$W/ready" ] || it_fail "client not ready within 10 s: $(head -c 400 "$W/client.err")"
kill -0 "$curl_pid" 2> /dev/null || it_fail "the curl upload ended before the signal: $(head -c 300 "$W/curl.err")"
it_alive
log_lines=$(wc -l < "$IT_SRV_LOG")
ns_log "$n_idle idle + $n_stub stubborn keep-alive connections, 2 slow uploads in flight; SIG$sig"

# --- the signal ---
t_sig=$(date +%s.%N)
kill -"$sig" "$IT_SRV_PID" || it_fail "kill -$sig $IT_SRV_PID"
echo "$t_sig" > "$W/sigtime"
# Note the server's exit from the signal on, in the background: the probe below may
# wait out its own timeout after the server is already gone, and that wait must not
# count as drain time. A zombie (exited, not yet reaped) counts as gone.
(
	while [ -d "/proc/$IT_SRV_PID" ] &&
		! awk '{ exit ($3 == "Z") ? 0 : 1 }' "/proc/$IT_SRV_PID/stat" 2> /dev/null; do
		sleep 0.01
	done
	date +%s.%N > "$W/exit_time"
) &
watch_pid=$!

# the listener, while the drain is still running
sleep 0.3
alive_at_probe=no
kill -0 "$IT_SRV_PID" 2> /dev/null && alive_at_probe=yes
probe=$(ns_cl taskset -c 0 "$IT_PY" -c '
import socket, sys
s = socket.socket()
s.settimeout(1.5)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("connected")
except ConnectionRefusedError:
    print("refused")
except (socket.timeout, OSError) as e:
    print("timeout" if isinstance(e, socket.timeout) else "error:" + str(e))
' "$IT_ADDR" "$IT_PORT")
ns_log "new connection 0.3 s after SIG$sig: $probe (server still running: $alive_at_probe)"

# the server's exit
rc=
for i in $(seq $(((DRAIN + 3) * 20))); do
	if ! kill -0 "$IT_SRV_PID" 2> /dev/null; then
		wait "$IT_SRV_PID"
		rc=$?
		break
	fi
	sleep 0.05
done
[ -n "$rc" ] || it_fail "$IT_KIND still running $((DRAIN + 3)) s after SIG$sig"
wait "$watch_pid"
t_exit=$(cat "$W/exit_time")
ns_forget "$IT_SRV_PID"
exit_after=$(awk -v a="$t_sig" -v b="$t_exit" 'BEGIN { printf "%.2f", b - a }')
ns_log "$IT_KIND exited with status $rc about $exit_after s after SIG$sig"

wait "$cl_pid"
cl_rc=$?
for i in $(seq 100); do
	kill -0 "$curl_pid" 2> /dev/null || break
	sleep 0.05
done
curl_t=$(awk -v a="$t_sig" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
curl_alive=no
kill -0 "$curl_pid" 2> /dev/null && curl_alive=yes
ns_log "client: $(tr '\n' ';' < "$W/client.res")"

fails=()
[ "$rc" = 0 ] || fails+=("exit status $rc after SIG$sig (want 0)")
[ "$cl_rc" = 0 ] || fails+=("client failed (rc $cl_rc): $(head -c 300 "$W/client.err")")
[ "$probe" = connected ] && fails+=("a new connection was accepted 0.3 s after SIG$sig: listener still open")
if [ -n "$prompt" ] && [ "$IT_KIND" = dataplane ]; then
	awk -v t="$exit_after" -v b="$prompt" 'BEGIN { exit !(t <= b) }' ||
		fails+=("exit $exit_after s after SIG$sig although every peer was gone (want <= $prompt s; drain_timeout ${DRAIN}s)")
fi
# with peers that never close, the dataplane must still be draining at the probe
# (README: it waits drain_timeout before resetting them), else the probe proves nothing
[ "$IT_KIND" = dataplane ] && [ "$n_stub" -gt 0 ] && [ "$alive_at_probe" = no ] &&
	fails+=("dataplane gone 0.3 s after SIG$sig although $n_stub peers never closed (drain_timeout ${DRAIN}s)")
[ "$curl_alive" = yes ] && fails+=("the curl upload still running $curl_t s after SIG$sig")
want=$((n_idle + n_stub + 1))
got=$(wc -l < "$W/client.res")
[ "$got" = "$want" ] || fails+=("client reported $got of $want connections")
while read -r kind i how t_end t_reset; do
	name="$kind connection $i"
	if [ "$how" = none ]; then
		fails+=("$name not ended (no FIN, no RST) within $CL_BOUND s of SIG$sig")
		continue
	fi
	awk -v t="$t_end" -v b="$CL_BOUND" 'BEGIN { exit !(t >= 0 && t <= b) }' ||
		fails+=("$name ended by $how at $t_end s (bound $CL_BOUND s)")
	[ "$IT_KIND" = dataplane ] || continue
	[ "$kind" = idle ] && [ "$how" != FIN ] && fails+=("$name ended by $how (want FIN: graceful drain)")
	if [ "$kind" != idle ] && [ "$t_reset" = -1 ]; then
		fails+=("$name ($how at $t_end s) never reset although its peer never closed (drain_timeout ${DRAIN}s)")
	fi
done < "$W/client.res"

if [ "$IT_KIND" = dataplane ]; then
	tail -n +"$((log_lines + 1))" "$IT_SRV_LOG" > "$W/after.log"
	grep -q '^--- twospeed-dataplane counters (exit)' "$W/after.log" ||
		fails+=("no final counter dump ('--- twospeed-dataplane counters (exit)') after SIG$sig")
	grep -q '^--- end of counters' "$W/after.log" || fails+=("final counter dump not complete")
	it_last_dump < "$W/after.log" | it_parse_counters > "$W/final.counters"
	ns_log "final counters: $(grep -E '^tcp\.(rst|abort|fin|conn)|^app\.' "$W/final.counters" | tr '\n' ' ' | head -c 600)"
fi

if [ "${#fails[@]}" -gt 0 ]; then
	for f in "${fails[@]}"; do ns_log "FAIL: $f"; done
	ns_log "server log tail:"
	tail -n 30 "$IT_SRV_LOG" >&2
	exit 1
fi
ns_log "PASS: drain on SIG$sig (exit $rc after $exit_after s, probe $probe, curl ended)"
exit 0
