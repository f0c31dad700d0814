/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the topology-file parser (topology-parse.c) and its key parsers
 * (topology-keys.c) share: tokens, the line being parsed, the keys. Not
 * part of any API.
 */
#ifndef DEVLIFE_PCI_TOPOLOGY_PARSE_INTERNAL_H
#define DEVLIFE_PCI_TOPOLOGY_PARSE_INTERNAL_H

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "topo-internal.h"
#include "topology.h"

struct tok {
	const char *s;
	size_t n;
};

static inline bool tok_eq(struct tok t, const char *lit)
{
	return strlen(lit) == t.n && !memcmp(t.s, lit, t.n);
}

/* Split "a,b,c" (no empty items). Returns the number or -1. */
static inline int split_commas(struct tok v, struct tok *items, int max)
{
	int k = 0;
	const char *p = v.s, *end = v.s + v.n;

	while (p <= end) {
		const char *c = memchr(p, ',', (size_t)(end - p));

		if (!c)
			c = end;
		if (c == p || k == max)
			return -1;
		items[k].s = p;
		items[k].n = (size_t)(c - p);
		k++;
		p = c + 1;
	}
	return k;
}

static inline bool name_ok(struct tok t, size_t max)
{
	if (!t.n || t.n > max)
		return false;
	for (size_t i = 0; i < t.n; i++) {
		unsigned char c = (unsigned char)t.s[i];

		if (!isalnum(c) && c != '_' && c != '-' && c != '.')
			return false;
	}
	return true;
}

static inline char *tokdup(struct tok t)
{
	char *s = malloc(t.n + 1);

	if (s) {
		memcpy(s, t.s, t.n);
		s[t.n] = '\0';
	}
	return s;
}

struct line_ctx {
	const char *src;
	unsigned int line;
	struct dl_pci_error *err;
	struct dl_pci_spec *s;
	bool pcie_given;             /* pcie= was on the line */
};

#define LFAIL(ctx, ...) dl_pci__fail((ctx)->err, (ctx)->src, (ctx)->line, __VA_ARGS__)

/* The keys of a topology line (topology-keys.c names and parses them). */
enum {
	K_VENDOR, K_DEVICE, K_SUBVENDOR, K_SUBDEVICE, K_CLASS, K_REV, K_TYPE,
	K_SECBUS, K_SUBBUS, K_BAR0, K_BAR5 = K_BAR0 + 5, K_VFBAR0,
	K_VFBAR5 = K_VFBAR0 + 5, K_ROM, K_PCIE, K_LINK, K_SLOT, K_MSI, K_MSIX,
	K_SRIOV, K_DRIVER, K_DELAY, K_MDEV, K_NUMA, K_IRQ, K_PROBE_DELAY,
	K_REMOVE_DELAY, K_OP_DELAY, K_PROBE_ERRNO, K_PROBE_VFS, K_ACS, K_IOMMU_GROUP,
	K_COUNT
};

/* The key named @key, or K_COUNT if there is none. */
unsigned int dl_pci__topology_key(struct tok key);

/* Parse value @v of key @k (named @key) into ctx->s; 0 or -errno with
 * ctx->err filled. */
int dl_pci__parse_key(struct line_ctx *ctx, unsigned int k, struct tok key, struct tok v);

#endif
