/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtio-pci: binds every function with the virtio vendor ID (0x1af4)
 * and does nothing else; a stand-in for the guest's virtio drivers.
 */
#include "drivers.h"
#include "pci.h"

static bool virtio_match(struct dl_device *dev, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	return f && f->vendor == 0x1af4;
}

static bool virtio_match_id(const struct dl_pci_id *id, void *data)
{
	return id->vendor == 0x1af4;
}

const struct dl_pci_driver dl_pci_virtio_driver = {
	.name = "virtio-pci",
	.match = virtio_match,
	.match_id = virtio_match_id,
	.enables = true,
};
