/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every fuzz target defines, and its check macro. */
#ifndef DEVLIFE_FUZZ_H
#define DEVLIFE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* libFuzzer's entry point: one input; returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test failed: abort, so libFuzzer saves
 * the input as a crash and the replay test fails on it. */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

#endif
