/* SPDX-License-Identifier: proprietary */
/*
 * The executor segment: create (executor side) and attach (worker side, or a
 * test driver) with full header validation. Init path only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

static bool ring_size_ok(uint32_t v)
{
	return v >= TS_EXEC_RING_MIN && v <= TS_EXEC_RING_MAX && (v & (v - 1)) == 0;
}

/*
 * Check a mapped segment of `bytes` bytes: magic (acquire, pairs with the
 * creator's release), ABI version, header sizes, ring sizes, total size and
 * every ring header. Returns 0 or -EPROTO/-EINVAL with a reason in err.
 */
int ex_seg_validate(const void *base, size_t bytes, char *err, size_t errlen)
{
	const struct ts_exec_seg_hdr *h = base;
	uint32_t magic;
	uint64_t want;

	if (bytes < sizeof(*h)) {
		snprintf(err, errlen, "segment of %zu bytes is smaller than its header", bytes);
		return -EINVAL;
	}
	magic = atomic_load_explicit(&((struct ts_exec_seg_hdr *)(uintptr_t)h)->magic,
				     memory_order_acquire);
	if (magic != TS_EXEC_MAGIC) {
		snprintf(err, errlen, "bad magic 0x%08x (want 0x%08x)", magic, TS_EXEC_MAGIC);
		return -EPROTO;
	}
	if (h->abi_version != TS_EXEC_ABI_VERSION) {
		snprintf(err, errlen, "ABI version %u, this build speaks %u", h->abi_version,
			 TS_EXEC_ABI_VERSION);
		return -EPROTO;
	}
	if (h->hdr_bytes != sizeof(*h) || h->ring_hdr_bytes != sizeof(struct ts_exec_ring)) {
		snprintf(err, errlen, "header sizes %u/%u, want %zu/%zu", h->hdr_bytes,
			 h->ring_hdr_bytes, sizeof(*h), sizeof(struct ts_exec_ring));
		return -EPROTO;
	}
	if (h->n_workers == 0 || h->n_workers > TS_EXEC_WORKERS_MAX) {
		snprintf(err, errlen, "worker count %u outside 1..%u", h->n_workers,
			 TS_EXEC_WORKERS_MAX);
		return -EINVAL;
	}
	if (!ring_size_ok(h->req_ring_bytes) || !ring_size_ok(h->resp_ring_bytes)) {
		snprintf(err, errlen, "ring sizes %u/%u are not powers of two in %u..%u",
			 h->req_ring_bytes, h->resp_ring_bytes, TS_EXEC_RING_MIN,
			 TS_EXEC_RING_MAX);
		return -EINVAL;
	}
	want = ts_exec_seg_bytes(h->n_workers, h->req_ring_bytes, h->resp_ring_bytes);
	if (h->seg_bytes != want || bytes != want) {
		snprintf(err, errlen, "segment is %zu bytes, header says %llu, layout needs %llu",
			 bytes, (unsigned long long)h->seg_bytes, (unsigned long long)want);
		return -EINVAL;
	}
	for (uint32_t w = 0; w < h->n_workers; w++) {
		for (int side = 0; side < 2; side++) {
			uint64_t off = side == 0 ? ts_exec_req_ring_off(w, h->req_ring_bytes,
									 h->resp_ring_bytes)
						 : ts_exec_resp_ring_off(w, h->req_ring_bytes,
									  h->resp_ring_bytes);
			uint32_t size = side == 0 ? h->req_ring_bytes : h->resp_ring_bytes;
			struct ts_exec_ring *r = (struct ts_exec_ring *)((uintptr_t)base + off);
			uint64_t hd = atomic_load_explicit(&r->head, memory_order_acquire);
			uint64_t tl = atomic_load_explicit(&r->tail, memory_order_acquire);

			if (r->size != size || hd - tl > size) {
				snprintf(err, errlen,
					 "worker %u %s ring: size %u (want %u), head %llu tail %llu",
					 w, side == 0 ? "request" : "response", r->size, size,
					 (unsigned long long)hd, (unsigned long long)tl);
				return -EPROTO;
			}
		}
	}
	return 0;
}

static void seg_init_layout(struct ts_exec_seg_hdr *h, uint32_t n_workers, uint32_t rq,
			    uint32_t rs)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	h->abi_version = TS_EXEC_ABI_VERSION;
	h->seg_bytes = ts_exec_seg_bytes(n_workers, rq, rs);
	h->hdr_bytes = sizeof(*h);
	h->ring_hdr_bytes = sizeof(struct ts_exec_ring);
	h->n_workers = n_workers;
	h->req_ring_bytes = rq;
	h->resp_ring_bytes = rs;
	h->generation = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
			((uint64_t)getpid() << 48);
	atomic_store_explicit(&h->exec_heartbeat_ns, 0, memory_order_relaxed);
	atomic_store_explicit(&h->exec_ready, 0, memory_order_relaxed);
	for (uint32_t w = 0; w < n_workers; w++) {
		struct ts_exec_ring *a =
			(struct ts_exec_ring *)((uint8_t *)h + ts_exec_req_ring_off(w, rq, rs));
		struct ts_exec_ring *b =
			(struct ts_exec_ring *)((uint8_t *)h + ts_exec_resp_ring_off(w, rq, rs));

		a->size = rq;
		b->size = rs;
		atomic_store_explicit(&a->head, 0, memory_order_relaxed);
		atomic_store_explicit(&a->tail, 0, memory_order_relaxed);
		atomic_store_explicit(&b->head, 0, memory_order_relaxed);
		atomic_store_explicit(&b->tail, 0, memory_order_relaxed);
	}
	/* release: everything above is visible to whoever sees the magic */
	atomic_store_explicit(&h->magic, TS_EXEC_MAGIC, memory_order_release);
}

/*
 * Create a segment: POSIX shm `name` ("/twospeed-exec"; must not exist yet)
 * or, when name is NULL or "", an anonymous memfd (attach through its fd).
 * Ring sizes are data bytes, powers of two in TS_EXEC_RING_MIN..MAX.
 * Returns 0 or -errno with a reason in err; on failure nothing is left behind.
 */
int ex_seg_create(struct ex_seg *seg, const char *name, uint32_t n_workers,
		  uint32_t req_ring_bytes, uint32_t resp_ring_bytes, char *err, size_t errlen)
{
	bool named = name != NULL && name[0] != '\0';
	uint64_t bytes;
	void *base;
	int fd, rc;

	memset(seg, 0, sizeof(*seg));
	seg->fd = -1;
	if (n_workers == 0 || n_workers > TS_EXEC_WORKERS_MAX) {
		snprintf(err, errlen, "worker count %u outside 1..%u", n_workers,
			 TS_EXEC_WORKERS_MAX);
		return -EINVAL;
	}
	if (!ring_size_ok(req_ring_bytes) || !ring_size_ok(resp_ring_bytes)) {
		snprintf(err, errlen, "ring sizes %u/%u are not powers of two in %u..%u",
			 req_ring_bytes, resp_ring_bytes, TS_EXEC_RING_MIN, TS_EXEC_RING_MAX);
		return -EINVAL;
	}
	if (named && (name[0] != '/' || strlen(name) >= sizeof(seg->name) ||
		      strchr(name + 1, '/') != NULL)) {
		snprintf(err, errlen, "shm name '%s' must be /NAME, < %zu bytes", name,
			 sizeof(seg->name));
		return -EINVAL;
	}
	bytes = ts_exec_seg_bytes(n_workers, req_ring_bytes, resp_ring_bytes);
	fd = named ? shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600)
		   : memfd_create("twospeed-exec", MFD_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s %s: %s", named ? "shm_open" : "memfd_create",
			 named ? name : "", strerror(-rc));
		return rc;
	}
	if (ftruncate(fd, (off_t)bytes) < 0) {
		rc = -errno;
		snprintf(err, errlen, "ftruncate to %llu bytes: %s", (unsigned long long)bytes,
			 strerror(-rc));
		goto close_fd;
	}
	base = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "mmap %llu bytes: %s", (unsigned long long)bytes,
			 strerror(-rc));
		goto close_fd;
	}
	seg_init_layout(base, n_workers, req_ring_bytes, resp_ring_bytes);
	seg->hdr = base;
	seg->bytes = bytes;
	seg->fd = fd;
	seg->creator = true;
	seg->n_workers = n_workers;
	seg->req_ring_bytes = req_ring_bytes;
	seg->resp_ring_bytes = resp_ring_bytes;
	if (named)
		snprintf(seg->name, sizeof(seg->name), "%s", name);
	return 0;

close_fd:
	close(fd);
	if (named)
		shm_unlink(name);
	return rc;
}

/* Attach through an open descriptor (kept open by the handle). */
int ex_seg_attach_fd(struct ex_seg *seg, int fd, char *err, size_t errlen)
{
	struct stat st;
	void *base;
	int rc;

	memset(seg, 0, sizeof(*seg));
	seg->fd = -1;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "fstat: %s", strerror(-rc));
		return rc;
	}
	if (st.st_size < (off_t)sizeof(struct ts_exec_seg_hdr) ||
	    (uint64_t)st.st_size > ts_exec_seg_bytes(TS_EXEC_WORKERS_MAX, TS_EXEC_RING_MAX,
						      TS_EXEC_RING_MAX)) {
		snprintf(err, errlen, "segment size %lld bytes is not a possible layout",
			 (long long)st.st_size);
		return -EINVAL;
	}
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "mmap: %s", strerror(-rc));
		return rc;
	}
	rc = ex_seg_validate(base, (size_t)st.st_size, err, errlen);
	if (rc < 0) {
		munmap(base, (size_t)st.st_size);
		return rc;
	}
	seg->hdr = base;
	seg->bytes = (size_t)st.st_size;
	seg->fd = fd;
	seg->n_workers = seg->hdr->n_workers;
	seg->req_ring_bytes = seg->hdr->req_ring_bytes;
	seg->resp_ring_bytes = seg->hdr->resp_ring_bytes;
	return 0;
}

/* Attach to the named segment. Returns 0 or -errno with a reason in err. */
int ex_seg_attach(struct ex_seg *seg, const char *name, char *err, size_t errlen)
{
	int fd, rc;

	fd = shm_open(name, O_RDWR, 0);
	if (fd < 0) {
		rc = -errno;
		memset(seg, 0, sizeof(*seg));
		seg->fd = -1;
		snprintf(err, errlen, "shm_open %s: %s", name, strerror(-rc));
		return rc;
	}
	rc = ex_seg_attach_fd(seg, fd, err, errlen);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return 0;
}

/* Unmap and close; the creator also unlinks a named segment. Idempotent. */
void ex_seg_close(struct ex_seg *seg)
{
	if (seg->hdr != NULL)
		munmap(seg->hdr, seg->bytes);
	seg->hdr = NULL;
	if (seg->fd >= 0)
		close(seg->fd);
	seg->fd = -1;
	if (seg->creator && seg->name[0] != '\0')
		shm_unlink(seg->name);
	seg->name[0] = '\0';
}

/* Remove a named segment left by a crashed creator. Returns 0 or -errno. */
int ex_seg_unlink(const char *name)
{
	return shm_unlink(name) < 0 ? -errno : 0;
}

uint32_t ex_seg_workers(const struct ex_seg *seg)
{
	return seg->n_workers;
}

void ex_seg_req_ring(const struct ex_seg *seg, uint32_t w, struct ex_ring *r)
{
	uint8_t *p = (uint8_t *)seg->hdr + ts_exec_req_ring_off(w, seg->req_ring_bytes,
								   seg->resp_ring_bytes);

	ex_ring_init(r, (struct ts_exec_ring *)p, p + sizeof(struct ts_exec_ring),
		     seg->req_ring_bytes);
}

void ex_seg_resp_ring(const struct ex_seg *seg, uint32_t w, struct ex_ring *r)
{
	uint8_t *p = (uint8_t *)seg->hdr + ts_exec_resp_ring_off(w, seg->req_ring_bytes,
								    seg->resp_ring_bytes);

	ex_ring_init(r, (struct ts_exec_ring *)p, p + sizeof(struct ts_exec_ring),
		     seg->resp_ring_bytes);
}
