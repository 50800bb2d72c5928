/* SPDX-License-Identifier: proprietary */
/*
 * bench_memif: in-memory benchmark of twospeed-dataplane's TCP + HTTP path, no
 * kernel on the packet path.  This program is a scripted segment generator: a
 * DPDK process of its own, joined to the dataplane by a net_memif pair, that
 * speaks just enough Ethernet/ARP/IPv4/TCP to open N connections and keep one
 * request outstanding on each, keep-alive, like wrk does: `POST /echo` with an
 * N-byte body (2 KB by default, --body) or a small `GET /healthz` (--req healthz).
 *
 * It is deliberately not a TCP stack: the memif link loses nothing and
 * reorders nothing, so a segment that is not exactly the next one expected is
 * counted as an error and the run reports it (the server's retransmission would
 * then recover it).  Every response is parsed (status line, Content-Length) and
 * its byte count checked against the request's body.
 *
 * Prints requests/s over the measured interval, the generator's own busy share
 * (when that is near 100 % the number is bounded by the generator, not the
 * dataplane) and cycles per request on the server's core: TSC Hz / requests/s,
 * exact when that core is saturated and an upper bound otherwise.  Usage: see README.md next to this file.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#define BM_BURST 32
#define BM_CONNS_MAX 1024
#define BM_MSS 1460u	     /* bytes of TCP payload per segment we send */
#define BM_BODY_DEF 2048u    /* default request body, bytes */
#define BM_BODY_MAX 16384u   /* largest --body, bytes (the server's echo limit is larger) */
#define BM_HDR_MAX 1024u     /* response header bytes kept for parsing */
#define BM_WINDOW 65535u     /* our advertised receive window, bytes (no scaling) */
#define BM_SPORT_BASE 20000u /* first source port */

enum bm_state {
	BM_ST_CLOSED = 0,
	BM_ST_SYN_SENT = 1,
	BM_ST_EST = 2,
	BM_ST_DEAD = 3,
};

struct bm_conn {
	enum bm_state st;
	uint16_t sport;
	uint32_t snd_nxt; /* next sequence number we send */
	uint32_t rcv_nxt; /* next sequence number we expect */
	bool waiting;	  /* a request is outstanding */
	uint64_t sent_tsc;
	/* response parser */
	uint32_t hdr_len;    /* header bytes collected so far */
	bool in_body;	     /* headers done, counting body bytes */
	uint64_t body_left;  /* body bytes still to come, bytes */
	char hdr[BM_HDR_MAX];
};

struct bm {
	uint16_t port;
	struct rte_mempool *pool;
	struct rte_ether_addr mac, peer_mac;
	bool have_peer_mac;
	uint32_t ip_be, peer_ip_be;
	uint16_t dport;
	unsigned int nconns;
	struct bm_conn *conns;
	uint8_t req[256 + BM_BODY_MAX]; /* the request bytes, headers and body */
	uint32_t req_len;
	uint64_t resp_body; /* expected response body length, bytes */
	struct rte_mbuf *txb[BM_BURST];
	unsigned int ntx;
	/* results */
	uint64_t responses, bad_status, bad_len, ooo, rst, tx_drop, arp_replies;
	uint64_t lat_sum_tsc;
};

static volatile sig_atomic_t bm_stop;

static void bm_on_signal(int sig)
{
	(void)sig;
	bm_stop = 1;
}

static void bm_flush(struct bm *b)
{
	unsigned int sent = 0;
	/* bounded retries: memif accepts what fits in its ring */
	for (int tries = 0; sent < b->ntx && tries < 1000; tries++)
		sent += rte_eth_tx_burst(b->port, 0, b->txb + sent, (uint16_t)(b->ntx - sent));
	for (unsigned int i = sent; i < b->ntx; i++) {
		rte_pktmbuf_free(b->txb[i]);
		b->tx_drop++;
	}
	b->ntx = 0;
}

static void bm_tx(struct bm *b, struct rte_mbuf *m)
{
	b->txb[b->ntx++] = m;
	if (b->ntx == BM_BURST)
		bm_flush(b);
}

static void bm_send_arp(struct bm *b, uint16_t op, const struct rte_ether_addr *dst_mac, uint32_t tip_be)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(b->pool);
	if (m == NULL)
		return;
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);
	static const struct rte_ether_addr bcast = {.addr_bytes = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
	eh->dst_addr = op == RTE_ARP_OP_REQUEST ? bcast : *dst_mac;
	eh->src_addr = b->mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	ah->arp_data.arp_sha = b->mac;
	ah->arp_data.arp_sip = b->ip_be;
	memset(&ah->arp_data.arp_tha, 0, sizeof(ah->arp_data.arp_tha));
	if (op == RTE_ARP_OP_REPLY)
		ah->arp_data.arp_tha = *dst_mac;
	ah->arp_data.arp_tip = tip_be;
	m->data_len = m->pkt_len = sizeof(*eh) + sizeof(*ah);
	bm_tx(b, m);
}

/* Builds and queues one TCP segment of conn c with payload[0..len). */
static void bm_send_seg(struct bm *b, struct bm_conn *c, uint8_t flags, const uint8_t *payload, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(b->pool);
	if (m == NULL) {
		b->tx_drop++;
		return;
	}
	bool syn = flags & RTE_TCP_SYN_FLAG;
	uint32_t optlen = syn ? 4 : 0; /* MSS option on the SYN */
	uint32_t l2 = sizeof(struct rte_ether_hdr), l3 = sizeof(struct rte_ipv4_hdr);
	uint32_t l4 = sizeof(struct rte_tcp_hdr) + optlen;
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	eh->dst_addr = b->peer_mac;
	eh->src_addr = b->mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(l3 + l4 + len));
	ip->packet_id = 0;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->hdr_checksum = 0;
	ip->src_addr = b->ip_be;
	ip->dst_addr = b->peer_ip_be;
	th->src_port = rte_cpu_to_be_16(c->sport);
	th->dst_port = rte_cpu_to_be_16(b->dport);
	th->sent_seq = rte_cpu_to_be_32(c->snd_nxt);
	th->recv_ack = rte_cpu_to_be_32((flags & RTE_TCP_ACK_FLAG) ? c->rcv_nxt : 0);
	th->data_off = (uint8_t)((l4 / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(BM_WINDOW);
	th->cksum = 0;
	th->tcp_urp = 0;
	uint8_t *opt = (uint8_t *)(th + 1);
	if (syn) {
		opt[0] = 2; /* MSS, RFC 9293 3.7.1 */
		opt[1] = 4;
		opt[2] = (uint8_t)(BM_MSS >> 8);
		opt[3] = (uint8_t)(BM_MSS & 0xff);
	}
	if (len)
		memcpy(opt + optlen, payload, len);
	m->data_len = m->pkt_len = l2 + l3 + l4 + len;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	c->snd_nxt += len + (syn ? 1 : 0) + ((flags & RTE_TCP_FIN_FLAG) ? 1 : 0);
	bm_tx(b, m);
}

static void bm_send_request(struct bm *b, struct bm_conn *c)
{
	for (uint32_t off = 0; off < b->req_len; off += BM_MSS) {
		uint32_t n = b->req_len - off < BM_MSS ? b->req_len - off : BM_MSS;
		bool last = off + n == b->req_len;
		bm_send_seg(b, c, (uint8_t)(RTE_TCP_ACK_FLAG | (last ? RTE_TCP_PSH_FLAG : 0)), b->req + off, n);
	}
	c->waiting = true;
	c->sent_tsc = rte_rdtsc();
	c->hdr_len = 0;
	c->in_body = false;
	c->body_left = 0;
}

/* Feeds response bytes to conn c's parser; returns true when a response completed. */
static bool bm_parse(struct bm *b, struct bm_conn *c, const uint8_t *p, uint32_t n)
{
	while (n) {
		if (c->in_body) {
			uint32_t k = n < c->body_left ? n : (uint32_t)c->body_left;
			c->body_left -= k;
			p += k;
			n -= k;
			if (c->body_left == 0) {
				c->in_body = false;
				c->hdr_len = 0;
				if (n)
					b->bad_len++; /* bytes past the body: the server sent more than asked */
				return true;
			}
			continue;
		}
		/* collect header bytes until the blank line */
		while (n && c->hdr_len < BM_HDR_MAX - 1) {
			c->hdr[c->hdr_len++] = (char)*p++;
			n--;
			if (c->hdr_len >= 4 && memcmp(c->hdr + c->hdr_len - 4, "\r\n\r\n", 4) == 0)
				break;
		}
		if (c->hdr_len >= BM_HDR_MAX - 1) {
			b->bad_len++;
			c->st = BM_ST_DEAD;
			return false;
		}
		if (c->hdr_len < 4 || memcmp(c->hdr + c->hdr_len - 4, "\r\n\r\n", 4) != 0)
			return false; /* more header bytes to come */
		c->hdr[c->hdr_len] = '\0';
		if (strncmp(c->hdr, "HTTP/1.1 200", 12) != 0)
			b->bad_status++;
		const char *cl = strcasestr(c->hdr, "\r\ncontent-length:");
		uint64_t len = cl ? strtoull(cl + 17, NULL, 10) : 0;
		if (len != b->resp_body)
			b->bad_len++;
		if (len == 0) {
			c->hdr_len = 0;
			return true;
		}
		c->in_body = true;
		c->body_left = len;
	}
	return false;
}

static void bm_input_tcp(struct bm *b, struct rte_ipv4_hdr *ip, uint32_t l3len, uint32_t iplen)
{
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)((uint8_t *)ip + l3len);
	uint16_t sport = rte_be_to_cpu_16(th->dst_port);
	if (sport < BM_SPORT_BASE || sport >= BM_SPORT_BASE + b->nconns)
		return;
	struct bm_conn *c = &b->conns[sport - BM_SPORT_BASE];
	uint32_t doff = (uint32_t)(th->data_off >> 4) * 4;
	uint32_t seq = rte_be_to_cpu_32(th->sent_seq);
	const uint8_t *pl = (const uint8_t *)th + doff;
	uint32_t plen = iplen - l3len - doff;
	uint8_t fl = th->tcp_flags;

	if (fl & RTE_TCP_RST_FLAG) {
		b->rst++;
		c->st = BM_ST_DEAD;
		return;
	}
	if (c->st == BM_ST_SYN_SENT) {
		if ((fl & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) != (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG) ||
		    rte_be_to_cpu_32(th->recv_ack) != c->snd_nxt)
			return;
		c->rcv_nxt = seq + 1;
		c->st = BM_ST_EST;
		bm_send_seg(b, c, RTE_TCP_ACK_FLAG, NULL, 0);
		bm_send_request(b, c);
		return;
	}
	if (c->st != BM_ST_EST)
		return;
	if (plen == 0 && !(fl & RTE_TCP_FIN_FLAG))
		return; /* pure ACK */
	if (seq != c->rcv_nxt) {
		/* a duplicate or a gap: count it, re-ACK what we have (the server retransmits) */
		b->ooo++;
		bm_send_seg(b, c, RTE_TCP_ACK_FLAG, NULL, 0);
		return;
	}
	c->rcv_nxt += plen;
	if (fl & RTE_TCP_FIN_FLAG) {
		c->rcv_nxt++;
		c->st = BM_ST_DEAD;
		bm_send_seg(b, c, RTE_TCP_ACK_FLAG, NULL, 0);
		return;
	}
	if (bm_parse(b, c, pl, plen)) {
		b->responses++;
		b->lat_sum_tsc += rte_rdtsc() - c->sent_tsc;
		c->waiting = false;
		if (!bm_stop)
			bm_send_request(b, c); /* the ACK rides on the next request */
		else
			bm_send_seg(b, c, RTE_TCP_ACK_FLAG, NULL, 0);
	}
}

static void bm_input(struct bm *b, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint16_t et = rte_be_to_cpu_16(eh->ether_type);
	if (et == RTE_ETHER_TYPE_ARP && m->data_len >= sizeof(*eh) + sizeof(struct rte_arp_hdr)) {
		struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);
		if (ah->arp_data.arp_sip == b->peer_ip_be) {
			b->peer_mac = ah->arp_data.arp_sha;
			b->have_peer_mac = true;
		}
		if (rte_be_to_cpu_16(ah->arp_opcode) == RTE_ARP_OP_REQUEST && ah->arp_data.arp_tip == b->ip_be) {
			b->arp_replies++;
			bm_send_arp(b, RTE_ARP_OP_REPLY, &ah->arp_data.arp_sha, ah->arp_data.arp_sip);
		}
		return;
	}
	if (et != RTE_ETHER_TYPE_IPV4 || m->data_len < sizeof(*eh) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_tcp_hdr))
		return;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	uint32_t l3len = (uint32_t)(ip->version_ihl & 0xf) * 4;
	uint32_t iplen = rte_be_to_cpu_16(ip->total_length);
	if (ip->next_proto_id != IPPROTO_TCP || ip->dst_addr != b->ip_be || ip->src_addr != b->peer_ip_be ||
	    iplen > m->data_len - sizeof(*eh) || iplen < l3len + sizeof(struct rte_tcp_hdr))
		return;
	bm_input_tcp(b, ip, l3len, iplen);
}

/* Polls once; returns frames received. */
static unsigned int bm_poll(struct bm *b)
{
	struct rte_mbuf *rx[BM_BURST];
	uint16_t n = rte_eth_rx_burst(b->port, 0, rx, BM_BURST);
	for (uint16_t i = 0; i < n; i++) {
		bm_input(b, rx[i]);
		rte_pktmbuf_free(rx[i]);
	}
	if (b->ntx)
		bm_flush(b);
	return n;
}

static int bm_port_init(struct bm *b)
{
	struct rte_eth_conf pc;
	memset(&pc, 0, sizeof(pc));
	int rc = rte_eth_dev_configure(b->port, 1, 1, &pc);
	if (rc < 0)
		return rc;
	rc = rte_eth_rx_queue_setup(b->port, 0, 1024, (unsigned int)rte_eth_dev_socket_id(b->port), NULL, b->pool);
	if (rc < 0)
		return rc;
	rc = rte_eth_tx_queue_setup(b->port, 0, 1024, (unsigned int)rte_eth_dev_socket_id(b->port), NULL);
	if (rc < 0)
		return rc;
	rc = rte_eth_dev_start(b->port);
	if (rc < 0)
		return rc;
	return rte_eth_macaddr_get(b->port, &b->mac);
}

static void bm_usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s EAL-ARGS -- --src IP --dst IP [--port N] [--conns N] [--seconds S] [--warmup S]\n"
		"  [--req echo|healthz] [--body BYTES]\n"
		"  --req echo (default): POST /echo with a --body byte body (default %u, at most %u)\n"
		"  --req healthz: GET /healthz, no body (the small-request case)\n"
		"  EAL-ARGS must create exactly one port, e.g.\n"
		"  --no-pci --file-prefix bmc --vdev net_memif0,role=client,socket=/run/ts-bench.sock\n",
		argv0, BM_BODY_DEF, BM_BODY_MAX);
}

static int bm_parse_ip(const char *s, uint32_t *out_be)
{
	unsigned int a, b, c, d;
	char tail;
	if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 || c > 255 || d > 255)
		return -EINVAL;
	*out_be = rte_cpu_to_be_32((a << 24) | (b << 16) | (c << 8) | d);
	return 0;
}

static int bm_parse_body(const char *s, uint32_t *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > BM_BODY_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	int eal = rte_eal_init(argc, argv);
	if (eal < 0)
		rte_exit(EXIT_FAILURE, "bench_memif: EAL init failed\n");
	argc -= eal;
	argv += eal;

	static struct bm b;
	b.dport = 80;
	b.nconns = 16;
	double seconds = 10, warmup = 2;
	bool have_src = false, have_dst = false, healthz = false;
	uint32_t body = BM_BODY_DEF;
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL) {
			bm_usage(argv[0]);
			rte_exit(EXIT_FAILURE, "bench_memif: %s needs a value\n", a);
		}
		if (strcmp(a, "--src") == 0 && bm_parse_ip(v, &b.ip_be) == 0)
			have_src = true;
		else if (strcmp(a, "--dst") == 0 && bm_parse_ip(v, &b.peer_ip_be) == 0)
			have_dst = true;
		else if (strcmp(a, "--port") == 0)
			b.dport = (uint16_t)strtoul(v, NULL, 10);
		else if (strcmp(a, "--conns") == 0)
			b.nconns = (unsigned int)strtoul(v, NULL, 10);
		else if (strcmp(a, "--seconds") == 0)
			seconds = strtod(v, NULL);
		else if (strcmp(a, "--warmup") == 0)
			warmup = strtod(v, NULL);
		else if (strcmp(a, "--req") == 0 && (strcmp(v, "echo") == 0 || strcmp(v, "healthz") == 0))
			healthz = strcmp(v, "healthz") == 0;
		else if (strcmp(a, "--body") == 0 && bm_parse_body(v, &body) == 0)
			continue;
		else {
			bm_usage(argv[0]);
			rte_exit(EXIT_FAILURE, "bench_memif: bad option %s %s\n", a, v);
		}
	}
	if (!have_src || !have_dst || b.nconns == 0 || b.nconns > BM_CONNS_MAX || seconds <= 0 || seconds > 600 ||
	    warmup < 0 || warmup > 60 || b.dport == 0) {
		bm_usage(argv[0]);
		rte_exit(EXIT_FAILURE, "bench_memif: need --src and --dst; conns 1..%d, seconds 0..600\n", BM_CONNS_MAX);
	}
	if (rte_eth_dev_count_avail() != 1)
		rte_exit(EXIT_FAILURE, "bench_memif: want exactly one port, have %u\n", rte_eth_dev_count_avail());
	signal(SIGINT, bm_on_signal);
	signal(SIGTERM, bm_on_signal);

	b.port = 0;
	b.pool = rte_pktmbuf_pool_create("bm_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (b.pool == NULL)
		rte_exit(EXIT_FAILURE, "bench_memif: mbuf pool: %s\n", rte_strerror(rte_errno));
	int rc = bm_port_init(&b);
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "bench_memif: port setup: %s\n", rte_strerror(-rc));
	b.conns = calloc(b.nconns, sizeof(*b.conns));
	if (b.conns == NULL)
		rte_exit(EXIT_FAILURE, "bench_memif: out of memory\n");
	if (healthz) {
		/* what a load balancer's health probe or wrk's default request sends */
		b.req_len = (uint32_t)snprintf((char *)b.req, 256, "GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n");
		b.resp_body = 3; /* "ok\n" */
	} else {
		int hl = snprintf((char *)b.req, 256,
				  "POST /echo HTTP/1.1\r\nHost: bench\r\nContent-Type: application/octet-stream\r\n"
				  "Content-Length: %u\r\n\r\n",
				  body);
		for (uint32_t i = 0; i < body; i++)
			b.req[hl + i] = (uint8_t)"0123456789abcdef"[i & 15];
		b.req_len = (uint32_t)hl + body;
		b.resp_body = body;
	}

	uint64_t hz = rte_get_tsc_hz();
	/* link up (the memif peer connected), then the server's MAC by ARP */
	uint64_t t_end = rte_rdtsc() + 20 * hz;
	struct rte_eth_link link;
	do {
		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(b.port, &link);
		if (link.link_status)
			break;
		rte_delay_ms(10);
	} while (rte_rdtsc() < t_end && !bm_stop);
	if (!link.link_status)
		rte_exit(EXIT_FAILURE, "bench_memif: link did not come up in 20 s (is the dataplane running?)\n");
	uint64_t next_arp = 0;
	while (!b.have_peer_mac && rte_rdtsc() < t_end && !bm_stop) {
		if (rte_rdtsc() >= next_arp) {
			bm_send_arp(&b, RTE_ARP_OP_REQUEST, NULL, b.peer_ip_be);
			next_arp = rte_rdtsc() + hz / 5;
		}
		bm_poll(&b);
	}
	if (!b.have_peer_mac)
		rte_exit(EXIT_FAILURE, "bench_memif: no ARP answer from the dataplane\n");

	/* open the connections; each sends its first request once established */
	for (unsigned int i = 0; i < b.nconns; i++) {
		struct bm_conn *c = &b.conns[i];
		c->sport = (uint16_t)(BM_SPORT_BASE + i);
		c->snd_nxt = (uint32_t)rte_rand();
		c->st = BM_ST_SYN_SENT;
		bm_send_seg(&b, c, RTE_TCP_SYN_FLAG, NULL, 0);
	}
	bm_flush(&b);

	uint64_t start = rte_rdtsc();
	uint64_t t_measure = start + (uint64_t)(warmup * (double)hz);
	uint64_t t_stop = t_measure + (uint64_t)(seconds * (double)hz);
	uint64_t busy = 0, resp0 = 0, lat0 = 0, busy0 = 0;
	bool measuring = false;
	for (;;) {
		uint64_t t0 = rte_rdtsc();
		if (!measuring && t0 >= t_measure) {
			measuring = true;
			resp0 = b.responses;
			lat0 = b.lat_sum_tsc;
			busy0 = busy;
			t_measure = t0;
			/* bench_memif.sh samples the dataplane's counters from here on */
			printf("bench_memif: measuring\n");
			fflush(stdout);
		}
		if (t0 >= t_stop || bm_stop)
			break;
		if (bm_poll(&b))
			busy += rte_rdtsc() - t0;
	}
	uint64_t t_end_meas = rte_rdtsc();
	uint64_t resp = b.responses - resp0;
	double secs = (double)(t_end_meas - t_measure) / (double)hz;
	unsigned int est = 0;
	for (unsigned int i = 0; i < b.nconns; i++) {
		if (b.conns[i].st == BM_ST_EST)
			est++;
		/* tell the server we are gone */
		if (b.conns[i].st == BM_ST_EST || b.conns[i].st == BM_ST_SYN_SENT)
			bm_send_seg(&b, &b.conns[i], RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
	}
	bm_flush(&b);

	double rps = measuring && secs > 0 ? (double)resp / secs : 0;
	if (healthz)
		printf("bench_memif: GET /healthz (%u-byte request, 3-byte body), %u keep-alive connections "
		       "(%u established at the end), %.1f s\n",
		       b.req_len, b.nconns, est, secs);
	else
		printf("bench_memif: POST /echo %u-byte bodies, %u keep-alive connections (%u established at the end), "
		       "%.1f s\n",
		       body, b.nconns, est, secs);
	printf("requests/s                        %12.0f\n", rps);
	printf("mean latency, us                  %12.1f\n",
	       resp ? (double)(b.lat_sum_tsc - lat0) / (double)resp * 1e6 / (double)hz : 0.0);
	/* the server's core spends at most this: exact when it is saturated,
	 * an upper bound otherwise (bench_memif.sh prints its empty-poll share) */
	printf("server cycles/request, at most    %12.0f   (TSC %.2f GHz / requests/s)\n", rps > 0 ? (double)hz / rps : 0.0,
	       (double)hz / 1e9);
	printf("generator busy share              %11.1f%%   (near 100%%: bound by the generator)\n",
	       measuring ? 100.0 * (double)(busy - busy0) / (double)(t_end_meas - t_measure) : 0.0);
	printf("errors: bad-status %" PRIu64 " bad-length %" PRIu64 " out-of-order %" PRIu64 " rst %" PRIu64
	       " tx-drop %" PRIu64 "\n",
	       b.bad_status, b.bad_len, b.ooo, b.rst, b.tx_drop);
	free(b.conns);
	rte_eth_dev_stop(b.port);
	rte_eth_dev_close(b.port);
	rte_eal_cleanup();
	return (resp > 0 && b.bad_status == 0 && b.bad_len == 0 && b.rst == 0) ? 0 : 1;
}
