/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI functions as devlife devices.
 *
 * Two device types sit on the core:
 *  - "pci_bus" (dl_pci_bus_type): a root bus "pciDDDD:BB", the root of a
 *    PCI hierarchy in the tree (sysfs's /sys/devices/pciDDDD:BB);
 *  - "pci" (dl_pci_type): a function "DDDD:BB:DD.F" whose private area
 *    is a struct dl_pci_func. Functions on a root bus are children of the
 *    root; functions behind a bridge are children of the bridge; SR-IOV
 *    VFs are children of their PF (sysfs shows them beside the PF, under
 *    the PF's parent: that mapping is the filesystem's business).
 *
 * Config space is accessed from outside only through dl_pci_config_read()
 * and dl_pci_config_write(), which hold the function's active reference
 * for the whole access (including the configured delay of a slow device),
 * so a removal waits for accesses in flight and a surprise removal makes
 * them fail with -ENODEV.
 *
 * A function that does not exist reads all-ones in real hardware; here a
 * missing function is a missing device (lookup fails), and a bus layer
 * that wants to emulate a scan must synthesize the 0xffff itself.
 */
#ifndef DEVLIFE_PCI_PCI_H
#define DEVLIFE_PCI_PCI_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <devlife/devlife.h>

#include "config.h"
#include "topology.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The type of PCI functions ("pci"). Drivers of PCI functions name it. */
extern const struct dl_device_type dl_pci_type;

/** The type of PCI root buses ("pci_bus"). */
extern const struct dl_device_type dl_pci_bus_type;

/**
 * enum dl_pci_func_flags - what kind of function
 * @DL_PCI_F_BRIDGE: type 1 header: it has secondary buses
 * @DL_PCI_F_VF: an SR-IOV virtual function
 * @DL_PCI_F_MDEV_PARENT: can be a mediated-device parent (mdev_types)
 */
enum dl_pci_func_flags {
	DL_PCI_F_BRIDGE = 1u << 0,
	DL_PCI_F_VF = 1u << 1,
	DL_PCI_F_MDEV_PARENT = 1u << 2,
};

/**
 * struct dl_pci_root - private area of a root bus device
 * @domain: PCI domain; written once before add
 * @bus: root bus number; written once before add
 * @pm_forbid: power/control "on" (pm.c); any time, atomic
 */
struct dl_pci_root {
	uint32_t domain;
	uint8_t bus;
	atomic_bool pm_forbid;
};

/**
 * struct dl_pci_sriov - SR-IOV state of a PF
 * @cap: offset of the SR-IOV capability; written once before add
 * @total: TotalVFs; written once before add
 * @numvfs: VFs currently enabled; written under the PF's device lock,
 *          read lock-free (atomic)
 * @drivers_autoprobe: sysfs `sriov_drivers_autoprobe`: whether VFs are
 *                     probed by drivers when they are added (atomic; read
 *                     when a VF is built and by the platform's match)
 * @vf_tmpl: the template all VFs share; written under the PF's device
 *           lock (built at the first enable unless given at creation),
 *           immutable once built; the PF holds a reference
 */
struct dl_pci_sriov {
	unsigned int cap;
	uint16_t total;
	atomic_uint numvfs;
	atomic_bool drivers_autoprobe;
	struct dl_pci_tmpl *vf_tmpl;
};

/**
 * enum dl_pci_change - reasons of the DL_EV_CHANGE a function reports
 * (dl_device_notify_change()), as the kernel sends KOBJ_CHANGE
 * @DL_PCI_CHANGE_SRIOV: a PF's VFs were enabled, after every VF's add
 *                       (drivers/pci/iov.c sriov_enable())
 * @DL_PCI_CHANGE_MDEV_REGISTERED: a function now offers mdev types
 *                                 (mdev_register_parent())
 * @DL_PCI_CHANGE_MDEV_UNREGISTERED: it stopped (mdev_unregister_parent())
 */
enum dl_pci_change {
	DL_PCI_CHANGE_SRIOV = 1,
	DL_PCI_CHANGE_MDEV_REGISTERED,
	DL_PCI_CHANGE_MDEV_UNREGISTERED,
};

struct dl_mdev_parent;

/**
 * struct dl_pci_func - private area of a PCI function device
 * @dev: the device; written once before add
 * @domain: PCI domain; written once before add
 * @bus: bus number; written once before add
 * @devfn: device << 3 | function; written once before add
 * @flags: enum dl_pci_func_flags; written once before add
 * @vendor: Vendor ID as the OS sees it (a VF's is its PF's); written once
 * @device: Device ID as the OS sees it (a VF's is the VF Device ID)
 * @subvendor: Subsystem Vendor ID; written once
 * @subdevice: Subsystem ID; written once
 * @class: 24-bit class code; written once
 * @rev: Revision ID; written once
 * @cfg: config space; written once, internally locked, freed on release
 * @delay_us: delay of each external config access (atomic; any time)
 * @numa_node: NUMA node or -1; set before add, then only through
 *             dl_pci_set_numa_node() (read and written atomically)
 * @no_iov_res: `resource` has no SR-IOV lines (7, 11 for a bridge), as
 *              an imported kernel built without CONFIG_PCI_IOV printed;
 *              written once before add
 * @no_slot: no hot-plug slot below this port whatever its Slot
 *           Capabilities say: an import, whose source's slots are not
 *           known (a dump does not name them); written once before add
 * @irq: legacy IRQ, 0 for none; written once before add
 * @driver_name: driver to bind, or NULL; written once before add; owned
 * @mdev_types: "name:instances,..." or NULL; written once before add;
 *              owned
 * @physfn: VFs: the PF, which is also the parent in the tree (so it
 *          outlives the VF); written once before add
 * @vf_index: VFs: the VF number n (routing ID = PF + offset + n * stride);
 *            written once before add
 * @sriov: PFs: SR-IOV state, else NULL; the pointer is written once
 *         before add, the state says what protects its fields
 * @mdev: mdev parents: the mediated-device types and their state (see
 *        mdev.h), else NULL; the pointer is written once before add and
 *        the state freed with the function's memory
 * @params: what the sample drivers read; written once before add
 * @driver_override: sysfs `driver_override`: the only driver allowed to
 *                   bind, "" for none; read and written only through
 *                   dl_pci_platform_driver_override() and the platform's
 *                   match (under the platform's override lock)
 * @d3cold_allowed: sysfs `d3cold_allowed` (pci_pm_init() sets it; any
 *                  time, atomic); no power model reads it
 * @enable_cnt: pci_enable_device()'s count (enable.c; atomic)
 * @iommu_want: the group asked for (struct dl_pci_func_attrs's
 *              @iommu_group); written once before add
 * @iommu_group: the IOMMU group's number, or -1 for none; written once
 *               before add (dl_pci__iommu_join())
 * @iommu_pending: @iommu_group is taken by an add in flight (iommu.c's
 *                 lock, with @iommu_next)
 * @reset_methods: `reset_method`: the methods in the order they are
 *                 tried, 0 after the last (reset.c's lock)
 * @reset_files: whether `reset` and `reset_method` exist (some method
 *               probed when the function was added); written once
 *               before add
 * @pm: runtime PM and wakeup (pm.c)
 *
 * The IDs are cached at creation as the kernel caches them in struct
 * pci_dev: the sysfs attributes read them without touching config space.
 */
/* Reset methods: pci_reset_fn_methods[] of drivers/pci/pci.c, the same
 * numbers (reset.c). */
enum dl_pci_reset_method {
	DL_PCI_RESET_NONE,
	DL_PCI_RESET_DEVICE_SPECIFIC,
	DL_PCI_RESET_ACPI,
	DL_PCI_RESET_FLR,
	DL_PCI_RESET_AF_FLR,
	DL_PCI_RESET_PM,
	DL_PCI_RESET_BUS,
	DL_PCI_RESET_CXL_BUS,
	DL_PCI_NUM_RESET_METHODS
};

/**
 * struct dl_pci_pm - a function's runtime PM (pm.c, under its lock)
 * @runtime_auto: `control` is "auto" (pm_runtime_allow())
 * @usage: the usage count (forbid and a bound driver hold one each)
 * @suspended: runtime_status "suspended", else "active"
 * @stamp: monotonic ns of the last accounting
 * @active_ns, @suspended_ns: time spent in each status
 * @wakeup: `wakeup` "enabled" (a wakeup source is registered)
 * @wakeup_stamp_ns: when it was registered
 */
struct dl_pci_pm {
	bool runtime_auto;
	int usage;
	bool suspended;
	uint64_t stamp, active_ns, suspended_ns;
	bool wakeup;
	uint64_t wakeup_stamp_ns;
};

struct dl_pci_func {
	struct dl_device *dev;
	uint32_t domain;
	uint8_t bus;
	uint8_t devfn;
	unsigned int flags;
	uint16_t vendor;
	uint16_t device;
	uint16_t subvendor;
	uint16_t subdevice;
	uint32_t class;
	uint8_t rev;
	struct dl_pci_cfg *cfg;
	atomic_uint delay_us;
	int numa_node;
	bool no_iov_res;
	bool no_slot;
	unsigned int irq;
	char *driver_name;
	char *mdev_types;
	char *resource;
	struct dl_device *physfn;
	uint16_t vf_index;
	struct dl_pci_sriov *sriov;
	struct dl_mdev_parent *mdev;
	struct dl_pci_drv_params params;
	char driver_override[DL_NAME_MAX + 1];
	atomic_bool d3cold_allowed;
	atomic_int enable_cnt;
	int iommu_want;
	int iommu_group;
	bool iommu_pending;
	struct dl_pci_func *iommu_next;
	uint8_t reset_methods[DL_PCI_NUM_RESET_METHODS];
	bool reset_files;
	struct dl_pci_pm pm;
};


/**
 * struct dl_pci_func_attrs - optional settings of a new function
 * @numa_node: NUMA node, -1 for none
 * @no_iov_res: `resource` without SR-IOV lines (an import's source kernel)
 * @no_slot: no hot-plug slot below this port (an import)
 * @irq: legacy IRQ, 0 for none
 * @delay_us: config access delay in microseconds (the slow device)
 * @driver_name: driver to bind (copied), or NULL
 * @mdev_types: mdev types "name:instances,..." (copied), or NULL; makes
 *              the function an mdev parent
 * @vf_tmpl: PFs: the template VFs will share (a reference is taken), or
 *           NULL to derive one from the PF's at the first enable
 * @params: what the sample drivers read (copied)
 * @resource: the text of the `resource` file as the source kernel had it
 *            (copied; an import of a sysfs tree), or NULL to derive it
 *            from config space as the kernel would
 * @iommu_group: DL_PCI_IOMMU_AUTO (the group Linux would form, iommu.c),
 *               DL_PCI_IOMMU_NONE (no IOMMU: no group) or
 *               DL_PCI_IOMMU_ID(n) (group n)
 */
struct dl_pci_func_attrs {
	int numa_node;
	bool no_iov_res;
	bool no_slot;
	unsigned int irq;
	uint32_t delay_us;
	const char *driver_name;
	const char *mdev_types;
	struct dl_pci_tmpl *vf_tmpl;
	struct dl_pci_drv_params params;
	const char *resource;
	int iommu_group;
};

/**
 * dl_pci_root_new() - build a root bus device "pciDDDD:BB"
 * @tree: the tree
 * @domain: PCI domain
 * @bus: root bus number
 * @ret: where to store the device (NEW, to be added with a NULL parent)
 *
 * Context: any thread; allocates.
 * Ownership: as dl_device_new(): the caller owns one lifetime reference.
 * Return: 0, -EINVAL or -ENOMEM.
 */
int dl_pci_root_new(struct dl_tree *tree, uint32_t domain, uint8_t bus,
		    struct dl_device **ret);

/**
 * dl_pci_root_of() - the root bus data of a device
 * @dev: a device
 * Context: any thread holding a lifetime reference on @dev.
 * Return: the private area if @dev is a "pci_bus" device, else NULL.
 */
struct dl_pci_root *dl_pci_root_of(struct dl_device *dev);

/**
 * dl_pci_func_new() - build a PCI function device "DDDD:BB:DD.F"
 * @tree: the tree
 * @domain: PCI domain
 * @bus: bus number
 * @devfn: device << 3 | function
 * @cfg: its config space
 * @attrs: settings, or NULL for none
 * @ret: where to store the device (NEW: add it with dl_device_add() under
 *       its root bus or bridge)
 *
 * Caches the IDs and class from @cfg; a function with an SR-IOV
 * capability becomes a PF with @sriov state.
 *
 * Context: any thread; allocates.
 * Ownership: on success the device owns @cfg (freed when the device's
 * memory is released) and the caller owns one lifetime reference. On
 * failure the caller still owns @cfg.
 * Return: 0, -EINVAL or -ENOMEM.
 */
int dl_pci_func_new(struct dl_tree *tree, uint32_t domain, uint8_t bus,
		    uint8_t devfn, struct dl_pci_cfg *cfg,
		    const struct dl_pci_func_attrs *attrs, struct dl_device **ret);

/**
 * dl_pci_func_of() - the PCI function behind a device
 * @dev: a device, or NULL
 * Context: any thread holding a lifetime reference on @dev.
 * Return: the private area if @dev is a "pci" device, else NULL. Valid as
 * long as the reference.
 */
struct dl_pci_func *dl_pci_func_of(struct dl_device *dev);

/**
 * dl_pci_func_set_delay() - set the config access delay (slow device)
 * @dev: a PCI function
 * @delay_us: microseconds each dl_pci_config_read()/write() waits while
 *            holding the function's active reference; 0 for none
 *
 * Context: any thread; lock-free. Accesses already waiting keep their
 * delay.
 * Return: 0 or -EINVAL.
 */
int dl_pci_func_set_delay(struct dl_device *dev, uint32_t delay_us);

/**
 * dl_pci_set_numa_node() - Linux's numa_node_store(): override the node
 * @dev: a PCI function
 * @node: -1 (NUMA_NO_NODE), or a node that is online
 *
 * The model's online nodes are 0 up to the highest node any function was
 * created with (a topology's numa_node=, an import's numa_node).
 *
 * Context: any thread holding a lifetime reference.
 * Return: 0, or -EINVAL (not a function, a node that is not online).
 */
int dl_pci_set_numa_node(struct dl_device *dev, int node);

/**
 * dl_pci_config_size() - size of the `config` file of a function
 * @dev: a PCI function
 * Context: any thread holding a lifetime reference.
 * Return: 256 or 4096, or -EINVAL.
 */
int dl_pci_config_size(struct dl_device *dev);

/**
 * dl_pci_config_read() - read config space from outside (sysfs, setpci)
 * @dev: a PCI function the caller holds a lifetime reference on
 * @off: first byte
 * @buf: where to copy
 * @len: bytes wanted (at most 4096)
 *
 * Enters @dev for the whole access: fails with -ENODEV if the device is
 * being removed, or was surprise-removed (also while waiting out the
 * delay, which is slept inside the active section in slices of at most
 * 1 ms so that a surprise removal ends it early). A removal that is not
 * a surprise waits for the access, which then returns full data. Reads
 * are clamped at the config size, like pread() at the end of a file.
 *
 * Context: any thread; sleeps for the delay; must not hold a device lock
 * of @dev or its descendants' (removal may be draining).
 * Return: bytes read (0 at or past the end), -ENODEV, or -EINVAL.
 */
int dl_pci_config_read(struct dl_device *dev, unsigned int off, void *buf,
		       size_t len);

/**
 * dl_pci_config_write() - write config space from outside
 * @dev: a PCI function the caller holds a lifetime reference on
 * @off: first byte
 * @buf: the bytes
 * @len: their number (at most 4096)
 *
 * As dl_pci_config_read(); each bit is written by the rules of its
 * register (read-only, RW, RW1C).
 *
 * Context: as dl_pci_config_read().
 * Return: bytes written (clamped at the config size), -ENODEV, -EINVAL.
 */
int dl_pci_config_write(struct dl_device *dev, unsigned int off,
			const void *buf, size_t len);

/**
 * enum dl_pci_attr - sysfs attributes computed by dl_pci_attr_show()
 */
enum dl_pci_attr {
	DL_PCI_ATTR_VENDOR = 0,
	DL_PCI_ATTR_DEVICE,
	DL_PCI_ATTR_CLASS,
	DL_PCI_ATTR_REVISION,
	DL_PCI_ATTR_SUBSYSTEM_VENDOR,
	DL_PCI_ATTR_SUBSYSTEM_DEVICE,
	DL_PCI_ATTR_IRQ,
	DL_PCI_ATTR_RESOURCE,
	DL_PCI_ATTR_MODALIAS,
	DL_PCI_ATTR_NUMA_NODE,
	DL_PCI_ATTR_SRIOV_TOTALVFS,
	DL_PCI_ATTR_SRIOV_NUMVFS,
	DL_PCI_ATTR_SRIOV_OFFSET,
	DL_PCI_ATTR_SRIOV_STRIDE,
	DL_PCI_ATTR_SRIOV_VF_DEVICE,
	DL_PCI_ATTR_SRIOV_DRIVERS_AUTOPROBE,
	DL_PCI_ATTR_COUNT
};

/**
 * dl_pci_attr_name() - the sysfs file name of an attribute
 * @attr: enum dl_pci_attr
 * Context: any thread.
 * Return: "vendor", "resource", ..., or NULL for a bad value.
 */
const char *dl_pci_attr_name(enum dl_pci_attr attr);

/**
 * dl_pci_attr_lookup() - the attribute of a sysfs file name
 * @name: "vendor", "sriov_numvfs", ...
 * Context: any thread.
 * Return: the enum dl_pci_attr, or -ENOENT.
 */
int dl_pci_attr_lookup(const char *name);

/**
 * dl_pci_attr_visible() - whether a function has an attribute
 * @dev: a PCI function
 * @attr: the attribute
 * Context: any thread holding a lifetime reference.
 * Return: true if the file exists for @dev (the sriov_* files only for
 * PFs, as in Linux).
 */
bool dl_pci_attr_visible(struct dl_device *dev, enum dl_pci_attr attr);

/**
 * dl_pci_attr_show() - the contents of a sysfs attribute file
 * @dev: a PCI function
 * @attr: the attribute
 * @buf: where to write the text (NUL-terminated)
 * @len: size of @buf; 4096 (a page, as sysfs) is always enough
 *
 * The formats are the kernel's: "0x8086\n", "0x020000\n", "16\n",
 * "pci:v00008086d000010FBsv00008086sd0000000Cbc02sc00i00\n", and for
 * `resource` 13 lines (17 for bridges) of "0x%016llx 0x%016llx 0x%016llx"
 * (start, end, flags) as pciutils' lib/sysfs.c parses them: BARs 0-5, the
 * ROM, the SR-IOV VF BARs (whole VF regions), the bridge windows. A VF's
 * BARs are computed from its PF's VF BARs.
 *
 * Context: any thread holding a lifetime reference on @dev; does not
 * enter @dev (the caller, serving a file, does) and takes only config
 * locks; never sleeps.
 * Return: the length written (without the NUL), -ENOENT if @dev has no
 * such attribute, -ENOSPC if @len is too small, -EINVAL.
 */
int dl_pci_attr_show(struct dl_device *dev, enum dl_pci_attr attr, char *buf,
		     size_t len);

/**
 * dl_pci_bus_range() - buses decoded below a root bus or a bridge
 * @dev: a "pci_bus" root or a bridge function
 * @ret_sec: where to store the first bus (root: its bus; bridge: secondary)
 * @ret_sub: where to store the last bus (root: 0xff; bridge: subordinate)
 *
 * A bridge's numbers are read from its config space, so they follow what
 * software programmed.
 *
 * Context: any thread holding a lifetime reference.
 * Return: 0; -ENOTDIR for an endpoint; -EINVAL.
 */
int dl_pci_bus_range(struct dl_device *dev, uint8_t *ret_sec, uint8_t *ret_sub);

/**
 * dl_pci_sriov_set_numvfs() - enable or disable a PF's VFs
 * @pf: a PF (a function with an SR-IOV capability)
 * @numvfs: VFs wanted; 0 disables
 *
 * Enabling writes NumVFs, sets VF Enable and VF MSE, and adds VF devices
 * as children of @pf named by routing ID (PF + First VF Offset + n * VF
 * Stride, read from the capability), all sharing one config template
 * whose Vendor and Device read 0xffff as the spec says (their sysfs
 * vendor/device are the PF's vendor and the VF Device ID); each is
 * probed by drivers as it is added unless the PF's drivers_autoprobe is
 * off. Each add enters @pf: once the PF's removal has begun no VF can be
 * added (-ENODEV), and the enable takes back what it added. Disabling
 * removes the VFs (last first, each in wait mode), then clears VF Enable
 * and NumVFs. As in Linux, going from n to m VFs needs a pass through 0.
 * A failed enable removes the VFs it added and leaves the PF disabled.
 *
 * Context: the caller holds @pf's device lock and no active reference on
 * a VF: a PF driver's probe or remove, or an `sriov_numvfs` handler that
 * entered @pf and then took its device lock. May block.
 * Return: 0; -ERANGE (above TotalVFs); -EBUSY (VFs enabled and @numvfs
 * is another non-zero count); -ENODEV (the PF is being removed: no VF can
 * be added); -ENOSPC (a VF's bus is outside the parent's bus range);
 * -EEXIST (a VF's name is taken); -EINVAL (not a PF, lock not held);
 * -ENOMEM.
 */
int dl_pci_sriov_set_numvfs(struct dl_device *pf, unsigned int numvfs);

/**
 * dl_pci_sriov_set_drivers_autoprobe() - sysfs `sriov_drivers_autoprobe`
 * @pf: a PF
 * @on: whether VFs added from now on are probed by drivers (the default)
 *
 * As in Linux, a VF added while this is off is bound only by an explicit
 * bind of a driver named in its driver_override. VFs already there are
 * not affected.
 *
 * Context: any thread; lock-free.
 * Return: 0, or -EINVAL if @pf is not a PF.
 */
int dl_pci_sriov_set_drivers_autoprobe(struct dl_device *pf, bool on);

/**
 * dl_pci_sriov_get_vf() - find VF @n of a PF
 * @pf: the PF
 * @n: the VF number
 * @ret: where to store the VF
 * Context: any thread holding a lifetime reference on @pf; takes the
 * topology lock briefly (child snapshot).
 * Ownership: on success the caller owns a lifetime reference on *@ret.
 * Return: 0; -ENOENT if VF @n does not exist (or no longer); -EINVAL.
 */
int dl_pci_sriov_get_vf(struct dl_device *pf, unsigned int n,
			struct dl_device **ret);

/**
 * dl_pci_enable_device() - pci_enable_device(): count one enable
 * @dev: a PCI function
 *
 * The first enables the bridge above (once, and makes it a bus master)
 * and turns on Memory and I/O decode for the BARs that have an address.
 *
 * Context: any thread holding a lifetime reference; config locks only.
 * Return: 0 or -EINVAL.
 */
int dl_pci_enable_device(struct dl_device *dev);

/**
 * dl_pci_disable_device() - pci_disable_device(): drop one enable
 * @dev: a PCI function
 *
 * The last turns Bus Master off. Nothing for a function not enabled.
 *
 * Context: as dl_pci_enable_device().
 */
void dl_pci_disable_device(struct dl_device *dev);

/**
 * dl_pci_enable_count() - the enable count (sysfs `enable`)
 * @dev: a PCI function
 * Context: any thread holding a lifetime reference; lock-free.
 * Return: the count, or -EINVAL.
 */
int dl_pci_enable_count(struct dl_device *dev);

/**
 * dl_pci_iommu_group() - the IOMMU group of a function
 * @dev: a PCI function
 * Context: any thread holding a lifetime reference.
 * Return: the group's number (sysfs kernel/iommu_groups/N), or -ENOENT if
 * the function has none.
 */
int dl_pci_iommu_group(struct dl_device *dev);

/**
 * dl_pci__iommu_join() - choose the IOMMU group of a function being added
 * @dev: a PCI function, NEW
 * @parent: the device it will be added under
 *
 * As Linux's pci_device_group() (iommu.c), or what its attributes asked.
 * The number stays taken until dl_pci__iommu_added(), called once
 * dl_device_add() returned (linked, or failed).
 *
 * Context: any thread; takes iommu.c's lock and the topology lock
 * briefly (child snapshots).
 * Return: 0, -EINVAL or -ENOMEM.
 */
int dl_pci__iommu_join(struct dl_device *dev, struct dl_device *parent);
void dl_pci__iommu_added(struct dl_device *dev);

/**
 * dl_pci__iommu_reserve() - keep a group number from new groups
 * @tree: the tree
 * @id: the number (a description gives it to functions not added yet)
 * @on: true to reserve (once more), false to drop one reservation
 *
 * Context: any thread; takes iommu.c's lock.
 * Return: 0, -ENOENT (no such reservation to drop) or -ENOMEM.
 */
int dl_pci__iommu_reserve(struct dl_tree *tree, int id, bool on);

/**
 * dl_pci_dump() - write a function's config as `lspci -n -D -x` does
 * @dev: a PCI function
 * @bytes: 64 (-x), 256 (-xxx) or 4096 (-xxxx; 256 for conventional
 *         functions, as lspci)
 * @f: where to write
 *
 * Writes "DDDD:BB:DD.F CCCC: VVVV:DDDD (rev RR)", the hex lines and a
 * blank line, so the output is accepted by dl_pci_desc_parse_lspci() and
 * by `lspci -F`. Reads through dl_pci_config_read() (delays included).
 *
 * Context: as dl_pci_config_read().
 * Return: 0, -ENODEV, -EINVAL or -EIO (write error).
 */
int dl_pci_dump(struct dl_device *dev, unsigned int bytes, FILE *f);

/**
 * dl_pci__reset_init() - probe a function's reset methods as it is added
 * @dev: a PCI function not added yet
 * @parent: the device it will be added under
 *
 * pci_init_reset_methods(): the functions already on its bus count for
 * "bus", later ones do not. Decides whether `reset` and `reset_method`
 * exist.
 *
 * Context: before dl_device_add(@dev), holding no device lock.
 */
void dl_pci__reset_init(struct dl_device *dev, struct dl_device *parent);

/**
 * dl_pci_reset_files() - whether @dev has `reset` and `reset_method`
 * Context: any thread holding a lifetime reference.
 */
bool dl_pci_reset_files(struct dl_device *dev);

/**
 * dl_pci_reset_supported() - pci_reset_supported(): a method is enabled
 * Context: any thread holding a lifetime reference.
 */
bool dl_pci_reset_supported(struct dl_device *dev);

/**
 * dl_pci_reset_method_show() - reset_method_show(): "flr bus\n", or
 * nothing when every method is disabled
 * Return: its length, -EINVAL or -EIO (@len too small).
 */
int dl_pci_reset_method_show(struct dl_device *dev, char *buf, size_t len);

/**
 * dl_pci_reset_method_store() - reset_method_store()
 * @dev: a PCI function
 * @parent: its parent (for "bus")
 * @text: a store's text, its one trailing newline removed: "" disables
 *        every method; "default" probes them again; else names separated
 *        by spaces, in the order to try them
 *
 * Context: any thread holding a lifetime reference.
 * Return: 0; -EINVAL (a name unknown or unsupported, more than seven):
 * nothing changed.
 */
int dl_pci_reset_method_store(struct dl_device *dev, struct dl_device *parent,
			      const char *text);

/* pm.c: runtime PM and wakeup (see there). dl_pci__pm_init() before the
 * function is added under @parent (pci_pm_init()); get/put are pm_runtime_get_sync()
 * and pm_runtime_put_sync(); stores take a store's text, its one trailing
 * newline removed. Any thread holding a lifetime reference. */
void dl_pci__pm_init(struct dl_device *dev, struct dl_device *parent);
void dl_pci_pm_get(struct dl_device *dev);
void dl_pci_pm_put(struct dl_device *dev);
int dl_pci_pm_control_show(struct dl_device *dev, char *buf, size_t len);
int dl_pci_pm_control_store(struct dl_device *dev, const char *text);
int dl_pci_pm_status_show(struct dl_device *dev, char *buf, size_t len);
int dl_pci_pm_time_show(struct dl_device *dev, bool suspended, char *buf,
			size_t len);
bool dl_pci_pm_can_wakeup(struct dl_device *dev);
int dl_pci_pm_wakeup_show(struct dl_device *dev, const char *what, char *buf,
			  size_t len);
int dl_pci_pm_wakeup_store(struct dl_device *dev, const char *text);

#ifdef __cplusplus
}
#endif
#endif
