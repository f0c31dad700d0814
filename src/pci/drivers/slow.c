/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * slow: a driver that only takes its time, to hold race windows open
 * from a shell: probe waits probe_delay_us, remove remove_delay_us,
 * online and offline op_delay_us, each under the device lock. (Config
 * accesses wait the function's delay_us whatever the driver.)
 */
#include "drivers.h"
#include "pci.h"

static int slow_probe(struct dl_device *dev, void *data)
{
	dl_pci__sleep_us(dl_pci_func_of(dev)->params.probe_delay_us);
	return 0;
}

static void slow_remove(struct dl_device *dev, void *data)
{
	dl_pci__sleep_us(dl_pci_func_of(dev)->params.remove_delay_us);
}

static int slow_online(struct dl_device *dev, void *data)
{
	dl_pci__sleep_us(dl_pci_func_of(dev)->params.op_delay_us);
	return 0;
}

const struct dl_pci_driver dl_pci_slow_driver = {
	.name = "slow",
	.probe = slow_probe,
	.remove = slow_remove,
	.online = slow_online,
	.offline = slow_online,
};
