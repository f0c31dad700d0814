/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sample drivers of the platform's "OS" (DESIGN.md, "PCI model"):
 * one per seed race, bound by name (topology key driver=NAME, or sysfs
 * driver_override), never by a default match. Each reads its settings
 * from the function's struct dl_pci_drv_params (topology keys
 * probe_delay_us, remove_delay_us, op_delay_us, probe_errno, probe_vfs).
 *
 *   sriov-pf     enables probe_vfs VFs in probe, disables them in remove,
 *                serves sriov_numvfs (seed 001's unconventional driver)
 *   mdev-parent  registers the function's mdev types in probe and
 *                unregisters them (removing every child) in remove
 *   auto-online  probe queues an asynchronous online, as virtio-ccw does
 *                (seed 004); online and offline
 *   slow         only waits: in probe, remove, online and offline
 *   faulty       probe fails with probe_errno; remove stalls for
 *                remove_delay_us; error recovery gives up
 *
 * They check the invariants the seeds are about as they run (an online
 * of a device that is going away, callbacks that overlap, a child's
 * remove without its parent's driver) and report a breach through
 * dl_pci__platform_violation(): a line on standard error and the
 * platform's `violations` counter (devlifectl stats).
 *
 * Every callback gets the platform as its data. Private to src/pci.
 */
#ifndef DEVLIFE_PCI_DRIVERS_H
#define DEVLIFE_PCI_DRIVERS_H

#include <stdint.h>

#include "platform.h"

/* The drivers every machine has: pcieport binds bridges (and opens their
 * bus's event queue), virtio-pci binds vendor 0x1af4, devlife-nic,
 * pci-stub and vfio-pci bind by name (or driver_override) only. */
extern const struct dl_pci_driver dl_pci_port_driver;
extern const struct dl_pci_driver dl_pci_virtio_driver;
extern const struct dl_pci_driver dl_pci_nic_driver;
extern const struct dl_pci_driver dl_pci_stub_driver;
extern const struct dl_pci_driver dl_pci_vfio_driver;

extern const struct dl_pci_driver dl_pci_sriov_pf_driver;
extern const struct dl_pci_driver dl_pci_mdev_parent_driver;
extern const struct dl_pci_driver dl_pci_auto_online_driver;
extern const struct dl_pci_driver dl_pci_slow_driver;
extern const struct dl_pci_driver dl_pci_faulty_driver;

/* Sleep @us microseconds (a driver's configured delay). */
void dl_pci__sleep_us(uint32_t us);

/* Report a breached invariant: stderr and the violations counter. */
void dl_pci__platform_violation(struct dl_pci_platform *plat, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The ordered queue auto-online's asynchronous onlines run on (made at
 * the first use, freed with the platform), or NULL if it cannot be made. */
struct dl_workqueue *dl_pci__platform_online_wq(struct dl_pci_platform *plat);

#endif
