/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal helpers shared by the topology parsers (topology.c, import.c)
 * and the instantiation (instantiate.c). Not part of any API.
 */
#ifndef DEVLIFE_PCI_TOPO_INTERNAL_H
#define DEVLIFE_PCI_TOPO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topology.h"

/* Fill @err with "SOURCE:LINE: message" (no line if 0); returns -EINVAL. */
int dl_pci__fail(struct dl_pci_error *err, const char *source, unsigned int line,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A cursor over the lines of a buffer; @no is the number of the line
 * last returned (1-based). */
struct dl_pci__lines {
	const char *p;
	const char *end;
	unsigned int no;
};

/* The next line without its "\n" or "\r\n"; false at the end. */
bool dl_pci__next_line(struct dl_pci__lines *l, const char **ret_s, size_t *ret_n);

/* A number: decimal or 0x-hex; with @hex, hex with 0x optional. Rejects
 * empty strings, stray characters and overflow. */
bool dl_pci__parse_u64(const char *s, size_t n, bool hex, uint64_t *ret);

/* A size: a number with an optional K, M, G or T suffix (binary). */
bool dl_pci__parse_size(const char *s, size_t n, uint64_t *ret);

/* One topology-file line: 1 blank/comment, 0 device (in @s, which the
 * caller must clear with dl_pci__spec_clear()), or -errno. */
int dl_pci__parse_topology_line(const char *p, size_t n, const char *src,
				unsigned int line, struct dl_pci_spec *s,
				struct dl_pci_error *err);

/* Free what a spec owns (strings, buffers) and NULL the pointers. */
void dl_pci__spec_clear(struct dl_pci_spec *s);

/* Read a whole file ("-": standard input), at most 64 MiB. */
int dl_pci__read_all(const char *path, char **ret_buf, size_t *ret_len);

#endif
