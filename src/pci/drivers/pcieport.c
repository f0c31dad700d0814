/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pcieport: the driver of every bridge (Linux's portdrv), matched by
 * header type. Binding it opens the event queue of the bridge's
 * secondary bus, unbinding it closes and drains that queue: a bridge
 * without it handles no host events (platform.c).
 */
#include "drivers.h"
#include "pci.h"
#include "platform-internal.h"

static bool port_match(struct dl_device *dev, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	return f && (f->flags & DL_PCI_F_BRIDGE);
}

/* portdrv's table: the PCI-to-PCI bridge class, normal and subtractive */
static bool port_match_id(const struct dl_pci_id *id, void *data)
{
	return id->class == 0x060400 || id->class == 0x060401;
}

static int port_probe(struct dl_device *dev, void *data)
{
	return dl_pci__bus_probe(data, dev);
}

static void port_remove(struct dl_device *dev, void *data)
{
	dl_pci__bus_remove(data, dev);
}

const struct dl_pci_driver dl_pci_port_driver = {
	.name = "pcieport",
	.match = port_match,
	.match_id = port_match_id,
	.enables = true,
	.probe = port_probe,
	.remove = port_remove,
};
