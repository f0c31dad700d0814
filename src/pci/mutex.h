/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A pthread mutex that knows its holder in builds with debug checks
 * (DL_DEBUG_CHECKS), so that a function that needs a lock (one named
 * *_locked) can check that its caller holds it: dl_mutex_assert_held().
 * Without debug checks it is a bare pthread mutex, and the claims
 * compile to nothing. The core tracks its own locks (src/core/lock.c);
 * this is for the private mutexes of src/pci and src/host.
 */
#ifndef DEVLIFE_PCI_MUTEX_H
#define DEVLIFE_PCI_MUTEX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct dl_mutex {
	pthread_mutex_t m;
#ifdef DL_DEBUG_CHECKS
	atomic_uintptr_t owner; /* the holder's pthread_self(), or 0; only
				 * its holder writes it, so a thread reads
				 * its own identity here only if it holds m */
#endif
};

#ifdef DL_DEBUG_CHECKS
#define DL_MUTEX_INITIALIZER { PTHREAD_MUTEX_INITIALIZER, 0 }
#else
#define DL_MUTEX_INITIALIZER { PTHREAD_MUTEX_INITIALIZER }
#endif

_Static_assert(sizeof(pthread_t) <= sizeof(uintptr_t), "pthread_t fits a uintptr_t");

/* A broken lock claim: say which and where, then abort. */
static inline void dl_mutex__claim_failed(const char *claim, const char *file, int line)
{
	fprintf(stderr, "devlife: lock claim broken at %s:%d: %s\n", file, line, claim);
	abort();
}

/* Check @cond (a lock claim) in builds with debug checks; without them
 * @cond is not evaluated. */
#ifdef DL_DEBUG_CHECKS
#define DL_ASSERT_LOCKED(cond)                                                 \
	do {                                                                   \
		if (!(cond))                                                   \
			dl_mutex__claim_failed(#cond, __FILE__, __LINE__);     \
	} while (0)
#else
#define DL_ASSERT_LOCKED(cond) ((void)0)
#endif

/* 0, or pthread_mutex_init()'s error number. */
static inline int dl_mutex_init(struct dl_mutex *mx)
{
#ifdef DL_DEBUG_CHECKS
	atomic_init(&mx->owner, 0);
#endif
	return pthread_mutex_init(&mx->m, NULL);
}

static inline void dl_mutex_destroy(struct dl_mutex *mx)
{
	DL_ASSERT_LOCKED(atomic_load_explicit(&mx->owner, memory_order_relaxed) == 0);
	pthread_mutex_destroy(&mx->m);
}

static inline void dl_mutex_lock(struct dl_mutex *mx)
{
	pthread_mutex_lock(&mx->m);
#ifdef DL_DEBUG_CHECKS
	atomic_store_explicit(&mx->owner, (uintptr_t)pthread_self(), memory_order_relaxed);
#endif
}

static inline void dl_mutex_unlock(struct dl_mutex *mx)
{
#ifdef DL_DEBUG_CHECKS
	DL_ASSERT_LOCKED(atomic_load_explicit(&mx->owner, memory_order_relaxed) ==
			 (uintptr_t)pthread_self());
	atomic_store_explicit(&mx->owner, 0, memory_order_relaxed);
#endif
	pthread_mutex_unlock(&mx->m);
}

/* Whether this thread holds @mx; true in builds without debug checks
 * (where nothing tracks it). */
static inline bool dl_mutex_held(struct dl_mutex *mx)
{
#ifdef DL_DEBUG_CHECKS
	return atomic_load_explicit(&mx->owner, memory_order_relaxed) ==
	       (uintptr_t)pthread_self();
#else
	(void)mx;
	return true;
#endif
}

/* The claim of a *_locked function: its caller holds @mx. */
#define dl_mutex_assert_held(mx) DL_ASSERT_LOCKED(dl_mutex_held(mx))

#endif
