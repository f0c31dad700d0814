/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devlife-nic: a network PF driver bound by name. It serves
 * sriov_numvfs (after op_delay_us) and disables its VFs when it is
 * unbound.
 */
#include <errno.h>
#include <stdatomic.h>

#include "drivers.h"
#include "pci.h"

/* A PF driver lets go of its VFs when it is unbound, as Linux's do with
 * pci_disable_sriov() in their remove. */
static void nic_remove(struct dl_device *dev, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	if (f && f->sriov &&
	    atomic_load_explicit(&f->sriov->numvfs, memory_order_relaxed))
		(void)dl_pci_sriov_set_numvfs(dev, 0);
}

static int nic_sriov_configure(struct dl_device *dev, unsigned int numvfs, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	int r;

	if (!f || !f->sriov)
		return -ENODEV;
	dl_pci__sleep_us(f->params.op_delay_us);
	r = dl_pci_sriov_set_numvfs(dev, numvfs);
	return r < 0 ? r : (int)numvfs;
}

const struct dl_pci_driver dl_pci_nic_driver = {
	.name = "devlife-nic",
	.enables = true,
	.remove = nic_remove,
	.sriov_configure = nic_sriov_configure,
};
