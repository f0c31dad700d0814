/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the two importers (import-lspci.c, import-sysfs.c) share: reading
 * a function's identity from its raw config bytes, folding enabled VFs
 * into their PF, and the notes an import leaves where its source was
 * ambiguous. Not part of any API.
 */
#ifndef DEVLIFE_PCI_IMPORT_H
#define DEVLIFE_PCI_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topology.h"

/* Offset of standard capability @id in @b (@len bytes), or 0. */
unsigned int dl_pci__raw_find_cap(const uint8_t *b, size_t len, unsigned int id);

/* Offset of extended capability @id in @b (4096 bytes), or 0. */
unsigned int dl_pci__raw_find_ext_cap(const uint8_t *b, size_t len, unsigned int id);

/* Fill the identification, type, buses, SR-IOV and irq of @s from its
 * config bytes (s->config, s->config_len). */
void dl_pci__spec_from_config(struct dl_pci_spec *s);

/*
 * @vf_of[i] is the index of the PF whose enabled VF spec i is, or -1.
 * The first VF of each PF becomes its VF template; then the VFs are
 * dropped. A function reading vendor 0xffff that is no VF is refused.
 */
int dl_pci__fold_vfs(struct dl_pci_desc *d, const long *vf_of, struct dl_pci_error *err);

/*
 * Mark in @vf_of the functions of @d at the routing ID of an enabled VF
 * of a PF in @d. A PF none of whose VFs is in @d (a partial dump) keeps
 * its SR-IOV registers but gets no VFs, with a note.
 */
int dl_pci__find_vfs_by_rid(struct dl_pci_desc *d, long *vf_of);

/*
 * An import has a hot-plug slot only where its source had one (a dump
 * of config space does not say; the Slot Capabilities only say that one
 * could be registered): dl_pci__import_slot_at() marks the root or
 * downstream port whose secondary bus is @domain:@bus (a slot's address
 * in sysfs), dl_pci__import_slots() the port above each function lspci
 * printed a "Physical Slot" for.
 */
void dl_pci__import_slot_at(struct dl_pci_desc *d, uint32_t domain, unsigned int bus);
void dl_pci__import_slots(struct dl_pci_desc *d);

/* Append "SOURCE:LINE: note" (no LINE if 0) to d->notes; 0 or -ENOMEM. */
int dl_pci__note(struct dl_pci_desc *d, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
