/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Checks of the view's claims, on in debug builds (DL_DEBUG_CHECKS, as
 * the core's): fs_assert() for invariants, and struct fs_mutex, a mutex
 * that knows its owner so that a function named *_locked can check that
 * its caller holds the lock it needs (fs_assert_held()).
 */
#ifndef DEVLIFE_FS_FSDEBUG_H
#define DEVLIFE_FS_FSDEBUG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef DL_DEBUG_CHECKS
#define FS_DEBUG 1
#else
#define FS_DEBUG 0
#endif

_Noreturn static inline void fs_assert_fail(const char *file, int line,
					    const char *what)
{
	fprintf(stderr, "devlife: %s:%d: claim broken: %s\n", file, line, what);
	abort();
}

/* In debug builds, abort with the claim if @expr is false. */
#define fs_assert(expr)                                                        \
	do {                                                                   \
		if (FS_DEBUG && __builtin_expect(!(expr), 0))                  \
			fs_assert_fail(__FILE__, __LINE__, #expr);             \
	} while (0)

struct fs_mutex {
	pthread_mutex_t m;
	atomic_uintptr_t owner;   /* debug builds: fs_self() of the holder */
};

/*
 * A value unique to the calling thread while it lives: pthread_self(),
 * the same in every file (a static thread-local inside this inline
 * function would be one variable per translation unit, so a lock taken
 * in one file would not be "held" when checked from another).
 */
static inline uintptr_t fs_self(void)
{
	return (uintptr_t)pthread_self();
}

static inline void fs_mutex_init(struct fs_mutex *mx)
{
	pthread_mutex_init(&mx->m, NULL);
	atomic_init(&mx->owner, 0);
}

static inline void fs_mutex_destroy(struct fs_mutex *mx)
{
	pthread_mutex_destroy(&mx->m);
}

static inline void fs_mutex_lock(struct fs_mutex *mx)
{
	pthread_mutex_lock(&mx->m);
	if (FS_DEBUG)
		atomic_store_explicit(&mx->owner, fs_self(),
				      memory_order_relaxed);
}

static inline void fs_mutex_unlock(struct fs_mutex *mx)
{
	if (FS_DEBUG) {
		fs_assert(atomic_load_explicit(&mx->owner,
					       memory_order_relaxed) ==
			  fs_self());
		atomic_store_explicit(&mx->owner, 0, memory_order_relaxed);
	}
	pthread_mutex_unlock(&mx->m);
}

/* Whether this thread holds @mx (debug builds; otherwise true). */
static inline bool fs_mutex_held(struct fs_mutex *mx)
{
	return !FS_DEBUG || atomic_load_explicit(&mx->owner,
						 memory_order_relaxed) ==
				    fs_self();
}

/* pthread_cond_wait() on @mx, which the caller holds. */
static inline void fs_cond_wait(pthread_cond_t *cond, struct fs_mutex *mx)
{
	fs_assert(fs_mutex_held(mx));
	if (FS_DEBUG)
		atomic_store_explicit(&mx->owner, 0, memory_order_relaxed);
	pthread_cond_wait(cond, &mx->m);
	if (FS_DEBUG)
		atomic_store_explicit(&mx->owner, fs_self(),
				      memory_order_relaxed);
}

/* pthread_cond_timedwait() on an fs_mutex: 0 or ETIMEDOUT. */
static inline int fs_cond_timedwait(pthread_cond_t *cond, struct fs_mutex *mx,
				    const struct timespec *abstime)
{
	int r;

	fs_assert(fs_mutex_held(mx));
	if (FS_DEBUG)
		atomic_store_explicit(&mx->owner, 0, memory_order_relaxed);
	r = pthread_cond_timedwait(cond, &mx->m, abstime);
	if (FS_DEBUG)
		atomic_store_explicit(&mx->owner, fs_self(),
				      memory_order_relaxed);
	return r;
}

/* For a *_locked function: the caller holds @mx. */
#define fs_assert_held(mx) fs_assert(fs_mutex_held(mx))

#endif
