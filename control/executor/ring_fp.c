/* SPDX-License-Identifier: proprietary */
/*
 * SPSC byte rings with variable-length records (layout and memory-order
 * contract in include/twospeed/exec-t.h). Runs on dataplane workers' poll
 * loops and on the executor thread: no allocation, no locks, no syscalls.
 */
#include <errno.h>
#include <string.h>

#include "ring.h"

static inline uint32_t rec_total(uint32_t len)
{
	return (uint32_t)ts_exec_align_up((uint64_t)sizeof(struct ts_exec_rec) + len,
					  TS_EXEC_REC_ALIGN);
}

/*
 * Bind a handle to a ring whose size the caller has validated (ex_seg_* do).
 * Both cached positions start from the shared ones, so either side can bind
 * at any time; the acquire loads pair with the peer's release stores.
 */
void ex_ring_init(struct ex_ring *r, struct ts_exec_ring *shm, uint8_t *data, uint32_t size)
{
	r->shm = shm;
	r->data = data;
	r->size = size;
	r->head = atomic_load_explicit(&shm->head, memory_order_acquire);
	r->tail = atomic_load_explicit(&shm->tail, memory_order_acquire);
	r->pending = 0;
}

/* Largest payload a record on this ring can carry, in bytes. */
uint32_t ex_ring_rec_max(const struct ex_ring *r)
{
	return r->size / 2 - (uint32_t)sizeof(struct ts_exec_rec);
}

/* Bytes in flight as both sides last published them (statistics only). */
uint64_t ex_ring_used(const struct ex_ring *r)
{
	uint64_t h = atomic_load_explicit(&r->shm->head, memory_order_relaxed);
	uint64_t t = atomic_load_explicit(&r->shm->tail, memory_order_relaxed);

	return h - t;
}

/*
 * Producer: make room for a record of `len` payload bytes and return where to
 * write them (contiguous: a PAD record covers the end of the data area when
 * needed). Nothing is visible to the consumer until ex_ring_commit(). Returns
 * 0, -ENOBUFS when the ring is full (normal; retry later), -EMSGSIZE when the
 * record can never fit, -EBADMSG when the consumer published an impossible
 * tail, -EINVAL when a reservation is already open.
 */
int ex_ring_reserve(struct ex_ring *r, uint16_t type, uint32_t len, void **payload)
{
	uint32_t mask = r->size - 1;
	uint32_t total, idx, contig, need;
	struct ts_exec_rec rec;

	if (r->pending != 0)
		return -EINVAL;
	if (len > ex_ring_rec_max(r))
		return -EMSGSIZE;
	total = rec_total(len);
	idx = (uint32_t)(r->head & mask);
	contig = r->size - idx;
	need = contig < total ? contig + total : total;
	if (r->size - (r->head - r->tail) < need) {
		/* acquire: the consumer finished reading what it freed */
		uint64_t t = atomic_load_explicit(&r->shm->tail, memory_order_acquire);

		if (r->head - t > r->size || t < r->tail)
			return -EBADMSG;
		r->tail = t;
		if (r->size - (r->head - r->tail) < need)
			return -ENOBUFS;
	}
	if (contig < total) {
		rec = (struct ts_exec_rec){.len = contig - (uint32_t)sizeof(rec),
					   .type = TS_EXEC_REC_PAD};
		memcpy(r->data + idx, &rec, sizeof(rec));
		r->head += contig;
		idx = 0;
	}
	rec = (struct ts_exec_rec){.len = len, .type = type};
	memcpy(r->data + idx, &rec, sizeof(rec));
	*payload = r->data + idx + sizeof(rec);
	/* A PAD is already counted in head; pending tracks the record only. */
	r->pending = total;
	return 0;
}

/* Producer: publish the reserved record (release: its bytes before the head). */
void ex_ring_commit(struct ex_ring *r)
{
	r->head += r->pending;
	r->pending = 0;
	atomic_store_explicit(&r->shm->head, r->head, memory_order_release);
}

/*
 * Producer: one record whose payload is a then b (either may be empty).
 * Returns what ex_ring_reserve() returns; nothing is written on failure.
 */
int ex_ring_push(struct ex_ring *r, uint16_t type, const void *a, uint32_t alen, const void *b,
		 uint32_t blen)
{
	void *p;
	int rc;

	if ((uint64_t)alen + blen > UINT32_MAX)
		return -EMSGSIZE;
	rc = ex_ring_reserve(r, type, alen + blen, &p);
	if (rc < 0)
		return rc;
	if (alen)
		memcpy(p, a, alen);
	if (blen)
		memcpy((uint8_t *)p + alen, b, blen);
	ex_ring_commit(r);
	return 0;
}

/*
 * Consumer: look at the oldest record without consuming it. PAD records are
 * skipped (and freed) here. The payload stays valid until ex_ring_release().
 * Returns 0, -EAGAIN when the ring is empty, -EBADMSG when the producer wrote
 * something that breaks the contract (the ring is then unusable: the caller
 * counts it and stops reading this ring).
 */
int ex_ring_peek(struct ex_ring *r, uint16_t *type, const void **payload, uint32_t *len)
{
	uint32_t mask = r->size - 1;
	struct ts_exec_rec rec;
	uint32_t idx, contig, total;

	/* Peeking again without a release re-reads and re-checks the same record. */
	r->pending = 0;
	/* The head seen at ex_ring_init() came from the peer unchecked. */
	if (r->head - r->tail > r->size)
		return -EBADMSG;
	for (;;) {
		if (r->head == r->tail) {
			/* acquire: the record bytes are visible before the head */
			uint64_t h = atomic_load_explicit(&r->shm->head, memory_order_acquire);

			if (h - r->tail > r->size)
				return -EBADMSG;
			r->head = h;
			if (h == r->tail)
				return -EAGAIN;
		}
		idx = (uint32_t)(r->tail & mask);
		contig = r->size - idx;
		memcpy(&rec, r->data + idx, sizeof(rec));
		if (rec.type != TS_EXEC_REC_PAD)
			break;
		if ((uint64_t)rec.len + sizeof(rec) != contig || r->head - r->tail < contig)
			return -EBADMSG;
		r->tail += contig;
		/* release: we are done with the padded bytes */
		atomic_store_explicit(&r->shm->tail, r->tail, memory_order_release);
	}
	if (rec.len > ex_ring_rec_max(r))
		return -EBADMSG;
	total = rec_total(rec.len);
	if (total > contig || total > r->head - r->tail)
		return -EBADMSG;
	r->pending = total;
	*type = rec.type;
	*len = rec.len;
	*payload = r->data + idx + sizeof(rec);
	return 0;
}

/* Consumer: free the peeked record (release: we are done reading its bytes). */
void ex_ring_release(struct ex_ring *r)
{
	r->tail += r->pending;
	r->pending = 0;
	atomic_store_explicit(&r->shm->tail, r->tail, memory_order_release);
}
