/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The layout: where a device's directory lives, the paths links point
 * to, which devices a directory lists. The attributes of a device are in
 * attr.c, its links in dir-device.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "view.h"

/* Deepest device directory below devices/ with a path (deeper ones:
 * -ENAMETOOLONG). */
#define DEV_PATH_DEPTH_MAX 64

bool is_func(struct dl_device *dev)
{
	return dl_pci_func_of(dev) != NULL;
}

bool is_mdev(struct dl_device *dev)
{
	return dl_mdev_of(dev) != NULL;
}

bool is_vf(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	return f && (f->flags & DL_PCI_F_VF);
}

/* Where a device's directory lives: its parent, except that a VF sits
 * beside its PF, under the PF's parent, as in Linux. */
struct dl_device *fs_parent(struct dl_device *dev)
{
	struct dl_device *p = dl_device_parent(dev);

	if (p && is_vf(dev))
		p = dl_device_parent(p);
	return p;
}

/* "devices/pci0000:00/0000:00:01.0/0000:01:00.0"; returns its depth
 * (number of components), or -ENAMETOOLONG. */
int dev_path(struct dl_device *dev, char *buf, size_t len)
{
	const char *names[DEV_PATH_DEPTH_MAX];
	int depth = 0;
	size_t used = 0;

	for (struct dl_device *d = dev; d; d = fs_parent(d)) {
		if (depth == DEV_PATH_DEPTH_MAX)
			return -ENAMETOOLONG;
		names[depth++] = dl_device_name(d);
	}
	used = (size_t)snprintf(buf, len, "devices");
	for (int i = depth - 1; i >= 0; i--) {
		if (used >= len)
			return -ENAMETOOLONG;
		used += (size_t)snprintf(buf + used, len - used, "/%s",
					 names[i]);
	}
	return used < len ? depth + 1 : -ENAMETOOLONG;
}

/* dev_path() of @dev followed by "/" and the formatted rest (a file
 * below the device's directory, for scenario hooks): 0 or -ENAMETOOLONG. */
int dev_file_path(struct dl_device *dev, char *buf, size_t len,
		  const char *fmt, ...)
{
	va_list ap;
	size_t n;
	int r;

	if (dev_path(dev, buf, len) < 0)
		return -ENAMETOOLONG;
	n = strlen(buf);
	if (n + 1 >= len)
		return -ENAMETOOLONG;
	buf[n++] = '/';
	va_start(ap, fmt);
	r = vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
	return r >= 0 && (size_t)r < len - n ? 0 : -ENAMETOOLONG;
}

/* Symlink text from a directory at @depth below the root to @target. */
int rel_link(int depth, const char *target, char *buf, size_t len)
{
	size_t used = 0;

	for (int i = 0; i < depth; i++) {
		if (used + 3 >= len)
			return -ENAMETOOLONG;
		memcpy(buf + used, "../", 3);
		used += 3;
	}
	if (used + strlen(target) + 1 > len)
		return -ENAMETOOLONG;
	strcpy(buf + used, target);
	return 0;
}

/* Children shown in a device directory: its own non-VF children, and
 * the VFs of those of them that are PFs. */
int kids_push(struct devvec *k, struct dl_device *dev)
{
	return dl_device_state(dev) == DL_STATE_LIVE ? devvec_push(k, dev) : 0;
}

static int push_vf(struct dl_device *vf, void *arg)
{
	return is_vf(vf) ? kids_push(arg, vf) : 0;
}

int push_kid(struct dl_device *c, void *arg)
{
	struct dl_pci_func *f = dl_pci_func_of(c);
	int r;

	if (is_vf(c))
		return 0;
	r = kids_push(arg, c);
	if (r == 0 && f && f->sriov)
		r = dl_device_for_each_child(c, push_vf, arg);
	return r;
}

/* Every PCI function of the tree, depth first. */
int push_all(struct dl_device *dev, void *arg)
{
	int r = 0;

	if (is_func(dev))
		r = kids_push(arg, dev);
	if (r == 0)
		r = dl_device_for_each_child(dev, push_all, arg);
	return r;
}

/* A child of dir (by fs placement) named name, with a reference. */
struct dl_device *find_kid(struct dl_fs *fs, struct dl_device *dir,
				  const char *name)
{
	struct dl_device *c;

	if (dl_device_lookup(fs->tree, name, &c) < 0)
		return NULL;
	if (fs_parent(c) != dir) {
		dl_device_put(c);
		return NULL;
	}
	return c;
}
/* Every mediated device of the tree. */
int push_all_mdev(struct dl_device *dev, void *arg)
{
	int r = 0;

	if (is_mdev(dev))
		r = kids_push(arg, dev);
	if (r == 0)
		r = dl_device_for_each_child(dev, push_all_mdev, arg);
	return r;
}
int push_root(struct dl_device *dev, void *arg)
{
	return kids_push(arg, dev);
}

struct driver_find {
	const char *name;
	bool found;
};

static int find_driver_cb(struct dl_driver *d, void *arg)
{
	struct driver_find *f = arg;

	if (strcmp(dl_driver_name(d), f->name) == 0)
		f->found = true;
	return f->found;
}

bool driver_exists(struct dl_fs *fs, const char *name)
{
	struct driver_find f = { name, false };

	dl_tree_for_each_driver(fs->tree, find_driver_cb, &f);
	return f.found;
}

/* Adds the devices of @v to a listing, as entries of @type. */
void list_devices(struct dirbuf *b, struct devvec *v, mode_t type)
{
	for (size_t i = 0; i < v->n; i++)
		dirbuf_add(b, dl_device_name(v->v[i]), 0, type);
}
