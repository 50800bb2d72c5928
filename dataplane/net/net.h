/* SPDX-License-Identifier: proprietary */
/*
 * Ethernet, ARP, IPv4 and ICMP echo for one worker lcore. See README.md.
 *
 * Init: net_conf_register() for [net], net_shared_create() once, net_lcore_init() per
 * worker. Fast path, on the worker's lcore: net_poll() once per loop iteration (sets
 * the clock, ARP retries and timeouts, learnings from other workers), net_input() per
 * received frame, net_ip_output() per datagram to send.
 */
#ifndef TWOSPEED_NET_H
#define TWOSPEED_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net-t.h"
#include "tsconf-t.h"

struct tsconf;

/* ---- init path ---- */

extern const struct tsconf_key net_conf_keys[];
extern const size_t net_conf_nkeys;

/* Registers [net] against c with conf as the settings struct (defaults written). */
int net_conf_register(struct tsconf *c, struct net_conf *conf, char *err, size_t errlen);

/* After loading: parses conf->address ("A.B.C.D/N"; without /N a /32) into addr and
 * prefix and checks what the key table cannot: a unicast host address, the gateway
 * on-link. Returns 0 or -EINVAL with "net.KEY: reason" in err. */
/*
 * Same checks as net_conf_resolve(), reporting the [net] key at fault ("address",
 * "gateway") in *key and the reason without a prefix in why, so the caller can cite the
 * config file's line for it.  Init path.
 */
int net_conf_check(struct net_conf *conf, const char **key, char *why, size_t whylen);
int net_conf_resolve(struct net_conf *conf, char *err, size_t errlen);

/* Creates the ARP-learning rings of nworkers workers (none for one worker). Returns 0
 * or -ENOMEM with a reason in err. */
int net_shared_create(struct net_shared *sh, uint16_t nworkers, char *err, size_t errlen);
void net_shared_free(struct net_shared *sh);

/*
 * Prepares nl for worker pw of its port: address and prefix from conf, MAC, MTU and
 * offloads from the port, ARP requests from the worker's pool, output to its TX
 * buffer, its clock at now_ns (net_poll() moves it). sh may be NULL (single worker).
 * Returns 0 or -EINVAL.
 */
int net_lcore_init(struct net_lcore *nl, const struct net_conf *conf, struct port_worker *pw,
		   struct net_shared *sh, uint64_t now_ns);

/* Frees the packets still waiting for resolution. */
void net_lcore_fini(struct net_lcore *nl);

extern const char *const net_ctr_names[NET_C_COUNT];

/* ---- fast path ---- */

/*
 * Once per loop iteration: sets nl->now_ns, sends the gratuitous ARP the first time,
 * takes in the other workers' learnings (bounded), and every NET_SCAN_NS retries
 * pending resolutions and drops what timed out.
 */
void net_poll(struct net_lcore *nl, uint64_t now_ns);

/*
 * Handles one received frame. Consumes m unless it returns NET_RX_TCP: then m is
 * the caller's, adjusted to start at the TCP header with pkt_len exactly the TCP
 * segment, and l4 holds the addresses (IPv4 header checksum already checked).
 * ARP is answered and learned, ICMP echo answered; everything else is dropped with
 * its counter.
 */
int net_input(struct net_lcore *nl, struct rte_mbuf *m, struct net_l4 *l4);

/*
 * Sends m (data at the L4 header, NET_HDR_ROOM bytes of headroom) as an IPv4
 * datagram of protocol proto from saddr_be to daddr_be, via the gateway when off-link.
 * The header checksum is left to the port when it offloads it; l2_len/l3_len are set
 * for the port's TX offloads. When the next hop is not resolved yet the datagram waits
 * in the resolution queue. Consumes m. Returns 0 (sent or queued) or -ENETUNREACH,
 * -ENOSPC (headroom), -EMSGSIZE (over the MTU), -ENOBUFS (queue full), all counted.
 */
int net_ip_output(struct net_lcore *nl, struct rte_mbuf *m, uint32_t saddr_be, uint32_t daddr_be,
		  uint8_t proto);

/* Cached MAC of ip_be (for tests and diagnostics); false when not resolved. */
bool net_arp_lookup(const struct net_lcore *nl, uint32_t ip_be, uint8_t mac[6]);

#endif /* TWOSPEED_NET_H */
