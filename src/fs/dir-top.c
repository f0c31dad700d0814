/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The static directories (fixed inode numbers: the kinds themselves) and
 * bus/pci/rescan:
 *
 *   /  bus/  bus/pci/  bus/pci/{devices,drivers}/  bus/pci/rescan
 *   bus/pci/drivers_probe  bus/pci/drivers_autoprobe
 *   bus/mdev/  bus/mdev/devices/  devices/  class/  class/mdev_bus/
 *   (kernel/ and kernel/iommu_groups/ are dir-iommu.c's, bus/pci/slots/
 *   dir-slot.c's)
 *
 * None names a device: their operations hold no active reference, those
 * on the entries they list take the entry's own.
 */
#include <errno.h>
#include <string.h>

#include "view.h"

/* A fixed entry of a static directory. */
struct fixed {
	const char *name;
	enum kind kind;
	mode_t type;
};

#define FIXED_END { NULL, 0, 0 }

static const struct fixed root_entries[] = {
	{ "bus", K_BUS, S_IFDIR },
	{ "devices", K_DEVICES, S_IFDIR },
	{ "class", K_CLASS, S_IFDIR },
	{ "module", K_MODULE, S_IFDIR },
	{ "kernel", K_KERNEL, S_IFDIR },
	FIXED_END
};

static const struct fixed class_entries[] = {
	{ "mdev_bus", K_CLASS_MDEVBUS, S_IFDIR },
	FIXED_END
};

static const struct fixed bus_entries[] = {
	{ "pci", K_BUSPCI, S_IFDIR },
	{ "mdev", K_BUSMDEV, S_IFDIR },
	FIXED_END
};

static const struct fixed buspci_entries[] = {
	{ "devices", K_BUSPCI_DEVICES, S_IFDIR },
	{ "drivers", K_BUSPCI_DRIVERS, S_IFDIR },
	{ "drivers_autoprobe", K_BUSPCI_DRIVERS_AUTOPROBE, S_IFREG },
	{ "drivers_probe", K_BUSPCI_DRIVERS_PROBE, S_IFREG },
	{ "rescan", K_BUSPCI_RESCAN, S_IFREG },
	{ "slots", K_BUSPCI_SLOTS, S_IFDIR },
	FIXED_END
};

static const struct fixed busmdev_entries[] = {
	{ "devices", K_BUSMDEV_DEVICES, S_IFDIR },
	FIXED_END
};

/* The fixed entries of a static directory, by its kind. */
static const struct fixed *const fixed_of[K_STATIC_MAX] = {
	[K_ROOT] = root_entries,
	[K_BUS] = bus_entries,
	[K_BUSPCI] = buspci_entries,
	[K_BUSMDEV] = busmdev_entries,
	[K_CLASS] = class_entries,
};

static void lookup_fixed(fuse_req_t req, struct dl_fs *fs,
			 const struct key *dir, const char *name)
{
	fs_assert(dir->kind < K_STATIC_MAX && fixed_of[dir->kind]);
	for (const struct fixed *f = fixed_of[dir->kind]; f->name; f++) {
		if (strcmp(name, f->name) == 0) {
			reply_static(req, fs, f->kind);
			return;
		}
	}
	fuse_reply_err(req, ENOENT);
}

static void list_fixed(struct dl_fs *fs, const struct key *dir,
		       struct dirbuf *b)
{
	(void)fs;
	fs_assert(dir->kind < K_STATIC_MAX && fixed_of[dir->kind]);
	for (const struct fixed *f = fixed_of[dir->kind]; f->name; f++)
		dirbuf_add(b, f->name, f->kind, f->type);
}

const struct kind_ops kind_root = {
	.stat = stat_dir, .lookup = lookup_fixed, .list = list_fixed,
};
const struct kind_ops kind_bus = {
	.stat = stat_dir, .lookup = lookup_fixed, .list = list_fixed,
};
const struct kind_ops kind_buspci = {
	.stat = stat_dir, .lookup = lookup_fixed, .list = list_fixed,
};
const struct kind_ops kind_busmdev = {
	.stat = stat_dir, .lookup = lookup_fixed, .list = list_fixed,
};
const struct kind_ops kind_class = {
	.stat = stat_dir, .lookup = lookup_fixed, .list = list_fixed,
};

/* devices/: the root buses (devices without a parent). */
static void lookup_devices(fuse_req_t req, struct dl_fs *fs,
			   const struct key *dir, const char *name)
{
	struct dl_device *dev;
	struct key k;

	(void)dir;
	if (dl_device_lookup(fs->tree, name, &dev) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (!dl_device_parent(dev) && node_enter(dev) == 0) {
		k = (struct key){ K_DEVDIR, dev, 0, 0, NULL };
		reply_entry(req, fs, &k);
		node_exit(dev);
	} else {
		fuse_reply_err(req, ENOENT);
	}
	dl_device_put(dev);
}

static void list_devices_dir(struct dl_fs *fs, const struct key *dir,
			     struct dirbuf *b)
{
	struct devvec kids = { 0 };

	(void)dir;
	if (dl_tree_for_each_root(fs->tree, push_root, &kids) < 0)
		b->err = ENOMEM;
	list_devices(b, &kids, S_IFDIR);
	devvec_clear(&kids);
}

const struct kind_ops kind_devices = {
	.stat = stat_dir, .lookup = lookup_devices, .list = list_devices_dir,
};

/* bus/pci/devices/: a link to every PCI function. */
static void lookup_buspci_devices(fuse_req_t req, struct dl_fs *fs,
				  const struct key *dir, const char *name)
{
	(void)dir;
	if (!lookup_buslink(req, fs, name, is_func))
		fuse_reply_err(req, ENOENT);
}

static void list_buspci_devices(struct dl_fs *fs, const struct key *dir,
				struct dirbuf *b)
{
	struct devvec kids = { 0 };

	(void)dir;
	if (dl_tree_for_each_root(fs->tree, push_all, &kids) < 0)
		b->err = ENOMEM;
	list_devices(b, &kids, S_IFLNK);
	devvec_clear(&kids);
}

const struct kind_ops kind_buspci_devices = {
	.stat = stat_dir,
	.lookup = lookup_buspci_devices,
	.list = list_buspci_devices,
};

/* bus/mdev/devices/: a link to every mediated device. */
static void lookup_busmdev_devices(fuse_req_t req, struct dl_fs *fs,
				   const struct key *dir, const char *name)
{
	(void)dir;
	if (!lookup_buslink(req, fs, name, is_mdev))
		fuse_reply_err(req, ENOENT);
}

static void list_busmdev_devices(struct dl_fs *fs, const struct key *dir,
				 struct dirbuf *b)
{
	struct devvec kids = { 0 };

	(void)dir;
	if (dl_tree_for_each_root(fs->tree, push_all_mdev, &kids) < 0)
		b->err = ENOMEM;
	list_devices(b, &kids, S_IFLNK);
	devvec_clear(&kids);
}

const struct kind_ops kind_busmdev_devices = {
	.stat = stat_dir,
	.lookup = lookup_busmdev_devices,
	.list = list_busmdev_devices,
};

/*
 * class/mdev_bus/: a link to every function whose driver registered it
 * as a parent of mediated devices (mdev_register_parent() adds it to the
 * class).
 */
static bool is_mdev_parent(struct dl_device *dev)
{
	return is_func(dev) && dl_mdev_parent_registered(dev);
}

static int push_mdev_parent(struct dl_device *dev, void *arg)
{
	int r = 0;

	if (is_mdev_parent(dev))
		r = kids_push(arg, dev);
	if (r == 0)
		r = dl_device_for_each_child(dev, push_mdev_parent, arg);
	return r;
}

static void lookup_class_mdevbus(fuse_req_t req, struct dl_fs *fs,
				 const struct key *dir, const char *name)
{
	struct dl_device *dev;
	struct key k;

	(void)dir;
	if (dl_device_lookup(fs->tree, name, &dev) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (is_mdev_parent(dev) && node_enter(dev) == 0) {
		k = (struct key){ K_CLASSLINK, dev, 0, 0, NULL };
		reply_entry(req, fs, &k);
		node_exit(dev);
	} else {
		fuse_reply_err(req, ENOENT);
	}
	dl_device_put(dev);
}

static void list_class_mdevbus(struct dl_fs *fs, const struct key *dir,
			       struct dirbuf *b)
{
	struct devvec kids = { 0 };

	(void)dir;
	if (dl_tree_for_each_root(fs->tree, push_mdev_parent, &kids) < 0)
		b->err = ENOMEM;
	list_devices(b, &kids, S_IFLNK);
	devvec_clear(&kids);
}

const struct kind_ops kind_class_mdevbus = {
	.stat = stat_dir,
	.lookup = lookup_class_mdevbus,
	.list = list_class_mdevbus,
};

/* bus/pci/rescan: `echo 1 > rescan` rescans every bus. */
static void write_rescan(fuse_req_t req, struct dl_fs *fs, const struct key *k,
			 const char *data, size_t size, off_t off)
{
	char text[ATTR_MAX + 1];
	struct hookctx hc;
	bool on;
	int r;

	(void)off;
	r = hook_begin(fs, &hc, DL_FS_WRITE, req, k, NULL, NULL);
	if (r >= 0)
		r = store_text(data, size, text, sizeof(text));
	if (r >= 0)
		r = store_bool(text, &on);
	if (r >= 0 && on && fs->plat)
		r = dl_pci_platform_rescan(fs->plat, NULL);
	hook_end(fs, &hc, r < 0 ? r : (int)size);
	reply_store(req, r, size);
}

/*
 * bus/pci/drivers_probe: `echo NAME > drivers_probe` attaches a driver
 * to an unbound function, as drivers/base/bus.c's drivers_probe_store()
 * (bus_rescan_devices_helper(), device_attach()): a function already
 * bound, or that no driver wants, or whose driver's probe fails, is
 * left as it is and the write succeeds; a name that is no function of
 * the bus is ENODEV; a function going away EINVAL.
 */
static void write_drivers_probe(fuse_req_t req, struct dl_fs *fs,
				const struct key *k, const char *data,
				size_t size, off_t off)
{
	char text[ATTR_MAX + 1];
	struct dl_device *dev;
	struct hookctx hc;
	int r;

	(void)off;
	r = store_text(data, size, text, sizeof(text));
	if (r < 0 || !text[0] || dl_device_lookup(fs->tree, text, &dev) < 0) {
		reply_store(req, r < 0 ? r : -ENODEV, size);
		return;
	}
	/* As bind: the function found holds no active reference; binding
	 * enters it (the hook sees no device held). */
	r = hook_begin(fs, &hc, DL_FS_WRITE, req, k, NULL, NULL);
	if (r < 0) {
		/* failed by a scenario */
	} else if (!is_func(dev)) {
		r = -ENODEV;
	} else if (!dl_device_driver(dev)) {
		r = dl_device_bind(dev, NULL);
		r = r == -ENODEV ? -EINVAL : 0;
	}
	dl_device_put(dev);
	hook_end(fs, &hc, r < 0 ? r : (int)size);
	reply_store(req, r, size);
}

const struct kind_ops kind_buspci_drivers_probe = {
	.stat = stat_wronly, .write = write_drivers_probe,
};

/*
 * bus/pci/drivers_autoprobe, as drivers/base/bus.c's
 * drivers_autoprobe_show()/_store(): "1" or "0"; a write starting with
 * '0' turns it off, any other turns it on. Off, an added function is not
 * probed (bus_probe_device()) nor are the functions a registered driver
 * would match (bus_add_driver()); binds and drivers_probe still work.
 */
static int stat_autoprobe(struct dl_fs *fs, const struct key *k,
			  struct stat *st)
{
	(void)k;
	fill_stat(fs, 0, S_IFREG | 0644, ATTR_MAX, st);
	return 0;
}

static void read_autoprobe(fuse_req_t req, struct dl_fs *fs,
			   const struct key *k, size_t size, off_t off)
{
	const char *text = dl_tree_autoprobe(fs->tree) ? "1\n" : "0\n";

	(void)k;
	reply_text(req, text, 2, size, off);
}

static void write_autoprobe(fuse_req_t req, struct dl_fs *fs,
			    const struct key *k, const char *data, size_t size,
			    off_t off)
{
	struct hookctx hc;
	int r;

	(void)off;
	r = hook_begin(fs, &hc, DL_FS_WRITE, req, k, NULL, NULL);
	if (r >= 0 && size)
		dl_tree_set_autoprobe(fs->tree, data[0] != '0');
	hook_end(fs, &hc, r < 0 ? r : (int)size);
	reply_store(req, r, size);
}

const struct kind_ops kind_buspci_drivers_autoprobe = {
	.stat = stat_autoprobe, .read = read_autoprobe, .write = write_autoprobe,
};

const struct kind_ops kind_buspci_rescan = {
	.stat = stat_wronly, .write = write_rescan,
};
