/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mdev-parent: the parent driver of seed 003. Its probe registers the
 * function's mediated-device types, its remove unregisters them, which
 * removes every child first (waiting for one a user is removing). Its
 * hooks run for each child: create (op_delay_us, inside the parent's
 * active section, before the child is added) and remove (op_delay_us,
 * from the child's driver remove), where it checks that the parent's
 * driver is still bound: a child's remove must never run against a
 * parent that is gone.
 */
#include <errno.h>

#include "drivers.h"
#include "mdev.h"
#include "pci.h"

static int mp_create(struct dl_device *parent, struct dl_device *child, void *data)
{
	dl_pci__sleep_us(dl_pci_func_of(parent)->params.op_delay_us);
	return 0;
}

static void mp_check_bound(struct dl_device *parent, struct dl_device *child,
			   struct dl_pci_platform *plat, const char *when)
{
	if (!dl_device_driver(parent))
		dl_pci__platform_violation(plat,
					   "mdev-parent: the remove of %s runs %s its parent "
					   "%s lost its driver",
					   dl_device_name(child), when, dl_device_name(parent));
}

static void mp_remove_child(struct dl_device *parent, struct dl_device *child,
			    void *data)
{
	mp_check_bound(parent, child, data, "after");
	dl_pci__sleep_us(dl_pci_func_of(parent)->params.op_delay_us);
	mp_check_bound(parent, child, data, "while");
}

static const struct dl_mdev_parent_ops mp_ops = {
	.create = mp_create,
	.remove = mp_remove_child,
};

static int mp_probe(struct dl_device *dev, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	if (!f || !f->mdev)
		return -ENODEV;
	dl_pci__sleep_us(f->params.probe_delay_us);
	return dl_mdev_parent_register(dev, &mp_ops, data);
}

static void mp_remove(struct dl_device *dev, void *data)
{
	dl_pci__sleep_us(dl_pci_func_of(dev)->params.remove_delay_us);
	dl_mdev_parent_unregister(dev);
}

const struct dl_pci_driver dl_pci_mdev_parent_driver = {
	.name = "mdev-parent",
	.probe = mp_probe,
	.remove = mp_remove,
};
