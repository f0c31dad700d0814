/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The platform's private state, shared by its files: platform.c
 * (creation, drivers, driver_override, bus queues), platform-hardware.c (the
 * hardware model and rescans), platform-host.c (host events on the bus
 * queues) and platform-print.c (the tree as text). Not part of any API.
 *
 * Locks (all leaves with respect to the core, in this order):
 *   scan_lock  serializes whatever changes the hardware model or adds
 *              functions from it (rescan, host add, marking functions
 *              absent). Held across dl_device_add() (so across probes),
 *              never across a removal or anything that waits for a
 *              drain: a removal may be waiting for a thread that wants
 *              scan_lock.
 *   hw_lock    desc and present: changed with both locks held, read
 *              with either. Never held across a call into the core.
 *   bus_lock   the bus queues. Held while queuing an event, which is
 *              the barrier between producers and a bus going away.
 *   drv_lock   the list of platform drivers.
 *   override_lock  driver_override strings (file-wide: the API has no
 *              platform argument).
 */
#ifndef DEVLIFE_PCI_PLATFORM_INTERNAL_H
#define DEVLIFE_PCI_PLATFORM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <devlife/devlife.h>

#include "mutex.h"
#include "platform.h"
#include "topology.h"

/* One driver registered through the platform. The core sees @ops, with
 * the pdrv itself as the driver's data. */
struct pdrv {
	struct pdrv *next;               /* plat->drv_lock */
	struct dl_pci_platform *plat;    /* written once */
	const struct dl_pci_driver *pci; /* written once */
	void *data;                      /* written once */
	struct dl_driver_ops ops;        /* written once, before registration */
	struct dl_driver *handle;        /* written once, after registration */
	struct dynid *dynids;            /* platform-ids.c's lock */
};

/* platform-ids.c */
struct dl_pci_id;
struct dl_pci_func;
bool dl_pci__dynid_match(struct pdrv *pd, const struct dl_pci_id *dev);
void dl_pci__func_id(struct dl_pci_func *f, struct dl_pci_id *ret);
void dl_pci__dynids_free(struct pdrv *pd);
int dl_pci__driver_attach(struct dl_pci_platform *plat, struct pdrv *pd);

/*
 * The event queue of one bus. It exists from the probe of the bus's
 * owner (a root bus device or a bridge) by the platform's bus driver to
 * that driver's remove, which unlinks it under bus_lock (no producer can
 * find it any more, and every producer that found it has finished
 * queuing), then closes, drains and frees the queue: the order DESIGN.md
 * asks of a bus that goes away. Removal of the owner has already
 * cancelled what had not started by then.
 */
struct busq {
	struct busq *next;         /* plat->bus_lock */
	struct dl_device *dev;     /* the owner; no reference: the entry
				    * dies in the owner's driver remove */
	struct dl_workqueue *wq;   /* bus_lock; made at the first event */
	char name[24];             /* written once */
};

struct dl_pci_platform {
	struct dl_tree *tree;      /* written once */
	struct dl_mutex scan_lock;
	struct dl_mutex hw_lock;
	struct dl_pci_desc *desc;  /* scan_lock + hw_lock to change */
	bool *present;             /* per spec; scan_lock + hw_lock to change */
	pthread_mutex_t bus_lock;
	struct busq *buses;        /* bus_lock */
	pthread_mutex_t drv_lock;
	struct pdrv *drivers;      /* drv_lock */
	struct dl_driver *root_drv; /* written once */
	struct dl_driver *mdev_drv; /* written once */
	struct dl_workqueue *online_wq; /* drv_lock; made at the first use */
	atomic_uint_fast64_t violations;
};

/* platform.c */

/* Open the event queue of the bus @dev owns (a root bus device or a
 * bridge): the probe of the platform's bus drivers. */
int dl_pci__bus_probe(struct dl_pci_platform *plat, struct dl_device *dev);

/* Close, drain and free the event queue of the bus @dev owns. */
void dl_pci__bus_remove(struct dl_pci_platform *plat, struct dl_device *dev);

/* The platform driver behind a core driver handle, or NULL. */
struct pdrv *dl_pci__pdrv_of(struct dl_pci_platform *plat, struct dl_driver *drv);

/* A dl_tree_for_each_root() / dl_device_for_each_child() callback that
 * pushes a reference to each device onto the struct devvec @arg. */
int dl_pci__collect_cb(struct dl_device *dev, void *arg);

/* platform-hardware.c */

/* The index of the spec at @domain:@bus:@devfn, or -1. Needs hw_lock
 * (or scan_lock). */
long dl_pci__find_spec_locked(struct dl_pci_platform *plat, uint32_t domain,
			      uint8_t bus, uint8_t devfn);

/* Mark spec @idx and everything behind it absent. Needs both locks. */
void dl_pci__mark_absent_locked(struct dl_pci_platform *plat, long idx);

/* The name of the device above spec @idx: its bridge or its root bus. */
void dl_pci__parent_name(const struct dl_pci_desc *d, size_t idx, char *buf,
			 size_t len);

/* Add spec @idx if it is present, not in the tree and its parent is
 * LIVE. Needs scan_lock. Returns 1 if added, 0 if there was nothing to
 * do, or -errno. */
int dl_pci__rescan_spec_locked(struct dl_pci_platform *plat, size_t idx);

#endif
