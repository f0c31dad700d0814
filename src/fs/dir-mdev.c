/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mediated-device types a parent's driver offers:
 *
 *   PARENT/mdev_supported_types/                     (K_MTYPES)
 *   .../TYPE/                                        (K_MTYPE, idx: type)
 *   .../TYPE/{name,description,...,create}           (K_MTYPE_ATTR, n)
 *   .../TYPE/devices/                                (K_MTYPE_DEVS)
 *   .../TYPE/devices/UUID -> ../../../UUID           (K_MTYPE_DEVLINK)
 *
 * All are served inside the parent's active section (the links: inside
 * the child's), and exist only while a driver offers the types.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "view.h"

static int stat_mtype_dir(struct dl_fs *fs, const struct key *k,
			  struct stat *st)
{
	/* only while a driver offers the types */
	if (!dl_mdev_parent_registered((struct dl_device *)k->dev))
		return -ENOENT;
	return stat_dir(fs, k, st);
}

/* Reply with @k if it names something (a kind), else ENOENT. */
static void reply_found(fuse_req_t req, struct dl_fs *fs, const struct key *k)
{
	if (!k->kind)
		fuse_reply_err(req, ENOENT);
	else
		reply_entry(req, fs, k);
}

/* mdev_supported_types/: a directory per type. */
static void lookup_mtypes(fuse_req_t req, struct dl_fs *fs,
			  const struct key *dir, const char *name)
{
	struct key k = { 0 };
	int t;

	if (dl_mdev_parent_registered((struct dl_device *)dir->dev)) {
		t = dl_mdev_type_lookup((struct dl_device *)dir->dev, name);
		if (t >= 0)
			k = (struct key){ K_MTYPE, dir->dev, t, 0, NULL };
	}
	reply_found(req, fs, &k);
}

static void list_mtypes(struct dl_fs *fs, const struct key *dir,
			struct dirbuf *b)
{
	struct dl_device *dev = (struct dl_device *)dir->dev;
	unsigned int n = dl_mdev_type_count(dev);

	(void)fs;
	if (!dl_mdev_parent_registered(dev)) {
		b->err = ENOENT;
		return;
	}
	for (unsigned int t = 0; t < n; t++)
		dirbuf_add(b, dl_mdev_type_name(dev, t), 0, S_IFDIR);
}

const struct kind_ops kind_mtypes = {
	.stat = stat_mtype_dir, .lookup = lookup_mtypes, .list = list_mtypes,
};

/* TYPE/: its attributes and devices/. */
static void lookup_mtype(fuse_req_t req, struct dl_fs *fs,
			 const struct key *dir, const char *name)
{
	struct key k = { 0 };

	if (!dl_mdev_parent_registered((struct dl_device *)dir->dev)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (strcmp(name, "devices") == 0)
		k = (struct key){ K_MTYPE_DEVS, dir->dev, dir->idx, 0, NULL };
	for (int a = 0; a < DL_MDEV_ATTR_COUNT; a++)
		if (strcmp(name, dl_mdev_attr_name((enum dl_mdev_type_attr)a)) == 0)
			k = (struct key){ K_MTYPE_ATTR, dir->dev, dir->idx,
					  (unsigned int)a, NULL };
	reply_found(req, fs, &k);
}

static void list_mtype(struct dl_fs *fs, const struct key *dir,
		       struct dirbuf *b)
{
	(void)fs;
	if (!dl_mdev_parent_registered((struct dl_device *)dir->dev)) {
		b->err = ENOENT;
		return;
	}
	for (int a = 0; a < DL_MDEV_ATTR_COUNT; a++)
		dirbuf_add(b, dl_mdev_attr_name((enum dl_mdev_type_attr)a), 0,
			   S_IFREG);
	dirbuf_add(b, "devices", 0, S_IFDIR);
}

const struct kind_ops kind_mtype = {
	.stat = stat_mtype_dir, .lookup = lookup_mtype, .list = list_mtype,
};

/* TYPE/{name,...}: read-only, create: write-only. */
static int stat_mtype_attr(struct dl_fs *fs, const struct key *k,
			   struct stat *st)
{
	if (!dl_mdev_parent_registered((struct dl_device *)k->dev))
		return -ENOENT;
	fill_stat(fs, 0, S_IFREG | (k->n == DL_MDEV_ATTR_CREATE ? 0200 : 0444),
		  ATTR_MAX, st);
	return 0;
}

/* Inside the parent's active section (tag "mdev type"). */
static void read_mtype_attr(fuse_req_t req, struct dl_fs *fs,
			    const struct key *k, size_t size, off_t off)
{
	struct dl_device *dev = (struct dl_device *)k->dev;
	char buf[ATTR_MAX];
	int len;

	(void)fs;
	if (k->n == DL_MDEV_ATTR_CREATE) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (dl_device_enter_tagged(dev, "mdev type") < 0) {
		fuse_reply_err(req, ENODEV);
		return;
	}
	if (!dl_mdev_parent_registered(dev))
		len = -ENODEV;
	else
		len = dl_mdev_type_attr_show(dev, (unsigned int)k->idx,
					     (enum dl_mdev_type_attr)k->n, buf,
					     sizeof(buf));
	if (len >= 0)
		reply_text(req, buf, (size_t)len, size, off);
	dl_device_exit(dev);
	if (len < 0)
		fuse_reply_err(req, -len);
}

/*
 * `echo UUID > mdev_supported_types/TYPE/create`: inside the parent's
 * active section (tag "mdev create"), so the parent's removal waits for
 * it (and the child's add, which enters the parent too, is refused once
 * that has begun).
 */
static void write_create(fuse_req_t req, struct dl_fs *fs, const struct key *k,
			 const char *data, size_t size, off_t off)
{
	struct dl_device *dev = (struct dl_device *)k->dev;
	struct hookctx hc;
	int r;

	(void)off;
	if (k->n != DL_MDEV_ATTR_CREATE) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (dl_device_enter_tagged(dev, "mdev create") < 0) {
		reply_refused(fs, req, DL_FS_WRITE, k);
		return;
	}
	r = hook_begin(fs, &hc, DL_FS_WRITE, req, k, NULL, dev);
	if (r == 0)
		r = dl_mdev_create(dev, (unsigned int)k->idx, data, size, NULL);
	hook_end(fs, &hc, r < 0 ? r : (int)size);
	/* answered from inside, as the other stores */
	reply_store(req, r, size);
	dl_device_exit(dev);
}

/* PARENT/mdev_supported_types/TYPE/ATTR, for scenario hooks. */
static int path_mtype_attr(struct dl_fs *fs, const struct key *k, char *buf,
			   size_t len)
{
	struct dl_device *dev = (struct dl_device *)k->dev;

	(void)fs;
	return dev_file_path(dev, buf, len, "mdev_supported_types/%s/%s",
			     dl_mdev_type_name(dev, (unsigned int)k->idx),
			     dl_mdev_attr_name((enum dl_mdev_type_attr)k->n));
}

const struct kind_ops kind_mtype_attr = {
	.stat = stat_mtype_attr,
	.read = read_mtype_attr,
	.write = write_create,
	.path = path_mtype_attr,
};

/* TYPE/devices/: a link per mediated device of the type. */
static void lookup_mtype_devs(fuse_req_t req, struct dl_fs *fs,
			      const struct key *dir, const char *name)
{
	struct dl_device *child;
	struct dl_mdev *m;
	struct key k;

	if (!dl_mdev_parent_registered((struct dl_device *)dir->dev) ||
	    dl_device_lookup(fs->tree, name, &child) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	m = dl_mdev_of(child);
	if (m && m->parent == dir->dev && m->type == (unsigned int)dir->idx &&
	    node_enter(child) == 0) {
		k = (struct key){ K_MTYPE_DEVLINK, child, dir->idx, 0, NULL };
		reply_entry(req, fs, &k);
		node_exit(child);
	} else {
		fuse_reply_err(req, ENOENT);
	}
	dl_device_put(child);
}

struct type_kids {
	struct devvec k;
	struct dl_device *parent;
	unsigned int type;
};

static int push_type_kid(struct dl_device *c, void *arg)
{
	struct type_kids *tk = arg;
	struct dl_mdev *m = dl_mdev_of(c);

	if (m && m->parent == tk->parent && m->type == tk->type)
		return kids_push(&tk->k, c);
	return 0;
}

static void list_mtype_devs(struct dl_fs *fs, const struct key *dir,
			    struct dirbuf *b)
{
	struct dl_device *dev = (struct dl_device *)dir->dev;
	struct type_kids tk = { { 0 }, dev, (unsigned int)dir->idx };

	(void)fs;
	if (!dl_mdev_parent_registered(dev)) {
		b->err = ENOENT;
		return;
	}
	if (dl_device_for_each_child(dev, push_type_kid, &tk) < 0)
		b->err = ENOMEM;
	list_devices(b, &tk.k, S_IFLNK);
	devvec_clear(&tk.k);
}

const struct kind_ops kind_mtype_devs = {
	.stat = stat_mtype_dir,
	.lookup = lookup_mtype_devs,
	.list = list_mtype_devs,
};

/* TYPE/devices/UUID: beside the type's directory's parent. */
#define DEVLINK_UP "../../../"
static int stat_mtype_devlink(struct dl_fs *fs, const struct key *k,
			      struct stat *st)
{
	struct dl_mdev *m = dl_mdev_of((struct dl_device *)k->dev);

	if (!m || m->type != (unsigned int)k->idx)
		return -ENOENT;
	fill_stat(fs, 0, S_IFLNK | 0777,
		  (off_t)(strlen(DEVLINK_UP) + strlen(dl_device_name(k->dev))),
		  st);
	return 0;
}

static int readlink_mtype_devlink(struct dl_fs *fs, const struct key *k,
				  char *target, size_t len)
{
	(void)fs;
	snprintf(target, len, DEVLINK_UP "%s", dl_device_name(k->dev));
	return 0;
}

const struct kind_ops kind_mtype_devlink = {
	.stat = stat_mtype_devlink, .readlink = readlink_mtype_devlink,
};
