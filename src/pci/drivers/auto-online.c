/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * auto-online: the driver of seed 004 (virtio-ccw). Its probe does not
 * online the device: it queues the online on an ordered workqueue and
 * returns. The work item pins the device and runs only while the device
 * can be entered; dl_device_online() enters the device and takes its
 * device lock, so an online never runs on a device whose removal has
 * begun, and online, offline and remove never overlap. The callbacks
 * check exactly that and report a breach.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "drivers.h"
#include "pci.h"

/* Per bound device, freed in remove. */
struct ao_dev {
	atomic_int inside; /* callbacks running on the device */
};

static void ao_enter(struct dl_device *dev, struct dl_pci_platform *plat, const char *what,
		     bool is_remove)
{
	struct ao_dev *ao = dl_device_get_drvdata(dev);
	enum dl_device_state st = dl_device_state(dev);

	/* online and offline only on a LIVE device; remove on a LIVE one
	 * (unbind) or one being removed, never on a dead one */
	if (st == DL_STATE_DEAD || (!is_remove && st != DL_STATE_LIVE))
		dl_pci__platform_violation(plat, "auto-online: %s of %s while it is %s", what,
					   dl_device_name(dev),
					   st == DL_STATE_DEAD ? "dead" : "being removed");
	if (!ao) {
		dl_pci__platform_violation(plat, "auto-online: %s of %s, which has no driver",
					   what, dl_device_name(dev));
		return;
	}
	if (atomic_fetch_add(&ao->inside, 1) != 0)
		dl_pci__platform_violation(plat, "auto-online: %s of %s overlaps another callback",
					   what, dl_device_name(dev));
}

static void ao_leave(struct dl_device *dev)
{
	struct ao_dev *ao = dl_device_get_drvdata(dev);

	if (ao)
		atomic_fetch_sub(&ao->inside, 1);
}

static void ao_online_work(struct dl_device *dev, void *arg)
{
	/* -ENODEV once removal has begun: the online never happens. */
	(void)dl_device_online(dev);
}

static int ao_probe(struct dl_device *dev, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	struct dl_workqueue *wq = dl_pci__platform_online_wq(data);
	struct ao_dev *ao;
	int r;

	dl_pci__sleep_us(f->params.probe_delay_us);
	if (!wq)
		return -ENOMEM;
	ao = calloc(1, sizeof(*ao));
	if (!ao)
		return -ENOMEM;
	dl_device_set_drvdata(dev, ao);
	r = dl_work_queue(wq, dev, ao_online_work, NULL, NULL);
	if (r < 0) {
		dl_device_set_drvdata(dev, NULL);
		free(ao);
	}
	return r;
}

static void ao_remove(struct dl_device *dev, void *data)
{
	struct ao_dev *ao = dl_device_get_drvdata(dev);

	ao_enter(dev, data, "remove", true);
	dl_pci__sleep_us(dl_pci_func_of(dev)->params.remove_delay_us);
	ao_leave(dev);
	dl_device_set_drvdata(dev, NULL);
	free(ao);
}

static int ao_online(struct dl_device *dev, void *data)
{
	ao_enter(dev, data, "online", false);
	dl_pci__sleep_us(dl_pci_func_of(dev)->params.op_delay_us);
	ao_leave(dev);
	return 0;
}

static int ao_offline(struct dl_device *dev, void *data)
{
	ao_enter(dev, data, "offline", false);
	dl_pci__sleep_us(dl_pci_func_of(dev)->params.op_delay_us);
	ao_leave(dev);
	return 0;
}

const struct dl_pci_driver dl_pci_auto_online_driver = {
	.name = "auto-online",
	.probe = ao_probe,
	.remove = ao_remove,
	.online = ao_online,
	.offline = ao_offline,
};
