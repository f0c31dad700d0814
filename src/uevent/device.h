/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The uevent of a device of the PCI tree, as Linux builds it: its DEVPATH
 * under /sys, SUBSYSTEM, DRIVER while bound, and the bus's variables
 * (pci_uevent() for functions; none for mdevs, whose bus has no uevent
 * callback).
 */
#ifndef DEVLIFE_UEVENT_DEVICE_H
#define DEVLIFE_UEVENT_DEVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "uevent.h"

struct dl_device;

/**
 * dl_uevent_devpath() - "/devices/pciDDDD:BB/.../NAME"
 * @dev: a root bus, function or mdev
 * @buf: where to write it
 * @len: its size
 *
 * A VF's directory is beside its PF, under the PF's parent; an mdev's is
 * under its parent function.
 *
 * Context: any thread holding a lifetime reference on @dev (or in a tree
 * watcher called for it).
 * Return: 0, or -ENAMETOOLONG.
 */
int dl_uevent_devpath(struct dl_device *dev, char *buf, size_t len);

/**
 * dl_uevent_of() - the event Linux sends for @dev
 * @dev: a function or an mdev
 * @action: one of the kernel's actions
 * @extra: variables of the caller, added right after SUBSYSTEM (the
 *         kernel's envp_ext: MDEV_STATE, SYNTH_UUID...), or NULL
 * @with_driver: add DRIVER= when a driver is bound (dev_uevent() does
 *               whenever dev->driver is set: not in unbind and remove,
 *               which run after it was cleared)
 * @ev: the event
 *
 * Context: as dl_uevent_devpath(); in a watcher for DL_EV_BIND the
 * driver is the one just bound.
 * Return: 0; -ENOTSUP for a device Linux sends no event for (a root
 * bus: the host bridge has no bus and no class, dev_uevent_filter());
 * -EINVAL, -ENOMEM, -ENAMETOOLONG.
 */
int dl_uevent_of(struct dl_device *dev, const char *action,
		 const struct dl_uevent *extra, bool with_driver,
		 struct dl_uevent *ev);

#endif
