/* SPDX-License-Identifier: proprietary */
/*
 * Port setup and per-worker RX/TX queues: types and constants (see README.md).
 *
 * One struct port per ethdev, built at start-up by port_setup(); one struct
 * port_worker inside it per worker lcore, holding that lcore's queue pair, mbuf pool,
 * TX buffer, dispatch rings and counters. After setup a port_worker is touched only
 * by its lcore (the dispatch rings are the one cross-lcore channel, SP/SC per pair).
 */
#ifndef TWOSPEED_PORT_T_H
#define TWOSPEED_PORT_T_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

/* Packets asked of rte_eth_rx_burst / handed to rte_eth_tx_burst at once. */
#define PORT_BURST 32
/* TX buffer per worker: frames queued between flushes (a short tx_burst leaves the
 * rest here for the next flush). */
#define PORT_TXBUF_MAX 256
/* Most worker lcores a port serves. */
#define PORT_WORKERS_MAX 16
/* Largest RSS redirection table and key we record (bytes / entries). */
#define PORT_RSS_KEY_MAX 64
#define PORT_RETA_MAX 512
/* Longest EAL device name kept, bytes with the NUL. */
#define PORT_NAME_MAX 64

/* The [port] section of the config. */
struct port_conf {
	uint64_t port_id;	/* ethdev port id (probe order of -a/--vdev) */
	uint64_t rx_desc;	/* RX descriptors per queue */
	uint64_t tx_desc;	/* TX descriptors per queue */
	uint64_t mbufs;		/* mbufs in each worker's pool */
	uint64_t mbuf_cache;	/* per-lcore mempool cache, mbufs */
	uint64_t mbuf_data;	/* data room per mbuf, bytes (headroom included) */
	uint64_t dispatch_ring; /* entries of each software-dispatch ring (power of 2) */
	uint64_t mtu;		/* IP MTU, bytes */
	bool rss;		/* spread flows with RSS when the port offers it */
	bool rss_verify;	/* RSS: check each TCP/UDP frame against our model, fix strays */
	bool promisc;		/* promiscuous mode (af_packet/tap on a veth need not) */
	bool offloads;		/* use checksum offloads when the port offers them */
};

/* How received packets reach their owner worker. */
enum port_mode {
	PORT_MODE_SINGLE = 0, /* one worker: it owns every packet */
	PORT_MODE_RSS = 1,    /* the NIC hashes: queue i belongs to worker i */
	PORT_MODE_SW = 2,     /* each polled queue's lcore hashes and hands packets over */
	PORT_MODE_COUNT,
};

/* Per-worker port counters; names in port_ctr_names[]. */
enum port_ctr {
	PORT_C_RX_PKTS = 0,   /* frames taken from the RX queue */
	PORT_C_RX_BURSTS,     /* non-empty rx bursts */
	PORT_C_TX_PKTS,	      /* frames accepted by rte_eth_tx_burst */
	PORT_C_TX_BURSTS,     /* tx bursts with at least one frame accepted */
	PORT_C_TX_SHORT,      /* tx bursts that accepted fewer than offered */
	PORT_C_TX_DROP_FULL,  /* frames dropped: TX buffer full after a flush */
	PORT_C_DISPATCH_OUT,  /* frames handed to another worker */
	PORT_C_DISPATCH_IN,   /* frames received from another worker */
	PORT_C_DISPATCH_DROP, /* frames dropped: the owner's ring was full */
	PORT_C_TX_FWD_OUT,    /* frames handed to the worker owning our TX queue */
	PORT_C_TX_FWD_IN,     /* frames sent for workers without a TX queue of their own */
	PORT_C_RSS_MISMATCH,  /* RSS frames the NIC put on another queue than our model
				 (key + RETA) says; handed to that worker (rss_verify) */
	PORT_C_COUNT,
};

struct port_counters {
	_Alignas(64) uint64_t v[PORT_C_COUNT];
};

/*
 * Frames waiting for rte_eth_tx_burst on one TX queue; single owner. A port with
 * fewer TX queues than workers gives the extra workers a forwarding ring instead:
 * their flush enqueues to `fwd`, and the queue's owner pulls from `txin[]`.
 */
struct port_txq {
	uint16_t port_id;
	uint16_t queue_id;
	uint16_t len;				 /* frames in pkts[0..len) */
	uint16_t ntxin;				 /* rings in txin[] */
	struct port_counters *ctr;		 /* the owner's counters */
	struct rte_ring *fwd;			 /* non-NULL: no TX queue of our own (SP/SC) */
	struct rte_ring *txin[PORT_WORKERS_MAX]; /* frames of workers we transmit for */
	struct rte_mbuf *pkts[PORT_TXBUF_MAX];	 /* oldest first */
};

struct port;

/* One worker lcore's share of the port. */
struct port_worker {
	/* read-mostly after setup */
	struct port *port;
	uint16_t idx; /* worker index 0..nworkers-1 */
	uint16_t rxq; /* RX queue polled, or UINT16_MAX when none */
	unsigned int lcore_id;
	int socket;		  /* NUMA socket of the lcore */
	struct rte_mempool *pool; /* this worker's mbufs (RX queue and its own output) */
	/* software dispatch: out[j] carries frames to worker j (NULL for self), in[j]
	 * frames from worker j; each ring single-producer single-consumer */
	struct rte_ring *out[PORT_WORKERS_MAX];
	struct rte_ring *in[PORT_WORKERS_MAX];
	/* lcore-local, hot */
	struct port_txq txq;
	struct port_counters ctr;
};

/* One ethdev. */
struct port {
	/* read-mostly after setup */
	struct port_conf conf;
	uint16_t port_id;
	uint16_t nworkers;
	uint16_t nb_rxq; /* queues configured */
	uint16_t nb_txq;
	enum port_mode mode;
	bool started;
	uint8_t mac[6];
	uint16_t mtu; /* IP MTU applied, bytes */
	char name[PORT_NAME_MAX];
	char driver[PORT_NAME_MAX];
	/* offloads enabled on the port */
	bool tx_ip_cksum;  /* RTE_ETH_TX_OFFLOAD_IPV4_CKSUM */
	bool tx_tcp_cksum; /* RTE_ETH_TX_OFFLOAD_TCP_CKSUM */
	bool tx_multi_seg; /* RTE_ETH_TX_OFFLOAD_MULTI_SEGS */
	bool rx_ip_cksum;  /* RTE_ETH_RX_OFFLOAD_IPV4_CKSUM */
	bool rx_tcp_cksum; /* RTE_ETH_RX_OFFLOAD_TCP_CKSUM */
	/* RSS as programmed (PORT_MODE_RSS): the Toeplitz key and the redirection
	 * table, so TCP can pick local ports whose replies land on its own queue;
	 * the key is 4-byte aligned because rte_softrss() reads it as u32 words */
	alignas(4) uint8_t rss_key[PORT_RSS_KEY_MAX];
	uint8_t rss_key_len; /* bytes */
	uint16_t reta_size;  /* entries */
	uint16_t reta[PORT_RETA_MAX];
	uint64_t rss_hf; /* RTE_ETH_RSS_* hashed */
	/* PORT_MODE_SW: xxHash seed of the dispatch hash (random at setup, secret) */
	uint64_t dispatch_seed;
	struct port_worker w[PORT_WORKERS_MAX];
};

#endif /* TWOSPEED_PORT_T_H */
