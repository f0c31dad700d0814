/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The operations of each kind of node, one row a kind (the rows are
 * defined beside their functions). A new kind of directory, file or link
 * is a value of enum kind (view.h), its row here, and its functions in
 * the file that serves its part of the tree.
 */
#include "view.h"

static const struct kind_ops *const table[K_MAX] = {
	[K_ROOT] = &kind_root,
	[K_BUS] = &kind_bus,
	[K_BUSPCI] = &kind_buspci,
	[K_BUSPCI_DEVICES] = &kind_buspci_devices,
	[K_BUSPCI_DRIVERS] = &kind_buspci_drivers,
	[K_BUSPCI_RESCAN] = &kind_buspci_rescan,
	[K_DEVICES] = &kind_devices,
	[K_BUSMDEV] = &kind_busmdev,
	[K_BUSMDEV_DEVICES] = &kind_busmdev_devices,
	[K_BUSPCI_DRIVERS_PROBE] = &kind_buspci_drivers_probe,
	[K_CLASS] = &kind_class,
	[K_CLASS_MDEVBUS] = &kind_class_mdevbus,
	[K_MODULE] = &kind_module,
	[K_KERNEL] = &kind_kernel,
	[K_IOMMU_GROUPS] = &kind_iommu_groups,
	[K_BUSPCI_DRIVERS_AUTOPROBE] = &kind_buspci_drivers_autoprobe,
	[K_BUSPCI_SLOTS] = &kind_buspci_slots,
	[K_DEVDIR] = &kind_devdir,
	[K_ATTR] = &kind_attr,
	[K_LINK] = &kind_link,
	[K_BUSLINK] = &kind_buslink,
	[K_DRVDIR] = &kind_drvdir,
	[K_DRVATTR] = &kind_drvattr,
	[K_DRVLINK] = &kind_drvlink,
	[K_MTYPES] = &kind_mtypes,
	[K_MTYPE] = &kind_mtype,
	[K_MTYPE_ATTR] = &kind_mtype_attr,
	[K_MTYPE_DEVS] = &kind_mtype_devs,
	[K_MTYPE_DEVLINK] = &kind_mtype_devlink,
	[K_CLASSLINK] = &kind_classlink,
	[K_MODDIR] = &kind_moddir,
	[K_MODDRVS] = &kind_moddrvs,
	[K_MODDRVLINK] = &kind_modlink,
	[K_DRVMODLINK] = &kind_modlink,
	[K_GROUP] = &kind_group,
	[K_GROUP_ATTR] = &kind_group_attr,
	[K_GROUP_DEVS] = &kind_group_devs,
	[K_GROUP_DEVLINK] = &kind_group_devlink,
	[K_POWER] = &kind_power,
	[K_POWER_ATTR] = &kind_power_attr,
	[K_SLOT] = &kind_slot,
	[K_SLOT_ATTR] = &kind_slot_attr,
};

/* The row of @kind, or NULL if no node has that kind. */
const struct kind_ops *kind_ops_of(enum kind kind)
{
	const struct kind_ops *ops;

	if ((unsigned int)kind >= K_MAX)
		return NULL;
	ops = table[kind];
	/* Every kind has attributes; a directory lists what it looks up. */
	fs_assert(!ops || (ops->stat && !ops->lookup == !ops->list));
	return ops;
}
