/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bus's view of the devices and the drivers:
 *
 *   bus/{pci,mdev}/devices/NAME -> ../../../devices/.../NAME  (K_BUSLINK)
 *   class/mdev_bus/NAME -> ../../devices/.../NAME            (K_CLASSLINK)
 *   bus/pci/drivers/NAME/                                    (K_DRVDIR)
 *   bus/pci/drivers/NAME/{bind,unbind,new_id,remove_id}     (K_DRVATTR)
 *   bus/pci/drivers/NAME/module           (K_DRVMODLINK, dir-module.c)
 *   bus/pci/drivers/NAME/DEVICE -> ../../../../devices/...   (K_DRVLINK)
 *
 * The links name their device and are served inside its active section;
 * the driver directories and files name no device.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "view.h"

/*
 * bus/BUS/devices/NAME: reply with the device's link if NAME is a device
 * of that bus and can be entered. Returns whether it replied.
 */
bool lookup_buslink(fuse_req_t req, struct dl_fs *fs, const char *name,
		    bool (*on_bus)(struct dl_device *dev))
{
	struct dl_device *dev;
	struct key k;
	bool replied = false;

	if (dl_device_lookup(fs->tree, name, &dev) < 0)
		return false;
	if (on_bus(dev) && node_enter(dev) == 0) {
		k = (struct key){ K_BUSLINK, dev, 0, 0, NULL };
		reply_entry(req, fs, &k);
		node_exit(dev);
		replied = true;
	}
	dl_device_put(dev);
	return replied;
}

/* The link from a directory @depth below the root to the device. */
static int devlink_stat(struct dl_fs *fs, const struct key *k, int depth,
			struct stat *st)
{
	char target[PATH_MAX];
	int r;

	r = dev_path((struct dl_device *)k->dev, target, sizeof(target));
	if (r < 0)
		return r;
	/* "../" per level */
	fill_stat(fs, 0, S_IFLNK | 0777, (off_t)strlen(target) + 3 * depth,
		  st);
	return 0;
}

static int devlink_readlink(const struct key *k, int depth, char *target,
			    size_t len)
{
	char path[PATH_MAX];
	int r;

	r = dev_path((struct dl_device *)k->dev, path, sizeof(path));
	if (r >= 0)
		r = rel_link(depth, path, target, len);
	return r;
}

/* bus/{pci,mdev}/devices/NAME: from depth 3. */
static int stat_buslink(struct dl_fs *fs, const struct key *k, struct stat *st)
{
	return devlink_stat(fs, k, 3, st);
}

static int readlink_buslink(struct dl_fs *fs, const struct key *k,
			    char *target, size_t len)
{
	(void)fs;
	return devlink_readlink(k, 3, target, len);
}

const struct kind_ops kind_buslink = {
	.stat = stat_buslink, .readlink = readlink_buslink,
	.timeout = timeout_device,
};

/* class/mdev_bus/NAME: from depth 2. */
static int stat_classlink(struct dl_fs *fs, const struct key *k,
			  struct stat *st)
{
	return devlink_stat(fs, k, 2, st);
}

static int readlink_classlink(struct dl_fs *fs, const struct key *k,
			      char *target, size_t len)
{
	(void)fs;
	return devlink_readlink(k, 2, target, len);
}

const struct kind_ops kind_classlink = {
	.stat = stat_classlink, .readlink = readlink_classlink,
};

/* bus/pci/drivers/: one directory per registered driver. */
static void lookup_drivers(fuse_req_t req, struct dl_fs *fs,
			   const struct key *dir, const char *name)
{
	struct key k = { K_DRVDIR, NULL, 0, 0, name };

	(void)dir;
	if (strlen(name) <= DL_NAME_MAX && driver_exists(fs, name))
		reply_entry(req, fs, &k);
	else
		fuse_reply_err(req, ENOENT);
}

static int list_driver_cb(struct dl_driver *d, void *arg)
{
	dirbuf_add(arg, dl_driver_name(d), 0, S_IFDIR);
	return 0;
}

static void list_drivers(struct dl_fs *fs, const struct key *dir,
			 struct dirbuf *b)
{
	(void)dir;
	dl_tree_for_each_driver(fs->tree, list_driver_cb, b);
}

const struct kind_ops kind_buspci_drivers = {
	.stat = stat_dir, .lookup = lookup_drivers, .list = list_drivers,
};

/* The files of a driver directory, by K_DRVATTR's idx. */
enum { DRV_BIND, DRV_UNBIND, DRV_NEW_ID, DRV_REMOVE_ID, DRV_COUNT };
static const char *const drvattr_names[DRV_COUNT] = {
	"bind", "unbind", "new_id", "remove_id",
};

/* bus/pci/drivers/NAME/: bind, unbind and a link per bound device. */
static void lookup_drvdir(fuse_req_t req, struct dl_fs *fs,
			  const struct key *dir, const char *name)
{
	struct dl_device *dev;
	struct key k;

	for (int i = DRV_BIND; i < DRV_COUNT; i++) {
		if (strcmp(name, drvattr_names[i]) == 0) {
			k = (struct key){ K_DRVATTR, NULL, i, 0, dir->drv };
			reply_entry(req, fs, &k);
			return;
		}
	}
	if (strcmp(name, "module") == 0) {
		k = (struct key){ K_DRVMODLINK, NULL, 0, 0, dir->drv };
		reply_entry(req, fs, &k);
		return;
	}
	if (dl_device_lookup(fs->tree, name, &dev) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (node_enter(dev) == 0) {
		k = (struct key){ K_DRVLINK, dev, 0, 0, dir->drv };
		reply_entry(req, fs, &k);
		node_exit(dev);
	} else {
		fuse_reply_err(req, ENOENT);
	}
	dl_device_put(dev);
}

static void list_drvdir(struct dl_fs *fs, const struct key *dir,
			struct dirbuf *b)
{
	struct devvec kids = { 0 };

	for (int i = DRV_BIND; i < DRV_COUNT; i++)
		dirbuf_add(b, drvattr_names[i], 0, S_IFREG);
	dirbuf_add(b, "module", 0, S_IFLNK);
	if (dl_tree_for_each_root(fs->tree, push_all, &kids) < 0)
		b->err = ENOMEM;
	for (size_t i = 0; i < kids.n; i++) {
		struct dl_driver *d = dl_device_driver(kids.v[i]);

		if (d && strcmp(dl_driver_name(d), dir->drv) == 0)
			dirbuf_add(b, dl_device_name(kids.v[i]), 0, S_IFLNK);
	}
	devvec_clear(&kids);
}

const struct kind_ops kind_drvdir = {
	.stat = stat_dir, .lookup = lookup_drvdir, .list = list_drvdir,
};

/*
 * `new_id` and `remove_id` (drivers/pci/pci-driver.c new_id_store(),
 * remove_id_store()): the text as written, up to the page sysfs gives a
 * store; new_id returns once the functions it now matches are probed.
 */
static void write_dynid(fuse_req_t req, struct dl_fs *fs, const struct key *k,
			const char *data, size_t size)
{
	char text[ATTR_MAX + 1];
	size_t n = size < ATTR_MAX ? size : ATTR_MAX;
	struct hookctx hc;
	int r;

	memcpy(text, data, n);
	text[n] = '\0';
	r = hook_begin(fs, &hc, DL_FS_WRITE, req, k, NULL, NULL);
	if (r < 0)
		; /* failed by a scenario */
	else if (!fs->plat)
		r = -ENODEV;
	else if (k->idx == DRV_NEW_ID)
		r = dl_pci_platform_new_id(fs->plat, k->drv, text);
	else
		r = dl_pci_platform_remove_id(fs->plat, k->drv, text);
	hook_end(fs, &hc, r < 0 ? r : (int)size);
	reply_store(req, r, size);
}

/*
 * `echo DEVICE > bind` / `unbind`: no active reference of
 * the driver directory (it names no device); binding enters the device.
 */
static void write_drvattr(fuse_req_t req, struct dl_fs *fs, const struct key *k,
			  const char *data, size_t size, off_t off)
{
	char text[ATTR_MAX + 1];
	struct dl_device *dev;
	struct dl_driver *drv;
	struct hookctx hc;
	int r;

	(void)off;
	if (k->idx == DRV_NEW_ID || k->idx == DRV_REMOVE_ID) {
		write_dynid(req, fs, k, data, size);
		return;
	}
	r = store_text(data, size, text, sizeof(text));
	if (r < 0 || strlen(text) > DL_NAME_MAX) {
		fuse_reply_err(req, r < 0 ? -r : ENODEV);
		return;
	}
	drv = dl_driver_find(fs->tree, k->drv);
	if (!drv) {
		fuse_reply_err(req, ENODEV);
		return;
	}
	if (dl_device_lookup(fs->tree, text, &dev) < 0) {
		fuse_reply_err(req, ENODEV);
		return;
	}
	/* As the kernel's bind_store(): the device found holds no active
	 * reference; binding enters it (the hook sees no device held). */
	r = hook_begin(fs, &hc, DL_FS_WRITE, req, k, NULL, NULL);
	if (r < 0) {
		/* failed by a scenario */
	} else if (!is_func(dev)) {
		r = -ENODEV;
	} else if (k->idx == DRV_BIND) {
		r = dl_device_bind(dev, drv);
		if (r == -ENXIO)
			r = -ENODEV; /* Linux: the driver does not match */
	} else {
		r = dl_device_driver(dev) == drv ? dl_device_unbind(dev)
						 : -ENODEV;
		if (r == -ENOENT)
			r = -ENODEV;
	}
	dl_device_put(dev);
	hook_end(fs, &hc, r < 0 ? r : (int)size);
	reply_store(req, r, size);
}

/* bus/pci/drivers/NAME/bind or unbind, for scenario hooks. */
static int path_drvattr(struct dl_fs *fs, const struct key *k, char *buf,
			size_t len)
{
	(void)fs;
	return snprintf(buf, len, "bus/pci/drivers/%s/%s", k->drv,
			drvattr_names[k->idx]) < (int)len ? 0 : -ENAMETOOLONG;
}

const struct kind_ops kind_drvattr = {
	.stat = stat_wronly, .write = write_drvattr, .path = path_drvattr,
};

/* bus/pci/drivers/NAME/DEVICE: from depth 4, while bound to NAME. */
static int stat_drvlink(struct dl_fs *fs, const struct key *k, struct stat *st)
{
	int r = devlink_stat(fs, k, 4, st);
	struct dl_driver *d;

	if (r < 0)
		return r;
	d = dl_device_driver((struct dl_device *)k->dev);
	if (!d || strcmp(dl_driver_name(d), k->drv) != 0)
		return -ENOENT;
	return 0;
}

static int readlink_drvlink(struct dl_fs *fs, const struct key *k,
			    char *target, size_t len)
{
	(void)fs;
	return devlink_readlink(k, 4, target, len);
}

const struct kind_ops kind_drvlink = {
	.stat = stat_drvlink, .readlink = readlink_drvlink,
};
