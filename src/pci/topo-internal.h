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

struct dl_device;

/* Whether @s is a bridge of any kind (it has a secondary bus). */
static inline bool dl_pci__spec_is_bridge(const struct dl_pci_spec *s)
{
	return s->type != DL_PCI_SPEC_ENDPOINT;
}

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

/* Fill @order with 0..d->n-1 sorted by domain, bus and devfn: parents
 * (lower buses) before their children, as instantiation adds them. */
void dl_pci__desc_order(const struct dl_pci_desc *d, size_t *order);

/*
 * Build the function of spec @idx of the validated @d and add it under
 * @parent (its root bus or bridge, which the caller holds a reference
 * on), exactly as dl_pci_desc_instantiate() does: config from the spec's
 * template, attributes, numvfs VFs enabled, the named driver bound.
 * Returns 0 with the caller's reference in *@ret; or -errno with @err
 * filled. If the device was added but enabling its VFs failed, the error
 * is returned and *@ret is still set (the device stays in the tree).
 */
int dl_pci__spec_add(const struct dl_pci_desc *d, size_t idx, struct dl_tree *tree,
		     struct dl_device *parent, struct dl_pci_error *err,
		     struct dl_device **ret);

/*
 * Give spec @idx of the validated @d (a synthesized function that was
 * just added to it) BAR, ROM and VF BAR addresses above everything the
 * other specs use, so that the addresses of functions already built stay
 * what they were; a new bridge gets closed windows. Returns 0 or -EINVAL
 * (no address space left, @err says).
 */
int dl_pci__desc_place_new(struct dl_pci_desc *d, size_t idx, struct dl_pci_error *err);

/*
 * Assign BAR, ROM, VF BAR addresses and bridge windows to every
 * synthesized function of @d, root bus by root bus (@order as
 * dl_pci__desc_order() fills it; parents must be linked). The last pass
 * of validation. Returns 0 or -EINVAL (no address space left, @err says).
 */
int dl_pci__desc_assign_addresses(struct dl_pci_desc *d, const size_t *order,
				  struct dl_pci_error *err);

#endif
