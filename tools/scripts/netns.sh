# shellcheck shell=bash
# Network-namespace helpers shared by the dataplane integration tests and
# benchmarks.  Source this file; it defines functions only (and a cleanup trap
# once ns_create has been called).
#
# Topology (two namespaces joined by one veth pair, addresses in the
# benchmarking range 198.18.0.0/24 so nothing leaks onto a real network):
#
#   netns $NS_DP                         netns $NS_CL
#   +-----------------------------+      +-----------------------------+
#   | $IF_DP  (no Linux address)  |------| $IF_CL  198.18.0.2/24       |
#   |  twospeed-dataplane on       |      |  curl, wrk, scapy, iptables |
#   |  net_af_packet: 198.18.0.1   |      |                             |
#   |  (nginx baseline: .3 Linux)  |      |                             |
#   +-----------------------------+      +-----------------------------+
#
# Offloads are turned off on both veth ends: with tx checksum offload on, the
# kernel hands a packet socket frames whose TCP/UDP checksum is only the
# pseudo-header sum (and with TSO, 64 KB super-frames), which the dataplane
# would rightly drop as corrupt or oversized.
#
# Every process started with ns_spawn and both namespaces are removed by the
# EXIT trap, whatever way the script ends.

NS_DP_ADDR=198.18.0.1       # the dataplane's address (served by DPDK, not Linux)
NS_CL_ADDR=198.18.0.2       # the Linux client
NS_LX_ADDR=198.18.0.3       # Linux address in the dataplane namespace (nginx baseline)
NS_PREFIX_LEN=24

NS_PIDS=()
NS_CLEANUP_HOOKS=()
NS_DPDK_PREFIXES=()  # --file-prefix values to clean up after our processes are gone

ns_log() { printf '%s [%s] %s\n' "$(date -u +%H:%M:%S)" "${NS_TAG:-netns}" "$*" >&2; }

ns_die() {
	ns_log "FAIL: $*"
	exit 1
}

# Exit 77 (meson's "skipped") when not root: namespaces need CAP_NET_ADMIN.
ns_require_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "skipped: needs root (network namespaces, hugepages)" >&2
		exit 77
	fi
}

# ns_require_tools TOOL...: a missing client tool is a failure, not a skip.
ns_require_tools() {
	local t
	for t in "$@"; do
		command -v "$t" > /dev/null 2>&1 || ns_die "tool '$t' not installed (tools/scripts/setup.sh installs it)"
	done
}

# ns_hugepages [N]: make sure N 2 MB hugepages are reserved and hugetlbfs is
# mounted (the same as tools/scripts/setup.sh); fails when the kernel cannot give them.
ns_hugepages() {
	local want=${1:-512} have
	have=$(cat /proc/sys/vm/nr_hugepages)
	if [ "$have" -lt "$want" ]; then
		echo "$want" > /proc/sys/vm/nr_hugepages || true
	fi
	mkdir -p /dev/hugepages
	mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages ||
		ns_die "cannot mount hugetlbfs on /dev/hugepages"
	local free
	free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	[ "${free:-0}" -ge 64 ] || ns_die "only ${free:-0} free hugepages (need >= 64 for the dataplane)"
}

ns_cleanup() {
	local rc=$? pid h
	trap - EXIT INT TERM
	for h in "${NS_CLEANUP_HOOKS[@]}"; do
		$h || true
	done
	for pid in "${NS_PIDS[@]}"; do
		kill -TERM "$pid" 2> /dev/null || true
	done
	for pid in "${NS_PIDS[@]}"; do
		# bounded wait: a process that ignores SIGTERM gets SIGKILL after 5 s
		local i
		for i in $(seq 50); do
			kill -0 "$pid" 2> /dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2> /dev/null || true
		wait "$pid" 2> /dev/null || true
	done
	# DPDK runtime files of the prefixes our processes used (hugepage files stay
	# reserved after an unclean exit otherwise)
	local pfx
	for pfx in "${NS_DPDK_PREFIXES[@]}"; do
		rm -f /dev/hugepages/"${pfx}"map_* 2> /dev/null
		rm -rf /var/run/dpdk/"$pfx" 2> /dev/null
	done
	[ -n "${NS_DP:-}" ] && ip netns del "$NS_DP" 2> /dev/null
	[ -n "${NS_CL:-}" ] && ip netns del "$NS_CL" 2> /dev/null
	[ -n "${NS_WORKDIR:-}" ] && [ -z "${NS_KEEP:-}" ] && rm -rf "$NS_WORKDIR"
	exit "$rc"
}

# ns_create TAG: create the two namespaces and the veth pair; names are unique
# per process so several tests (or helpers) can run side by side.
ns_create() {
	NS_TAG=$1
	local id=$$
	NS_DP="ts${id}dp"
	NS_CL="ts${id}cl"
	IF_DP="ts${id}d"   # <= 15 characters (IFNAMSIZ)
	IF_CL="ts${id}c"
	NS_WORKDIR=$(mktemp -d "/tmp/ts-${NS_TAG}.XXXXXX")
	trap ns_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	ip netns add "$NS_DP" || ns_die "ip netns add $NS_DP"
	ip netns add "$NS_CL" || ns_die "ip netns add $NS_CL"
	ip link add "$IF_DP" type veth peer name "$IF_CL" || ns_die "ip link add veth"
	ip link set "$IF_DP" netns "$NS_DP"
	ip link set "$IF_CL" netns "$NS_CL"
	local ns
	for ns in "$NS_DP" "$NS_CL"; do
		ip netns exec "$ns" ip link set lo up
		# no IPv6 chatter (router solicitations, MLD) on the test link
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	done
	ip netns exec "$NS_DP" ethtool -K "$IF_DP" tx off rx off tso off gso off gro off > /dev/null 2>&1 ||
		ns_die "ethtool -K $IF_DP"
	ip netns exec "$NS_CL" ethtool -K "$IF_CL" tx off rx off tso off gso off gro off > /dev/null 2>&1 ||
		ns_die "ethtool -K $IF_CL"
	ip netns exec "$NS_DP" ip link set "$IF_DP" up
	ip netns exec "$NS_CL" ip link set "$IF_CL" up
	ip netns exec "$NS_CL" ip addr add "$NS_CL_ADDR/$NS_PREFIX_LEN" dev "$IF_CL"
	ns_log "namespaces $NS_DP ($IF_DP) <-> $NS_CL ($IF_CL $NS_CL_ADDR), workdir $NS_WORKDIR"
}

# ns_linux_addr ADDR: give the dataplane-side veth a Linux address (baselines
# served by the kernel, e.g. nginx).
ns_linux_addr() {
	ip netns exec "$NS_DP" ip addr add "$1/$NS_PREFIX_LEN" dev "$IF_DP"
}

ns_linux_addr_del() {
	ip netns exec "$NS_DP" ip addr del "$1/$NS_PREFIX_LEN" dev "$IF_DP" 2> /dev/null || true
}

ns_dp() { ip netns exec "$NS_DP" "$@"; }
ns_cl() { ip netns exec "$NS_CL" "$@"; }

# ns_spawn NS LOG CMD...: start CMD in namespace NS in the background, output to
# LOG; the pid is in NS_LAST_PID and is killed by the cleanup trap.
ns_spawn() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" > "$log" 2>&1 &
	NS_LAST_PID=$!
	NS_PIDS+=("$NS_LAST_PID")
}

# ns_forget PID: the caller has reaped PID itself.
ns_forget() {
	local p keep=()
	for p in "${NS_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	NS_PIDS=("${keep[@]}")
}

# ns_loss PROB: drop packets at random with probability PROB in both
# directions on the client side (iptables statistic match; nftables numgen
# when iptables is unavailable).
ns_loss() {
	local p=$1
	if ns_cl iptables -A INPUT -i "$IF_CL" -m statistic --mode random --probability "$p" -j DROP 2> /dev/null &&
		ns_cl iptables -A OUTPUT -o "$IF_CL" -m statistic --mode random --probability "$p" -j DROP; then
		ns_log "loss $p both directions (iptables statistic)"
		return 0
	fi
	local per_mille
	per_mille=$(awk -v p="$p" 'BEGIN { printf "%d", p * 1000 + 0.5 }')
	ns_cl nft -f - << EOF || ns_die "neither iptables nor nft could install loss rules"
table inet tsloss {
	chain in { type filter hook input priority 0; iifname "$IF_CL" numgen random mod 1000 < $per_mille counter drop; }
	chain out { type filter hook output priority 0; oifname "$IF_CL" numgen random mod 1000 < $per_mille counter drop; }
}
EOF
	ns_log "loss $p both directions (nft numgen)"
}

# ns_loss_dropped: packets dropped by the loss rules so far (both directions).
ns_loss_dropped() {
	if ns_cl iptables -L INPUT -n 2> /dev/null | grep -q statistic; then
		ns_cl iptables -L -v -n -x 2> /dev/null | awk '/statistic/ { s += $1 } END { print s + 0 }'
	else
		ns_cl nft list table inet tsloss 2> /dev/null | awk '/packets/ { for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1) } END { print s + 0 }'
	fi
}

ns_loss_clear() {
	ns_cl iptables -F INPUT 2> /dev/null || true
	ns_cl iptables -F OUTPUT 2> /dev/null || true
	ns_cl nft delete table inet tsloss 2> /dev/null || true
}

# ns_wait_http URL SECONDS: poll URL from the client namespace until it answers 200.
ns_wait_http() {
	local url=$1 secs=$2 i
	for i in $(seq $((secs * 5))); do
		if [ "$(ns_cl curl -s -o /dev/null -m 1 -w '%{http_code}' "$url" 2> /dev/null)" = 200 ]; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}
