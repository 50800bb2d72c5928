/* SPDX-License-Identifier: proprietary */
/*
 * Network layer set-up (init path): the [net] config table, the ARP-learning rings
 * between workers, per-worker initialisation.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "net.h"
#include "tsconf.h"

const char *const net_ctr_names[NET_C_COUNT] = {
	[NET_C_ETH_RX] = "eth_rx",
	[NET_C_ETH_RUNT] = "eth_drop_runt",
	[NET_C_ETH_NOT_FOR_US] = "eth_drop_not_for_us",
	[NET_C_ETH_VLAN] = "eth_drop_vlan",
	[NET_C_ETH_IPV6] = "eth_drop_ipv6",
	[NET_C_ETH_TYPE_OTHER] = "eth_drop_type_other",
	[NET_C_ETH_TX] = "eth_tx",
	[NET_C_ARP_RX] = "arp_rx",
	[NET_C_ARP_BAD] = "arp_drop_bad",
	[NET_C_ARP_BAD_OP] = "arp_drop_bad_op",
	[NET_C_ARP_REQ_RX] = "arp_request_rx",
	[NET_C_ARP_REPLY_RX] = "arp_reply_rx",
	[NET_C_ARP_NOT_FOR_US] = "arp_not_for_us",
	[NET_C_ARP_CONFLICT] = "arp_address_conflict",
	[NET_C_ARP_OFFLINK] = "arp_sender_offlink",
	[NET_C_ARP_REPLY_TX] = "arp_reply_tx",
	[NET_C_ARP_REQ_TX] = "arp_request_tx",
	[NET_C_ARP_GARP_TX] = "arp_gratuitous_tx",
	[NET_C_ARP_LEARNED] = "arp_learned",
	[NET_C_ARP_UPDATED] = "arp_updated",
	[NET_C_ARP_EVICTED] = "arp_evicted",
	[NET_C_ARP_FAILED] = "arp_resolution_failed",
	[NET_C_ARP_QUEUED] = "arp_queued",
	[NET_C_ARP_QUEUE_SENT] = "arp_queue_sent",
	[NET_C_ARP_QUEUE_FULL] = "arp_drop_queue_full",
	[NET_C_ARP_QUEUE_TIMEOUT] = "arp_drop_queue_timeout",
	[NET_C_ARP_SHARE_TX] = "arp_share_tx",
	[NET_C_ARP_SHARE_RX] = "arp_share_rx",
	[NET_C_ARP_SHARE_DROP] = "arp_share_drop",
	[NET_C_IP_RX] = "ip_rx",
	[NET_C_IP_TOO_SHORT] = "ip_drop_too_short",
	[NET_C_IP_BAD_VERSION] = "ip_drop_bad_version",
	[NET_C_IP_BAD_IHL] = "ip_drop_bad_ihl",
	[NET_C_IP_BAD_LEN] = "ip_drop_bad_len",
	[NET_C_IP_BAD_CKSUM] = "ip_drop_bad_cksum",
	[NET_C_IP_NOT_FOR_US] = "ip_drop_not_for_us",
	[NET_C_IP_BAD_SRC] = "ip_drop_bad_src",
	[NET_C_IP_FRAG] = "ip_drop_fragment",
	[NET_C_IP_OPTIONS] = "ip_options",
	[NET_C_IP_PADDING] = "ip_padding_trimmed",
	[NET_C_IP_UDP] = "ip_drop_udp",
	[NET_C_IP_PROTO_OTHER] = "ip_drop_proto_other",
	[NET_C_IP_TCP] = "ip_tcp",
	[NET_C_IP_TX] = "ip_tx",
	[NET_C_IP_TX_NO_ROUTE] = "ip_tx_drop_no_route",
	[NET_C_IP_TX_NO_HEADROOM] = "ip_tx_drop_no_headroom",
	[NET_C_IP_TX_TOO_BIG] = "ip_tx_drop_too_big",
	[NET_C_ICMP_RX] = "icmp_rx",
	[NET_C_ICMP_TOO_SHORT] = "icmp_drop_too_short",
	[NET_C_ICMP_BAD_CKSUM] = "icmp_drop_bad_cksum",
	[NET_C_ICMP_ECHO_RX] = "icmp_echo_rx",
	[NET_C_ICMP_ECHO_TX] = "icmp_echo_reply_tx",
	[NET_C_ICMP_UNREACH_RX] = "icmp_unreach_rx",
	[NET_C_ICMP_OTHER] = "icmp_other_rx",
	[NET_C_NO_MBUF] = "no_mbuf",
};

#define NK(k_, t_, f_, d_, lo_, hi_, doc_)                                                         \
	{                                                                                          \
		.section = "net", .key = k_, .type = t_, TSCONF_FIELD(struct net_conf, f_),        \
		.def = d_, .min = lo_, .max = hi_, .doc = doc_                                     \
	}

const struct tsconf_key net_conf_keys[] = {
	NK("address", TSCONF_STRING, address, "198.18.0.1/24", NULL, NULL,
	   "our IPv4 address/on-link prefix (A.B.C.D/N): answered in ARP and ping, source of all "
	   "we send"),
	NK("gateway", TSCONF_IPV4, gateway, "0.0.0.0", NULL, NULL,
	   "next hop for off-link destinations; 0.0.0.0: none (they are dropped)"),
	NK("ttl", TSCONF_U64, ttl, "64", "1", "255", "TTL of the datagrams we send"),
	NK("arp_timeout", TSCONF_DURATION, arp_timeout, "300s", "1s", "3600s",
	   "a resolved neighbour is asked again after this (kept in use meanwhile)"),
	NK("arp_retry", TSCONF_DURATION, arp_retry, "1s", "10ms", "60s",
	   "interval between two ARP requests for one address"),
	NK("arp_retries", TSCONF_U64, arp_retries, "3", "1", "20",
	   "ARP requests for an address before its queued packets are dropped"),
	NK("arp_queue", TSCONF_U64, arp_queue, "256", "1", "1024",
	   "packets per worker waiting for an address resolution"),
	NK("garp", TSCONF_BOOL, garp, "true", NULL, NULL,
	   "announce addr with a gratuitous ARP when the port starts"),
};
const size_t net_conf_nkeys = sizeof(net_conf_keys) / sizeof(net_conf_keys[0]);

int net_conf_register(struct tsconf *c, struct net_conf *conf, char *err, size_t errlen)
{
	return tsconf_register(c, "net", net_conf_keys, net_conf_nkeys, conf, err, errlen);
}

static uint32_t prefix_mask_be(uint64_t prefix)
{
	return rte_cpu_to_be_32(prefix >= 32 ? UINT32_MAX : ~(UINT32_MAX >> prefix));
}

/* "A.B.C.D" or "A.B.C.D/N", decimal, no spaces. */
static int parse_address(const char *s, uint32_t *addr_be, uint64_t *prefix)
{
	uint32_t a = 0;
	unsigned int part = 0;

	for (;;) {
		unsigned int v = 0, digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned int)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return -EINVAL;
		a = (a << 8) | v;
		if (++part == 4)
			break;
		if (*s++ != '.')
			return -EINVAL;
	}
	*prefix = 32;
	if (*s == '/') {
		unsigned int n = 0, digits = 0;

		s++;
		while (*s >= '0' && *s <= '9' && digits < 3) {
			n = n * 10 + (unsigned int)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || n < 1 || n > 32)
			return -EINVAL;
		*prefix = n;
	}
	if (*s != '\0')
		return -EINVAL;
	*addr_be = rte_cpu_to_be_32(a);
	return 0;
}

int net_conf_check(struct net_conf *conf, const char **key, char *why, size_t whylen)
{
	uint32_t a, mask;

	*key = "address";
	if (parse_address(conf->address, &conf->addr, &conf->prefix) != 0) {
		snprintf(why, whylen, "'%s' is not A.B.C.D/N (N 1..32)", conf->address);
		return -EINVAL;
	}
	a = rte_be_to_cpu_32(conf->addr);
	mask = prefix_mask_be(conf->prefix);
	if (a == 0 || a == UINT32_MAX || (a >> 28) >= 0xe || (a >> 24) == 127) {
		snprintf(why, whylen, "%s is not a unicast host address", conf->address);
		return -EINVAL;
	}
	*key = "gateway";
	if (conf->gateway != 0 && ((conf->gateway ^ conf->addr) & mask) != 0) {
		snprintf(why, whylen, "not inside %s", conf->address);
		return -EINVAL;
	}
	if (conf->gateway == conf->addr) {
		snprintf(why, whylen, "is our own address");
		return -EINVAL;
	}
	*key = NULL;
	return 0;
}

int net_conf_resolve(struct net_conf *conf, char *err, size_t errlen)
{
	const char *key;
	char why[128];
	int rc = net_conf_check(conf, &key, why, sizeof(why));

	if (rc != 0)
		snprintf(err, errlen, "net.%s: %s", key, why);
	return rc;
}

int net_shared_create(struct net_shared *sh, uint16_t nworkers, char *err, size_t errlen)
{
	memset(sh, 0, sizeof(*sh));
	if (nworkers > PORT_WORKERS_MAX) {
		snprintf(err, errlen, "net: %u workers, at most %u", nworkers, PORT_WORKERS_MAX);
		return -EINVAL;
	}
	sh->nworkers = nworkers;
	if (nworkers < 2)
		return 0;
	for (uint16_t w = 0; w < nworkers; w++) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "tsarp_%u", w);
		/* multi-producer: any worker may learn; the owner alone dequeues */
		sh->ring[w] = rte_ring_create_elem(name, sizeof(struct net_arp_msg), NET_SHARE_RING,
						   SOCKET_ID_ANY, RING_F_SC_DEQ);
		if (sh->ring[w] == NULL) {
			snprintf(err, errlen, "net: ARP ring of worker %u: %s", w,
				 rte_strerror(rte_errno));
			net_shared_free(sh);
			return -ENOMEM;
		}
	}
	return 0;
}

void net_shared_free(struct net_shared *sh)
{
	for (uint16_t w = 0; w < PORT_WORKERS_MAX; w++) {
		rte_ring_free(sh->ring[w]);
		sh->ring[w] = NULL;
	}
}

int net_lcore_init(struct net_lcore *nl, const struct net_conf *conf, struct port_worker *pw,
		   struct net_shared *sh, uint64_t now_ns)
{
	const struct port *p = pw->port;

	memset(nl, 0, sizeof(*nl));
	if (conf->arp_queue == 0 || conf->arp_queue > NET_ARPQ_MAX || conf->prefix == 0 ||
	    conf->prefix > 32)
		return -EINVAL;
	nl->conf = *conf;
	nl->addr_be = conf->addr;
	nl->mask_be = prefix_mask_be(conf->prefix);
	nl->gw_be = conf->gateway;
	memcpy(nl->mac, p->mac, 6);
	nl->mtu = p->mtu;
	nl->tx_ip_cksum = p->tx_ip_cksum;
	nl->self = pw->idx;
	nl->pool = pw->pool;
	nl->txq = &pw->txq;
	nl->shared = sh != NULL && sh->nworkers > 1 ? sh : NULL;
	nl->garp_done = !conf->garp;
	/* output before the first net_poll() must not see time 0: its ARP deadlines
	 * would be long past */
	nl->now_ns = now_ns;
	nl->next_scan_ns = now_ns + NET_SCAN_NS;
	return 0;
}

void net_lcore_fini(struct net_lcore *nl)
{
	for (uint32_t i = 0; i < nl->npending; i++) {
		rte_pktmbuf_free(nl->pending[i].m);
		nl->pending[i].m = NULL;
	}
	nl->npending = 0;
}
