/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The uevent of a device of the PCI tree (device.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <devlife/devlife.h>

#include "device.h"
#include "mdev.h"
#include "pci.h"

/* Where the directory lives: a VF beside its PF (as in the view). */
static struct dl_device *sysfs_parent(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	struct dl_device *p = dl_device_parent(dev);

	if (p && f && (f->flags & DL_PCI_F_VF))
		p = dl_device_parent(p);
	return p;
}

int dl_uevent_devpath(struct dl_device *dev, char *buf, size_t len)
{
	const char *names[64];
	int depth = 0;
	size_t used;

	for (struct dl_device *d = dev; d; d = sysfs_parent(d)) {
		if (depth == 64)
			return -ENAMETOOLONG;
		names[depth++] = dl_device_name(d);
	}
	used = (size_t)snprintf(buf, len, "/devices");
	for (int i = depth - 1; i >= 0 && used < len; i--)
		used += (size_t)snprintf(buf + used, len - used, "/%s",
					 names[i]);
	return used < len ? 0 : -ENAMETOOLONG;
}

/* drivers/pci/pci-driver.c pci_uevent() */
static int pci_vars(const struct dl_pci_func *f, struct dl_uevent *ev)
{
	if (dl_uevent_add(ev, "PCI_CLASS=%04X", f->class) ||
	    dl_uevent_add(ev, "PCI_ID=%04X:%04X", f->vendor, f->device) ||
	    dl_uevent_add(ev, "PCI_SUBSYS_ID=%04X:%04X", f->subvendor,
			  f->subdevice) ||
	    dl_uevent_add(ev, "PCI_SLOT_NAME=%s", dl_device_name(f->dev)) ||
	    dl_uevent_add(ev, "MODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02X"
			  "i%02X", f->vendor, f->device, f->subvendor,
			  f->subdevice, (f->class >> 16) & 0xff,
			  (f->class >> 8) & 0xff, f->class & 0xff))
		return -ENOMEM;
	return 0;
}

int dl_uevent_of(struct dl_device *dev, const char *action,
		 const struct dl_uevent *extra, bool with_driver,
		 struct dl_uevent *ev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	struct dl_driver *drv;
	char path[1024];
	int r;

	if (!f && !dl_mdev_of(dev))
		return -ENOTSUP;
	r = dl_uevent_devpath(dev, path, sizeof(path));
	if (r < 0)
		return r;
	r = dl_uevent_init(ev, action, path, f ? "pci" : "mdev");
	if (r < 0)
		return r;
	/* kobject_uevent_env(): the caller's variables come next */
	if (extra && extra->len) {
		if (extra->len > sizeof(ev->buf) - ev->len)
			return -ENOMEM;
		memcpy(ev->buf + ev->len, extra->buf, extra->len);
		ev->len += extra->len;
		ev->nvars += extra->nvars;
	}
	/* drivers/base/core.c dev_uevent(): DRIVER, then the bus's. */
	drv = with_driver ? dl_device_driver(dev) : NULL;
	if (drv && dl_uevent_add(ev, "DRIVER=%s", dl_driver_name(drv)))
		return -ENOMEM;
	return f ? pci_vars(f, ev) : 0;
}
