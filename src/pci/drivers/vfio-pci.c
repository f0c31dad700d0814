/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-pci, as pci-stub, binds only what is given to it (its ID table
 * is empty: driver_override, or a topology's choice). Its probe refuses
 * what Linux's refuses (drivers/vfio/pci/vfio_pci_core.c,
 * vfio_pci_core_register_device()): a bridge (-EINVAL), a PF whose VFs
 * are enabled (-EBUSY), a function in no IOMMU group (-EINVAL, from
 * vfio_group_find_or_alloc() without no-IOMMU mode). The device it takes
 * stays in its group; the group's /dev/vfio/N character device is not
 * served.
 */
#include <errno.h>
#include <stdatomic.h>

#include "drivers.h"
#include "pci.h"

static int vfio_pci_probe(struct dl_device *dev, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	(void)data;
	if (!f || (f->flags & DL_PCI_F_BRIDGE))
		return -EINVAL;
	if (f->sriov &&
	    atomic_load_explicit(&f->sriov->numvfs, memory_order_relaxed))
		return -EBUSY;
	if (dl_pci_iommu_group(dev) < 0)
		return -EINVAL;
	return 0;
}

const struct dl_pci_driver dl_pci_vfio_driver = {
	.name = "vfio-pci",
	.probe = vfio_pci_probe,
};
