/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The IOMMU groups, as drivers/iommu/iommu.c lays them out
 * (iommu_group_alloc(), iommu_group_add_device()):
 *
 *   kernel/                                                  (static)
 *   kernel/iommu_groups/                                     (static)
 *   kernel/iommu_groups/N/                                   (K_GROUP)
 *   kernel/iommu_groups/N/{reserved_regions,type}            (K_GROUP_ATTR)
 *   kernel/iommu_groups/N/devices/                           (K_GROUP_DEVS)
 *   kernel/iommu_groups/N/devices/NAME -> ../../../../devices/...
 *                                                            (K_GROUP_DEVLINK)
 *
 * and each member function's `iommu_group` link (dir-device.c). A group
 * is its number (idx); it exists while a function of the tree is in it.
 * The group's entries change with hot-plug and are not cached.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

/* The files of a group, by K_GROUP_ATTR's n. */
enum { GA_RESERVED_REGIONS, GA_TYPE, GA_COUNT };
static const char *const group_attr_names[GA_COUNT] = {
	"reserved_regions", "type",
};

/*
 * iommu_group_show_resv_regions(): the regions of x86's IOMMU drivers
 * (intel_iommu_get_resv_regions(), amd_iommu_get_resv_regions()): the
 * interrupt range, which DMA cannot reach.
 */
static const char reserved_regions[] =
	"0x00000000fee00000 0x00000000feefffff msi\n";
/* iommu_group_show_type(): a translated default domain with a flush
 * queue, x86's default (CONFIG_IOMMU_DEFAULT_DMA_LAZY). */
static const char group_type[] = "DMA-FQ\n";

/* The live functions of the tree, depth first. */
static int all_funcs(struct dl_fs *fs, struct devvec *v)
{
	return dl_tree_for_each_root(fs->tree, push_all, v);
}

static bool group_exists(struct dl_fs *fs, int id)
{
	struct devvec v = { 0 };
	bool found = false;

	(void)all_funcs(fs, &v);
	for (size_t i = 0; i < v.n && !found; i++)
		found = dl_pci_iommu_group(v.v[i]) == id;
	devvec_clear(&v);
	return found;
}

/* "N": a group's number, decimal without leading zeros. */
static int parse_group(const char *name)
{
	char *end;
	unsigned long v;

	if (name[0] < '0' || name[0] > '9' || (name[0] == '0' && name[1]))
		return -1;
	v = strtoul(name, &end, 10);
	if (*end || v > INT_MAX)
		return -1;
	return (int)v;
}

/* kernel/: iommu_groups only (the host's other entries stay the host's). */
static void lookup_kernel(fuse_req_t req, struct dl_fs *fs,
			  const struct key *dir, const char *name)
{
	(void)dir;
	if (strcmp(name, "iommu_groups") == 0)
		reply_static(req, fs, K_IOMMU_GROUPS);
	else
		fuse_reply_err(req, ENOENT);
}

static void list_kernel(struct dl_fs *fs, const struct key *dir,
			struct dirbuf *b)
{
	(void)fs, (void)dir;
	dirbuf_add(b, "iommu_groups", K_IOMMU_GROUPS, S_IFDIR);
}

const struct kind_ops kind_kernel = {
	.stat = stat_dir, .lookup = lookup_kernel, .list = list_kernel,
};

static void lookup_groups(fuse_req_t req, struct dl_fs *fs,
			  const struct key *dir, const char *name)
{
	int id = parse_group(name);
	struct key k = { K_GROUP, NULL, id, 0, NULL };

	(void)dir;
	if (id >= 0 && group_exists(fs, id))
		reply_entry(req, fs, &k);
	else
		fuse_reply_err(req, ENOENT);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Every group once, in numeric order. */
static void list_groups(struct dl_fs *fs, const struct key *dir,
			struct dirbuf *b)
{
	struct devvec v = { 0 };
	char name[16];
	size_t n = 0;
	int *ids;

	(void)dir;
	if (all_funcs(fs, &v) < 0)
		b->err = ENOMEM;
	ids = malloc((v.n + 1) * sizeof(*ids));
	if (!ids) {
		b->err = ENOMEM;
		devvec_clear(&v);
		return;
	}
	for (size_t i = 0; i < v.n; i++) {
		int g = dl_pci_iommu_group(v.v[i]);

		if (g >= 0)
			ids[n++] = g;
	}
	devvec_clear(&v);
	qsort(ids, n, sizeof(*ids), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if (i && ids[i] == ids[i - 1])
			continue;
		snprintf(name, sizeof(name), "%d", ids[i]);
		dirbuf_add(b, name, 0, S_IFDIR);
	}
	free(ids);
}

const struct kind_ops kind_iommu_groups = {
	.stat = stat_dir, .lookup = lookup_groups, .list = list_groups,
};

static int stat_group(struct dl_fs *fs, const struct key *k, struct stat *st)
{
	if (!group_exists(fs, k->idx))
		return -ENOENT;
	return stat_dir(fs, k, st);
}

static void lookup_group(fuse_req_t req, struct dl_fs *fs,
			 const struct key *dir, const char *name)
{
	struct key k = { K_GROUP_DEVS, NULL, dir->idx, 0, NULL };

	if (!group_exists(fs, dir->idx)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (strcmp(name, "devices") == 0) {
		reply_entry(req, fs, &k);
		return;
	}
	for (unsigned int i = 0; i < GA_COUNT; i++) {
		if (strcmp(name, group_attr_names[i]) == 0) {
			k = (struct key){ K_GROUP_ATTR, NULL, dir->idx, i, NULL };
			reply_entry(req, fs, &k);
			return;
		}
	}
	fuse_reply_err(req, ENOENT);
}

static void list_group(struct dl_fs *fs, const struct key *dir,
		       struct dirbuf *b)
{
	(void)fs, (void)dir;
	dirbuf_add(b, "devices", 0, S_IFDIR);
	for (unsigned int i = 0; i < GA_COUNT; i++)
		dirbuf_add(b, group_attr_names[i], 0, S_IFREG);
}

const struct kind_ops kind_group = {
	.stat = stat_group, .lookup = lookup_group, .list = list_group,
	.timeout = no_cache,
};

static int stat_group_attr(struct dl_fs *fs, const struct key *k,
			   struct stat *st)
{
	if (!group_exists(fs, k->idx))
		return -ENOENT;
	/* type is 0644 in Linux (iommu_group_store_type()); changing the
	 * default domain is not modelled, so it is read-only here */
	fill_stat(fs, 0, S_IFREG | 0444, ATTR_MAX, st);
	return 0;
}

static void read_group_attr(fuse_req_t req, struct dl_fs *fs,
			    const struct key *k, size_t size, off_t off)
{
	const char *text = k->n == GA_TYPE ? group_type : reserved_regions;

	if (!group_exists(fs, k->idx)) {
		fuse_reply_err(req, ENODEV);
		return;
	}
	reply_text(req, text, strlen(text), size, off);
}

const struct kind_ops kind_group_attr = {
	.stat = stat_group_attr, .read = read_group_attr, .timeout = no_cache,
};

/* N/devices/: a link to each member. */
static void lookup_group_devs(fuse_req_t req, struct dl_fs *fs,
			      const struct key *dir, const char *name)
{
	struct dl_device *dev;
	struct key k;

	if (dl_device_lookup(fs->tree, name, &dev) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (dl_pci_iommu_group(dev) == dir->idx && node_enter(dev) == 0) {
		k = (struct key){ K_GROUP_DEVLINK, dev, dir->idx, 0, NULL };
		reply_entry(req, fs, &k);
		node_exit(dev);
	} else {
		fuse_reply_err(req, ENOENT);
	}
	dl_device_put(dev);
}

static void list_group_devs(struct dl_fs *fs, const struct key *dir,
			    struct dirbuf *b)
{
	struct devvec v = { 0 }, members = { 0 };

	if (all_funcs(fs, &v) < 0)
		b->err = ENOMEM;
	for (size_t i = 0; i < v.n; i++)
		if (dl_pci_iommu_group(v.v[i]) == dir->idx &&
		    devvec_push(&members, v.v[i]) < 0)
			b->err = ENOMEM;
	devvec_clear(&v);
	list_devices(b, &members, S_IFLNK);
	devvec_clear(&members);
}

const struct kind_ops kind_group_devs = {
	.stat = stat_group, .lookup = lookup_group_devs,
	.list = list_group_devs, .timeout = no_cache,
};

/* N/devices/NAME: from depth 4. */
static int readlink_group_devlink(struct dl_fs *fs, const struct key *k,
				  char *target, size_t len)
{
	char path[PATH_MAX];
	int r;

	(void)fs;
	r = dev_path((struct dl_device *)k->dev, path, sizeof(path));
	if (r >= 0)
		r = rel_link(4, path, target, len);
	return r;
}

const struct kind_ops kind_group_devlink = {
	.stat = stat_symlink, .readlink = readlink_group_devlink,
	.timeout = no_cache,
};
