/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sriov-pf: the PF driver of seed 001 that enables its VFs in probe and
 * disables them in remove, so VFs are added and removed from inside
 * driver callbacks. The core calls probe and remove with the PF's device
 * lock held and never with the topology lock, on every path (bind, add,
 * rescan, sysfs remove, host eject, error recovery, unbind, the parent's
 * removal), so adding and removing the VFs from here cannot deadlock.
 * It also serves sriov_numvfs (sriov_configure).
 */
#include <errno.h>
#include <stdatomic.h>

#include "drivers.h"
#include "pci.h"

static int sriov_pf_probe(struct dl_device *dev, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	if (!f || !f->sriov)
		return -ENODEV;
	dl_pci__sleep_us(f->params.probe_delay_us);
	/* VFs left enabled (by the topology's numvfs=) are adopted. */
	if (f->params.probe_vfs &&
	    !atomic_load_explicit(&f->sriov->numvfs, memory_order_relaxed))
		return dl_pci_sriov_set_numvfs(dev, f->params.probe_vfs);
	return 0;
}

static void sriov_pf_remove(struct dl_device *dev, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	dl_pci__sleep_us(f->params.remove_delay_us);
	if (atomic_load_explicit(&f->sriov->numvfs, memory_order_relaxed))
		(void)dl_pci_sriov_set_numvfs(dev, 0);
}

static int sriov_pf_configure(struct dl_device *dev, unsigned int numvfs, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	int r;

	dl_pci__sleep_us(f->params.op_delay_us);
	r = dl_pci_sriov_set_numvfs(dev, numvfs);
	return r < 0 ? r : (int)numvfs;
}

const struct dl_pci_driver dl_pci_sriov_pf_driver = {
	.name = "sriov-pf",
	.probe = sriov_pf_probe,
	.remove = sriov_pf_remove,
	.sriov_configure = sriov_pf_configure,
};
