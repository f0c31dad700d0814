/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the PCI layer's unit tests, on top of the project's
 * TAP harness (tests/harness.h: one child process per test, assertions
 * that print both values).
 */
#ifndef DEVLIFE_TESTS_PCI_TEST_H
#define DEVLIFE_TESTS_PCI_TEST_H

#include <devlife/devlife.h>

#include "harness.h"

#if defined(__SANITIZE_ADDRESS__)
#define PCI_TEST_ASAN 1
int __lsan_do_recoverable_leak_check(void);
#else
#define PCI_TEST_ASAN 0
#endif

/*
 * Fail the test if anything allocated so far is unreachable. The harness
 * ends each test's child with _exit(), so LeakSanitizer's own at-exit
 * check never runs there; tests call this at their end instead.
 */
static inline void leak_check(void)
{
#if PCI_TEST_ASAN
	if (__lsan_do_recoverable_leak_check())
		FAIL_AT("LeakSanitizer found leaks (see above)");
#endif
}

/* A call that returns 0 or a negative errno must succeed. */
#define ASSERT_OK(x)                                                           \
	do {                                                                   \
		long long r__ = (long long)(x);                                \
		if (r__ < 0)                                                   \
			FAIL_AT("ASSERT_OK(%s) failed: %lld (%s)", #x, r__,    \
				strerror((int)-r__));                          \
	} while (0)

/* Two byte ranges must be equal; prints the first difference. */
#define ASSERT_MEMEQ(a, b, n)                                                  \
	do {                                                                   \
		const unsigned char *a__ = (const void *)(a);                  \
		const unsigned char *b__ = (const void *)(b);                  \
		for (size_t i__ = 0; i__ < (size_t)(n); i__++)                 \
			if (a__[i__] != b__[i__])                              \
				FAIL_AT("ASSERT_MEMEQ(%s, %s) failed at byte " \
					"0x%zx: 0x%02x vs 0x%02x",             \
					#a, #b, i__, a__[i__], b__[i__]);      \
	} while (0)

/* Skip the running test (the harness reports exit 77 as SKIP). */
#define SKIP_TEST(...)                                                         \
	do {                                                                   \
		printf("# skip: ");                                            \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
		fflush(stdout);                                                \
		_exit(77);                                                     \
	} while (0)

static inline uint32_t get_le32_test(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void put_le16_test(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* The device named @name, or NULL; the caller puts it. */
static inline struct dl_device *dev_find(struct dl_tree *tree, const char *name)
{
	struct dl_device *dev = NULL;

	return dl_device_lookup(tree, name, &dev) == 0 ? dev : NULL;
}

/* The device named @name, which must be in the tree; the caller puts it. */
static inline struct dl_device *dev_must(struct dl_tree *tree, const char *name)
{
	struct dl_device *dev = dev_find(tree, name);

	if (!dev)
		FAIL_AT("%s is not in the tree", name);
	return dev;
}

static inline bool dev_exists(struct dl_tree *tree, const char *name)
{
	struct dl_device *dev = dev_find(tree, name);

	dl_device_put(dev);
	return dev != NULL;
}

/* The name of @dev's driver, or "(none)". */
static inline const char *drv_of(struct dl_device *dev)
{
	struct dl_driver *drv = dl_device_driver(dev);

	return drv ? dl_driver_name(drv) : "(none)";
}

#endif
