/* SPDX-License-Identifier: proprietary */
/*
 * Unit tests of the RSS model of dataplane/port: port_flow_owner() in PORT_MODE_RSS
 * must say which worker queue the NIC puts a TCP/IPv4 4-tuple on (Toeplitz hash over
 * src addr, dst addr, src port, dst port with the recorded key, then RETA[hash LSBs]),
 * because TCP picks the local port of an active open with it so the replies land on
 * the opening worker. A wrong model would not fail loudly: replies would merely be
 * handed over between workers (rss_verify) or lost.
 *
 * The references are, in order of independence:
 *  - the Microsoft RSS "Verification Suite" (IPv4 / IPv4 with TCP, the 40-byte
 *    key 6d5a56da...01fa), also printed as "RSS Verification Suite" in the Intel
 *    82599 datasheet (7.1.2.8.3) and used by DPDK's own test_thash.c;
 *  - a bit-serial Toeplitz written here from Microsoft's ComputeHash pseudocode
 *    (for each input bit, MSB first: when set, xor the left-most 32 key bits; shift
 *    the key left one bit), checked against those vectors first;
 *  - DPDK's rte_softrss() / rte_softrss_be() with a known key and RETA.
 * The extra vectors under the DPDK default key (rss_key_dpdk) were computed with an
 * independent Python implementation of the same pseudocode:
 *     def toeplitz(key, data):
 *         k = int.from_bytes(key, 'big'); kl = len(key) * 8; r = 0
 *         for i in range(len(data) * 8):
 *             if data[i // 8] >> (7 - i % 8) & 1:
 *                 r ^= (k >> (kl - 32 - i)) & 0xffffffff
 *         return r
 * (/usr/bin/python3, bytes = src addr, dst addr, sport, dport in network order).
 * No EAL is needed: the model is pure computation on a struct port filled here.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_byteorder.h>
#include <rte_thash.h>

#include "port.h"

#define IP4(a, b, c, d)                                                                            \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

/* Microsoft's verification key (also the Intel 82599 / ixgbe example key). The keys
 * are 4-byte aligned because rte_softrss() loads them as uint32_t words; a model
 * whose key is not (struct port's rss_key) trips UBSan's alignment check in
 * owner_* below, under the clang sanitizer build. */
static const _Alignas(4) uint8_t ms_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* The symmetric 0x6d5a key DPDK applications commonly program (testpmd's default
 * on many PMDs): 52 bytes, as i40e/ice hash with. */
static const _Alignas(4) uint8_t rss_key_dpdk[52] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
	0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
	0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

struct rss_vec {
	uint32_t src, dst; /* host order */
	uint16_t sport, dport;
	uint32_t hash_ip;  /* IPv4 (2-tuple) */
	uint32_t hash_tcp; /* IPv4 with TCP (4-tuple) */
};

/* Microsoft "Verifying the RSS Hash Calculation", IPv4 table. Microsoft lists the
 * destination columns first; these rows are in hash-input order (source first). */
static const struct rss_vec ms_vecs[] = {
	{IP4(66, 9, 149, 187), IP4(161, 142, 100, 80), 2794, 1766, 0x323e8fc2, 0x51ccc178},
	{IP4(199, 92, 111, 2), IP4(65, 69, 140, 83), 14230, 4739, 0xd718262a, 0xc626b0ea},
	{IP4(24, 19, 198, 95), IP4(12, 22, 207, 184), 12898, 38024, 0xd2d0a5de, 0x5c2b394a},
	{IP4(38, 27, 205, 30), IP4(209, 142, 163, 6), 48228, 2217, 0x82989176, 0xafc7327f},
	{IP4(153, 39, 163, 191), IP4(202, 188, 127, 2), 44251, 1303, 0x5d1809c5, 0x10e828a2},
};

/* Under rss_key_dpdk, computed with the Python reference in the header comment
 * (the 2-tuple column is unused: 0). The 0x6d5a key is symmetric: swapping the
 * directions gives the same hash, which the row pairs show. */
static const struct rss_vec dpdk_vecs[] = {
	{IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 80, 40000, 0, 0x07f307f3},
	{IP4(198, 18, 0, 1), IP4(198, 18, 0, 2), 40000, 80, 0, 0x07f307f3},
	{IP4(10, 0, 0, 1), IP4(192, 168, 5, 9), 443, 51234, 0, 0xd771d771},
	{IP4(192, 168, 5, 9), IP4(10, 0, 0, 1), 51234, 443, 0, 0xd771d771},
};

/* Bit-serial Toeplitz, straight from Microsoft's ComputeHash pseudocode. */
static uint32_t toeplitz_ref(const uint8_t *key, size_t keylen, const uint8_t *in, size_t n)
{
	uint32_t r = 0;

	for (size_t i = 0; i < n * 8; i++) {
		uint32_t window = 0;

		if (((in[i / 8] >> (7 - i % 8)) & 1) == 0)
			continue;
		/* the 32 key bits starting at bit i (key bits past its end read as 0) */
		for (size_t b = 0; b < 32; b++) {
			size_t kb = i + b;
			uint32_t bit = kb / 8 < keylen ? (key[kb / 8] >> (7 - kb % 8)) & 1 : 0;

			window = (window << 1) | bit;
		}
		r ^= window;
	}
	return r;
}

static uint32_t ref_tcp4(const uint8_t *key, size_t keylen, uint32_t src, uint32_t dst,
			 uint16_t sport, uint16_t dport)
{
	uint8_t in[12] = {
		(uint8_t)(src >> 24),  (uint8_t)(src >> 16), (uint8_t)(src >> 8),   (uint8_t)src,
		(uint8_t)(dst >> 24),  (uint8_t)(dst >> 16), (uint8_t)(dst >> 8),   (uint8_t)dst,
		(uint8_t)(sport >> 8), (uint8_t)sport,	     (uint8_t)(dport >> 8), (uint8_t)dport,
	};

	return toeplitz_ref(key, keylen, in, sizeof(in));
}

static uint32_t ref_ip4(const uint8_t *key, size_t keylen, uint32_t src, uint32_t dst)
{
	uint8_t in[8] = {
		(uint8_t)(src >> 24), (uint8_t)(src >> 16), (uint8_t)(src >> 8), (uint8_t)src,
		(uint8_t)(dst >> 24), (uint8_t)(dst >> 16), (uint8_t)(dst >> 8), (uint8_t)dst,
	};

	return toeplitz_ref(key, keylen, in, sizeof(in));
}

/* Deterministic tuples (xorshift64*), so a failure reproduces. */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint32_t rng32(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

/* A port as port_setup leaves it in RSS mode: key, RETA of reta_size entries. */
static struct port rss_port;

static void port_init_rss(const uint8_t *key, uint8_t keylen, uint16_t nworkers, uint16_t reta_size)
{
	memset(&rss_port, 0, sizeof(rss_port));
	rss_port.mode = PORT_MODE_RSS;
	rss_port.nworkers = nworkers;
	rss_port.nb_rxq = nworkers;
	memcpy(rss_port.rss_key, key, keylen);
	rss_port.rss_key_len = keylen;
	rss_port.reta_size = reta_size;
	for (uint16_t i = 0; i < reta_size; i++)
		rss_port.reta[i] = (uint16_t)(i % nworkers);
}

/* What a NIC does with the hash: RETA indexed by its low bits (power-of-2 table). */
static uint16_t nic_queue(uint32_t hash)
{
	return rss_port.reta[hash & (uint32_t)(rss_port.reta_size - 1)];
}

static uint16_t owner(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	return port_flow_owner(&rss_port, rte_cpu_to_be_32(src), rte_cpu_to_be_32(dst), sport,
			       dport);
}

/* The bit-serial reference reproduces the published vectors (so it can judge). */
static void test_reference_ms_vectors(void)
{
	for (size_t i = 0; i < sizeof(ms_vecs) / sizeof(ms_vecs[0]); i++) {
		const struct rss_vec *v = &ms_vecs[i];

		CU_ASSERT_EQUAL(ref_ip4(ms_key, sizeof(ms_key), v->src, v->dst), v->hash_ip);
		CU_ASSERT_EQUAL(
			ref_tcp4(ms_key, sizeof(ms_key), v->src, v->dst, v->sport, v->dport),
			v->hash_tcp);
	}
	for (size_t i = 0; i < sizeof(dpdk_vecs) / sizeof(dpdk_vecs[0]); i++) {
		const struct rss_vec *v = &dpdk_vecs[i];

		CU_ASSERT_EQUAL(ref_tcp4(rss_key_dpdk, sizeof(rss_key_dpdk), v->src, v->dst,
					 v->sport, v->dport),
				v->hash_tcp);
	}
}

/* DPDK's rte_softrss (the function the model uses) with the tuple laid out as the
 * model lays it out, and rte_softrss_be with the converted key, on the vectors. */
static void test_softrss_ms_vectors(void)
{
	_Alignas(4) uint8_t key_be[sizeof(ms_key)];

	rte_convert_rss_key((const uint32_t *)(const void *)ms_key, (uint32_t *)(void *)key_be,
			    sizeof(ms_key));
	for (size_t i = 0; i < sizeof(ms_vecs) / sizeof(ms_vecs[0]); i++) {
		const struct rss_vec *v = &ms_vecs[i];
		uint32_t t[3] = {v->src, v->dst, ((uint32_t)v->sport << 16) | v->dport};

		CU_ASSERT_EQUAL(rte_softrss(t, 2, ms_key), v->hash_ip);
		CU_ASSERT_EQUAL(rte_softrss(t, 3, ms_key), v->hash_tcp);
		CU_ASSERT_EQUAL(rte_softrss_be(t, 3, key_be), v->hash_tcp);
	}
}

/* port_flow_owner on the vectors: the worker is RETA[hash LSBs], for several RETA
 * sizes and worker counts, with a RETA that is not the identity pattern too. */
static void test_owner_ms_vectors(void)
{
	static const uint16_t sizes[] = {64, 128, 512};
	static const uint16_t workers[] = {1, 2, 3, 4, 8};

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (size_t w = 0; w < sizeof(workers) / sizeof(workers[0]); w++) {
			port_init_rss(ms_key, sizeof(ms_key), workers[w], sizes[s]);
			for (size_t i = 0; i < sizeof(ms_vecs) / sizeof(ms_vecs[0]); i++) {
				const struct rss_vec *v = &ms_vecs[i];

				CU_ASSERT_EQUAL(owner(v->src, v->dst, v->sport, v->dport),
						nic_queue(v->hash_tcp));
			}
		}
	}
	/* a RETA the driver reported in another order: entry i -> (i * 7 + 3) % 4 */
	port_init_rss(ms_key, sizeof(ms_key), 4, 128);
	for (uint16_t i = 0; i < 128; i++)
		rss_port.reta[i] = (uint16_t)((i * 7 + 3) % 4);
	for (size_t i = 0; i < sizeof(ms_vecs) / sizeof(ms_vecs[0]); i++) {
		const struct rss_vec *v = &ms_vecs[i];
		uint16_t want = (uint16_t)(((v->hash_tcp & 127) * 7 + 3) % 4);

		CU_ASSERT_EQUAL(owner(v->src, v->dst, v->sport, v->dport), want);
	}
	/* spelled out for the first vector: 0x51ccc178 & 127 = 120 -> queue 120 % 4 = 0,
	 * 0x51ccc178 & 63 = 56 -> 56 % 3 = 2 */
	port_init_rss(ms_key, sizeof(ms_key), 4, 128);
	CU_ASSERT_EQUAL(owner(ms_vecs[0].src, ms_vecs[0].dst, 2794, 1766), 0);
	port_init_rss(ms_key, sizeof(ms_key), 3, 64);
	CU_ASSERT_EQUAL(owner(ms_vecs[0].src, ms_vecs[0].dst, 2794, 1766), 2);
}

/* Many tuples, two keys (40-byte MS, 52-byte DPDK) and a random one: the model
 * agrees with the bit-serial reference and with rte_softrss, and the worker is the
 * RETA entry of the hash's low bits. */
static void test_owner_random_tuples(void)
{
	_Alignas(4) uint8_t rnd_key[52];
	const struct {
		const uint8_t *key;
		uint8_t len;
	} keys[] = {{ms_key, sizeof(ms_key)},
		    {rss_key_dpdk, sizeof(rss_key_dpdk)},
		    {rnd_key, sizeof(rnd_key)}};
	unsigned int bad = 0;

	for (size_t i = 0; i < sizeof(rnd_key); i++)
		rnd_key[i] = (uint8_t)rng32();
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		port_init_rss(keys[k].key, keys[k].len, 4, 512);
		for (unsigned int i = 0; i < 20000; i++) {
			uint32_t src = rng32(), dst = rng32(), pp = rng32();
			uint16_t sport = (uint16_t)(pp >> 16), dport = (uint16_t)pp;
			uint32_t h = ref_tcp4(keys[k].key, keys[k].len, src, dst, sport, dport);
			uint32_t t[3] = {src, dst, pp};

			if (rte_softrss(t, 3, keys[k].key) != h ||
			    owner(src, dst, sport, dport) != nic_queue(h))
				bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* The symmetric-key vectors: the reply and the request of a flow hash alike. */
static void test_dpdk_key_vectors(void)
{
	port_init_rss(rss_key_dpdk, sizeof(rss_key_dpdk), 2, 128);
	for (size_t i = 0; i < sizeof(dpdk_vecs) / sizeof(dpdk_vecs[0]); i++) {
		const struct rss_vec *v = &dpdk_vecs[i];

		CU_ASSERT_EQUAL(owner(v->src, v->dst, v->sport, v->dport), nic_queue(v->hash_tcp));
	}
}

/*
 * What TCP does with the model (dataplane/app's port_ok): for an active open from
 * local L:lport to remote R:rport it keeps an lport only when the reply tuple
 * (R, L, rport, lport) is owned by its worker. Every kept port must land on that
 * worker by the reference, and each worker must find ports (roughly 1/n of them).
 */
static void test_active_open_ports(void)
{
	const uint32_t local = IP4(198, 18, 0, 1), remote = IP4(198, 18, 0, 2);
	const uint16_t rport = 8080, nworkers = 4;
	unsigned int kept[4] = {0}, wrong = 0;

	port_init_rss(ms_key, sizeof(ms_key), nworkers, 128);
	for (uint32_t lport = 1024; lport <= 65535; lport++) {
		for (uint16_t w = 0; w < nworkers; w++) {
			uint32_t h;

			if (owner(remote, local, rport, (uint16_t)lport) != w)
				continue;
			kept[w]++;
			h = ref_tcp4(ms_key, sizeof(ms_key), remote, local, rport, (uint16_t)lport);
			if (nic_queue(h) != w)
				wrong++;
		}
	}
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(kept[0] + kept[1] + kept[2] + kept[3], 65535 - 1024 + 1);
	for (uint16_t w = 0; w < nworkers; w++) {
		/* 64512 ports over 4 workers: 16128 each when balanced; allow +-25 % */
		CU_ASSERT(kept[w] > 12096 && kept[w] < 20160);
	}
}

/* A RETA entry naming a queue no worker polls cannot be owned: worker 0. One
 * worker: everything is worker 0. */
static void test_owner_bounds(void)
{
	port_init_rss(ms_key, sizeof(ms_key), 2, 128);
	for (uint16_t i = 0; i < 128; i++)
		rss_port.reta[i] = 5;
	for (size_t i = 0; i < sizeof(ms_vecs) / sizeof(ms_vecs[0]); i++)
		CU_ASSERT_EQUAL(
			owner(ms_vecs[i].src, ms_vecs[i].dst, ms_vecs[i].sport, ms_vecs[i].dport),
			0);
	port_init_rss(ms_key, sizeof(ms_key), 1, 128);
	for (unsigned int i = 0; i < 1000; i++) {
		uint32_t pp = rng32();

		CU_ASSERT_EQUAL(owner(rng32(), rng32(), (uint16_t)(pp >> 16), (uint16_t)pp), 0);
	}
}

int main(void)
{
	CU_pSuite s;
	unsigned int fails;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("rss", NULL, NULL);
	if (s == NULL || !CU_add_test(s, "reference_ms_vectors", test_reference_ms_vectors) ||
	    !CU_add_test(s, "softrss_ms_vectors", test_softrss_ms_vectors) ||
	    !CU_add_test(s, "owner_ms_vectors", test_owner_ms_vectors) ||
	    !CU_add_test(s, "owner_random_tuples", test_owner_random_tuples) ||
	    !CU_add_test(s, "dpdk_key_vectors", test_dpdk_key_vectors) ||
	    !CU_add_test(s, "active_open_ports", test_active_open_ports) ||
	    !CU_add_test(s, "owner_bounds", test_owner_bounds)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
		CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return fails == 0 ? 0 : 1;
}
