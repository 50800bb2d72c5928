/* SPDX-License-Identifier: proprietary */
/*
 * Port setup and teardown (init path): ethdev configuration for any PMD, per-worker
 * mbuf pools and queues, RSS or software dispatch, the [port] config table.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "port.h"
#include "tsconf.h"

const char *const port_ctr_names[PORT_C_COUNT] = {
	[PORT_C_RX_PKTS] = "rx_pkts",
	[PORT_C_RX_BURSTS] = "rx_bursts",
	[PORT_C_TX_PKTS] = "tx_pkts",
	[PORT_C_TX_BURSTS] = "tx_bursts",
	[PORT_C_TX_SHORT] = "tx_short_bursts",
	[PORT_C_TX_DROP_FULL] = "tx_drop_buffer_full",
	[PORT_C_DISPATCH_OUT] = "dispatch_out",
	[PORT_C_DISPATCH_IN] = "dispatch_in",
	[PORT_C_DISPATCH_DROP] = "dispatch_drop_ring_full",
	[PORT_C_TX_FWD_OUT] = "tx_forwarded_out",
	[PORT_C_TX_FWD_IN] = "tx_forwarded_in",
	[PORT_C_RSS_MISMATCH] = "rss_mismatch_redirected",
};

#define PK(k_, t_, f_, d_, lo_, hi_, doc_)                                                         \
	{                                                                                          \
		.section = "port", .key = k_, .type = t_, TSCONF_FIELD(struct port_conf, f_),      \
		.def = d_, .min = lo_, .max = hi_, .doc = doc_                                     \
	}

const struct tsconf_key port_conf_keys[] = {
	PK("port_id", TSCONF_U64, port_id, "0", "0", "1023",
	   "ethdev port to use, in probe order of the EAL -a/--vdev arguments"),
	PK("rx_desc", TSCONF_U64, rx_desc, "1024", "64", "16384",
	   "RX descriptors per queue (the driver may round it)"),
	PK("tx_desc", TSCONF_U64, tx_desc, "1024", "64", "16384",
	   "TX descriptors per queue (the driver may round it)"),
	PK("mbufs", TSCONF_U64, mbufs, "16383", "1023", "16777215",
	   "mbufs in each worker's pool (RX ring, TCP queues, ARP queue); best 2^n - 1"),
	PK("mbuf_cache", TSCONF_U64, mbuf_cache, "256", "0", "512",
	   "per-lcore mempool cache, in mbufs"),
	PK("mbuf_data", TSCONF_SIZE, mbuf_data, "2176", "1024", "64K",
	   "data room of one mbuf in bytes, headroom (128) included"),
	PK("dispatch_ring", TSCONF_U64, dispatch_ring, "1024", "64", "65536",
	   "entries of each software-dispatch ring between two workers (power of 2)"),
	PK("mtu", TSCONF_U64, mtu, "1500", "576", "9000", "IP MTU in bytes"),
	PK("rss", TSCONF_BOOL, rss, "true", NULL, NULL,
	   "spread flows over workers with the NIC's RSS when it offers it; else software "
	   "dispatch"),
	PK("rss_verify", TSCONF_BOOL, rss_verify, "true", NULL, NULL,
	   "with RSS, hash each TCP/UDP frame as our key+RETA say and hand strays to their worker "
	   "(net_tap does not follow them); off for a NIC known to follow them"),
	PK("promisc", TSCONF_BOOL, promisc, "false", NULL, NULL,
	   "put the port in promiscuous mode"),
	PK("offloads", TSCONF_BOOL, offloads, "true", NULL, NULL,
	   "use IPv4/TCP checksum offloads (RX and TX) when the port offers them"),
};
const size_t port_conf_nkeys = sizeof(port_conf_keys) / sizeof(port_conf_keys[0]);

int port_conf_register(struct tsconf *c, struct port_conf *conf, char *err, size_t errlen)
{
	return tsconf_register(c, "port", port_conf_keys, port_conf_nkeys, conf, err, errlen);
}

/* The default Toeplitz key of many NICs would do; a random one per start keeps the
 * spread unpredictable to clients. Symmetry is not needed: we only ever hash the
 * received direction. */
static void rss_random_key(uint8_t *key, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t r = rte_rand();

		memcpy(key + i, &r, len - i < 8 ? len - i : 8);
	}
}

/* Programs RETA entry i -> queue i % nb_rxq (so queue == worker) and records it. When
 * the driver cannot update or query it, the documented default i % nb_rxq is kept. */
static void rss_reta_setup(struct port *p, uint16_t reta_size)
{
	struct rte_eth_rss_reta_entry64 conf[PORT_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	uint16_t n = reta_size;

	if (n == 0 || n > PORT_RETA_MAX)
		n = n == 0 ? 128 : PORT_RETA_MAX;
	p->reta_size = n;
	for (uint16_t i = 0; i < n; i++)
		p->reta[i] = i % p->nb_rxq;
	if (reta_size == 0 || reta_size > PORT_RETA_MAX)
		return;
	memset(conf, 0, sizeof(conf));
	for (uint16_t i = 0; i < n; i++) {
		conf[i / RTE_ETH_RETA_GROUP_SIZE].mask |= UINT64_C(1)
							  << (i % RTE_ETH_RETA_GROUP_SIZE);
		conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = p->reta[i];
	}
	if (rte_eth_dev_rss_reta_update(p->port_id, conf, n) == 0)
		return;
	/* not programmable: read what the NIC uses */
	if (rte_eth_dev_rss_reta_query(p->port_id, conf, n) != 0)
		return;
	for (uint16_t i = 0; i < n; i++) {
		uint16_t q = conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];

		p->reta[i] = q < p->nb_rxq ? q : 0;
	}
}

static int create_pools(struct port *p, char *err, size_t errlen)
{
	for (uint16_t i = 0; i < p->nworkers; i++) {
		struct port_worker *w = &p->w[i];
		char name[RTE_MEMPOOL_NAMESIZE];

		snprintf(name, sizeof(name), "tsp%u_w%u", p->port_id, i);
		w->pool = rte_pktmbuf_pool_create(name, (unsigned int)p->conf.mbufs,
						  (unsigned int)p->conf.mbuf_cache, 0,
						  (uint16_t)p->conf.mbuf_data, w->socket);
		if (w->pool == NULL) {
			snprintf(err, errlen,
				 "port %u: mbuf pool of worker %u (%lu mbufs of %lu bytes): %s",
				 p->port_id, i, (unsigned long)p->conf.mbufs,
				 (unsigned long)p->conf.mbuf_data, rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	return 0;
}

static int create_rings(struct port *p, char *err, size_t errlen)
{
	for (uint16_t i = 0; i < p->nb_rxq; i++) {
		for (uint16_t j = 0; j < p->nworkers; j++) {
			char name[RTE_RING_NAMESIZE];
			struct rte_ring *r;

			if (i == j)
				continue;
			snprintf(name, sizeof(name), "tsd%u_%u_%u", p->port_id, i, j);
			r = rte_ring_create(name, (unsigned int)p->conf.dispatch_ring,
					    p->w[j].socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (r == NULL) {
				snprintf(err, errlen, "port %u: dispatch ring %u->%u: %s",
					 p->port_id, i, j, rte_strerror(rte_errno));
				return -ENOMEM;
			}
			p->w[i].out[j] = r;
			p->w[j].in[i] = r;
		}
	}
	return 0;
}

/* Workers beyond the port's TX queues send through the owner of queue i % nb_txq. */
static int create_tx_rings(struct port *p, char *err, size_t errlen)
{
	for (uint16_t i = p->nb_txq; i < p->nworkers; i++) {
		struct port_txq *owner = &p->w[i % p->nb_txq].txq;
		char name[RTE_RING_NAMESIZE];
		struct rte_ring *r;

		snprintf(name, sizeof(name), "tst%u_%u", p->port_id, i);
		r = rte_ring_create(name, (unsigned int)p->conf.dispatch_ring, p->w[i].socket,
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (r == NULL) {
			snprintf(err, errlen, "port %u: TX forwarding ring of worker %u: %s",
				 p->port_id, i, rte_strerror(rte_errno));
			return -ENOMEM;
		}
		p->w[i].txq.fwd = r;
		p->w[i].txq.queue_id = UINT16_MAX;
		owner->txin[owner->ntxin++] = r;
	}
	return 0;
}

static int setup_queues(struct port *p, const struct rte_eth_dev_info *info, char *err,
			size_t errlen)
{
	uint16_t nb_rxd = (uint16_t)p->conf.rx_desc, nb_txd = (uint16_t)p->conf.tx_desc;
	struct rte_eth_rxconf rxc = info->default_rxconf;
	struct rte_eth_txconf txc = info->default_txconf;
	int rc;

	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nb_rxd, &nb_txd);
	if (rc != 0) {
		snprintf(err, errlen, "port %u: descriptor counts: %s", p->port_id,
			 rte_strerror(-rc));
		return rc;
	}
	rxc.offloads = (p->rx_ip_cksum ? RTE_ETH_RX_OFFLOAD_IPV4_CKSUM : 0) |
		       (p->rx_tcp_cksum ? RTE_ETH_RX_OFFLOAD_TCP_CKSUM : 0);
	txc.offloads = (p->tx_ip_cksum ? RTE_ETH_TX_OFFLOAD_IPV4_CKSUM : 0) |
		       (p->tx_tcp_cksum ? RTE_ETH_TX_OFFLOAD_TCP_CKSUM : 0) |
		       (p->tx_multi_seg ? RTE_ETH_TX_OFFLOAD_MULTI_SEGS : 0);
	for (uint16_t q = 0; q < p->nb_rxq; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, nb_rxd, (unsigned int)p->w[q].socket,
					    &rxc, p->w[q].pool);
		if (rc != 0) {
			snprintf(err, errlen, "port %u: RX queue %u: %s", p->port_id, q,
				 rte_strerror(-rc));
			return rc;
		}
		p->w[q].rxq = q;
	}
	for (uint16_t q = 0; q < p->nb_txq; q++) {
		rc = rte_eth_tx_queue_setup(p->port_id, q, nb_txd, (unsigned int)p->w[q].socket,
					    &txc);
		if (rc != 0) {
			snprintf(err, errlen, "port %u: TX queue %u: %s", p->port_id, q,
				 rte_strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Chooses RSS, software dispatch or single and the queue counts. */
static int choose_mode(struct port *p, const struct rte_eth_dev_info *info, char *err,
		       size_t errlen)
{
	if (info->max_tx_queues == 0) {
		snprintf(err, errlen, "port %u (%s): offers no TX queue", p->port_id, p->driver);
		return -EINVAL;
	}
	p->nb_txq = RTE_MIN(p->nworkers, info->max_tx_queues);
	if (p->nworkers == 1) {
		p->mode = PORT_MODE_SINGLE;
		p->nb_rxq = 1;
	} else if (p->conf.rss && (info->flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP) &&
		   info->max_rx_queues >= p->nworkers) {
		p->mode = PORT_MODE_RSS;
		p->nb_rxq = p->nworkers;
	} else {
		p->mode = PORT_MODE_SW;
		p->nb_rxq = RTE_MIN(p->nworkers, info->max_rx_queues);
	}
	if (p->nb_rxq == 0) {
		snprintf(err, errlen, "port %u (%s): offers no RX queue", p->port_id, p->driver);
		return -EINVAL;
	}
	return 0;
}

static int configure(struct port *p, const struct rte_eth_dev_info *info, char *err, size_t errlen)
{
	struct rte_eth_conf ec;
	uint8_t key[PORT_RSS_KEY_MAX];
	int rc;

	memset(&ec, 0, sizeof(ec));
	if (p->conf.offloads) {
		p->rx_ip_cksum = (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0;
		p->rx_tcp_cksum = (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) != 0;
		p->tx_ip_cksum = (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
		p->tx_tcp_cksum = (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) != 0;
	}
	/* chained mbufs (TCP header + data segments) are not an optional speed-up */
	p->tx_multi_seg = (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
	ec.rxmode.offloads = (p->rx_ip_cksum ? RTE_ETH_RX_OFFLOAD_IPV4_CKSUM : 0) |
			     (p->rx_tcp_cksum ? RTE_ETH_RX_OFFLOAD_TCP_CKSUM : 0);
	ec.txmode.offloads = (p->tx_ip_cksum ? RTE_ETH_TX_OFFLOAD_IPV4_CKSUM : 0) |
			     (p->tx_tcp_cksum ? RTE_ETH_TX_OFFLOAD_TCP_CKSUM : 0) |
			     (p->tx_multi_seg ? RTE_ETH_TX_OFFLOAD_MULTI_SEGS : 0);
	if (p->mode == PORT_MODE_RSS) {
		p->rss_key_len = info->hash_key_size != 0 && info->hash_key_size <= PORT_RSS_KEY_MAX
					 ? info->hash_key_size
					 : 40;
		rss_random_key(key, p->rss_key_len);
		ec.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		ec.rx_adv_conf.rss_conf.rss_key = key;
		ec.rx_adv_conf.rss_conf.rss_key_len = p->rss_key_len;
		ec.rx_adv_conf.rss_conf.rss_hf = info->flow_type_rss_offloads &
						 (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP |
						  RTE_ETH_RSS_NONFRAG_IPV4_UDP);
		p->rss_hf = ec.rx_adv_conf.rss_conf.rss_hf;
		memcpy(p->rss_key, key, p->rss_key_len);
	}
	rc = rte_eth_dev_configure(p->port_id, p->nb_rxq, p->nb_txq, &ec);
	if (rc != 0) {
		snprintf(err, errlen, "port %u (%s): configure %u RX / %u TX queues: %s",
			 p->port_id, p->driver, p->nb_rxq, p->nb_txq, rte_strerror(-rc));
		return rc;
	}
	/* an MTU the driver refuses (af_packet follows the kernel's) is not fatal:
	 * we then use what the port has */
	if (rte_eth_dev_set_mtu(p->port_id, (uint16_t)p->conf.mtu) == 0) {
		p->mtu = (uint16_t)p->conf.mtu;
	} else {
		uint16_t mtu = 0;

		p->mtu = rte_eth_dev_get_mtu(p->port_id, &mtu) == 0 && mtu >= 576
				 ? RTE_MIN(mtu, (uint16_t)p->conf.mtu)
				 : (uint16_t)p->conf.mtu;
	}
	return 0;
}

/* After start: what the driver actually hashes with. */
static void rss_record(struct port *p, uint16_t reta_size)
{
	struct rte_eth_rss_conf rc;
	uint8_t key[PORT_RSS_KEY_MAX];

	memset(&rc, 0, sizeof(rc));
	rc.rss_key = key;
	rc.rss_key_len = p->rss_key_len;
	if (rte_eth_dev_rss_hash_conf_get(p->port_id, &rc) == 0 && rc.rss_key_len >= 16 &&
	    rc.rss_key_len <= PORT_RSS_KEY_MAX) {
		memcpy(p->rss_key, key, rc.rss_key_len);
		p->rss_key_len = rc.rss_key_len;
		p->rss_hf = rc.rss_hf;
	}
	rss_reta_setup(p, reta_size);
}

int port_setup(struct port *p, const struct port_conf *conf, uint16_t nworkers,
	       const unsigned int *lcore_ids, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	int rc;

	memset(p, 0, sizeof(*p));
	p->conf = *conf;
	p->port_id = (uint16_t)conf->port_id;
	p->nworkers = nworkers;
	if (nworkers == 0 || nworkers > PORT_WORKERS_MAX) {
		snprintf(err, errlen, "port: %u workers, 1..%u supported", nworkers,
			 PORT_WORKERS_MAX);
		return -EINVAL;
	}
	if ((conf->dispatch_ring & (conf->dispatch_ring - 1)) != 0) {
		snprintf(err, errlen, "port: dispatch_ring %lu is not a power of 2",
			 (unsigned long)conf->dispatch_ring);
		return -EINVAL;
	}
	if (conf->port_id >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(p->port_id)) {
		snprintf(err, errlen,
			 "port: no ethdev %lu (%u probed; add -a PCI or "
			 "--vdev=net_af_packet0,iface=IF)",
			 (unsigned long)conf->port_id, rte_eth_dev_count_avail());
		return -ENODEV;
	}
	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc != 0) {
		snprintf(err, errlen, "port %u: device info: %s", p->port_id, rte_strerror(-rc));
		return rc;
	}
	rte_eth_dev_get_name_by_port(p->port_id, p->name);
	snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name ? info.driver_name : "?");
	for (uint16_t i = 0; i < nworkers; i++) {
		struct port_worker *w = &p->w[i];

		w->port = p;
		w->idx = i;
		w->rxq = UINT16_MAX;
		w->lcore_id = lcore_ids[i];
		w->socket = (int)rte_lcore_to_socket_id(lcore_ids[i]);
		if (w->socket < 0)
			w->socket = 0;
		w->txq.port_id = p->port_id;
		w->txq.queue_id = i;
		w->txq.ctr = &w->ctr;
	}
	rc = choose_mode(p, &info, err, errlen);
	if (rc != 0)
		return rc;
	rc = configure(p, &info, err, errlen);
	if (rc != 0)
		return rc;
	rc = create_pools(p, err, errlen);
	if (rc != 0)
		goto free_all;
	rc = create_tx_rings(p, err, errlen);
	if (rc != 0)
		goto free_all;
	if (p->mode == PORT_MODE_SW || (p->mode == PORT_MODE_RSS && conf->rss_verify)) {
		rc = create_rings(p, err, errlen);
		if (rc != 0)
			goto free_all;
		p->dispatch_seed = rte_rand(); /* EAL seeds it from getentropy() */
	}
	rc = setup_queues(p, &info, err, errlen);
	if (rc != 0)
		goto free_all;
	rc = rte_eth_dev_start(p->port_id);
	if (rc != 0) {
		snprintf(err, errlen, "port %u (%s): start: %s", p->port_id, p->driver,
			 rte_strerror(-rc));
		goto free_all;
	}
	p->started = true;
	if (conf->promisc) {
		rc = rte_eth_promiscuous_enable(p->port_id);
		if (rc != 0) {
			snprintf(err, errlen, "port %u: promiscuous mode: %s", p->port_id,
				 rte_strerror(-rc));
			goto free_all;
		}
	}
	rc = rte_eth_macaddr_get(p->port_id, &mac);
	if (rc != 0) {
		snprintf(err, errlen, "port %u: MAC address: %s", p->port_id, rte_strerror(-rc));
		goto free_all;
	}
	memcpy(p->mac, mac.addr_bytes, 6);
	if (p->mode == PORT_MODE_RSS)
		rss_record(p, info.reta_size);
	return 0;

free_all:
	port_close(p);
	return rc;
}

static void drain_ring(struct rte_ring *r)
{
	void *m;

	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

void port_close(struct port *p)
{
	if (p->started) {
		rte_eth_dev_stop(p->port_id);
		rte_eth_dev_close(p->port_id);
		p->started = false;
	}
	for (uint16_t i = 0; i < p->nworkers && i < PORT_WORKERS_MAX; i++) {
		struct port_worker *w = &p->w[i];

		if (w->txq.len > 0)
			rte_pktmbuf_free_bulk(w->txq.pkts, w->txq.len);
		w->txq.len = 0;
		w->txq.ntxin = 0;
		if (w->txq.fwd != NULL) {
			drain_ring(w->txq.fwd);
			rte_ring_free(w->txq.fwd);
			w->txq.fwd = NULL;
		}
		for (uint16_t j = 0; j < PORT_WORKERS_MAX; j++) {
			if (w->out[j] == NULL)
				continue;
			drain_ring(w->out[j]);
			rte_ring_free(w->out[j]);
			p->w[j].in[i] = NULL;
			w->out[j] = NULL;
		}
	}
	/* after the device and the rings: they held mbufs of these pools */
	for (uint16_t i = 0; i < p->nworkers && i < PORT_WORKERS_MAX; i++) {
		rte_mempool_free(p->w[i].pool);
		p->w[i].pool = NULL;
	}
}

void port_describe(const struct port *p, char *buf, size_t len)
{
	static const char *const modes[PORT_MODE_COUNT] = {"single", "rss", "software-dispatch"};

	snprintf(buf, len,
		 "port %u %s (%s) mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u, %u workers, %s, "
		 "%u rx / %u tx queues%s, offloads rx[%s%s] tx[%s%s%s]",
		 p->port_id, p->name, p->driver, p->mac[0], p->mac[1], p->mac[2], p->mac[3],
		 p->mac[4], p->mac[5], p->mtu, p->nworkers, modes[p->mode], p->nb_rxq, p->nb_txq,
		 p->nb_txq < p->nworkers ? " (shared by forwarding)" : "",
		 p->rx_ip_cksum ? " ip" : "", p->rx_tcp_cksum ? " tcp" : "",
		 p->tx_ip_cksum ? " ip" : "", p->tx_tcp_cksum ? " tcp" : "",
		 p->tx_multi_seg ? " multiseg" : "");
}
