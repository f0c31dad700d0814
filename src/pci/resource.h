/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The `resource` attribute (resource.c). Not part of any API. */
#ifndef DEVLIFE_PCI_RESOURCE_H
#define DEVLIFE_PCI_RESOURCE_H

#include <stddef.h>

struct dl_pci_func;

/* The text of @f's `resource` into @buf (@len bytes): its length, or
 * -ENOSPC. */
int dl_pci__show_resource(struct dl_pci_func *f, char *buf, size_t len);

#endif
