/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocation wrappers. Every allocation of the core goes through here so
 * that the test variant can fail the Nth one and walk a constructor
 * through every failure path (libuv's replaced allocator, sqlite's
 * anomaly tests).
 */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

#ifdef DL_TEST_HOOKS
static atomic_long fail_after;   /* 0: never; n: the nth call fails */
static atomic_long alloc_count;  /* allocations attempted */

void dl__test_fail_alloc_after(long n)
{
	atomic_store(&fail_after, n);
}

long dl__test_alloc_count(void)
{
	return atomic_load(&alloc_count);
}

static bool should_fail(void)
{
	long n;

	atomic_fetch_add(&alloc_count, 1);
	n = atomic_load(&fail_after);
	if (n <= 0)
		return false;
	/* Only one thread may consume the countdown to exactly 0. */
	while (n > 0) {
		if (atomic_compare_exchange_weak(&fail_after, &n, n - 1))
			return n == 1;
	}
	return false;
}
#else
static inline bool should_fail(void)
{
	return false;
}
#endif

void *dl__malloc(size_t size)
{
	return should_fail() ? NULL : malloc(size);
}

void *dl__calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : calloc(n, size);
}

char *dl__strdup(const char *s)
{
	return should_fail() ? NULL : strdup(s);
}

_Noreturn void dl__die(const char *fmt, ...)
{
	va_list ap;

	fputs("devlife: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

#ifdef DL_TEST_HOOKS
_Atomic(dl__test_hook_fn) dl__test_hook;

void dl__test_set_hook(dl__test_hook_fn fn)
{
	atomic_store(&dl__test_hook, fn);
}
#endif
