/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PCI platform: the virtual hardware behind a tree, and what a
 * hypervisor does to it.
 *
 * The hardware is a topology description (struct dl_pci_desc) plus, per
 * function, whether it is physically present. A function that is present
 * but not in the tree (removed through sysfs `remove`) comes back with a
 * rescan, as on Linux; a host eject or surprise removal takes the
 * hardware away too, so a rescan does not find it; a host `add` puts new
 * hardware in and adds it.
 *
 * Host events for one bus (add, eject, surprise, relations, error) are
 * handled one at a time, in arrival order, on that bus's ordered queue
 * (dl_workqueue with max_active 1) as work bound to the device that owns
 * the bus (the root bus device or the bridge whose secondary bus it is):
 * when that device goes away its queue stops taking events, drains and is
 * freed, never the other way round.
 *
 * The platform also registers the drivers of the virtual machine's "OS":
 * a driver named in the topology (driver=NAME) or chosen with sysfs
 * `driver_override` binds through the match tables of those drivers.
 * Built in: "pci-root" (root buses) and "pcieport" (bridges, by default)
 * own their bus's event queue: a bus whose owner has neither bound
 * handles no host events (as pciehp needs pcieport on Linux);
 * "virtio-pci" (vendor 0x1af4 by default); "devlife-nic" (a conventional
 * PF driver: serves sriov_numvfs, disables its VFs when unbound) and
 * "pci-stub" bind only functions that name them; so do the sample drivers
 * of src/pci/drivers ("sriov-pf", "mdev-parent", "auto-online", "slow",
 * "faulty"); "vfio_mdev" drives every mediated device (mdev.h).
 *
 * The hardware model changes only through host events: a host `add`
 * validates the machine it would make as a whole (the present functions
 * plus the new one) and keeps the addresses of what is already built;
 * functions ejected earlier are dropped from the model at that point.
 */
#ifndef DEVLIFE_PCI_PLATFORM_H
#define DEVLIFE_PCI_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <devlife/devlife.h>

#include "topology.h"

struct dl_pci_platform;

/**
 * dl_pci_platform_new() - hardware from a description, built into a tree
 * @tree: the tree (empty)
 * @desc: a validated description; the platform takes ownership
 * @err: where to say what is wrong, or NULL
 * @ret: where to store the platform
 *
 * Registers the platform's drivers in @tree, then instantiates @desc
 * (dl_pci_desc_instantiate()): every function present, added and, where
 * the description says, bound.
 *
 * Context: any thread; may block (probes run).
 * Ownership: on success the platform owns @desc; on failure the caller
 * still does and the tree is as it was.
 * Return: 0, -EINVAL, -ENOMEM, -EEXIST (a driver of the same name is
 * already registered in @tree: one platform per tree), or an
 * instantiation error (@err says).
 */
int dl_pci_platform_new(struct dl_tree *tree, struct dl_pci_desc *desc,
			struct dl_pci_error *err, struct dl_pci_platform **ret);

/**
 * dl_pci_platform_free() - remove every device (wait mode) and free
 * @plat: the platform, or NULL
 * Context: any thread holding no active reference or device lock; blocks
 * until every device is removed and every bus queue drained.
 */
void dl_pci_platform_free(struct dl_pci_platform *plat);

/** dl_pci_platform_tree() - the tree. Context: any thread. */
struct dl_tree *dl_pci_platform_tree(struct dl_pci_platform *plat);

/**
 * dl_pci_platform_rescan() - add every present function missing from the
 * tree (sysfs `rescan`)
 * @plat: the platform
 * @below: only under this root bus or bridge, or NULL for everything
 *
 * For an endpoint or a VF, @below stands for the bus it sits on (Linux's
 * per-device `rescan`). Functions are added parents first, each exactly
 * as dl_pci_desc_instantiate() adds it (driver=, numvfs). Rescans are
 * serialized with each other and with host events that change the
 * hardware.
 *
 * Context: any thread holding no device lock; may hold an active
 * reference on @below (the bus's `rescan` attribute). Not from a probe
 * (a probe running inside a rescan would wait for itself). May block.
 * Return: the number of functions added (>= 0), or a negative errno if
 * none was added and one failed.
 */
int dl_pci_platform_rescan(struct dl_pci_platform *plat,
			   struct dl_device *below);

/**
 * dl_pci_platform_driver_override() - read or set a function's override
 * @dev: a PCI function
 * @set: NULL to read; "" or "\n" to clear; otherwise a driver name
 *       (trailing newline ignored, at most 63 bytes, printable)
 * @buf: where to copy the current value when reading ("(null)" if none)
 * @len: size of @buf
 * Context: any thread inside an active section of @dev.
 * Return: 0, -EINVAL (bad name), -ENOSPC.
 */
int dl_pci_platform_driver_override(struct dl_device *dev, const char *set,
				    char *buf, size_t len);

/**
 * enum dl_pci_host_event - what the host does
 */
enum dl_pci_host_event {
	DL_PCI_HOST_ADD = 1,   /* new hardware at an address, then add it */
	DL_PCI_HOST_EJECT,     /* orderly eject: remove (wait), hardware gone */
	DL_PCI_HOST_SURPRISE,  /* hardware gone now: surprise removal */
	DL_PCI_HOST_RELATIONS, /* the present set of a bus: eject the rest */
	DL_PCI_HOST_ERROR,     /* error recovery: driver handlers, else
				* remove and rescan */
};

/**
 * dl_pci_platform_host() - handle one host event on its bus's queue
 * @plat: the platform
 * @ev: the event
 * @domain: PCI domain
 * @bus: bus number (the bus the event is about)
 * @devfn: the function (ADD, EJECT, SURPRISE, ERROR); ignored for
 *         RELATIONS
 * @kv: ADD: NULL-terminated "key=value" strings as in a topology line;
 *      RELATIONS: NULL-terminated "DDDD:BB:DD.F" names still present
 * @msg: where to write a one-line result or reason
 * @msglen: size of @msg
 *
 * Queues the event on the ordered queue of the bus and waits until it has
 * been handled. Events of one bus never overlap or reorder; events of
 * different buses run in parallel.
 *
 * An eject, surprise removal or relations event marks the hardware
 * absent first (a function behind an ejected bridge goes with it), then
 * removes the device and returns once it is DEAD. An error event calls
 * the bound platform driver's error handlers (struct
 * dl_pci_error_handlers) under the function's device lock; without
 * handlers, or if they give up, the function is removed and rescanned.
 * An event whose bus goes away before it runs is cancelled: no handler
 * ever runs against a removed bus.
 *
 * Context: any thread holding no device lock or active reference in the
 * tree (the host channel's connection threads). Blocks.
 * Return: 0; -ENODEV (no such function or bus, the bus has no port
 * driver bound, or it is going away: the event was cancelled); -EEXIST
 * (ADD: something is already there); -EINVAL (bad key=value or a machine
 * the new function does not fit: @msg says why); -EOPNOTSUPP (EJECT,
 * SURPRISE or ERROR of a VF that cannot be handled alone); -ENOMEM.
 */
int dl_pci_platform_host(struct dl_pci_platform *plat,
			 enum dl_pci_host_event ev, uint32_t domain,
			 uint8_t bus, uint8_t devfn, const char *const *kv,
			 char *msg, size_t msglen);

/**
 * dl_pci_platform_print_tree() - the tree as `lspci -tv` draws it
 * @plat: the platform
 * @f: where to write
 *
 * One line per device, indented by depth, with its state, bound driver
 * and number of active users: "0000:01:00.0 [8086:10fb] LIVE drv=ixgbe
 * users=0". VFs are listed under their PF.
 *
 * Context: any thread holding no active reference and no device lock in
 * the tree. Drivers the platform registered are named without the
 * device lock, so the output never waits for a driver callback in
 * progress; for any other driver the device's lock is taken briefly.
 * Takes snapshots, never a lock across the output.
 * Return: 0 or -EIO.
 */
int dl_pci_platform_print_tree(struct dl_pci_platform *plat, FILE *f);

/**
 * enum dl_pci_ers_result - what an error handler says (Linux's
 * pci_ers_result_t)
 * @DL_PCI_ERS_CAN_RECOVER: the driver can recover without a reset
 * @DL_PCI_ERS_NEED_RESET: the driver needs the function reset first
 * @DL_PCI_ERS_RECOVERED: the function works again
 * @DL_PCI_ERS_DISCONNECT: give up: the function is removed and rescanned
 */
enum dl_pci_ers_result {
	DL_PCI_ERS_CAN_RECOVER = 1,
	DL_PCI_ERS_NEED_RESET,
	DL_PCI_ERS_RECOVERED,
	DL_PCI_ERS_DISCONNECT,
};

/**
 * struct dl_pci_error_handlers - a platform driver's error recovery hooks
 * @error_detected: an error was reported; required (a table without it
 *                  counts as no handlers)
 * @slot_reset: after the (modelled) reset, when error_detected asked for
 *              one; NULL means DL_PCI_ERS_RECOVERED
 * @resume: the function works again; NULL for nothing to do
 * @reset_prepare: a function reset (sysfs `reset`,
 *                 dl_pci_platform_reset_function()) is about to begin:
 *                 quiesce; NULL for nothing to do
 * @reset_done: the reset is over (also when it failed): the function's
 *              registers are back as they were saved; NULL for nothing
 *
 * Context of the first three: the bus's event queue worker, holding an
 * active reference on the function and its device lock (the driver stays
 * bound throughout); of the reset pair: the resetting thread, holding an
 * active reference on the function and its device lock from before
 * reset_prepare until after reset_done (Linux's pci_error_handlers). None
 * may remove the function itself.
 */
struct dl_pci_error_handlers {
	enum dl_pci_ers_result (*error_detected)(struct dl_device *dev,
						 void *data);
	enum dl_pci_ers_result (*slot_reset)(struct dl_device *dev, void *data);
	void (*resume)(struct dl_device *dev, void *data);
	void (*reset_prepare)(struct dl_device *dev, void *data);
	void (*reset_done)(struct dl_device *dev, void *data);
};

/**
 * dl_pci_platform_reset_function() - sysfs `reset`: pci_reset_function()
 * @plat: the platform (whose drivers' handlers are called)
 * @dev: a PCI function
 *
 * Enters @dev (a removal that has begun refuses the reset; one that
 * begins waits for it), takes a runtime PM reference, then under @dev's
 * device lock: the bound driver's reset_prepare, the state saved and the
 * function disabled, the first enabled reset method that works (config
 * space back to its reset values, src/pci/reset.c says which registers),
 * the state restored, reset_done.
 *
 * Context: any thread holding a lifetime reference on @dev and no device
 * lock in the tree. May block.
 * Return: 0; -ENOTTY (no reset method enabled, or none works now);
 * -ENODEV (removal has begun); -EINVAL (not a PCI function).
 */
int dl_pci_platform_reset_function(struct dl_pci_platform *plat,
				   struct dl_device *dev);

/** Any ID, in struct dl_pci_id (the kernel's PCI_ANY_ID). */
#define DL_PCI_ANY_ID 0xffffffffu

/**
 * struct dl_pci_id - an ID a driver takes (the kernel's pci_device_id)
 * @vendor: Vendor ID or DL_PCI_ANY_ID
 * @device: Device ID or DL_PCI_ANY_ID
 * @subvendor: Subsystem Vendor ID or DL_PCI_ANY_ID
 * @subdevice: Subsystem ID or DL_PCI_ANY_ID
 * @class: class code (24 bits), compared under @class_mask
 * @class_mask: the bits of @class that must be equal
 */
struct dl_pci_id {
	uint32_t vendor, device, subvendor, subdevice, class, class_mask;
};

/**
 * dl_pci_id_match() - pci_match_one_device()
 * @id: an ID of a driver
 * @dev: a function's IDs (its class in @class; @class_mask unused)
 * Context: any thread.
 * Return: whether @id takes @dev.
 */
bool dl_pci_id_match(const struct dl_pci_id *id, const struct dl_pci_id *dev);

/**
 * struct dl_pci_driver - a driver of the platform's "OS"
 * @name: the driver's name, unique in the tree
 * @match: the default match for functions that name no driver and have
 *         no driver_override (e.g. by vendor); NULL matches nothing, so
 *         the driver binds only functions whose topology line says
 *         driver=NAME or whose driver_override is NAME
 * @probe: take over a function (0 or -errno); NULL for nothing to do
 * @remove: let go of it; NULL for nothing to do
 * @online: optional, as struct dl_driver_ops
 * @offline: optional, as struct dl_driver_ops
 * @sriov_configure: PF drivers: enable @numvfs VFs, or disable them for
 *                   0 (Linux's sriov_configure, behind sysfs
 *                   `sriov_numvfs`); returns the number enabled or a
 *                   negative errno. Called with the PF's device lock held
 *                   (see dl_pci_platform_sriov_numvfs()). Optional:
 *                   without it `sriov_numvfs` cannot be written.
 * @err_handler: optional error recovery hooks
 *
 * @enables: the driver enables its function before probe and disables
 *           it after remove (pci_enable_device(), pci_disable_device()),
 *           as most Linux drivers do in theirs
 * @match_id: optional: whether the driver's own ID table takes a function
 *            with these IDs (what `new_id` checks before it adds one:
 *            -EEXIST); @match must agree with it
 *
 * The platform's match rule (pci_match_device()): a function with a
 * driver_override matches only the driver of that name; else the
 * driver's dynamic IDs (`new_id`) take it; else a function whose topology
 * line names a driver matches only that driver; else @match decides. Every callback
 * gets the @data given at registration; the contexts are those of
 * struct dl_driver_ops (device lock held).
 */
struct dl_pci_driver {
	const char *name;
	bool (*match)(struct dl_device *dev, void *data);
	bool (*match_id)(const struct dl_pci_id *id, void *data);
	bool enables;
	int (*probe)(struct dl_device *dev, void *data);
	void (*remove)(struct dl_device *dev, void *data);
	int (*online)(struct dl_device *dev, void *data);
	int (*offline)(struct dl_device *dev, void *data);
	int (*sriov_configure)(struct dl_device *dev, unsigned int numvfs, void *data);
	const struct dl_pci_error_handlers *err_handler;
};

/**
 * dl_pci_platform_new_id() - a driver's `new_id`: add a dynamic ID
 * @plat: the platform
 * @drv: the driver's name
 * @text: "VENDOR DEVICE [SUBVENDOR SUBDEVICE CLASS CLASS_MASK DRIVER_DATA]"
 *        in hex, as new_id_store() (drivers/pci/pci-driver.c) scans it
 *
 * Then probes every function without a driver that the driver now
 * matches (pci_add_dynid(), driver_attach()); a probe's failure leaves
 * the function as it was.
 *
 * Context: any thread holding no device lock; may block (probes).
 * Return: 0; -EINVAL (fewer than two fields, a DRIVER_DATA no ID of the
 * driver has: only 0 here); -EEXIST (without all seven fields: a function
 * with these IDs is matched already, by a dynamic ID or the driver's
 * own); -ENODEV (no such driver); -ENOMEM.
 */
int dl_pci_platform_new_id(struct dl_pci_platform *plat, const char *drv,
			   const char *text);

/**
 * dl_pci_platform_remove_id() - a driver's `remove_id`
 * @plat: the platform
 * @drv: the driver's name
 * @text: "VENDOR DEVICE [SUBVENDOR SUBDEVICE CLASS CLASS_MASK]" in hex
 *
 * Removes the first dynamic ID with this vendor and device whose other
 * fields match those given (remove_id_store()). Bound functions stay.
 *
 * Context: any thread.
 * Return: 0; -EINVAL (fewer than two fields); -ENODEV (no such ID, no
 * such driver).
 */
int dl_pci_platform_remove_id(struct dl_pci_platform *plat, const char *drv,
			      const char *text);

/**
 * dl_pci_platform_register_driver() - register a driver of PCI functions
 * @plat: the platform
 * @drv: the driver; must outlive the registration
 * @data: passed to its callbacks
 * @ret: where to store the core's handle (for dl_device_bind()), or NULL
 *
 * Then, if the tree's autoprobe is on (dl_tree_set_autoprobe(), sysfs
 * bus/pci/drivers_autoprobe), every function without a driver that it
 * matches is probed, as driver_register() does (bus_add_driver(),
 * driver_attach()). The built-in drivers ("pcieport", "virtio-pci", "devlife-nic",
 * "pci-stub", "vfio-pci" and the sample drivers "sriov-pf", "mdev-parent",
 * "auto-online", "slow", "faulty") are registered by
 * dl_pci_platform_new().
 *
 * Context: any thread holding no device lock; may block.
 * Ownership: the platform keeps the registration until
 * dl_pci_platform_unregister_driver() or dl_pci_platform_free().
 * Return: 0, -EINVAL, -EEXIST (name taken) or -ENOMEM.
 */
int dl_pci_platform_register_driver(struct dl_pci_platform *plat,
				    const struct dl_pci_driver *drv, void *data,
				    struct dl_driver **ret);

/**
 * dl_pci_platform_unregister_driver() - unbind and forget a driver
 * @plat: the platform
 * @drv: the handle from dl_pci_platform_register_driver()
 *
 * Context: as dl_driver_unregister().
 * Return: 0, or -ENOENT if @drv is not one of the platform's drivers.
 */
int dl_pci_platform_unregister_driver(struct dl_pci_platform *plat,
				      struct dl_driver *drv);

/**
 * dl_pci_platform_present() - whether the hardware of a function is there
 * @plat: the platform
 * @domain: PCI domain
 * @bus: bus number
 * @devfn: device << 3 | function
 *
 * Context: any thread; takes the platform's hardware lock briefly.
 * Return: 1 if present (even if not in the tree: a rescan adds it), 0 if
 * it was ejected or surprise-removed, -ENOENT if the hardware model has
 * no such function (VFs are not in the model: their PF makes them).
 */
int dl_pci_platform_present(struct dl_pci_platform *plat, uint32_t domain,
			    uint8_t bus, uint8_t devfn);

/**
 * dl_pci_platform_sriov_numvfs() - sysfs `sriov_numvfs` store, as Linux's
 * @plat: the platform
 * @pf: a PF
 * @numvfs: VFs wanted
 *
 * Linux's sriov_numvfs_store(): above TotalVFs is -ERANGE; under the PF's
 * device lock, the current count is success at once; otherwise the bound
 * driver's sriov_configure decides (-ENOENT without a driver or without
 * that callback); going from n to m VFs, both non-zero, is -EBUSY.
 *
 * Context: a thread inside an active section of @pf (the sysfs handler),
 * holding no device lock. May block.
 * Return: 0; -ERANGE; -ENOENT; -EBUSY; -EINVAL (not a PF); or the
 * driver's error (-ENODEV when the PF's removal has begun).
 */
int dl_pci_platform_sriov_numvfs(struct dl_pci_platform *plat, struct dl_device *pf,
				 unsigned int numvfs);

/**
 * dl_pci_platform_supports_online() - whether sysfs shows `online`
 * @plat: the platform
 * @dev: a device
 * Context: any thread holding a lifetime reference; a snapshot.
 * Return: true if the bound driver has both online and offline.
 */
bool dl_pci_platform_supports_online(struct dl_pci_platform *plat,
				     struct dl_device *dev);

/**
 * struct dl_pci_platform_stats - the platform's counters
 * @violations: breaches of the seeds' invariants seen by the sample
 *              drivers (an online of a device being removed, overlapping
 *              callbacks, a child removed after its parent's driver);
 *              each is also reported on standard error
 */
struct dl_pci_platform_stats {
	uint64_t violations;
};

/**
 * dl_pci_platform_get_stats() - read the platform's counters
 * @plat: the platform
 * @ret: where to store them
 * Context: any thread; lock-free.
 * Return: 0 or -EINVAL.
 */
int dl_pci_platform_get_stats(struct dl_pci_platform *plat,
			      struct dl_pci_platform_stats *ret);

struct dl_pci_host_ticket;

/**
 * dl_pci_platform_host_submit() - queue a host event, do not wait
 * @plat: the platform
 * @ev: as dl_pci_platform_host()
 * @domain: as dl_pci_platform_host()
 * @bus: as dl_pci_platform_host()
 * @devfn: as dl_pci_platform_host()
 * @kv: as dl_pci_platform_host(); copied
 * @msg: where to say why queuing failed
 * @msglen: size of @msg
 * @ret: where to store the event, to be waited for
 *
 * dl_pci_platform_host() is this followed by dl_pci_platform_host_wait().
 * Events of one bus run in the order their submissions returned.
 *
 * Context: any thread holding no device lock; never waits for other
 * events.
 * Ownership: on success the caller must pass *@ret to
 * dl_pci_platform_host_wait() exactly once.
 * Return: 0; -ENODEV (no such bus, no port driver bound to it, or it is
 * going away); -EINVAL; -ENOMEM.
 */
int dl_pci_platform_host_submit(struct dl_pci_platform *plat,
				enum dl_pci_host_event ev, uint32_t domain,
				uint8_t bus, uint8_t devfn,
				const char *const *kv, char *msg, size_t msglen,
				struct dl_pci_host_ticket **ret);

/**
 * dl_pci_platform_host_wait() - wait for a submitted event and free it
 * @e: the event
 * @msg: where to write its one-line result or reason, or NULL
 * @msglen: size of @msg
 *
 * Context: as dl_pci_platform_host(). Blocks.
 * Return: as dl_pci_platform_host(); -ENODEV when the event was
 * cancelled because its bus went away before it ran.
 */
int dl_pci_platform_host_wait(struct dl_pci_host_ticket *e, char *msg,
			      size_t msglen);

#endif
