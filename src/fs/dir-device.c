/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A device's directory and its links:
 *
 *   devices/pciDDDD:BB/.../DDDD:BB:DD.F/                       (K_DEVDIR)
 *     {driver,subsystem,physfn,virtfnN,mdev_type,iommu_group} -> ...
 *                                                            (K_LINK)
 *     its attributes (attr.c), power/ (dir-power.c),
 *     mdev_supported_types/ (dir-mdev.c), and
 *     the directories of its children (VFs beside their PF)
 *
 * All are served inside the device's active section.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

#define VIRTFN "virtfn"
#define VIRTFN_LEN (sizeof(VIRTFN) - 1)

/*
 * The links of a device, by number: 0 driver, 1 subsystem, 2 physfn,
 * 3 + n virtfn<n>. Fills the name and target; -ENOENT if it does not
 * exist (now).
 */
static int link_get(struct dl_device *dev, enum link_kind kind, unsigned int n,
		    char *name, size_t namelen, char *target, size_t tlen)
{
	char path[PATH_MAX];
	int depth, r;

	if (!is_func(dev) && !is_mdev(dev))
		return -ENOENT;
	depth = dev_path(dev, path, sizeof(path));
	if (depth < 0)
		return depth;
	if (is_mdev(dev)) {
		/* A mediated device: subsystem and mdev_type only. */
		struct dl_mdev *m = dl_mdev_of(dev);
		char t[128];

		switch (kind) {
		case L_SUBSYSTEM:
			snprintf(name, namelen, "subsystem");
			return rel_link(depth, "bus/mdev", target, tlen);
		case L_MDEV_TYPE:
			snprintf(name, namelen, "mdev_type");
			snprintf(t, sizeof(t), "../mdev_supported_types/%s",
				 dl_mdev_type_name(m->parent, m->type));
			snprintf(target, tlen, "%s", t);
			return 0;
		default:
			return -ENOENT;
		}
	}
	switch (kind) {
	case L_MDEV_TYPE:
		return -ENOENT;
	case L_DRIVER: {
		struct dl_driver *drv = dl_device_driver(dev);
		char t[128];

		if (!drv)
			return -ENOENT;
		snprintf(name, namelen, "driver");
		snprintf(t, sizeof(t), "bus/pci/drivers/%s",
			 dl_driver_name(drv));
		return rel_link(depth, t, target, tlen);
	}
	case L_SUBSYSTEM:
		snprintf(name, namelen, "subsystem");
		return rel_link(depth, "bus/pci", target, tlen);
	case L_IOMMU_GROUP: {
		char t[64];
		int g = dl_pci_iommu_group(dev);

		if (g < 0)
			return -ENOENT;
		snprintf(name, namelen, "iommu_group");
		snprintf(t, sizeof(t), "kernel/iommu_groups/%d", g);
		return rel_link(depth, t, target, tlen);
	}
	case L_PHYSFN: {
		struct dl_pci_func *f = dl_pci_func_of(dev);

		if (!(f->flags & DL_PCI_F_VF) || !f->physfn)
			return -ENOENT;
		snprintf(name, namelen, "physfn");
		snprintf(target, tlen, "../%s", dl_device_name(f->physfn));
		return 0;
	}
	case L_VIRTFN: {
		struct dl_device *vf;

		r = dl_pci_sriov_get_vf(dev, n, &vf);
		if (r < 0)
			return -ENOENT;
		r = dl_device_state(vf) == DL_STATE_LIVE ? 0 : -ENOENT;
		snprintf(name, namelen, VIRTFN "%u", n);
		snprintf(target, tlen, "../%s", dl_device_name(vf));
		dl_device_put(vf);
		return r;
	}
	}
	return -ENOENT;
}

static int parse_link_name(const char *name, enum link_kind *kind,
			   unsigned int *n)
{
	*n = 0;
	if (strcmp(name, "driver") == 0)
		*kind = L_DRIVER;
	else if (strcmp(name, "subsystem") == 0)
		*kind = L_SUBSYSTEM;
	else if (strcmp(name, "physfn") == 0)
		*kind = L_PHYSFN;
	else if (strcmp(name, "mdev_type") == 0)
		*kind = L_MDEV_TYPE;
	else if (strcmp(name, "iommu_group") == 0)
		*kind = L_IOMMU_GROUP;
	else if (strncmp(name, VIRTFN, VIRTFN_LEN) == 0 &&
		 name[VIRTFN_LEN] >= '0' && name[VIRTFN_LEN] <= '9') {
		const char *num = name + VIRTFN_LEN;
		char *end;
		unsigned long v = strtoul(num, &end, 10);

		/* decimal, no leading zero, a 16-bit VF index */
		if (*end || v > UINT16_MAX || (num[0] == '0' && num[1]))
			return -ENOENT;
		*kind = L_VIRTFN;
		*n = (unsigned int)v;
	} else {
		return -ENOENT;
	}
	return 0;
}

/*
 * The kernel caches symlink targets per inode. `driver` is the one link
 * whose target changes: each binding gets its own inode (n: a tag of the
 * bound driver), and the entry no cache time, so that a rebind is never
 * read through a stale target.
 */
static unsigned int driver_tag(struct dl_device *dev)
{
	return (unsigned int)((uintptr_t)dl_device_driver(dev) >> 4);
}

static void lookup_devdir(fuse_req_t req, struct dl_fs *fs,
			  const struct key *dir, const char *name)
{
	struct dl_device *dev = (struct dl_device *)dir->dev;
	struct key k = { 0 };
	struct dl_device *kid;
	enum link_kind lk;
	unsigned int n;
	int i;

	i = attr_index(fs, dev, name);
	if (i >= 0) {
		k = (struct key){ K_ATTR, dev, i, 0, NULL };
		reply_entry(req, fs, &k);
		return;
	}
	if (parse_link_name(name, &lk, &n) == 0) {
		if (lk == L_DRIVER)
			n = driver_tag(dev);
		k = (struct key){ K_LINK, dev, (int)lk, n, NULL };
		reply_entry(req, fs, &k);
		return;
	}
	if (strcmp(name, "power") == 0 && (is_func(dev) || dl_pci_root_of(dev))) {
		k = (struct key){ K_POWER, dev, 0, 0, NULL };
		reply_entry(req, fs, &k);
		return;
	}
	if (strcmp(name, "mdev_supported_types") == 0 &&
	    dl_mdev_type_count(dev)) {
		k = (struct key){ K_MTYPES, dev, 0, 0, NULL };
		reply_entry(req, fs, &k);
		return;
	}
	kid = find_kid(fs, dev, name);
	if (!kid) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	k = (struct key){ K_DEVDIR, kid, 0, 0, NULL };
	if (node_enter(kid) < 0) {
		fuse_reply_err(req, ENOENT);
	} else {
		reply_entry(req, fs, &k);
		node_exit(kid);
	}
	dl_device_put(kid);
}

/* The links of a device directory, in listing order. */
static void list_links(struct dl_device *dev, struct dirbuf *b)
{
	char name[DL_NAME_MAX + 1], target[PATH_MAX];

	for (int k = L_DRIVER; k < L_VIRTFN; k++)
		if (link_get(dev, (enum link_kind)k, 0, name, sizeof(name),
			     target, sizeof(target)) == 0)
			dirbuf_add(b, name, 0, S_IFLNK);
	if (dl_mdev_parent_registered(dev))
		dirbuf_add(b, "mdev_supported_types", 0, S_IFDIR);
	if (is_func(dev)) {
		struct dl_pci_func *f = dl_pci_func_of(dev);

		if (f->sriov) {
			unsigned int nvf = atomic_load(&f->sriov->numvfs);

			for (unsigned int n = 0; n < nvf; n++)
				if (link_get(dev, L_VIRTFN, n, name,
					     sizeof(name), target,
					     sizeof(target)) == 0)
					dirbuf_add(b, name, 0, S_IFLNK);
		}
	}
}

static void list_devdir(struct dl_fs *fs, const struct key *dir,
			struct dirbuf *b)
{
	struct dl_device *dev = (struct dl_device *)dir->dev;
	struct devvec kids = { 0 };

	attr_list(fs, dev, b);
	if (is_func(dev) || dl_pci_root_of(dev))
		dirbuf_add(b, "power", 0, S_IFDIR);
	list_links(dev, b);
	if (dl_device_for_each_child(dev, push_kid, &kids) < 0)
		b->err = ENOMEM;
	list_devices(b, &kids, S_IFDIR);
	devvec_clear(&kids);
}

const struct kind_ops kind_devdir = {
	.stat = stat_dir, .lookup = lookup_devdir, .list = list_devdir,
	.timeout = timeout_device,
};

/* The target of a link node; -ENOENT once it is gone. */
static int readlink_link(struct dl_fs *fs, const struct key *k, char *target,
			 size_t len)
{
	struct dl_device *dev = (struct dl_device *)k->dev;
	char name[DL_NAME_MAX + 1];

	(void)fs;
	if (k->idx == L_DRIVER && k->n != driver_tag(dev))
		return -ENOENT; /* that binding is over */
	return link_get(dev, (enum link_kind)k->idx, k->n, name, sizeof(name),
			target, len);
}

static double timeout_link(const struct key *k)
{
	return k->idx == L_DRIVER ? 0 : TIMEOUT;
}

const struct kind_ops kind_link = {
	.stat = stat_symlink, .readlink = readlink_link, .timeout = timeout_link,
};
