/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mediated devices (VFIO mdev) on a PCI function.
 *
 * A PCI function built with mdev types (topology key mdev_types) can be a
 * mediated-device *parent*. It offers its types only while a driver has
 * registered it (dl_mdev_parent_register() from the driver's probe, as a
 * Linux vendor driver calls mdev_register_device()); then writing a UUID
 * to a type's `create` makes a child device of type "mdev" named by that
 * UUID, added with dl_device_add(child, parent). That add enters the
 * parent, so a child can never be created under a parent whose removal
 * has started: either the create fails with -ENODEV, or it completes
 * before the parent's removal drains and the removal then removes the
 * child too (seed 003, issue 1). A child is removed through its own
 * `remove` attribute (dl_device_remove_self()), by the parent's removal
 * (children first, by the core) or by the parent driver's unregistration
 * (dl_mdev_parent_unregister(), from its remove). Every child is bound to
 * the "vfio_mdev" driver, whose remove hands the child to its parent
 * driver's remove hook while the parent driver is still bound (seed 003,
 * issue 2).
 *
 * Instances: a type allows a fixed number of children; a child counts
 * from the moment it is linked under its parent until it is DEAD, so an
 * instance comes back exactly when a removal has finished. Creates of one
 * parent are serialized by the parent's mdev lock (a leaf with respect to
 * the device locks: it is held across dl_device_add() of the child, and
 * nothing that holds a device lock of the child waits for it).
 */
#ifndef DEVLIFE_PCI_MDEV_H
#define DEVLIFE_PCI_MDEV_H

#include <stdbool.h>
#include <stddef.h>

#include <devlife/devlife.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The type of mediated devices ("mdev"). */
extern const struct dl_device_type dl_mdev_type;

/** Length of a UUID's text, without the terminating NUL. */
#define DL_MDEV_UUID_LEN 36

/**
 * struct dl_mdev - private area of a mediated device
 * @parent: the parent function (also its parent in the tree, which it
 *          pins); written once before add
 * @type: index of its type in the parent's types; written once
 */
struct dl_mdev {
	struct dl_device *parent;
	unsigned int type;
};

/**
 * struct dl_mdev_parent_ops - what a parent driver does for its children
 * @create: called by dl_mdev_create() inside the parent's active section
 *          and under the parent's mdev lock, before the child is added;
 *          a negative errno fails the create (nothing is added). May
 *          sleep. NULL for nothing to do.
 * @remove: called from the child's driver remove (device_lock(child)
 *          held) while the parent's driver is still bound. NULL for
 *          nothing to do.
 */
struct dl_mdev_parent_ops {
	int (*create)(struct dl_device *parent, struct dl_device *child,
		      void *data);
	void (*remove)(struct dl_device *parent, struct dl_device *child,
		       void *data);
};

/**
 * enum dl_mdev_type_attr - the files of mdev_supported_types/<type>/
 */
enum dl_mdev_type_attr {
	DL_MDEV_ATTR_NAME = 0,
	DL_MDEV_ATTR_DESCRIPTION,
	DL_MDEV_ATTR_DEVICE_API,
	DL_MDEV_ATTR_AVAILABLE,
	DL_MDEV_ATTR_CREATE,
	DL_MDEV_ATTR_COUNT
};

struct dl_mdev_parent;

/**
 * dl_mdev__parent_new() - the mdev state of a function, from its types
 * @types: "NAME[:N][,NAME[:N]...]" (N instances, default 1), as the
 *         topology parser checked it
 * @ret: where to store the state
 * Context: any thread; allocates. Internal to src/pci (dl_pci_func_new()).
 * Return: 0, -EINVAL or -ENOMEM.
 */
int dl_mdev__parent_new(const char *types, struct dl_mdev_parent **ret);

/** dl_mdev__parent_free() - free it (with the function's memory). */
void dl_mdev__parent_free(struct dl_mdev_parent *mp);

/**
 * dl_mdev_parent_register() - offer a function's mdev types
 * @parent: a PCI function built with mdev types
 * @ops: the parent driver's hooks; must stay valid until unregistered
 * @data: passed to them
 *
 * Context: the parent driver's probe (device_lock(@parent) held).
 * Return: 0; -EINVAL (no mdev types); -EBUSY (already registered).
 */
int dl_mdev_parent_register(struct dl_device *parent,
			    const struct dl_mdev_parent_ops *ops, void *data);

/**
 * dl_mdev_parent_unregister() - stop offering the types, remove children
 * @parent: a registered parent
 *
 * Creates fail with -ENODEV from here on (a create in flight finishes
 * first); then every child is removed in wait mode, a child another
 * thread is already removing included: this returns only when each one
 * is DEAD, so the parent driver's state outlives every child's remove.
 *
 * Context: the parent driver's remove (device_lock(@parent) held, no
 * active reference on a child). May block.
 */
void dl_mdev_parent_unregister(struct dl_device *parent);

/**
 * dl_mdev_parent_registered() - whether the types are offered now
 * @parent: a device
 * Context: any thread; lock-free; a snapshot.
 * Return: true while a driver has the function registered.
 */
bool dl_mdev_parent_registered(struct dl_device *parent);

/**
 * dl_mdev_type_count() - how many types a function has
 * @parent: a device
 * Context: any thread holding a lifetime reference.
 * Return: the number of types; 0 for anything that is not mdev-capable.
 */
unsigned int dl_mdev_type_count(struct dl_device *parent);

/**
 * dl_mdev_type_name() - the name of type @t
 * @parent: an mdev-capable function
 * @t: the type index
 * Context: any thread holding a lifetime reference on @parent.
 * Return: the name (valid as long as @parent's memory), or NULL.
 */
const char *dl_mdev_type_name(struct dl_device *parent, unsigned int t);

/**
 * dl_mdev_type_lookup() - the index of the type called @name
 * @parent: a device
 * @name: the type's name
 * Context: any thread holding a lifetime reference.
 * Return: the index, or -ENOENT.
 */
int dl_mdev_type_lookup(struct dl_device *parent, const char *name);

/**
 * dl_mdev_type_available() - instances of type @t that can still be made
 * @parent: an mdev-capable function
 * @t: the type index
 * Context: any thread holding a lifetime reference; takes the topology
 * lock briefly (a snapshot of the children). Stale as soon as it returns.
 * Return: the number (>= 0), -EINVAL or -ENOMEM.
 */
int dl_mdev_type_available(struct dl_device *parent, unsigned int t);

/**
 * dl_mdev_attr_name() - the file name of a type attribute
 * @attr: enum dl_mdev_type_attr
 * Context: any. Return: "name", ..., "create", or NULL.
 */
const char *dl_mdev_attr_name(enum dl_mdev_type_attr attr);

/**
 * dl_mdev_type_attr_show() - the text of a type attribute file
 * @parent: an mdev-capable function
 * @t: the type index
 * @attr: anything but DL_MDEV_ATTR_CREATE (write-only)
 * @buf: where to write (NUL-terminated)
 * @len: its size
 * Context: as dl_mdev_type_available().
 * Return: the length written, -EINVAL, -ENOSPC (@len too small), -ENOMEM.
 */
int dl_mdev_type_attr_show(struct dl_device *parent, unsigned int t,
			   enum dl_mdev_type_attr attr, char *buf, size_t len);

/**
 * dl_mdev_uuid_parse() - check a UUID and write its canonical form
 * @s: the text (a trailing newline is allowed, as sysfs writes have it)
 * @len: its length
 * @out: where to write 36 lowercase characters and a NUL
 * Context: any; pure.
 * Return: 0 or -EINVAL.
 */
int dl_mdev_uuid_parse(const char *s, size_t len,
		       char out[DL_MDEV_UUID_LEN + 1]);

/**
 * dl_mdev_create() - `echo UUID > mdev_supported_types/<type>/create`
 * @parent: a registered mdev parent
 * @t: the type index
 * @uuid: the UUID text as written (a trailing newline is ignored)
 * @len: its length
 * @ret: where to store the new child with a lifetime reference, or NULL
 *
 * Makes a child of type "mdev" named by the canonical UUID and adds it
 * under @parent. Checks, in this order, changing nothing on failure: the
 * UUID (-EINVAL), a device of that name (-EEXIST), a free instance of
 * the type (-ENOSPC), the parent driver's create hook (its error), and
 * the add itself (-ENODEV if the parent's removal has begun, -EEXIST if
 * the name is still held by a device being removed).
 *
 * Context: any thread holding a lifetime reference on @parent (the sysfs
 * handler also holds an active one); no device lock of @parent or a
 * child. May block.
 * Return: 0; -EINVAL; -EEXIST; -ENOSPC; -ENODEV (not registered, or the
 * parent is going away); -ENOMEM; the create hook's error.
 */
int dl_mdev_create(struct dl_device *parent, unsigned int t, const char *uuid,
		   size_t len, struct dl_device **ret);

/**
 * dl_mdev_of() - the mdev data of a device
 * @dev: a device, or NULL
 * Context: any thread holding a lifetime reference on @dev.
 * Return: its private area if @dev is an "mdev" device, else NULL.
 */
struct dl_mdev *dl_mdev_of(struct dl_device *dev);

/**
 * dl_mdev_register_driver() - register "vfio_mdev", the mdev child driver
 * @tree: the tree
 * @ret: where to store the handle
 * Context: any thread; may block. The platform calls it at creation.
 * Return: as dl_driver_register().
 */
int dl_mdev_register_driver(struct dl_tree *tree, struct dl_driver **ret);

#ifdef __cplusplus
}
#endif
#endif
