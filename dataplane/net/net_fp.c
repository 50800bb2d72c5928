/* SPDX-License-Identifier: proprietary */
/*
 * Ethernet input, ARP (RFC 826, RFC 5227 announcements), IPv4 input and output
 * (RFC 791, RFC 1122 3.2.1), ICMP echo (RFC 792). Fast path: no allocation besides
 * mbufs from the worker's pool, no locks, no syscalls; every drop is a counter.
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "net.h"
#include "port.h"

#define ETH_LEN ((uint32_t)sizeof(struct rte_ether_hdr))
#define ARP_LEN ((uint32_t)sizeof(struct rte_arp_hdr))
#define IP_LEN ((uint32_t)sizeof(struct rte_ipv4_hdr))

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static inline bool onlink(const struct net_lcore *nl, uint32_t ip_be)
{
	return ((ip_be ^ nl->addr_be) & nl->mask_be) == 0;
}

/* ---- ARP cache ---- */

static inline struct net_arp_entry *arp_bucket(struct net_lcore *nl, uint32_t ip_be)
{
	/* multiplicative hash of the address: entries are only ever on-link neighbours
	 * we asked for or that asked for us, so aimed collisions only evict each other */
	uint32_t h = (rte_be_to_cpu_32(ip_be) * 2654435761u) >> 26;

	return &nl->arp[(h & (NET_ARP_BUCKETS - 1)) * NET_ARP_WAYS];
}

static struct net_arp_entry *arp_find(struct net_lcore *nl, uint32_t ip_be)
{
	struct net_arp_entry *b = arp_bucket(nl, ip_be);

	for (unsigned int i = 0; i < NET_ARP_WAYS; i++)
		if (b[i].state != NET_ARP_FREE && b[i].ip_be == ip_be)
			return &b[i];
	return NULL;
}

bool net_arp_lookup(const struct net_lcore *nl, uint32_t ip_be, uint8_t mac[6])
{
	const struct net_arp_entry *e = arp_find((struct net_lcore *)(uintptr_t)nl, ip_be);

	if (e == NULL || e->state != NET_ARP_REACHABLE)
		return false;
	memcpy(mac, e->mac, 6);
	return true;
}

/* A free way of ip's set, else the one confirmed longest ago (INCOMPLETE ones last:
 * their queued packets would wait for nothing). */
static struct net_arp_entry *arp_alloc(struct net_lcore *nl, uint32_t ip_be)
{
	struct net_arp_entry *b = arp_bucket(nl, ip_be), *victim = NULL;

	for (unsigned int i = 0; i < NET_ARP_WAYS; i++) {
		struct net_arp_entry *e = &b[i];

		if (e->state == NET_ARP_FREE) {
			victim = e;
			break;
		}
		if (victim == NULL ||
		    (victim->state == NET_ARP_INCOMPLETE && e->state == NET_ARP_REACHABLE) ||
		    (victim->state == e->state && e->expire_ns < victim->expire_ns))
			victim = e;
	}
	if (victim->state != NET_ARP_FREE) {
		nl->ctr.v[NET_C_ARP_EVICTED]++;
		if (victim->state == NET_ARP_INCOMPLETE)
			nl->nincomplete--;
	}
	memset(victim, 0, sizeof(*victim));
	victim->ip_be = ip_be;
	return victim;
}

static void eth_fill(struct rte_ether_hdr *eh, const uint8_t *dst, const uint8_t *src,
		     uint16_t type)
{
	memcpy(eh->dst_addr.addr_bytes, dst, 6);
	memcpy(eh->src_addr.addr_bytes, src, 6);
	eh->ether_type = rte_cpu_to_be_16(type);
}

/* Consumes m (a complete frame) into the worker's TX buffer. */
static void eth_send(struct net_lcore *nl, struct rte_mbuf *m)
{
	nl->ctr.v[NET_C_ETH_TX]++;
	port_tx(nl->txq, m);
}

/* Sends an ARP request for tip (broadcast). A gratuitous ARP is a request for our own
 * address (RFC 5227 3). */
static void arp_send_request(struct net_lcore *nl, uint32_t tip_be)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(nl->pool);
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *ah;

	if (m == NULL) {
		nl->ctr.v[NET_C_NO_MBUF]++;
		return;
	}
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, ETH_LEN + ARP_LEN);
	if (eh == NULL) {
		rte_pktmbuf_free(m);
		nl->ctr.v[NET_C_NO_MBUF]++;
		return;
	}
	eth_fill(eh, bcast_mac, nl->mac, RTE_ETHER_TYPE_ARP);
	ah = (struct rte_arp_hdr *)(eh + 1);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = 6;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	memcpy(ah->arp_data.arp_sha.addr_bytes, nl->mac, 6);
	ah->arp_data.arp_sip = nl->addr_be;
	memset(ah->arp_data.arp_tha.addr_bytes, 0, 6);
	ah->arp_data.arp_tip = tip_be;
	nl->ctr.v[tip_be == nl->addr_be ? NET_C_ARP_GARP_TX : NET_C_ARP_REQ_TX]++;
	eth_send(nl, m);
}

/* Puts the Ethernet header on a datagram whose next hop is resolved and sends it.
 * Consumes m. */
static void ip_send_resolved(struct net_lcore *nl, struct rte_mbuf *m, const uint8_t *mac)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	/* the header room was reserved by net_ip_output before queueing */
	eth_fill(eh, mac, nl->mac, RTE_ETHER_TYPE_IPV4);
	nl->ctr.v[NET_C_IP_TX]++;
	eth_send(nl, m);
}

/* Sends, in order, every queued datagram waiting for ip. */
static void arp_flush_pending(struct net_lcore *nl, uint32_t ip_be, const uint8_t *mac)
{
	uint32_t keep = 0;

	for (uint32_t i = 0; i < nl->npending; i++) {
		struct net_arp_pending *pd = &nl->pending[i];

		if (pd->nexthop_be == ip_be) {
			nl->ctr.v[NET_C_ARP_QUEUE_SENT]++;
			ip_send_resolved(nl, pd->m, mac);
			pd->m = NULL;
		} else {
			nl->pending[keep++] = *pd;
		}
	}
	nl->npending = keep;
}

/*
 * Records ip -> mac. create: add an entry when there is none (RFC 826: the target
 * was us, or another worker heard it). Returns true when something changed that the
 * other workers should hear about.
 */
static bool arp_learn(struct net_lcore *nl, uint32_t ip_be, const uint8_t *mac, bool create)
{
	struct net_arp_entry *e = arp_find(nl, ip_be);
	bool changed = false;

	if (e == NULL) {
		if (!create)
			return false;
		e = arp_alloc(nl, ip_be);
		nl->ctr.v[NET_C_ARP_LEARNED]++;
		changed = true;
	} else if (e->state == NET_ARP_INCOMPLETE) {
		nl->nincomplete--;
		nl->ctr.v[NET_C_ARP_LEARNED]++;
		changed = true;
	} else if (memcmp(e->mac, mac, 6) != 0) {
		nl->ctr.v[NET_C_ARP_UPDATED]++;
		changed = true;
	}
	e->state = NET_ARP_REACHABLE;
	memcpy(e->mac, mac, 6);
	e->tries = 0;
	e->expire_ns = nl->now_ns + nl->conf.arp_timeout;
	e->next_req_ns = 0;
	if (changed && nl->npending > 0)
		arp_flush_pending(nl, ip_be, mac);
	return changed;
}

/* Tells the other workers (share-nothing: each keeps its own cache). */
static void arp_share(struct net_lcore *nl, uint32_t ip_be, const uint8_t *mac)
{
	struct net_arp_msg msg = {.ip_be = ip_be};

	if (nl->shared == NULL)
		return;
	memcpy(msg.mac, mac, 6);
	for (uint16_t w = 0; w < nl->shared->nworkers; w++) {
		if (w == nl->self)
			continue;
		if (rte_ring_mp_enqueue_elem(nl->shared->ring[w], &msg, sizeof(msg)) == 0)
			nl->ctr.v[NET_C_ARP_SHARE_TX]++;
		else
			nl->ctr.v[NET_C_ARP_SHARE_DROP]++;
	}
}

/* One ARP frame (m at the Ethernet header). Consumes m: turned into the reply, or
 * freed. */
static void arp_input(struct net_lcore *nl, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);
	uint32_t sip, tip;
	uint16_t op;
	uint8_t sha[6];
	bool for_us, changed;

	nl->ctr.v[NET_C_ARP_RX]++;
	if (m->data_len < ETH_LEN + ARP_LEN || ah->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) || ah->arp_hlen != 6 ||
	    ah->arp_plen != 4) {
		nl->ctr.v[NET_C_ARP_BAD]++;
		goto free;
	}
	op = rte_be_to_cpu_16(ah->arp_opcode);
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) {
		nl->ctr.v[NET_C_ARP_BAD_OP]++;
		goto free;
	}
	sip = ah->arp_data.arp_sip;
	tip = ah->arp_data.arp_tip;
	memcpy(sha, ah->arp_data.arp_sha.addr_bytes, 6);
	if (sip == nl->addr_be) {
		/* our own announcement looped back is fine; anyone else is a conflict */
		if (memcmp(sha, nl->mac, 6) != 0)
			nl->ctr.v[NET_C_ARP_CONFLICT]++;
		goto free;
	}
	for_us = tip == nl->addr_be;
	if (!for_us)
		nl->ctr.v[NET_C_ARP_NOT_FOR_US]++;
	/* RFC 826 "merge": update a known sender, add it when the packet is for us;
	 * a probe (sender 0.0.0.0, RFC 5227) teaches nothing; unicast senders only */
	if (sip != 0 && (sha[0] & 1) == 0) {
		if (!onlink(nl, sip)) {
			nl->ctr.v[NET_C_ARP_OFFLINK]++;
		} else {
			changed = arp_learn(nl, sip, sha, for_us);
			if (changed || (for_us && op == RTE_ARP_OP_REPLY))
				arp_share(nl, sip, sha);
		}
	}
	if (!for_us)
		goto free;
	if (op == RTE_ARP_OP_REPLY) {
		nl->ctr.v[NET_C_ARP_REPLY_RX]++;
		goto free;
	}
	nl->ctr.v[NET_C_ARP_REQ_RX]++;
	/* answer in place: the request becomes the reply */
	ah->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	memcpy(ah->arp_data.arp_tha.addr_bytes, sha, 6);
	ah->arp_data.arp_tip = sip;
	memcpy(ah->arp_data.arp_sha.addr_bytes, nl->mac, 6);
	ah->arp_data.arp_sip = nl->addr_be;
	eth_fill(eh, sha, nl->mac, RTE_ETHER_TYPE_ARP);
	/* drop trailing padding of the request, if any, beyond the minimum frame */
	if (m->pkt_len > ETH_LEN + ARP_LEN)
		rte_pktmbuf_trim(m, m->pkt_len - (ETH_LEN + ARP_LEN));
	nl->ctr.v[NET_C_ARP_REPLY_TX]++;
	eth_send(nl, m);
	return;
free:
	rte_pktmbuf_free(m);
}

/* ---- ICMP ---- */

/*
 * One's complement sum (not complemented) of len bytes at off in m, over any
 * segmentation. Borrows m. Not rte_raw_cksum_mbuf(): in DPDK 22.11 it truncates a
 * segment's unreduced 32-bit sum to 16 bits before the byte swap that a segment
 * starting at an odd offset needs, so some chains get a wrong sum (found by
 * tests/unit/net ip_tcp_two_segments). Returns 0 when the range is out of m.
 */
static uint16_t mbuf_sum(const struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	const struct rte_mbuf *seg = m;
	uint32_t sum = 0, done = 0;

	if (off + len > m->pkt_len)
		return 0;
	while (seg != NULL && off >= seg->data_len) {
		off -= seg->data_len;
		seg = seg->next;
	}
	while (seg != NULL && done < len) {
		uint32_t n = RTE_MIN((uint32_t)seg->data_len - off, len - done);
		uint16_t part = rte_raw_cksum(rte_pktmbuf_mtod_offset(seg, const void *, off), n);

		/* a piece starting at an odd offset of the range has its bytes swapped */
		sum += (done & 1) ? rte_bswap16(part) : part;
		done += n;
		off = 0;
		seg = seg->next;
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* m starts at the Ethernet header; ip at ETH_LEN, ihl bytes; ICMP message after it.
 * Consumes m. */
static void icmp_input(struct net_lcore *nl, struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
		       uint32_t ihl)
{
	uint32_t len = rte_be_to_cpu_16(ip->total_length) - ihl;
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_icmp_hdr *ic;
	uint32_t sum;

	nl->ctr.v[NET_C_ICMP_RX]++;
	if (len < sizeof(*ic) || m->data_len < ETH_LEN + ihl + sizeof(*ic)) {
		nl->ctr.v[NET_C_ICMP_TOO_SHORT]++;
		goto free;
	}
	if (mbuf_sum(m, ETH_LEN + ihl, len) != 0xffff) {
		nl->ctr.v[NET_C_ICMP_BAD_CKSUM]++;
		goto free;
	}
	ic = (struct rte_icmp_hdr *)((uint8_t *)ip + ihl);
	if (ic->icmp_type == RTE_IP_ICMP_ECHO_REQUEST && ic->icmp_code == 0) {
		nl->ctr.v[NET_C_ICMP_ECHO_RX]++;
	} else {
		nl->ctr.v[ic->icmp_type == 3 ? NET_C_ICMP_UNREACH_RX : NET_C_ICMP_OTHER]++;
		goto free;
	}
	/* RFC 792 echo reply in place: type 8 -> 0, so the checksum grows by 0x0800
	 * (RFC 1624 incremental update) */
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	sum = (uint32_t)ic->icmp_cksum + RTE_BE16(0x0800);
	ic->icmp_cksum = (uint16_t)((sum & 0xffff) + (sum >> 16));
	ip->dst_addr = ip->src_addr;
	ip->src_addr = nl->addr_be;
	ip->time_to_live = (uint8_t)nl->conf.ttl;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, ihl);
	m->ol_flags = 0;
	/* back to where it came from: the sender, or the router that handed it over */
	memcpy(eh->dst_addr.addr_bytes, eh->src_addr.addr_bytes, 6);
	memcpy(eh->src_addr.addr_bytes, nl->mac, 6);
	nl->ctr.v[NET_C_ICMP_ECHO_TX]++;
	nl->ctr.v[NET_C_IP_TX]++;
	eth_send(nl, m);
	return;
free:
	rte_pktmbuf_free(m);
}

/* ---- IPv4 input ---- */

/* RFC 1122 3.2.1.3: sources a host must not accept. */
static inline bool martian_src(const struct net_lcore *nl, uint32_t src_be)
{
	uint32_t s = rte_be_to_cpu_32(src_be);

	return s == 0 || s == UINT32_MAX || (s >> 28) >= 0xe || (s >> 24) == 127 ||
	       (s >> 24) == 0 || src_be == nl->addr_be ||
	       (nl->mask_be != UINT32_MAX && (src_be | nl->mask_be) == UINT32_MAX);
}

/* One IPv4 frame (m at the Ethernet header). Consumes m unless it returns
 * NET_RX_TCP (then m is adjusted to the TCP header and the caller's). */
static int ip_input(struct net_lcore *nl, struct rte_mbuf *m, struct net_l4 *l4)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, ETH_LEN);
	uint32_t ihl, tot;
	uint64_t ck;

	nl->ctr.v[NET_C_IP_RX]++;
	if (m->data_len < ETH_LEN + IP_LEN) {
		nl->ctr.v[NET_C_IP_TOO_SHORT]++;
		goto drop;
	}
	if ((ip->version_ihl >> 4) != 4) {
		nl->ctr.v[NET_C_IP_BAD_VERSION]++;
		goto drop;
	}
	ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
	if (ihl < IP_LEN) {
		nl->ctr.v[NET_C_IP_BAD_IHL]++;
		goto drop;
	}
	if (m->data_len < ETH_LEN + ihl) {
		nl->ctr.v[NET_C_IP_TOO_SHORT]++;
		goto drop;
	}
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot < ihl || tot > m->pkt_len - ETH_LEN) {
		nl->ctr.v[NET_C_IP_BAD_LEN]++;
		goto drop;
	}
	ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (ck == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
	    (ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD && rte_raw_cksum(ip, ihl) != 0xffff)) {
		nl->ctr.v[NET_C_IP_BAD_CKSUM]++;
		goto drop;
	}
	if (ip->dst_addr != nl->addr_be) {
		nl->ctr.v[NET_C_IP_NOT_FOR_US]++;
		goto drop;
	}
	if (martian_src(nl, ip->src_addr)) {
		nl->ctr.v[NET_C_IP_BAD_SRC]++;
		goto drop;
	}
	/* no reassembly: a server behind path-MTU discovery never needs it */
	if ((ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) !=
	    0) {
		nl->ctr.v[NET_C_IP_FRAG]++;
		goto drop;
	}
	if (ihl > IP_LEN)
		nl->ctr.v[NET_C_IP_OPTIONS]++;
	if (m->pkt_len > ETH_LEN + tot) {
		/* Ethernet minimum-frame padding: TCP must see the segment only. Trimming
		 * works on the last segment; padding spread over two segments is refused
		 * rather than handed up with the wrong length. */
		nl->ctr.v[NET_C_IP_PADDING]++;
		if (rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - (ETH_LEN + tot))) != 0) {
			nl->ctr.v[NET_C_IP_BAD_LEN]++;
			goto drop;
		}
	}
	switch (ip->next_proto_id) {
	case IPPROTO_TCP:
		nl->ctr.v[NET_C_IP_TCP]++;
		l4->saddr_be = ip->src_addr;
		l4->daddr_be = ip->dst_addr;
		m->l2_len = ETH_LEN;
		m->l3_len = ihl;
		rte_pktmbuf_adj(m, (uint16_t)(ETH_LEN + ihl));
		return NET_RX_TCP;
	case IPPROTO_ICMP:
		icmp_input(nl, m, ip, ihl);
		return NET_RX_DONE;
	case IPPROTO_UDP:
		nl->ctr.v[NET_C_IP_UDP]++;
		goto drop;
	default:
		nl->ctr.v[NET_C_IP_PROTO_OTHER]++;
		goto drop;
	}
drop:
	rte_pktmbuf_free(m);
	return NET_RX_DONE;
}

int net_input(struct net_lcore *nl, struct rte_mbuf *m, struct net_l4 *l4)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	nl->ctr.v[NET_C_ETH_RX]++;
	if (m->data_len < ETH_LEN) {
		nl->ctr.v[NET_C_ETH_RUNT]++;
		goto drop;
	}
	if (memcmp(eh->dst_addr.addr_bytes, nl->mac, 6) != 0 &&
	    memcmp(eh->dst_addr.addr_bytes, bcast_mac, 6) != 0) {
		nl->ctr.v[NET_C_ETH_NOT_FOR_US]++;
		goto drop;
	}
	switch (eh->ether_type) {
	case RTE_BE16(RTE_ETHER_TYPE_IPV4):
		return ip_input(nl, m, l4);
	case RTE_BE16(RTE_ETHER_TYPE_ARP):
		arp_input(nl, m);
		return NET_RX_DONE;
	case RTE_BE16(RTE_ETHER_TYPE_VLAN):
	case RTE_BE16(RTE_ETHER_TYPE_QINQ):
		nl->ctr.v[NET_C_ETH_VLAN]++;
		goto drop;
	case RTE_BE16(RTE_ETHER_TYPE_IPV6):
		nl->ctr.v[NET_C_ETH_IPV6]++;
		goto drop;
	default:
		nl->ctr.v[NET_C_ETH_TYPE_OTHER]++;
		goto drop;
	}
drop:
	rte_pktmbuf_free(m);
	return NET_RX_DONE;
}

/* ---- IPv4 output ---- */

/* Queues m (IPv4 header on, Ethernet room reserved) until nexthop resolves and asks
 * for it when due. Consumes m. */
static int arp_resolve_queue(struct net_lcore *nl, struct rte_mbuf *m, uint32_t nexthop_be,
			     struct net_arp_entry *e)
{
	struct net_arp_pending *pd;

	if (e == NULL) {
		e = arp_alloc(nl, nexthop_be);
		e->state = NET_ARP_INCOMPLETE;
		nl->nincomplete++;
	}
	if (e->tries == 0 || nl->now_ns >= e->next_req_ns) {
		arp_send_request(nl, nexthop_be);
		e->tries++;
		e->next_req_ns = nl->now_ns + nl->conf.arp_retry;
	}
	if (nl->npending >= nl->conf.arp_queue) {
		nl->ctr.v[NET_C_ARP_QUEUE_FULL]++;
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	pd = &nl->pending[nl->npending++];
	pd->m = m;
	pd->nexthop_be = nexthop_be;
	pd->deadline_ns = nl->now_ns + nl->conf.arp_retry * nl->conf.arp_retries;
	nl->ctr.v[NET_C_ARP_QUEUED]++;
	return 0;
}

int net_ip_output(struct net_lcore *nl, struct rte_mbuf *m, uint32_t saddr_be, uint32_t daddr_be,
		  uint8_t proto)
{
	struct rte_ipv4_hdr *ip;
	struct net_arp_entry *e;
	uint32_t nexthop, len = m->pkt_len + IP_LEN;

	if (onlink(nl, daddr_be)) {
		nexthop = daddr_be;
	} else if (nl->gw_be != 0) {
		nexthop = nl->gw_be;
	} else {
		nl->ctr.v[NET_C_IP_TX_NO_ROUTE]++;
		rte_pktmbuf_free(m);
		return -ENETUNREACH;
	}
	if (len > nl->mtu) {
		nl->ctr.v[NET_C_IP_TX_TOO_BIG]++;
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	if (rte_pktmbuf_headroom(m) < NET_HDR_ROOM) {
		nl->ctr.v[NET_C_IP_TX_NO_HEADROOM]++;
		rte_pktmbuf_free(m);
		return -ENOSPC;
	}
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, IP_LEN);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)len);
	/* DF set: we do path-MTU discovery and never fragment, so the ID only needs to
	 * differ between datagrams in flight (RFC 6864 4.1) */
	ip->packet_id = rte_cpu_to_be_16(nl->ip_id++);
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = (uint8_t)nl->conf.ttl;
	ip->next_proto_id = proto;
	ip->src_addr = saddr_be;
	ip->dst_addr = daddr_be;
	ip->hdr_checksum = 0;
	m->l2_len = ETH_LEN;
	m->l3_len = IP_LEN;
	if (nl->tx_ip_cksum)
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	else
		ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, IP_LEN);
	/* reserve the Ethernet header now so a queued datagram only needs the MAC */
	rte_pktmbuf_prepend(m, ETH_LEN);
	e = arp_find(nl, nexthop);
	if (e != NULL && e->state == NET_ARP_REACHABLE) {
		if (nl->now_ns >= e->expire_ns && nl->now_ns >= e->next_req_ns) {
			/* stale: keep using it, and ask again */
			arp_send_request(nl, nexthop);
			e->next_req_ns = nl->now_ns + nl->conf.arp_retry;
		}
		ip_send_resolved(nl, m, e->mac);
		return 0;
	}
	return arp_resolve_queue(nl, m, nexthop, e);
}

/* ---- periodic work ---- */

/* Retries unresolved addresses, gives up on those out of tries, drops queued
 * datagrams past their deadline. */
static void arp_scan(struct net_lcore *nl)
{
	uint32_t keep = 0;

	if (nl->nincomplete > 0) {
		for (uint32_t i = 0; i < NET_ARP_ENTRIES; i++) {
			struct net_arp_entry *e = &nl->arp[i];

			if (e->state != NET_ARP_INCOMPLETE || nl->now_ns < e->next_req_ns)
				continue;
			if (e->tries >= nl->conf.arp_retries) {
				nl->ctr.v[NET_C_ARP_FAILED]++;
				nl->nincomplete--;
				memset(e, 0, sizeof(*e));
				continue;
			}
			arp_send_request(nl, e->ip_be);
			e->tries++;
			e->next_req_ns = nl->now_ns + nl->conf.arp_retry;
		}
	}
	for (uint32_t i = 0; i < nl->npending; i++) {
		struct net_arp_pending *pd = &nl->pending[i];
		const struct net_arp_entry *e;

		e = arp_find(nl, pd->nexthop_be);
		if (nl->now_ns >= pd->deadline_ns || e == NULL) {
			nl->ctr.v[NET_C_ARP_QUEUE_TIMEOUT]++;
			rte_pktmbuf_free(pd->m);
			pd->m = NULL;
			continue;
		}
		nl->pending[keep++] = *pd;
	}
	nl->npending = keep;
}

void net_poll(struct net_lcore *nl, uint64_t now_ns)
{
	nl->now_ns = now_ns;
	if (!nl->garp_done) {
		nl->garp_done = true;
		if (nl->self == 0)
			arp_send_request(nl, nl->addr_be);
	}
	if (nl->shared != NULL) {
		struct rte_ring *r = nl->shared->ring[nl->self];
		struct net_arp_msg msg[16];
		unsigned int n;

		n = rte_ring_sc_dequeue_burst_elem(r, msg, sizeof(msg[0]), 16, NULL);
		for (unsigned int i = 0; i < n; i++)
			arp_learn(nl, msg[i].ip_be, msg[i].mac, true);
		nl->ctr.v[NET_C_ARP_SHARE_RX] += n;
	}
	if (now_ns >= nl->next_scan_ns) {
		nl->next_scan_ns = now_ns + NET_SCAN_NS;
		if (nl->nincomplete > 0 || nl->npending > 0)
			arp_scan(nl);
	}
}
