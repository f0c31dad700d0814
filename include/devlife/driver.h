/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DEVLIFE_DRIVER_H
#define DEVLIFE_DRIVER_H

#include <stdbool.h>

#ifndef DL_MUST_CHECK /* the result must be looked at (device.h) */
#if defined(__GNUC__) || defined(__clang__)
#define DL_MUST_CHECK __attribute__((warn_unused_result))
#else
#define DL_MUST_CHECK
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

struct dl_tree;
struct dl_device;
struct dl_device_type;
struct dl_driver;

/**
 * struct dl_driver_ops - what a driver does
 * @name: the driver's name, unique in its tree
 * @type: the device type it drives, or NULL for any
 * @match: whether it wants @dev (NULL: every device of @type); called
 *         with device_lock(@dev) held (as the kernel's
 *         driver_match_device()) and no other lock of this library: it
 *         may call dl_driver_find(); must not block for long
 * @probe: take over @dev; return 0 or a negative errno (then the device
 *         stays unbound). May add and remove children of @dev.
 * @remove: let go of @dev (unbind or removal). May remove children of @dev.
 * @online: bring @dev online; 0 or a negative errno. Optional.
 * @offline: take @dev offline; 0 or a negative errno. Optional.
 *
 * Context of @probe, @remove, @online and @offline: called with
 * device_lock(@dev) held and no other lock of this library, never while
 * the topology lock is held, from whichever thread triggered them (an add,
 * a bind, a removal, a work item). They may sleep, add children of @dev
 * with dl_device_add() and remove them with dl_device_remove(). They must
 * not remove @dev itself.
 */
struct dl_driver_ops {
	const char *name;
	const struct dl_device_type *type;
	bool (*match)(struct dl_driver *drv, struct dl_device *dev);
	int (*probe)(struct dl_driver *drv, struct dl_device *dev);
	void (*remove)(struct dl_driver *drv, struct dl_device *dev);
	int (*online)(struct dl_driver *drv, struct dl_device *dev);
	int (*offline)(struct dl_driver *drv, struct dl_device *dev);
};

/**
 * dl_driver_register() - make a driver available in a tree
 * @tree: the tree
 * @ops: the driver's operations; must outlive the registration
 * @data: the driver's own data, returned by dl_driver_data()
 * @ret: where to store the handle, or NULL
 *
 * Already-added unbound devices are not probed by registration; call
 * dl_device_bind() (a "rescan") for that.
 *
 * Context: any thread; may block.
 * Return: 0, -EINVAL, -EEXIST (name taken) or -ENOMEM.
 */
DL_MUST_CHECK int dl_driver_register(struct dl_tree *tree,
				     const struct dl_driver_ops *ops,
				     void *data, struct dl_driver **ret);

/**
 * dl_driver_unregister() - unbind every device from a driver and forget it
 * @drv: the handle, or NULL
 *
 * No new device is bound to @drv once this starts; every device bound to
 * it is unbound (remove called under its device lock); then the handle is
 * freed.
 *
 * Context: any thread holding no device lock; may block.
 */
void dl_driver_unregister(struct dl_driver *drv);

/**
 * dl_driver_find() - find a registered driver by name
 * @tree: the tree
 * @name: the name
 * Context: any thread; takes the drivers lock briefly.
 * Return: the handle (valid until unregistered), or NULL.
 */
struct dl_driver *dl_driver_find(struct dl_tree *tree, const char *name);

/**
 * dl_tree_for_each_driver() - call @fn for each registered driver
 * @tree: the tree
 * @fn: called with the drivers lock held: it may read the driver's name
 *      and data but must not register, unregister, find or bind; return
 *      non-zero to stop
 * @arg: passed to @fn
 *
 * Drivers being unregistered are skipped.
 *
 * Context: any thread; takes the drivers lock for the whole iteration.
 * Return: 0, the first non-zero value of @fn, or -EINVAL.
 */
int dl_tree_for_each_driver(struct dl_tree *tree,
			    int (*fn)(struct dl_driver *drv, void *arg),
			    void *arg);

/**
 * dl_driver_name() - the driver's name
 * @drv: the driver
 * Context: any thread. Return: ops->name, or NULL if @drv is NULL.
 */
const char *dl_driver_name(const struct dl_driver *drv);

/**
 * dl_driver_data() - the data given at registration
 * @drv: the driver
 * Context: any thread. Return: the data, or NULL if @drv is NULL.
 */
void *dl_driver_data(const struct dl_driver *drv);

/**
 * dl_device_bind() - bind a driver to a device
 * @dev: the device
 * @drv: the driver, or NULL to take the first registered driver that
 *       matches
 *
 * Holds an active reference on @dev and its device lock around probe, so a
 * removal either waits for the probe or makes this fail with -ENODEV.
 *
 * Context: any thread holding no device lock of @dev or its descendants;
 * may block.
 * Return: 0; -EBUSY if a driver is already bound; -ENODEV if @dev is not
 * LIVE; -ENXIO if no driver matches; -EINVAL; or probe's error.
 */
int dl_device_bind(struct dl_device *dev, struct dl_driver *drv);

/**
 * dl_device_unbind() - unbind the driver of a device
 * @dev: the device
 *
 * Context: as dl_device_bind().
 * Return: 0; -ENODEV if @dev is not LIVE; -ENOENT if no driver is bound.
 */
int dl_device_unbind(struct dl_device *dev);

/**
 * dl_device_driver() - the driver bound to @dev, a snapshot
 * @dev: the device
 * Context: any thread; lock-free.
 * Return: the driver or NULL. Stable only under the device lock.
 */
struct dl_driver *dl_device_driver(struct dl_device *dev);

/**
 * dl_device_set_autoprobe() - choose whether dl_device_add() binds a driver
 * @dev: a device still NEW (NULL is ignored)
 * @autoprobe: true (the default) to probe on add
 * Context: the thread building the device, before dl_device_add().
 */
void dl_device_set_autoprobe(struct dl_device *dev, bool autoprobe);

/**
 * dl_tree_set_autoprobe() - choose whether adds probe, tree-wide
 * @tree: the tree (NULL is ignored)
 * @autoprobe: true (the default) to let dl_device_add() bind a driver to
 *             each device whose own autoprobe is on; false: no add binds
 *
 * Linux's drivers_autoprobe of a bus (drivers/base/bus.c): explicit binds
 * (dl_device_bind()) still work. Adds already past their publication
 * are not affected.
 *
 * Context: any thread; lock-free.
 */
void dl_tree_set_autoprobe(struct dl_tree *tree, bool autoprobe);

/**
 * dl_tree_autoprobe() - the tree-wide setting of dl_tree_set_autoprobe()
 * @tree: the tree
 * Context: any thread; lock-free.
 * Return: whether adds probe (false for a NULL @tree).
 */
bool dl_tree_autoprobe(struct dl_tree *tree);

/**
 * dl_device_set_drvdata() - store the bound driver's per-device data
 * @dev: the device (NULL is ignored)
 * @data: the data; cleared when the driver is unbound
 * Context: the driver's callbacks, under the device lock.
 */
void dl_device_set_drvdata(struct dl_device *dev, void *data);

/**
 * dl_device_get_drvdata() - the bound driver's per-device data
 * @dev: the device
 * Context: the driver's callbacks, or any thread inside an active section
 * while the driver is bound.
 * Return: what dl_device_set_drvdata() stored, or NULL.
 */
void *dl_device_get_drvdata(struct dl_device *dev);

/**
 * dl_device_online() - bring a device online through its driver
 * @dev: the device
 *
 * Takes an active reference on @dev and then its device lock, so it can
 * never overlap with the device's removal: once removal has started it
 * fails with -ENODEV, synchronously or from a queued work item.
 *
 * Context: any thread holding no device lock of @dev; may block.
 * Return: 0 (also if already online); -ENODEV if @dev is not LIVE;
 * -EOPNOTSUPP if no driver or the driver has no online; the driver's error.
 */
int dl_device_online(struct dl_device *dev);

/**
 * dl_device_offline() - take a device offline through its driver
 * @dev: the device
 * Context: as dl_device_online().
 * Return: 0 (also if already offline); -ENODEV if @dev is not LIVE;
 * -EOPNOTSUPP if no driver or the driver has no offline; the driver's error.
 */
int dl_device_offline(struct dl_device *dev);

/**
 * dl_device_is_online() - whether the device is online
 * @dev: the device
 * Context: any thread; lock-free.
 * Return: a snapshot; false for NULL and after the driver is unbound.
 */
bool dl_device_is_online(const struct dl_device *dev);

#ifdef __cplusplus
}
#endif
#endif
