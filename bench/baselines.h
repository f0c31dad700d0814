/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The baselines devlife is measured against, written the way their
 * originals are (and inlined, so they pay no call the way devlife does
 * through its shared library):
 *
 *   atomic_bias  kernfs's active count: one atomic per device with a
 *                dying bias; enter is increment-unless-negative (a CAS
 *                loop, atomic_inc_unless_negative()), exit a decrement
 *                that wakes the remover when only the bias is left.
 *   rwlock       the global-lock design: an active reference is a read
 *                hold of one tree-wide pthread_rwlock (removal takes it
 *                for writing); enter also checks the device is alive.
 *   limit        a per-thread counter reached through a pointer: what a
 *                thread-local increment costs, the floor for enter/exit.
 *   mutex_hash   a chained hash table under one pthread mutex, with a
 *                refcount get (under the mutex) and put (atomic).
 *
 * urcu_memb (liburcu's read lock/unlock, inlined) is in enter_exit.c,
 * where _LGPL_SOURCE is defined.
 */
#ifndef DEVLIFE_BENCH_BASELINES_H
#define DEVLIFE_BENCH_BASELINES_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* atomic_bias                                                       */

#define AB_DEACTIVATED_BIAS INT_MIN

struct ab_dev {
	_Alignas(64) atomic_int active;  /* starts at AB_DEACTIVATED_BIAS */
	atomic_int waiters;
};

/* The remover's wakeup; never reached in the benchmarks. */
void ab_wake(struct ab_dev *d) __attribute__((noinline, cold));

static inline void ab_init(struct ab_dev *d)
{
	atomic_init(&d->active, AB_DEACTIVATED_BIAS);
	atomic_init(&d->waiters, 0);
}

/* kernfs_activate(): drop the bias, the device becomes enterable. */
static inline void ab_activate(struct ab_dev *d)
{
	atomic_fetch_sub(&d->active, AB_DEACTIVATED_BIAS);
}

/* kernfs_get_active(): atomic_inc_unless_negative(). */
static inline bool ab_enter(struct ab_dev *d)
{
	int v = atomic_load_explicit(&d->active, memory_order_relaxed);

	do {
		if (__builtin_expect(v < 0, 0))
			return false;
	} while (!atomic_compare_exchange_weak_explicit(
		&d->active, &v, v + 1, memory_order_acquire,
		memory_order_relaxed));
	return true;
}

/* kernfs_put_active(): atomic_dec_return_release(), wake if dying. */
static inline void ab_exit(struct ab_dev *d)
{
	int v = atomic_fetch_sub_explicit(&d->active, 1,
					  memory_order_release) - 1;

	if (__builtin_expect(v == AB_DEACTIVATED_BIAS, 0))
		ab_wake(d);
}

/* ---------------------------------------------------------------- */
/* rwlock: the global-lock design                                    */

struct rw_tree {
	pthread_rwlock_t lock;
};

struct rw_dev {
	struct rw_tree *tree;
	int alive;              /* written under the write lock */
};

static inline bool rw_enter(struct rw_dev *d)
{
	pthread_rwlock_rdlock(&d->tree->lock);
	if (__builtin_expect(!d->alive, 0)) {
		pthread_rwlock_unlock(&d->tree->lock);
		return false;
	}
	return true;
}

static inline void rw_exit(struct rw_dev *d)
{
	pthread_rwlock_unlock(&d->tree->lock);
}

/* ---------------------------------------------------------------- */
/* limit: a per-thread counter through a pointer                     */

struct limit_ctr {
	_Alignas(64) volatile long count;
};

static inline bool limit_enter(struct limit_ctr *c)
{
	c->count++;
	return true;
}

static inline void limit_exit(struct limit_ctr *c)
{
	c->count--;
}

/* ---------------------------------------------------------------- */
/* mutex_hash: chained hash table, one mutex, refcounted entries     */

struct mh_dev {
	struct mh_dev *next;
	atomic_long refcount;
	uint64_t hash;
	char name[];
};

struct mh_table {
	pthread_mutex_t lock;
	size_t mask;
	struct mh_dev **buckets;
	size_t count;
};

/* FNV-1a, 64 bits. */
static inline uint64_t mh_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* nbuckets: rounded up to a power of two; load factor <= 1. */
int mh_init(struct mh_table *t, size_t expected);
/* Insert a new entry with refcount 1 (the table's). 0 or -errno. */
int mh_add(struct mh_table *t, const char *name);
/* Free the table and every entry (no references may be held). */
void mh_destroy(struct mh_table *t);

static inline struct mh_dev *mh_lookup(struct mh_table *t, const char *name)
{
	uint64_t h = mh_hash(name);
	struct mh_dev *d;

	pthread_mutex_lock(&t->lock);
	for (d = t->buckets[h & t->mask]; d; d = d->next) {
		if (d->hash == h && !strcmp(d->name, name)) {
			atomic_fetch_add_explicit(&d->refcount, 1,
						  memory_order_relaxed);
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return d;
}

void mh_release(struct mh_dev *d) __attribute__((noinline, cold));

static inline void mh_put(struct mh_dev *d)
{
	if (atomic_fetch_sub_explicit(&d->refcount, 1,
				      memory_order_release) == 1)
		mh_release(d);
}

#endif
