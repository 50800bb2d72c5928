/* Thread pool for the forward pass: the caller plus n-1 workers run one
 * task range each per parallel region. Workers spin briefly before sleeping
 * so back-to-back matmuls of a decode step do not pay a futex wake each;
 * they are meant to own their (pinned) cores. Control plane, init + step. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET (the build defines it too) */
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model-priv.h"

#define POOL_SPIN 4000 /* pause iterations (~0.1-0.5 ms) before sleeping */

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() atomic_signal_fence(memory_order_seq_cst)
#endif

struct pool_worker {
	struct mdl_pool *p;
	uint32_t tid;
	pthread_t th;
};

struct mdl_pool {
	uint32_t n_threads;
	struct pool_worker *w; /* [n_threads], w[0] unused (the caller) */
	pthread_mutex_t mu;
	pthread_cond_t cv_start; /* gen moved or stop */
	pthread_cond_t cv_done;	 /* pending reached 0 */
	/* Written by the caller under mu before gen moves, read by workers after
	 * they see the new gen (acquire). */
	mdl_task_fn *fn;
	void *arg;
	uint32_t n_items;
	bool stop;
	_Atomic uint64_t gen;	   /* parallel regions started */
	_Atomic uint32_t pending;  /* workers still running this region */
};

int mdl_pin_self(int cpu)
{
	cpu_set_t set;
	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void range(uint32_t n, uint32_t nt, uint32_t tid, uint32_t *i0, uint32_t *i1)
{
	*i0 = (uint32_t)((uint64_t)n * tid / nt);
	*i1 = (uint32_t)((uint64_t)n * (tid + 1) / nt);
}

static void *worker_main(void *arg)
{
	struct pool_worker *w = arg;
	struct mdl_pool *p = w->p;
	uint64_t seen = 0;
	for (;;) {
		uint64_t g = 0;
		for (int i = 0; i < POOL_SPIN; i++) {
			g = atomic_load_explicit(&p->gen, memory_order_acquire);
			if (g != seen)
				break;
			cpu_relax();
		}
		pthread_mutex_lock(&p->mu);
		while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen && !p->stop)
			pthread_cond_wait(&p->cv_start, &p->mu);
		bool stop = p->stop;
		mdl_task_fn *fn = p->fn;
		void *fa = p->arg;
		uint32_t n = p->n_items;
		pthread_mutex_unlock(&p->mu);
		if (stop)
			break;
		seen = g;
		uint32_t i0, i1;
		range(n, p->n_threads, w->tid, &i0, &i1);
		if (i0 < i1)
			fn(fa, i0, i1, w->tid);
		if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
			pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->cv_done);
			pthread_mutex_unlock(&p->mu);
		}
	}
	return NULL;
}

struct mdl_pool *mdl_pool_create(uint32_t n_threads, const int *cpus, char *err, size_t errlen)
{
	struct mdl_pool *p;
	uint32_t started = 0;
	if (n_threads == 0 || n_threads > 256) {
		snprintf(err, errlen, "thread count %u outside 1..256", n_threads);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->n_threads = n_threads;
	p->w = calloc(n_threads, sizeof(*p->w));
	if (!p->w) {
		snprintf(err, errlen, "out of memory");
		goto err_free;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_start, NULL);
	pthread_cond_init(&p->cv_done, NULL);
	for (uint32_t i = 1; i < n_threads; i++) {
		struct pool_worker *w = &p->w[i];
		int cpu = cpus ? cpus[i] : -1;
		w->p = p;
		w->tid = i;
		if (cpu >= CPU_SETSIZE) {
			snprintf(err, errlen, "cpu %d out of range", cpu);
			goto err_stop;
		}
		int rc = pthread_create(&w->th, NULL, worker_main, w);
		if (rc) {
			snprintf(err, errlen, "pthread_create: %s", strerror(rc));
			goto err_stop;
		}
		started++;
		if (cpu >= 0) {
			/* pinned from here so a refused core is reported to the caller */
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			rc = pthread_setaffinity_np(w->th, sizeof(set), &set);
			if (rc) {
				snprintf(err, errlen, "pin worker %u to cpu %d: %s", i, cpu, strerror(rc));
				goto err_stop;
			}
		}
	}
	return p;

err_stop:
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv_start);
	pthread_mutex_unlock(&p->mu);
	for (uint32_t i = 1; i <= started; i++)
		pthread_join(p->w[i].th, NULL);
	pthread_cond_destroy(&p->cv_done);
	pthread_cond_destroy(&p->cv_start);
	pthread_mutex_destroy(&p->mu);
	free(p->w);
err_free:
	free(p);
	return NULL;
}

void mdl_pool_destroy(struct mdl_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv_start);
	pthread_mutex_unlock(&p->mu);
	for (uint32_t i = 1; i < p->n_threads; i++)
		pthread_join(p->w[i].th, NULL);
	pthread_cond_destroy(&p->cv_done);
	pthread_cond_destroy(&p->cv_start);
	pthread_mutex_destroy(&p->mu);
	free(p->w);
	free(p);
}

uint32_t mdl_pool_n_threads(const struct mdl_pool *p)
{
	return p ? p->n_threads : 1;
}

void mdl_pool_run(struct mdl_pool *p, mdl_task_fn *fn, void *arg, uint32_t n)
{
	uint32_t i0, i1;
	if (n == 0)
		return;
	if (!p || p->n_threads == 1 || n == 1) {
		fn(arg, 0, n, 0);
		return;
	}
	atomic_store_explicit(&p->pending, p->n_threads - 1, memory_order_relaxed);
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->arg = arg;
	p->n_items = n;
	atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
	pthread_cond_broadcast(&p->cv_start);
	pthread_mutex_unlock(&p->mu);
	range(n, p->n_threads, 0, &i0, &i1);
	if (i0 < i1)
		fn(arg, i0, i1, 0);
	for (int i = 0; i < POOL_SPIN; i++) {
		if (atomic_load_explicit(&p->pending, memory_order_acquire) == 0)
			return;
		cpu_relax();
	}
	pthread_mutex_lock(&p->mu);
	while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0)
		pthread_cond_wait(&p->cv_done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}
