/* SPDX-License-Identifier: proprietary */
/*
 * Ethernet, ARP, IPv4 and ICMP echo for one worker lcore: types (see README.md).
 *
 * struct net_lcore is embedded in the worker's context; everything in it is touched
 * by that lcore only. The one cross-lcore channel is struct net_shared: a ring per
 * worker through which ARP learnings are told to the other workers (RSS or the
 * dispatch hash sends ARP to whichever worker, but every worker transmits).
 */
#ifndef TWOSPEED_NET_T_H
#define TWOSPEED_NET_T_H

#include <stdbool.h>
#include <stdint.h>

#include "port-t.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

/* ARP cache: set-associative, NET_ARP_BUCKETS sets of NET_ARP_WAYS entries. */
#define NET_ARP_BUCKETS 64
#define NET_ARP_WAYS 8
#define NET_ARP_ENTRIES (NET_ARP_BUCKETS * NET_ARP_WAYS)
/* Most packets per worker waiting for an address resolution (net.arp_queue caps it). */
#define NET_ARPQ_MAX 1024
/* Entries of each worker's ARP-learning ring. */
#define NET_SHARE_RING 256
/* Between two scans of the ARP cache for retries and timeouts, ns. */
#define NET_SCAN_NS (10 * 1000 * 1000)
/* Headroom an mbuf given to net_ip_output() needs: IPv4 (no options) + Ethernet. */
#define NET_HDR_ROOM (14 + 20)

/* The [net] section of the config. */
struct net_conf {
	char address[32];     /* "A.B.C.D/N" as configured; net_conf_resolve() parses it */
	uint32_t addr;	      /* derived: our IPv4 address, network order */
	uint64_t prefix;      /* derived: on-link prefix length of addr, bits */
	uint32_t gateway;     /* next hop for off-link destinations, network order; 0 none */
	uint64_t ttl;	      /* TTL of the datagrams we send */
	uint64_t arp_timeout; /* a resolved entry is re-confirmed after this, ns */
	uint64_t arp_retry;   /* between two ARP requests for one address, ns */
	uint64_t arp_retries; /* requests before giving up on an address */
	uint64_t arp_queue;   /* packets per worker waiting for resolution */
	bool garp;	      /* announce addr with a gratuitous ARP at start */
};

/* Per-worker counters; names in net_ctr_names[]. Every drop reason is its own. */
enum net_ctr {
	NET_C_ETH_RX = 0,	 /* frames given to net_input */
	NET_C_ETH_RUNT,		 /* drop: shorter than an Ethernet header */
	NET_C_ETH_NOT_FOR_US,	 /* drop: destination MAC neither ours nor broadcast */
	NET_C_ETH_VLAN,		 /* drop: VLAN-tagged */
	NET_C_ETH_IPV6,		 /* drop: IPv6 (not served) */
	NET_C_ETH_TYPE_OTHER,	 /* drop: other EtherType */
	NET_C_ETH_TX,		 /* frames handed to the port */
	NET_C_ARP_RX,		 /* ARP packets received */
	NET_C_ARP_BAD,		 /* drop: not Ethernet/IPv4 ARP, or truncated */
	NET_C_ARP_BAD_OP,	 /* drop: opcode neither request nor reply */
	NET_C_ARP_REQ_RX,	 /* requests for our address */
	NET_C_ARP_REPLY_RX,	 /* replies to us */
	NET_C_ARP_NOT_FOR_US,	 /* requests/replies for another address (learned only if known) */
	NET_C_ARP_CONFLICT,	 /* another host claims our address */
	NET_C_ARP_OFFLINK,	 /* sender address outside our prefix: not learned */
	NET_C_ARP_REPLY_TX,	 /* replies sent */
	NET_C_ARP_REQ_TX,	 /* requests sent */
	NET_C_ARP_GARP_TX,	 /* gratuitous ARPs sent */
	NET_C_ARP_LEARNED,	 /* new cache entries */
	NET_C_ARP_UPDATED,	 /* entries whose MAC changed */
	NET_C_ARP_EVICTED,	 /* entries evicted for room */
	NET_C_ARP_FAILED,	 /* addresses given up after arp_retries requests */
	NET_C_ARP_QUEUED,	 /* packets queued waiting for resolution */
	NET_C_ARP_QUEUE_SENT,	 /* queued packets sent once resolved */
	NET_C_ARP_QUEUE_FULL,	 /* drop: resolution queue full */
	NET_C_ARP_QUEUE_TIMEOUT, /* drop: queued packet whose resolution failed or timed out */
	NET_C_ARP_SHARE_TX,	 /* learnings told to other workers */
	NET_C_ARP_SHARE_RX,	 /* learnings heard from other workers */
	NET_C_ARP_SHARE_DROP,	 /* learnings lost: another worker's ring was full */
	NET_C_IP_RX,		 /* IPv4 datagrams received */
	NET_C_IP_TOO_SHORT,	 /* drop: header not complete in the first segment */
	NET_C_IP_BAD_VERSION,	 /* drop: version != 4 */
	NET_C_IP_BAD_IHL,	 /* drop: header length < 20 */
	NET_C_IP_BAD_LEN,	 /* drop: total length below header or past the frame */
	NET_C_IP_BAD_CKSUM,	 /* drop: header checksum (software or RX offload) */
	NET_C_IP_NOT_FOR_US,	 /* drop: destination is not our address */
	NET_C_IP_BAD_SRC,     /* drop: martian source (0, broadcast, multicast, loopback, ours) */
	NET_C_IP_FRAG,	      /* drop: fragment (no reassembly) */
	NET_C_IP_OPTIONS,     /* datagrams with options (accepted, options ignored) */
	NET_C_IP_PADDING,     /* frames trimmed to the IP total length */
	NET_C_IP_UDP,	      /* drop: UDP (no service) */
	NET_C_IP_PROTO_OTHER, /* drop: other protocol */
	NET_C_IP_TCP,	      /* TCP segments passed up */
	NET_C_IP_TX,	      /* datagrams sent (queued ones counted when sent) */
	NET_C_IP_TX_NO_ROUTE, /* drop: off-link destination and no gateway */
	NET_C_IP_TX_NO_HEADROOM, /* drop: mbuf without room for the headers */
	NET_C_IP_TX_TOO_BIG,	 /* drop: datagram over the MTU (we never fragment) */
	NET_C_ICMP_RX,		 /* ICMP messages received */
	NET_C_ICMP_TOO_SHORT,	 /* drop: shorter than an ICMP header */
	NET_C_ICMP_BAD_CKSUM,	 /* drop: ICMP checksum */
	NET_C_ICMP_ECHO_RX,	 /* echo requests */
	NET_C_ICMP_ECHO_TX,	 /* echo replies sent */
	NET_C_ICMP_UNREACH_RX,	 /* destination unreachable received (counted, ignored) */
	NET_C_ICMP_OTHER,	 /* other ICMP types (counted, ignored) */
	NET_C_NO_MBUF,		 /* ARP request or reply not sent: pool empty */
	NET_C_COUNT,
};

struct net_counters {
	_Alignas(64) uint64_t v[NET_C_COUNT];
};

enum net_arp_state {
	NET_ARP_FREE = 0,
	NET_ARP_INCOMPLETE = 1, /* requested, no answer yet */
	NET_ARP_REACHABLE = 2,	/* MAC known; past expire_ns it is used and re-requested */
};

struct net_arp_entry {
	uint32_t ip_be;
	uint8_t state; /* enum net_arp_state */
	uint8_t tries; /* requests sent since the last answer */
	uint8_t mac[6];
	uint64_t expire_ns;   /* REACHABLE: confirmed until */
	uint64_t next_req_ns; /* earliest next request */
};

/* A packet waiting for its next hop's MAC; the IPv4 header is already on it. */
struct net_arp_pending {
	struct rte_mbuf *m;
	uint32_t nexthop_be;
	uint64_t deadline_ns; /* dropped after this if still unresolved */
};

/* What net_input() hands up with a TCP segment. */
struct net_l4 {
	uint32_t saddr_be; /* the peer */
	uint32_t daddr_be; /* us */
};

/* Results of net_input(). */
enum net_rx_rc {
	NET_RX_DONE = 0, /* consumed (answered, learned, or dropped and counted) */
	NET_RX_TCP = 1,	 /* a TCP segment for the caller: m starts at the TCP header */
};

/* A learned address, as told to the other workers. */
struct net_arp_msg {
	uint32_t ip_be;
	uint8_t mac[6];
	uint16_t reserved;
};

/* Cross-lcore: ring[w] carries ARP learnings to worker w (multi-producer, consumer w). */
struct net_shared {
	uint16_t nworkers;
	struct rte_ring *ring[PORT_WORKERS_MAX];
};

/* One worker's network layer. */
struct net_lcore {
	/* read-mostly, set by net_lcore_init */
	struct net_conf conf;
	uint32_t addr_be;
	uint32_t mask_be;
	uint32_t gw_be;
	uint8_t mac[6];
	uint16_t mtu;		   /* IP MTU, bytes */
	bool tx_ip_cksum;	   /* the port computes IPv4 header checksums */
	uint16_t self;		   /* worker index */
	struct rte_mempool *pool;  /* for ARP requests */
	struct port_txq *txq;	   /* this worker's TX buffer */
	struct net_shared *shared; /* NULL with one worker */
	/* lcore-local, hot */
	uint64_t now_ns; /* the poll loop's clock, set by net_poll() */
	uint64_t next_scan_ns;
	uint16_t ip_id;
	bool garp_done;
	uint32_t npending;
	uint32_t nincomplete; /* INCOMPLETE entries (scans are skipped at 0) */
	struct net_arp_entry arp[NET_ARP_ENTRIES];
	struct net_arp_pending pending[NET_ARPQ_MAX]; /* [0, npending), oldest first */
	struct net_counters ctr;
};

#endif /* TWOSPEED_NET_T_H */
