/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The modules of the drivers, as Linux shows a built-in driver's
 * (drivers/base/module.c, module_add_driver()): a directory per module
 * in module/, a link back to the driver from it, and the driver's link
 * to its module. A driver's module is its name with '-' made '_' (the
 * kernel's KBUILD_MODNAME: vfio-pci is in vfio_pci).
 *
 *   module/MOD/                                              (K_MODDIR)
 *   module/MOD/drivers/                                      (K_MODDRVS)
 *   module/MOD/drivers/pci:NAME -> ../../../bus/pci/drivers/NAME
 *                                                            (K_MODDRVLINK)
 *   bus/pci/drivers/NAME/module -> ../../../../module/MOD    (K_DRVMODLINK)
 *
 * The keys carry the driver's name; none names a device.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "view.h"

/* The module name of driver @drv into @buf (DL_NAME_MAX + 1 bytes). */
static void module_name(const char *drv, char *buf)
{
	size_t i;

	for (i = 0; drv[i] && i < DL_NAME_MAX; i++)
		buf[i] = drv[i] == '-' ? '_' : drv[i];
	buf[i] = '\0';
}

struct module_find {
	const char *module;
	char drv[DL_NAME_MAX + 1];
	bool found;
};

static int find_module_cb(struct dl_driver *d, void *arg)
{
	struct module_find *f = arg;
	char m[DL_NAME_MAX + 1];

	module_name(dl_driver_name(d), m);
	if (strcmp(m, f->module) == 0) {
		snprintf(f->drv, sizeof(f->drv), "%s", dl_driver_name(d));
		f->found = true;
	}
	return f->found;
}

/* module/: a directory per driver's module. */
static void lookup_module(fuse_req_t req, struct dl_fs *fs,
			  const struct key *dir, const char *name)
{
	struct module_find f = { .module = name };
	struct key k;

	(void)dir;
	if (strlen(name) <= DL_NAME_MAX)
		dl_tree_for_each_driver(fs->tree, find_module_cb, &f);
	if (!f.found) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	k = (struct key){ K_MODDIR, NULL, 0, 0, f.drv };
	reply_entry(req, fs, &k);
}

static int list_module_cb(struct dl_driver *d, void *arg)
{
	char m[DL_NAME_MAX + 1];

	module_name(dl_driver_name(d), m);
	dirbuf_add(arg, m, 0, S_IFDIR);
	return 0;
}

static void list_module(struct dl_fs *fs, const struct key *dir,
			struct dirbuf *b)
{
	(void)dir;
	dl_tree_for_each_driver(fs->tree, list_module_cb, b);
}

const struct kind_ops kind_module = {
	.stat = stat_dir, .lookup = lookup_module, .list = list_module,
};

/* A directory or link of a driver that exists while the driver does. */
static int stat_moddir(struct dl_fs *fs, const struct key *k, struct stat *st)
{
	if (!driver_exists(fs, k->drv))
		return -ENOENT;
	return stat_dir(fs, k, st);
}

/* module/MOD/: drivers/. */
static void lookup_moddir(fuse_req_t req, struct dl_fs *fs,
			  const struct key *dir, const char *name)
{
	struct key k = { K_MODDRVS, NULL, 0, 0, dir->drv };

	if (strcmp(name, "drivers") == 0 && driver_exists(fs, dir->drv))
		reply_entry(req, fs, &k);
	else
		fuse_reply_err(req, ENOENT);
}

static void list_moddir(struct dl_fs *fs, const struct key *dir,
			struct dirbuf *b)
{
	(void)fs, (void)dir;
	dirbuf_add(b, "drivers", 0, S_IFDIR);
}

const struct kind_ops kind_moddir = {
	.stat = stat_moddir, .lookup = lookup_moddir, .list = list_moddir,
};

/* module/MOD/drivers/: pci:NAME. */
static void lookup_moddrvs(fuse_req_t req, struct dl_fs *fs,
			   const struct key *dir, const char *name)
{
	struct key k = { K_MODDRVLINK, NULL, 0, 0, dir->drv };

	if (strncmp(name, "pci:", 4) == 0 && strcmp(name + 4, dir->drv) == 0 &&
	    driver_exists(fs, dir->drv))
		reply_entry(req, fs, &k);
	else
		fuse_reply_err(req, ENOENT);
}

static void list_moddrvs(struct dl_fs *fs, const struct key *dir,
			 struct dirbuf *b)
{
	char name[DL_NAME_MAX + 8];

	(void)fs;
	snprintf(name, sizeof(name), "pci:%s", dir->drv);
	dirbuf_add(b, name, 0, S_IFLNK);
}

const struct kind_ops kind_moddrvs = {
	.stat = stat_moddir, .lookup = lookup_moddrvs, .list = list_moddrvs,
};

/* The two links: from module/MOD/drivers/ (depth 3) to the driver,
 * from bus/pci/drivers/NAME/ (depth 4) to the module. */
static int modlink_target(const struct key *k, char *buf, size_t len)
{
	char m[DL_NAME_MAX + 1], t[PATH_MAX];

	if (k->kind == K_MODDRVLINK) {
		snprintf(t, sizeof(t), "bus/pci/drivers/%s", k->drv);
		return rel_link(3, t, buf, len);
	}
	module_name(k->drv, m);
	snprintf(t, sizeof(t), "module/%s", m);
	return rel_link(4, t, buf, len);
}

static int stat_modlink(struct dl_fs *fs, const struct key *k, struct stat *st)
{
	char target[PATH_MAX];
	int r;

	if (!driver_exists(fs, k->drv))
		return -ENOENT;
	r = modlink_target(k, target, sizeof(target));
	if (r < 0)
		return r;
	fill_stat(fs, 0, S_IFLNK | 0777, (off_t)strlen(target), st);
	return 0;
}

static int readlink_modlink(struct dl_fs *fs, const struct key *k,
			    char *target, size_t len)
{
	(void)fs;
	return modlink_target(k, target, len);
}

const struct kind_ops kind_modlink = {
	.stat = stat_modlink, .readlink = readlink_modlink,
};
