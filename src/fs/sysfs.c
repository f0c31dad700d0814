/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sysfs view over FUSE (low-level API, multi-threaded session).
 *
 * Inodes. A few directories are static (fixed inode numbers). Everything
 * else is a node created on lookup and freed on the kernel's last forget:
 * a device directory, one of its attribute files, one of its links, the
 * device's entry in bus/pci/devices, a driver directory and its files.
 * A node that names a device holds a lifetime reference on it; the node
 * table is liburcu's cds_lfht indexed twice (by inode number, and by what
 * the node names, so that a second lookup of the same file finds the same
 * inode), changed under one mutex and read lock-free.
 *
 * Active references. Every operation on a node that names a device
 * enters the device first and leaves it when the reply is built, so a
 * removal waits for operations in flight, and once it has begun lookups
 * fail with ENOENT and I/O with ENODEV. The `remove` attribute removes
 * its own device from inside its own active section with
 * dl_device_remove_self(), which drops the operation's reference first.
 *
 * Caches. Attribute contents are never cached (direct I/O: they are
 * computed on each read, as sysfs does); entries and attributes are cached
 * for a second and invalidated when a device's removal starts or ends and
 * when a driver binds or unbinds. The invalidations come from the tree's
 * watcher, possibly inside a request (echo 1 > remove), so they are handed
 * to a thread of their own: notifying the kernel from inside a request
 * can deadlock on its directory locks.
 */
#define FUSE_USE_VERSION 312

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <urcu-bp.h>
#include <urcu/rculfhash.h>

#include <devlife/devlife.h>

#include "devvec.h"
#include "mdev.h"
#include "parse.h"
#include "pci.h"
#include "platform.h"
#include "sysfs.h"

#define TIMEOUT 1.0
#define ATTR_MAX 4096

enum kind {
	K_ROOT = 1,            /* /                       (static) */
	K_BUS,                 /* bus                     (static) */
	K_BUSPCI,              /* bus/pci                 (static) */
	K_BUSPCI_DEVICES,      /* bus/pci/devices         (static) */
	K_BUSPCI_DRIVERS,      /* bus/pci/drivers         (static) */
	K_BUSPCI_RESCAN,       /* bus/pci/rescan          (static) */
	K_DEVICES,             /* devices                 (static) */
	K_BUSMDEV,             /* bus/mdev                (static) */
	K_BUSMDEV_DEVICES,     /* bus/mdev/devices        (static) */
	K_STATIC_MAX,
	K_DEVDIR = 16,         /* a root bus or function directory */
	K_ATTR,                /* an attribute of a function */
	K_LINK,                /* driver, subsystem, physfn, virtfnN */
	K_BUSLINK,             /* bus/pci/devices/NAME */
	K_DRVDIR,              /* bus/pci/drivers/NAME */
	K_DRVATTR,             /* bus/pci/drivers/NAME/{bind,unbind} */
	K_DRVLINK,             /* bus/pci/drivers/NAME/DEVICE */
	K_MTYPES,              /* PARENT/mdev_supported_types */
	K_MTYPE,               /* PARENT/mdev_supported_types/TYPE (idx) */
	K_MTYPE_ATTR,          /* .../TYPE/{name,...,create} (idx, n) */
	K_MTYPE_DEVS,          /* .../TYPE/devices (idx) */
	K_MTYPE_DEVLINK,       /* .../TYPE/devices/UUID (dev: the child) */
};
_Static_assert(K_STATIC_MAX <= K_DEVDIR, "static inodes below the dynamic kinds");

/* The static inode numbers are the kinds themselves (FUSE_ROOT_ID is 1). */
_Static_assert(K_ROOT == FUSE_ROOT_ID, "root inode");

enum attr_op {
	A_SHOW,       /* text from dl_pci_attr_show() */
	A_CONFIG,     /* config space, binary */
	A_REMOVE,
	A_RESCAN,
	A_OVERRIDE,
	A_NUMVFS,     /* show + store */
	A_AUTOPROBE,  /* show + store */
	A_ONLINE,     /* show + store; only with a driver that has both */
};

/* Which devices have an attribute. */
#define ON_PCI 1u
#define ON_MDEV 2u

struct attr {
	const char *name;
	unsigned int mode;
	enum attr_op op;
	int pci_attr; /* enum dl_pci_attr for A_SHOW/A_NUMVFS/A_AUTOPROBE */
	unsigned int on;
};

static const struct attr attrs[] = {
	{ "config", 0644, A_CONFIG, -1, ON_PCI },
	{ "vendor", 0444, A_SHOW, DL_PCI_ATTR_VENDOR, ON_PCI },
	{ "device", 0444, A_SHOW, DL_PCI_ATTR_DEVICE, ON_PCI },
	{ "class", 0444, A_SHOW, DL_PCI_ATTR_CLASS, ON_PCI },
	{ "revision", 0444, A_SHOW, DL_PCI_ATTR_REVISION, ON_PCI },
	{ "subsystem_vendor", 0444, A_SHOW, DL_PCI_ATTR_SUBSYSTEM_VENDOR, ON_PCI },
	{ "subsystem_device", 0444, A_SHOW, DL_PCI_ATTR_SUBSYSTEM_DEVICE, ON_PCI },
	{ "irq", 0444, A_SHOW, DL_PCI_ATTR_IRQ, ON_PCI },
	{ "resource", 0444, A_SHOW, DL_PCI_ATTR_RESOURCE, ON_PCI },
	{ "modalias", 0444, A_SHOW, DL_PCI_ATTR_MODALIAS, ON_PCI },
	{ "numa_node", 0444, A_SHOW, DL_PCI_ATTR_NUMA_NODE, ON_PCI },
	{ "driver_override", 0644, A_OVERRIDE, -1, ON_PCI },
	{ "remove", 0200, A_REMOVE, -1, ON_PCI | ON_MDEV },
	{ "rescan", 0200, A_RESCAN, -1, ON_PCI },
	{ "online", 0644, A_ONLINE, -1, ON_PCI },
	{ "sriov_totalvfs", 0444, A_SHOW, DL_PCI_ATTR_SRIOV_TOTALVFS, ON_PCI },
	{ "sriov_numvfs", 0664, A_NUMVFS, DL_PCI_ATTR_SRIOV_NUMVFS, ON_PCI },
	{ "sriov_offset", 0444, A_SHOW, DL_PCI_ATTR_SRIOV_OFFSET, ON_PCI },
	{ "sriov_stride", 0444, A_SHOW, DL_PCI_ATTR_SRIOV_STRIDE, ON_PCI },
	{ "sriov_vf_device", 0444, A_SHOW, DL_PCI_ATTR_SRIOV_VF_DEVICE, ON_PCI },
	{ "sriov_drivers_autoprobe", 0644, A_AUTOPROBE,
	  DL_PCI_ATTR_SRIOV_DRIVERS_AUTOPROBE, ON_PCI },
};
#define NATTRS (int)(sizeof(attrs) / sizeof(attrs[0]))

/* Links, in listing order; virtfnN come last (they are numbered). */
enum link_kind { L_DRIVER, L_SUBSYSTEM, L_PHYSFN, L_MDEV_TYPE, L_VIRTFN };

struct node {
	struct cds_lfht_node by_ino;       /* fs->nodes */
	struct cds_lfht_node by_key;       /* fs->keys */
	struct rcu_head rcu;
	fuse_ino_t ino;                    /* written once */
	enum kind kind;                    /* written once */
	struct dl_device *dev;             /* written once; a reference */
	int idx;                           /* attr index or link kind */
	unsigned int n;                    /* virtfn number */
	char drv[64];                      /* driver name (K_DRV*) */
	uint64_t nlookup;                  /* fs->lock */
	unsigned long hash;                /* of the key; written once */
	/*
	 * Stored (release) once the fields above are written, before the
	 * node is added to the tables; read (acquire) by whoever finds it
	 * there without fs->lock. liburcu's publication orders this too,
	 * but in inline assembly ThreadSanitizer cannot see: this makes
	 * the hand-off visible to it instead of suppressed.
	 */
	atomic_bool ready;
};

struct inval {
	struct inval *next;
	fuse_ino_t parent;     /* entry: the directory; inode: the inode */
	char name[64];         /* entry: the name; inode: "" */
};

struct dl_fs {
	struct dl_tree *tree;
	struct dl_pci_platform *plat;
	struct fuse_session *se;
	struct dl_fs_options opts;
	char *mountpoint;
	bool mounted;
	time_t start;

	pthread_mutex_t lock;              /* node creation and forget */
	struct cds_lfht *nodes;            /* by inode number */
	struct cds_lfht *keys;             /* by what they name */
	uint64_t next_ino;                 /* lock */

	/* invalidations for the kernel, done by notify_thread */
	pthread_mutex_t inval_lock;
	pthread_cond_t inval_cond;
	struct inval *inval_head, **inval_tail;
	bool inval_stop;
	pthread_t notify_thread;
	bool notify_started;
	bool watching;
};

/* ------------------------------------------------------------------ */
/* Node table                                                          */

/*
 * splitmix64's finalizer. The hash tables pick buckets by the low bits of
 * a hash; a multiplication alone only carries low bits upwards, so
 * device pointers (16-byte aligned, allocated at a fixed stride) would
 * collide in their low bits and, with tens of thousands of devices, make
 * long chains. Mixing the high bits down spreads them.
 */
static uint64_t mix64(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

static unsigned long key_hash(enum kind kind, const struct dl_device *dev,
			      int idx, unsigned int n, const char *drv)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = (h ^ (uint64_t)kind) * 0x100000001b3ull;
	h = mix64(h ^ (uint64_t)(uintptr_t)dev);
	h = (h ^ (uint64_t)(unsigned int)idx) * 0x100000001b3ull;
	h = (h ^ (uint64_t)n) * 0x100000001b3ull;
	for (; drv && *drv; drv++)
		h = (h ^ (unsigned char)*drv) * 0x100000001b3ull;
	return (unsigned long)mix64(h);
}

struct key {
	enum kind kind;
	const struct dl_device *dev;
	int idx;
	unsigned int n;
	const char *drv;
};

static int match_key(struct cds_lfht_node *ht, const void *arg)
{
	const struct node *nd = caa_container_of(ht, struct node, by_key);
	const struct key *k = arg;

	return nd->kind == k->kind && nd->dev == k->dev && nd->idx == k->idx &&
	       nd->n == k->n && strcmp(nd->drv, k->drv ? k->drv : "") == 0;
}

static int match_ino(struct cds_lfht_node *ht, const void *arg)
{
	const struct node *nd = caa_container_of(ht, struct node, by_ino);

	return nd->ino == *(const fuse_ino_t *)arg;
}

static unsigned long ino_hash(fuse_ino_t ino)
{
	return (unsigned long)mix64(ino);
}

/* The node of a dynamic inode. Valid while the kernel holds a lookup
 * count on the inode, i.e. during any request about it. */
static struct node *node_of(struct dl_fs *fs, fuse_ino_t ino)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *ht;
	struct node *nd = NULL;

	rcu_read_lock();
	cds_lfht_lookup(fs->nodes, ino_hash(ino), match_ino, &ino, &it);
	ht = cds_lfht_iter_get_node(&it);
	if (ht) {
		nd = caa_container_of(ht, struct node, by_ino);
		if (!atomic_load_explicit(&nd->ready, memory_order_acquire))
			nd = NULL; /* cannot happen: added once ready */
	}
	rcu_read_unlock();
	return nd;
}

/* Find the node naming k, if the kernel knows it (for invalidations). */
static fuse_ino_t ino_of_key(struct dl_fs *fs, const struct key *k)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *ht;
	fuse_ino_t ino = 0;

	if (k->kind < K_STATIC_MAX)
		return (fuse_ino_t)k->kind;
	rcu_read_lock();
	cds_lfht_lookup(fs->keys,
			key_hash(k->kind, k->dev, k->idx, k->n, k->drv),
			match_key, k, &it);
	ht = cds_lfht_iter_get_node(&it);
	if (ht) {
		const struct node *nd = caa_container_of(ht, struct node, by_key);

		if (atomic_load_explicit(&nd->ready, memory_order_acquire))
			ino = nd->ino;
	}
	rcu_read_unlock();
	return ino;
}

/* Look up or create the node for k and count one kernel lookup. */
static fuse_ino_t node_get(struct dl_fs *fs, const struct key *k)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *ht;
	struct node *nd;
	unsigned long h;

	if (k->kind < K_STATIC_MAX)
		return (fuse_ino_t)k->kind;
	h = key_hash(k->kind, k->dev, k->idx, k->n, k->drv);
	pthread_mutex_lock(&fs->lock);
	rcu_read_lock();
	cds_lfht_lookup(fs->keys, h, match_key, k, &it);
	ht = cds_lfht_iter_get_node(&it);
	rcu_read_unlock();
	if (ht) {
		nd = caa_container_of(ht, struct node, by_key);
		nd->nlookup++;
		pthread_mutex_unlock(&fs->lock);
		return nd->ino;
	}
	nd = calloc(1, sizeof(*nd));
	if (!nd) {
		pthread_mutex_unlock(&fs->lock);
		return 0;
	}
	nd->ino = fs->next_ino++;
	nd->kind = k->kind;
	nd->dev = dl_device_get((struct dl_device *)k->dev);
	nd->idx = k->idx;
	nd->n = k->n;
	snprintf(nd->drv, sizeof(nd->drv), "%s", k->drv ? k->drv : "");
	nd->nlookup = 1;
	nd->hash = h;
	cds_lfht_node_init(&nd->by_ino);
	cds_lfht_node_init(&nd->by_key);
	atomic_store_explicit(&nd->ready, true, memory_order_release);
	rcu_read_lock();
	cds_lfht_add(fs->nodes, ino_hash(nd->ino), &nd->by_ino);
	cds_lfht_add(fs->keys, h, &nd->by_key);
	rcu_read_unlock();
	pthread_mutex_unlock(&fs->lock);
	return nd->ino;
}

static void node_free_rcu(struct rcu_head *head)
{
	struct node *nd = caa_container_of(head, struct node, rcu);

	dl_device_put(nd->dev);
	free(nd);
}

static void node_forget(struct dl_fs *fs, fuse_ino_t ino, uint64_t n)
{
	struct node *nd;

	if (ino < K_STATIC_MAX)
		return;
	pthread_mutex_lock(&fs->lock);
	nd = node_of(fs, ino);
	if (nd) {
		nd->nlookup = nd->nlookup > n ? nd->nlookup - n : 0;
		if (nd->nlookup == 0) {
			rcu_read_lock();
			cds_lfht_del(fs->nodes, &nd->by_ino);
			cds_lfht_del(fs->keys, &nd->by_key);
			rcu_read_unlock();
			call_rcu(&nd->rcu, node_free_rcu);
		}
	}
	pthread_mutex_unlock(&fs->lock);
}

/* ------------------------------------------------------------------ */
/* Paths                                                               */

static bool is_func(struct dl_device *dev)
{
	return dl_pci_func_of(dev) != NULL;
}

static bool is_mdev(struct dl_device *dev)
{
	return dl_mdev_of(dev) != NULL;
}

static bool is_vf(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	return f && (f->flags & DL_PCI_F_VF);
}

/* Where a device's directory lives: its parent, except that a VF sits
 * beside its PF, under the PF's parent, as in Linux. */
static struct dl_device *fs_parent(struct dl_device *dev)
{
	struct dl_device *p = dl_device_parent(dev);

	if (p && is_vf(dev))
		p = dl_device_parent(p);
	return p;
}

/* "devices/pci0000:00/0000:00:01.0/0000:01:00.0"; returns its depth
 * (number of components), or -ENAMETOOLONG. */
static int dev_path(struct dl_device *dev, char *buf, size_t len)
{
	const char *names[64];
	int depth = 0;
	size_t used = 0;

	for (struct dl_device *d = dev; d; d = fs_parent(d)) {
		if (depth == 64)
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

/* Symlink text from a directory at @depth below the root to @target. */
static int rel_link(int depth, const char *target, char *buf, size_t len)
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

/* ------------------------------------------------------------------ */
/* Device directories: attributes, links, children                     */

static bool attr_visible(struct dl_fs *fs, struct dl_device *dev, int i)
{
	const struct attr *a = &attrs[i];

	if (!(a->on & (is_func(dev) ? ON_PCI : is_mdev(dev) ? ON_MDEV : 0)))
		return false;
	if (a->op == A_ONLINE)
		/* As Linux's `online`: only where the driver can do both. */
		return dl_pci_platform_supports_online(fs->plat, dev);
	if (a->pci_attr >= 0)
		return dl_pci_attr_visible(dev, (enum dl_pci_attr)a->pci_attr);
	return true;
}

static int attr_index(struct dl_fs *fs, struct dl_device *dev, const char *name)
{
	for (int i = 0; i < NATTRS; i++)
		if (strcmp(attrs[i].name, name) == 0 && attr_visible(fs, dev, i))
			return i;
	return -1;
}

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
		snprintf(name, namelen, "virtfn%u", n);
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
	else if (strncmp(name, "virtfn", 6) == 0 && name[6] >= '0' &&
		 name[6] <= '9') {
		char *end;
		unsigned long v = strtoul(name + 6, &end, 10);

		if (*end || v > 0xffff || (name[6] == '0' && name[7]))
			return -ENOENT;
		*kind = L_VIRTFN;
		*n = (unsigned int)v;
	} else {
		return -ENOENT;
	}
	return 0;
}

/* Children shown in a device directory: its own non-VF children, and
 * the VFs of those of them that are PFs. */
static int kids_push(struct devvec *k, struct dl_device *dev)
{
	return dl_device_state(dev) == DL_STATE_LIVE ? devvec_push(k, dev) : 0;
}

static int push_vf(struct dl_device *vf, void *arg)
{
	return is_vf(vf) ? kids_push(arg, vf) : 0;
}

static int push_kid(struct dl_device *c, void *arg)
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
static int push_all(struct dl_device *dev, void *arg)
{
	int r = 0;

	if (is_func(dev))
		r = kids_push(arg, dev);
	if (r == 0)
		r = dl_device_for_each_child(dev, push_all, arg);
	return r;
}

/* A child of dir (by fs placement) named name, with a reference. */
static struct dl_device *find_kid(struct dl_fs *fs, struct dl_device *dir,
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

/* ------------------------------------------------------------------ */
/* Attributes of nodes                                                 */

static void fill_stat(struct dl_fs *fs, fuse_ino_t ino, mode_t mode,
		      off_t size, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_size = size;
	st->st_blksize = 4096;
	st->st_atime = st->st_mtime = st->st_ctime = fs->start;
}

/*
 * stat of a node. Called inside the node device's active section when it
 * names one. Returns 0 or -ENOENT.
 */
static int node_stat(struct dl_fs *fs, fuse_ino_t ino, enum kind kind,
		     struct dl_device *dev, int idx, unsigned int n,
		     const char *drv, struct stat *st)
{
	char name[64], target[PATH_MAX];
	int r;

	switch (kind) {
	case K_ROOT:
	case K_BUS:
	case K_BUSPCI:
	case K_BUSPCI_DEVICES:
	case K_BUSPCI_DRIVERS:
	case K_DEVICES:
	case K_BUSMDEV:
	case K_BUSMDEV_DEVICES:
	case K_DEVDIR:
	case K_DRVDIR:
		fill_stat(fs, ino, S_IFDIR | 0755, 0, st);
		return 0;
	case K_MTYPES:
	case K_MTYPE:
	case K_MTYPE_DEVS:
		/* only while a driver offers the types */
		if (!dl_mdev_parent_registered(dev))
			return -ENOENT;
		fill_stat(fs, ino, S_IFDIR | 0755, 0, st);
		return 0;
	case K_MTYPE_ATTR:
		if (!dl_mdev_parent_registered(dev))
			return -ENOENT;
		fill_stat(fs, ino,
			  S_IFREG | (n == DL_MDEV_ATTR_CREATE ? 0200 : 0444), 4096,
			  st);
		return 0;
	case K_MTYPE_DEVLINK: {
		struct dl_mdev *m = dl_mdev_of(dev);

		if (!m || m->type != (unsigned int)idx)
			return -ENOENT;
		/* "../../../UUID" */
		fill_stat(fs, ino, S_IFLNK | 0777,
			  9 + (off_t)strlen(dl_device_name(dev)), st);
		return 0;
	}
	case K_BUSPCI_RESCAN:
		fill_stat(fs, ino, S_IFREG | 0200, 4096, st);
		return 0;
	case K_ATTR:
		if (attrs[idx].op == A_CONFIG) {
			r = dl_pci_config_size(dev);
			fill_stat(fs, ino, S_IFREG | attrs[idx].mode,
				  r > 0 ? r : 256, st);
		} else {
			fill_stat(fs, ino, S_IFREG | attrs[idx].mode, 4096, st);
		}
		return 0;
	case K_DRVATTR:
		fill_stat(fs, ino, S_IFREG | 0200, 4096, st);
		return 0;
	case K_LINK:
		if (idx == L_DRIVER &&
		    n != (unsigned int)((uintptr_t)dl_device_driver(dev) >> 4))
			return -ENOENT; /* that binding is over */
		r = link_get(dev, (enum link_kind)idx, n, name, sizeof(name),
			     target, sizeof(target));
		if (r < 0)
			return r;
		fill_stat(fs, ino, S_IFLNK | 0777, (off_t)strlen(target), st);
		return 0;
	case K_BUSLINK:
	case K_DRVLINK:
		r = dev_path(dev, target, sizeof(target));
		if (r < 0)
			return r;
		if (kind == K_DRVLINK) {
			struct dl_driver *d = dl_device_driver(dev);

			if (!d || strcmp(dl_driver_name(d), drv) != 0)
				return -ENOENT;
		}
		fill_stat(fs, ino, S_IFLNK | 0777,
			  (off_t)strlen(target) + (kind == K_BUSLINK ? 9 : 12),
			  st);
		return 0;
	default:
		return -ENOENT;
	}
}

/* Enter the device a node names (if any). 0, or -ENOENT if it is going
 * or gone. */
static int node_enter(struct dl_device *dev)
{
	if (!dev)
		return 0;
	return dl_device_enter_tagged(dev, "sysfs") < 0 ? -ENOENT : 0;
}

static void node_exit(struct dl_device *dev)
{
	if (dev)
		dl_device_exit(dev);
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

static bool driver_exists(struct dl_fs *fs, const char *name)
{
	struct driver_find f = { name, false };

	dl_tree_for_each_driver(fs->tree, find_driver_cb, &f);
	return f.found;
}

/* ------------------------------------------------------------------ */
/* FUSE operations                                                     */

static void reply_entry(fuse_req_t req, struct dl_fs *fs, const struct key *k)
{
	struct fuse_entry_param e;
	int r;

	memset(&e, 0, sizeof(e));
	r = node_stat(fs, 0, k->kind, (struct dl_device *)k->dev, k->idx, k->n,
		      k->drv, &e.attr);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	e.ino = node_get(fs, k);
	if (!e.ino) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	e.attr.st_ino = e.ino;
	e.attr_timeout = TIMEOUT;
	e.entry_timeout = TIMEOUT;
	if (k->kind == K_LINK && k->idx == L_DRIVER)
		e.attr_timeout = e.entry_timeout = 0;
	if (fuse_reply_entry(req, &e) != 0)
		node_forget(fs, e.ino, 1); /* the kernel never got it */
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* Every path through bus/pci/devices crosses a symlink: let the
	 * kernel keep their targets (only `driver` ever changes, and it is
	 * invalidated when it does). */
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	/* Attribute files are generated per read; no readdir cache. */
	conn->want &= ~(unsigned int)FUSE_CAP_READDIRPLUS;
	conn->want &= ~(unsigned int)FUSE_CAP_READDIRPLUS_AUTO;
}

static void lookup_devdir(fuse_req_t req, struct dl_fs *fs,
			  struct dl_device *dir, const char *name)
{
	struct key k = { 0 };
	struct dl_device *kid;
	enum link_kind lk;
	unsigned int n;
	int i;

	i = attr_index(fs, dir, name);
	if (i >= 0) {
		k = (struct key){ K_ATTR, dir, i, 0, NULL };
		reply_entry(req, fs, &k);
		return;
	}
	if (parse_link_name(name, &lk, &n) == 0) {
		/*
		 * The kernel caches symlink targets per inode. `driver` is
		 * the one link whose target changes: give each binding its
		 * own inode (and the entry no cache time, below), so that a
		 * rebind is never read through a stale target.
		 */
		if (lk == L_DRIVER)
			n = (unsigned int)((uintptr_t)dl_device_driver(dir) >> 4);
		k = (struct key){ K_LINK, dir, (int)lk, n, NULL };
		reply_entry(req, fs, &k);
		return;
	}
	if (strcmp(name, "mdev_supported_types") == 0 &&
	    dl_mdev_type_count(dir)) {
		k = (struct key){ K_MTYPES, dir, 0, 0, NULL };
		reply_entry(req, fs, &k);
		return;
	}
	kid = find_kid(fs, dir, name);
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

/* Lookups below PARENT/mdev_supported_types, inside the parent's active
 * section. */
static void lookup_mdev(fuse_req_t req, struct dl_fs *fs, struct node *pn,
			const char *name)
{
	struct key k = { 0 };
	struct dl_device *child;
	struct dl_mdev *m;
	int t;

	switch (pn->kind) {
	case K_MTYPES:
		t = dl_mdev_type_lookup(pn->dev, name);
		if (t >= 0)
			k = (struct key){ K_MTYPE, pn->dev, t, 0, NULL };
		break;
	case K_MTYPE:
		if (strcmp(name, "devices") == 0) {
			k = (struct key){ K_MTYPE_DEVS, pn->dev, pn->idx, 0, NULL };
			break;
		}
		for (int a = 0; a < DL_MDEV_ATTR_COUNT; a++)
			if (strcmp(name, dl_mdev_attr_name((enum dl_mdev_type_attr)a)) == 0)
				k = (struct key){ K_MTYPE_ATTR, pn->dev, pn->idx,
						  (unsigned int)a, NULL };
		break;
	case K_MTYPE_DEVS:
		if (dl_device_lookup(fs->tree, name, &child) < 0)
			break;
		m = dl_mdev_of(child);
		if (m && m->parent == pn->dev && m->type == (unsigned int)pn->idx &&
		    node_enter(child) == 0) {
			k = (struct key){ K_MTYPE_DEVLINK, child, pn->idx, 0, NULL };
			reply_entry(req, fs, &k);
			node_exit(child);
			dl_device_put(child);
			return;
		}
		dl_device_put(child);
		break;
	default:
		break;
	}
	if (!k.kind) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	reply_entry(req, fs, &k);
}

/* bus/BUS/devices/NAME: reply with the device's link if NAME is a device
 * of that bus and can be entered. Returns whether it replied. */
static bool lookup_buslink(fuse_req_t req, struct dl_fs *fs, const char *name,
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

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct dl_fs *fs = fuse_req_userdata(req);
	struct key k = { 0 };
	struct node *pn;
	struct dl_device *dev;

	switch (parent) {
	case K_ROOT:
		if (strcmp(name, "bus") == 0)
			k.kind = K_BUS;
		else if (strcmp(name, "devices") == 0)
			k.kind = K_DEVICES;
		break;
	case K_BUS:
		if (strcmp(name, "pci") == 0)
			k.kind = K_BUSPCI;
		else if (strcmp(name, "mdev") == 0)
			k.kind = K_BUSMDEV;
		break;
	case K_BUSMDEV:
		if (strcmp(name, "devices") == 0)
			k.kind = K_BUSMDEV_DEVICES;
		break;
	case K_BUSMDEV_DEVICES:
		if (lookup_buslink(req, fs, name, is_mdev))
			return;
		break;
	case K_BUSPCI:
		if (strcmp(name, "devices") == 0)
			k.kind = K_BUSPCI_DEVICES;
		else if (strcmp(name, "drivers") == 0)
			k.kind = K_BUSPCI_DRIVERS;
		else if (strcmp(name, "rescan") == 0)
			k.kind = K_BUSPCI_RESCAN;
		break;
	case K_BUSPCI_DEVICES:
		if (lookup_buslink(req, fs, name, is_func))
			return;
		break;
	case K_BUSPCI_DRIVERS:
		if (strlen(name) < 64 && driver_exists(fs, name))
			k = (struct key){ K_DRVDIR, NULL, 0, 0, name };
		break;
	case K_DEVICES:
		if (dl_device_lookup(fs->tree, name, &dev) < 0)
			break;
		if (!dl_device_parent(dev) && node_enter(dev) == 0) {
			k = (struct key){ K_DEVDIR, dev, 0, 0, NULL };
			reply_entry(req, fs, &k);
			node_exit(dev);
			dl_device_put(dev);
			return;
		}
		dl_device_put(dev);
		break;
	default:
		pn = node_of(fs, parent);
		if (!pn)
			break;
		/*
		 * The reply is sent from inside the device: keep the device
		 * pointer, not the node. Once replied to, the kernel may
		 * forget the directory and the node be freed; the device is
		 * not, while we are inside it (its removal waits for us).
		 */
		dev = pn->dev;
		if (pn->kind == K_DEVDIR) {
			if (node_enter(dev) < 0)
				break;
			lookup_devdir(req, fs, dev, name);
			node_exit(dev);
			return;
		}
		if (pn->kind == K_MTYPES || pn->kind == K_MTYPE ||
		    pn->kind == K_MTYPE_DEVS) {
			if (node_enter(dev) < 0)
				break;
			if (!dl_mdev_parent_registered(dev))
				fuse_reply_err(req, ENOENT);
			else
				lookup_mdev(req, fs, pn, name);
			node_exit(dev);
			return;
		}
		if (pn->kind == K_DRVDIR) {
			if (strcmp(name, "bind") == 0) {
				k = (struct key){ K_DRVATTR, NULL, 0, 0,
						  pn->drv };
			} else if (strcmp(name, "unbind") == 0) {
				k = (struct key){ K_DRVATTR, NULL, 1, 0,
						  pn->drv };
			} else if (dl_device_lookup(fs->tree, name, &dev) ==
				   0) {
				if (node_enter(dev) == 0) {
					k = (struct key){ K_DRVLINK, dev, 0, 0,
							  pn->drv };
					reply_entry(req, fs, &k);
					node_exit(dev);
					dl_device_put(dev);
					return;
				}
				dl_device_put(dev);
			}
		}
		break;
	}
	if (!k.kind) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	reply_entry(req, fs, &k);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	node_forget(fuse_req_userdata(req), ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct dl_fs *fs = fuse_req_userdata(req);

	for (size_t i = 0; i < count; i++)
		node_forget(fs, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct dl_fs *fs = fuse_req_userdata(req);
	struct stat st;
	struct node *nd;
	int r;

	(void)fi;
	if (ino < K_STATIC_MAX) {
		node_stat(fs, ino, (enum kind)ino, NULL, 0, 0, NULL, &st);
		fuse_reply_attr(req, &st, TIMEOUT);
		return;
	}
	nd = node_of(fs, ino);
	if (!nd) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	r = node_enter(nd->dev);
	if (r == 0) {
		r = node_stat(fs, ino, nd->kind, nd->dev, nd->idx, nd->n,
			      nd->drv, &st);
		node_exit(nd->dev);
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, TIMEOUT);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	/* Only truncation of attribute files (O_TRUNC on kernels that do
	 * not pass it in open): nothing to truncate, as in sysfs. */
	if (to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME |
		       FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
		       FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	(void)attr;
	op_getattr(req, ino, fi);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct dl_fs *fs = fuse_req_userdata(req);
	char name[64], target[PATH_MAX], path[PATH_MAX];
	struct node *nd = node_of(fs, ino);
	int r;

	if (!nd) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	r = node_enter(nd->dev);
	if (r < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	switch (nd->kind) {
	case K_LINK:
		if (nd->idx == L_DRIVER &&
		    nd->n != (unsigned int)((uintptr_t)dl_device_driver(
				     nd->dev) >> 4)) {
			r = -ENOENT;
			break;
		}
		r = link_get(nd->dev, (enum link_kind)nd->idx, nd->n, name,
			     sizeof(name), target, sizeof(target));
		break;
	case K_MTYPE_DEVLINK: /* beside the type's directory's parent */
		snprintf(target, sizeof(target), "../../../%s",
			 dl_device_name(nd->dev));
		r = 0;
		break;
	case K_BUSLINK: /* from bus/{pci,mdev}/devices (depth 3) */
	case K_DRVLINK: /* from bus/pci/drivers/NAME (depth 4) */
		r = dev_path(nd->dev, path, sizeof(path));
		if (r >= 0)
			r = rel_link(nd->kind == K_BUSLINK ? 3 : 4, path,
				     target, sizeof(target));
		break;
	default:
		r = -EINVAL;
	}
	node_exit(nd->dev);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_readlink(req, target);
}

/* Directory listings: built at opendir into a buffer of dirents, in the
 * kernel's format (struct fuse_dirent: ino, off, namelen, type, name). */
struct dirent_hdr {
	uint64_t ino;
	uint64_t off;
	uint32_t namelen;
	uint32_t type;
};

struct dirbuf {
	char *p;
	size_t size, cap;
	fuse_req_t req;
	int err;
};

static void dirbuf_add(struct dirbuf *b, const char *name, fuse_ino_t ino,
		       mode_t mode)
{
	/* Some readers skip entries with inode 0: give every entry one. */
	struct stat st = { .st_ino = ino ? ino : 0xffffffffu, .st_mode = mode };
	size_t need;

	if (b->err)
		return;
	need = fuse_add_direntry(b->req, NULL, 0, name, NULL, 0);
	if (b->size + need > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		char *p;

		while (cap < b->size + need)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	fuse_add_direntry(b->req, b->p + b->size, need, name, &st,
			  (off_t)(b->size + need));
	b->size += need;
}

static int list_driver_cb(struct dl_driver *d, void *arg)
{
	dirbuf_add(arg, dl_driver_name(d), 0, S_IFDIR);
	return 0;
}

static void list_devdir(struct dl_fs *fs, struct dirbuf *b,
			struct dl_device *dev)
{
	struct devvec kids = { 0 };
	char name[64], target[PATH_MAX];

	for (int i = 0; i < NATTRS; i++)
		if (attr_visible(fs, dev, i))
			dirbuf_add(b, attrs[i].name, 0, S_IFREG);
	for (int k = L_DRIVER; k < L_VIRTFN; k++)
		if (link_get(dev, (enum link_kind)k, 0, name, sizeof(name), target,
			     sizeof(target)) == 0)
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
	if (dl_device_for_each_child(dev, push_kid, &kids) < 0)
		b->err = ENOMEM;
	for (size_t i = 0; i < kids.n; i++)
		dirbuf_add(b, dl_device_name(kids.v[i]), 0, S_IFDIR);
	devvec_clear(&kids);
}

/* Every mediated device of the tree. */
static int push_all_mdev(struct dl_device *dev, void *arg)
{
	int r = 0;

	if (is_mdev(dev))
		r = kids_push(arg, dev);
	if (r == 0)
		r = dl_device_for_each_child(dev, push_all_mdev, arg);
	return r;
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

/* Listings below PARENT/mdev_supported_types, inside the parent's
 * active section. */
static void list_mdev(struct dirbuf *b, struct node *nd)
{
	unsigned int n = dl_mdev_type_count(nd->dev);

	if (!dl_mdev_parent_registered(nd->dev)) {
		b->err = ENOENT;
		return;
	}
	switch (nd->kind) {
	case K_MTYPES:
		for (unsigned int t = 0; t < n; t++)
			dirbuf_add(b, dl_mdev_type_name(nd->dev, t), 0, S_IFDIR);
		break;
	case K_MTYPE:
		for (int a = 0; a < DL_MDEV_ATTR_COUNT; a++)
			dirbuf_add(b, dl_mdev_attr_name((enum dl_mdev_type_attr)a), 0,
				   S_IFREG);
		dirbuf_add(b, "devices", 0, S_IFDIR);
		break;
	case K_MTYPE_DEVS: {
		struct type_kids tk = { { 0 }, nd->dev, (unsigned int)nd->idx };

		if (dl_device_for_each_child(nd->dev, push_type_kid, &tk) < 0)
			b->err = ENOMEM;
		for (size_t i = 0; i < tk.k.n; i++)
			dirbuf_add(b, dl_device_name(tk.k.v[i]), 0, S_IFLNK);
		devvec_clear(&tk.k);
		break;
	}
	default:
		b->err = ENOTDIR;
	}
}

static int push_root(struct dl_device *dev, void *arg)
{
	return kids_push(arg, dev);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct dl_fs *fs = fuse_req_userdata(req);
	struct dirbuf *b = calloc(1, sizeof(*b));
	struct devvec kids = { 0 };
	struct node *nd = NULL;

	if (!b) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	b->req = req;
	dirbuf_add(b, ".", ino, S_IFDIR);
	dirbuf_add(b, "..", 0, S_IFDIR);
	switch (ino) {
	case K_ROOT:
		dirbuf_add(b, "bus", K_BUS, S_IFDIR);
		dirbuf_add(b, "devices", K_DEVICES, S_IFDIR);
		break;
	case K_BUS:
		dirbuf_add(b, "pci", K_BUSPCI, S_IFDIR);
		dirbuf_add(b, "mdev", K_BUSMDEV, S_IFDIR);
		break;
	case K_BUSMDEV:
		dirbuf_add(b, "devices", K_BUSMDEV_DEVICES, S_IFDIR);
		break;
	case K_BUSMDEV_DEVICES:
		if (dl_tree_for_each_root(fs->tree, push_all_mdev, &kids) < 0)
			b->err = ENOMEM;
		for (size_t i = 0; i < kids.n; i++)
			dirbuf_add(b, dl_device_name(kids.v[i]), 0, S_IFLNK);
		devvec_clear(&kids);
		break;
	case K_BUSPCI:
		dirbuf_add(b, "devices", K_BUSPCI_DEVICES, S_IFDIR);
		dirbuf_add(b, "drivers", K_BUSPCI_DRIVERS, S_IFDIR);
		dirbuf_add(b, "rescan", K_BUSPCI_RESCAN, S_IFREG);
		break;
	case K_BUSPCI_DEVICES:
		if (dl_tree_for_each_root(fs->tree, push_all, &kids) < 0)
			b->err = ENOMEM;
		for (size_t i = 0; i < kids.n; i++)
			dirbuf_add(b, dl_device_name(kids.v[i]), 0, S_IFLNK);
		devvec_clear(&kids);
		break;
	case K_BUSPCI_DRIVERS:
		dl_tree_for_each_driver(fs->tree, list_driver_cb, b);
		break;
	case K_DEVICES:
		if (dl_tree_for_each_root(fs->tree, push_root, &kids) < 0)
			b->err = ENOMEM;
		for (size_t i = 0; i < kids.n; i++)
			dirbuf_add(b, dl_device_name(kids.v[i]), 0, S_IFDIR);
		devvec_clear(&kids);
		break;
	default:
		nd = node_of(fs, ino);
		if (nd && (nd->kind == K_MTYPES || nd->kind == K_MTYPE ||
			   nd->kind == K_MTYPE_DEVS)) {
			if (node_enter(nd->dev) < 0) {
				b->err = ENOENT;
				break;
			}
			list_mdev(b, nd);
			node_exit(nd->dev);
			break;
		}
		if (!nd || (nd->kind != K_DEVDIR && nd->kind != K_DRVDIR)) {
			b->err = nd ? ENOTDIR : ENOENT;
			break;
		}
		if (nd->kind == K_DRVDIR) {
			dirbuf_add(b, "bind", 0, S_IFREG);
			dirbuf_add(b, "unbind", 0, S_IFREG);
			if (dl_tree_for_each_root(fs->tree, push_all, &kids) <
			    0)
				b->err = ENOMEM;
			for (size_t i = 0; i < kids.n; i++) {
				struct dl_driver *d =
					dl_device_driver(kids.v[i]);

				if (d && strcmp(dl_driver_name(d), nd->drv) ==
						 0)
					dirbuf_add(b,
						   dl_device_name(kids.v[i]), 0,
						   S_IFLNK);
			}
			devvec_clear(&kids);
			break;
		}
		if (node_enter(nd->dev) < 0) {
			b->err = ENOENT;
			break;
		}
		list_devdir(fs, b, nd->dev);
		node_exit(nd->dev);
		break;
	}
	if (b->err) {
		int err = b->err;

		free(b->p);
		free(b);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)b;
	if (fuse_reply_open(req, fi) != 0) {
		free(b->p);
		free(b);
	}
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct dirbuf *b = (struct dirbuf *)(uintptr_t)fi->fh;

	(void)ino;
	if ((size_t)off >= b->size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	/* Whole entries only. fuse_add_direntry() stored each entry's end
	 * as its offset: walk to the last boundary that fits. */
	{
		size_t end = (size_t)off, lim = (size_t)off + size;

		if (lim > b->size)
			lim = b->size;
		while (end < lim) {
			const struct dirent_hdr *h =
				(const void *)(b->p + end);

			if ((size_t)h->off > lim)
				break;
			end = (size_t)h->off;
		}
		/*
		 * Reply from a copy: once the kernel has the reply, the
		 * reader may close the directory and our releasedir free the
		 * listing while this thread is still returning from writev()
		 * (the sanitizers' writev interceptors read the buffer after
		 * the call and would see freed memory).
		 */
		{
			size_t len = end - (size_t)off;
			char *copy = malloc(len ? len : 1);

			if (!copy) {
				fuse_reply_err(req, ENOMEM);
				return;
			}
			memcpy(copy, b->p + off, len);
			fuse_reply_buf(req, copy, len);
			free(copy);
		}
	}
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct dirbuf *b = (struct dirbuf *)(uintptr_t)fi->fh;

	(void)ino;
	free(b->p);
	free(b);
	fuse_reply_err(req, 0);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dl_fs *fs = fuse_req_userdata(req);
	struct node *nd;

	if (ino == K_BUSPCI_RESCAN) {
		fi->direct_io = 1;
		fuse_reply_open(req, fi);
		return;
	}
	if (ino < K_STATIC_MAX) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	nd = node_of(fs, ino);
	if (!nd || (nd->kind != K_ATTR && nd->kind != K_DRVATTR &&
		    nd->kind != K_MTYPE_ATTR)) {
		fuse_reply_err(req, nd ? EISDIR : ENOENT);
		return;
	}
	if (node_enter(nd->dev) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	node_exit(nd->dev);
	/* Contents are computed on every read, as sysfs does. */
	fi->direct_io = 1;
	fi->nonseekable = 0;
	fuse_reply_open(req, fi);
}

/* A reply of @text from @off, at most @size bytes. */
static void reply_text(fuse_req_t req, const char *text, size_t len,
		       size_t size, off_t off)
{
	size_t n = off >= 0 && (size_t)off < len ? len - (size_t)off : 0;

	if (n > size)
		n = size;
	fuse_reply_buf(req, n ? text + off : NULL, n);
}

static void read_mtype_attr(fuse_req_t req, struct node *nd, size_t size,
			    off_t off)
{
	char buf[ATTR_MAX];
	struct dl_device *dev = nd->dev; /* nd may go once replied to */
	int len;

	if (nd->n == DL_MDEV_ATTR_CREATE) {
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
		len = dl_mdev_type_attr_show(dev, (unsigned int)nd->idx,
					     (enum dl_mdev_type_attr)nd->n, buf,
					     sizeof(buf));
	if (len >= 0)
		reply_text(req, buf, (size_t)len, size, off);
	dl_device_exit(dev);
	if (len < 0)
		fuse_reply_err(req, -len);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct dl_fs *fs = fuse_req_userdata(req);
	char buf[ATTR_MAX];
	struct node *nd = node_of(fs, ino);
	struct dl_device *dev = nd ? nd->dev : NULL;
	const struct attr *a;
	int r = 0;

	(void)fi;
	if (nd && nd->kind == K_MTYPE_ATTR) {
		read_mtype_attr(req, nd, size, off);
		return;
	}
	if (!nd || nd->kind != K_ATTR) {
		fuse_reply_err(req, nd || ino == K_BUSPCI_RESCAN ? EACCES
								 : ENOENT);
		return;
	}
	a = &attrs[nd->idx];
	if (!(a->mode & 0444)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (dl_device_enter_tagged(nd->dev, a->name) < 0) {
		fuse_reply_err(req, ENODEV);
		return;
	}
	if (off < 0 || off >= ATTR_MAX) {
		r = 0;
	} else if (a->op == A_CONFIG) {
		size_t want = size;

		/* Unprivileged readers see only the standard header. */
		if (fuse_req_ctx(req)->uid != 0) {
			if (off >= 64)
				want = 0;
			else if (off + (off_t)want > 64)
				want = (size_t)(64 - off);
		}
		if (want > sizeof(buf) - (size_t)off)
			want = sizeof(buf) - (size_t)off;
		r = want ? dl_pci_config_read(nd->dev, (unsigned int)off, buf,
					      want)
			 : 0;
		if (r >= 0) {
			/* Reply from inside: the reader has its data before
			 * a removal waiting for us can complete. Then leave
			 * by the device, not the node: once replied to, the
			 * kernel may forget the inode and the node go. */
			fuse_reply_buf(req, buf, (size_t)r);
			dl_device_exit(dev);
			return;
		}
	} else {
		int len;

		if (a->op == A_OVERRIDE)
			len = dl_pci_platform_driver_override(nd->dev, NULL, buf,
							      sizeof(buf) - 1) < 0
				      ? -EIO
				      : (int)strlen(strcat(buf, "\n"));
		else if (a->op == A_ONLINE)
			len = snprintf(buf, sizeof(buf), "%d\n",
				       dl_device_is_online(nd->dev));
		else
			len = dl_pci_attr_show(nd->dev,
					       (enum dl_pci_attr)a->pci_attr,
					       buf, sizeof(buf));
		if (len < 0) {
			r = len;
		} else {
			size_t n = off < len ? (size_t)(len - off) : 0;

			if (n > size)
				n = size;
			fuse_reply_buf(req, buf + off, n);
			dl_device_exit(dev);
			return;
		}
	}
	dl_device_exit(nd->dev);
	fuse_reply_err(req, r == -ENOENT ? ENODEV : -r);
}

/*
 * The parsers of attribute writes are pure functions in parse.c, where
 * they are fuzzed alone (fuzz/attr-write.c).
 */

/* A sysfs store's text: at most a page, trailing newline ignored. */
static int store_text(const char *data, size_t size, char *out, size_t outlen)
{
	return dl_fs__store_text(data, size, out, outlen);
}

/* kstrtobool-ish for remove/rescan: "1"/"0", with kstrtoul's bases. */
static int store_bool(const char *s, bool *ret)
{
	return dl_fs__store_bool(s, ret);
}

/* Linux's kstrtobool(): y/Y/1/on true, n/N/0/off false. */
static int store_kbool(const char *s, bool *ret)
{
	return dl_fs__store_kbool(s, ret);
}

static int store_numvfs(struct dl_fs *fs, struct dl_device *dev, const char *s)
{
	unsigned long v;
	int r;

	/* kstrtou16() */
	r = dl_fs__store_ulong(s, 0xffff, &v);
	if (r < 0)
		return r;
	/* active(PF) is held by the request; the PF's device lock is taken
	 * inside, as Linux's sriov_numvfs_store() takes it, and the PF's
	 * driver does the work (its sriov_configure). */
	if (fs->plat)
		return dl_pci_platform_sriov_numvfs(fs->plat, dev, (unsigned int)v);
	dl_device_lock(dev);
	r = dl_pci_sriov_set_numvfs(dev, (unsigned int)v);
	dl_device_unlock(dev);
	return r;
}

/* `echo UUID > mdev_supported_types/TYPE/create`: inside the parent's
 * active section, so the parent's removal waits for it (and the child's
 * add, which enters the parent too, is refused once that has begun). */
static void write_create(fuse_req_t req, struct node *nd, const char *data,
			 size_t size)
{
	struct dl_device *dev;
	int r;

	if (nd->n != DL_MDEV_ATTR_CREATE) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (dl_device_enter_tagged(nd->dev, "mdev create") < 0) {
		fuse_reply_err(req, ENODEV);
		return;
	}
	dev = nd->dev; /* nd may go once replied to */
	r = dl_mdev_create(dev, (unsigned int)nd->idx, data, size, NULL);
	/* answered from inside, as the other stores */
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, size);
	dl_device_exit(dev);
}

static void write_drvattr(fuse_req_t req, struct dl_fs *fs, struct node *nd,
			  const char *text, size_t size)
{
	struct dl_device *dev;
	struct dl_driver *drv;
	int r;

	drv = dl_driver_find(fs->tree, nd->drv);
	if (!drv) {
		fuse_reply_err(req, ENODEV);
		return;
	}
	if (dl_device_lookup(fs->tree, text, &dev) < 0) {
		fuse_reply_err(req, ENODEV);
		return;
	}
	if (!is_func(dev)) {
		r = -ENODEV;
	} else if (nd->idx == 0) {
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
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, size);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *data,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct dl_fs *fs = fuse_req_userdata(req);
	char text[ATTR_MAX + 1];
	struct dl_device *dev;
	struct node *nd;
	const struct attr *a;
	bool on;
	int r;

	(void)fi;
	if (fuse_req_ctx(req)->uid != 0) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (ino == K_BUSPCI_RESCAN) {
		r = store_text(data, size, text, sizeof(text));
		if (r >= 0)
			r = store_bool(text, &on);
		if (r >= 0 && on && fs->plat)
			r = dl_pci_platform_rescan(fs->plat, NULL);
		if (r < 0)
			fuse_reply_err(req, -r);
		else
			fuse_reply_write(req, size);
		return;
	}
	nd = node_of(fs, ino);
	if (nd && nd->kind == K_MTYPE_ATTR) {
		write_create(req, nd, data, size);
		return;
	}
	if (!nd || (nd->kind != K_ATTR && nd->kind != K_DRVATTR)) {
		fuse_reply_err(req, nd ? EISDIR : ENOENT);
		return;
	}
	if (nd->kind == K_DRVATTR) {
		r = store_text(data, size, text, sizeof(text));
		if (r < 0 || strlen(text) > DL_NAME_MAX) {
			fuse_reply_err(req, r < 0 ? -r : ENODEV);
			return;
		}
		write_drvattr(req, fs, nd, text, size);
		return;
	}
	a = &attrs[nd->idx];
	if (!(a->mode & 0222)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (dl_device_enter_tagged(nd->dev, a->name) < 0) {
		/*
		 * A second `echo 1 > remove` while the device is already
		 * going: as kernfs_remove_self(), wait until it is gone and
		 * report success; a write that "removed" something returns
		 * only once it is really gone.
		 */
		if (a->op == A_REMOVE &&
		    store_text(data, size, text, sizeof(text)) >= 0 &&
		    store_bool(text, &on) == 0 && on &&
		    dl_device_state(nd->dev) != DL_STATE_LIVE &&
		    dl_device_remove(nd->dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT) ==
			    0) {
			fuse_reply_write(req, size);
			return;
		}
		fuse_reply_err(req, ENODEV);
		return;
	}
	if (a->op == A_CONFIG) {
		if (off < 0 || off >= ATTR_MAX)
			r = 0;
		else
			r = dl_pci_config_write(
				nd->dev, (unsigned int)off, data,
				size > (size_t)(ATTR_MAX - off)
					? (size_t)(ATTR_MAX - off)
					: size);
		dl_device_exit(nd->dev);
		if (r < 0)
			fuse_reply_err(req, -r);
		else
			fuse_reply_write(req, (size_t)r);
		return;
	}
	r = store_text(data, size, text, sizeof(text));
	if (r >= 0) {
		switch (a->op) {
		case A_REMOVE:
			r = store_bool(text, &on);
			if (r == 0 && on) {
				/* Drops this request's active reference
				 * first, then removes; returns once the
				 * device is gone. */
				r = dl_device_remove_self(nd->dev,
							  DL_REMOVE_WAIT);
				if (r < 0)
					fuse_reply_err(req, -r);
				else
					fuse_reply_write(req, size);
				return;
			}
			break;
		case A_RESCAN:
			r = store_bool(text, &on);
			if (r == 0 && on && fs->plat)
				r = dl_pci_platform_rescan(fs->plat, nd->dev);
			break;
		case A_OVERRIDE:
			r = dl_pci_platform_driver_override(nd->dev, text, NULL,
							    0);
			break;
		case A_NUMVFS:
			r = store_numvfs(fs, nd->dev, text);
			break;
		case A_AUTOPROBE:
			r = store_kbool(text, &on);
			if (r == 0)
				r = dl_pci_sriov_set_drivers_autoprobe(nd->dev, on);
			break;
		case A_ONLINE:
			/* Enters the device again and takes its device
			 * lock: -ENODEV once its removal has begun. */
			r = store_kbool(text, &on);
			if (r == 0)
				r = on ? dl_device_online(nd->dev)
				       : dl_device_offline(nd->dev);
			break;
		default:
			r = -EACCES;
		}
	}
	/*
	 * Reply from inside, as reads do: a removal that waited for this
	 * store returns only after the writer has its answer (S5: the
	 * sriov_numvfs writer learns it was refused before `remove` says
	 * the PF is gone). Then leave by the device: once replied to, the
	 * kernel may forget the inode and the node go.
	 */
	dev = nd->dev;
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, size);
	dl_device_exit(dev);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st = { .f_bsize = 4096, .f_namemax = 255 };

	(void)ino;
	fuse_reply_statfs(req, &st);
}

/*
 * The namespace is the tree's; nothing is created, removed or renamed
 * through it. The errors are sysfs's: creating a file in a directory
 * without a create operation is EACCES (the VFS's lookup_open()), every
 * other change EPERM (vfs_mkdir(), vfs_unlink(), kernfs_iop_rename()
 * and the like). Left unimplemented, FUSE would say ENOSYS.
 */
static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	(void)parent, (void)name, (void)mode, (void)fi;
	fuse_reply_err(req, EACCES);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	(void)parent, (void)name, (void)mode, (void)rdev;
	fuse_reply_err(req, EPERM);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	(void)parent, (void)name, (void)mode;
	fuse_reply_err(req, EPERM);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	(void)link, (void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	(void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
	fuse_reply_err(req, EPERM);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	(void)ino, (void)newparent, (void)newname;
	fuse_reply_err(req, EPERM);
}

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.release = op_release,
	.statfs = op_statfs,
	.create = op_create,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_unlink,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
};

/* ------------------------------------------------------------------ */
/* Invalidation                                                        */

static void inval_push(struct dl_fs *fs, fuse_ino_t parent, const char *name)
{
	struct inval *iv;

	if (!parent)
		return; /* the kernel never looked up the directory */
	iv = calloc(1, sizeof(*iv));
	if (!iv)
		return; /* the entry expires after TIMEOUT anyway */
	iv->parent = parent;
	snprintf(iv->name, sizeof(iv->name), "%s", name);
	pthread_mutex_lock(&fs->inval_lock);
	if (fs->inval_stop) {
		pthread_mutex_unlock(&fs->inval_lock);
		free(iv);
		return;
	}
	*fs->inval_tail = iv;
	fs->inval_tail = &iv->next;
	pthread_cond_signal(&fs->inval_cond);
	pthread_mutex_unlock(&fs->inval_lock);
}

static void *notify_main(void *arg)
{
	struct dl_fs *fs = arg;
	bool stop;

	pthread_setname_np(pthread_self(), "dl-fs-inval");
	pthread_mutex_lock(&fs->inval_lock);
	for (;;) {
		struct inval *iv;

		while (!fs->inval_head && !fs->inval_stop)
			pthread_cond_wait(&fs->inval_cond, &fs->inval_lock);
		iv = fs->inval_head;
		if (!iv)
			break; /* stopped and drained */
		fs->inval_head = iv->next;
		if (!fs->inval_head)
			fs->inval_tail = &fs->inval_head;
		stop = fs->inval_stop;
		pthread_mutex_unlock(&fs->inval_lock);
		if (!stop && iv->name[0])
			fuse_lowlevel_notify_inval_entry(fs->se, iv->parent,
							 iv->name,
							 strlen(iv->name));
		else if (!stop)
			fuse_lowlevel_notify_inval_inode(fs->se, iv->parent, 0,
							 0);
		free(iv);
		pthread_mutex_lock(&fs->inval_lock);
	}
	pthread_mutex_unlock(&fs->inval_lock);
	return NULL;
}

/* Called by the tree as things happen (never blocks). */
static void on_event(struct dl_device *dev, const struct dl_trace_record *rec,
		     void *arg)
{
	struct dl_fs *fs = arg;
	struct key k;
	struct dl_device *p;

	if (!dev || rec->event == DL_EV_RELEASE)
		return;
	switch (rec->event) {
	case DL_EV_REMOVE_START:
	case DL_EV_DEAD:
		p = fs_parent(dev);
		if (p) {
			k = (struct key){ K_DEVDIR, p, 0, 0, NULL };
			inval_push(fs, ino_of_key(fs, &k), dl_device_name(dev));
		} else {
			inval_push(fs, K_DEVICES, dl_device_name(dev));
		}
		if (is_func(dev))
			inval_push(fs, K_BUSPCI_DEVICES, dl_device_name(dev));
		if (is_vf(dev) && rec->event == DL_EV_DEAD) {
			struct dl_pci_func *f = dl_pci_func_of(dev);
			char name[24];

			k = (struct key){ K_DEVDIR, f->physfn, 0, 0, NULL };
			snprintf(name, sizeof(name), "virtfn%u", f->vf_index);
			inval_push(fs, ino_of_key(fs, &k), name);
		}
		break;
	case DL_EV_BIND:
	case DL_EV_UNBIND: {
		fuse_ino_t dir;

		k = (struct key){ K_DEVDIR, dev, 0, 0, NULL };
		dir = ino_of_key(fs, &k);
		inval_push(fs, dir, "driver");
		/* What else the driver decides: whether the function offers
		 * mdev types, whether it has `online`. */
		if (dl_mdev_type_count(dev))
			inval_push(fs, dir, "mdev_supported_types");
		if (is_func(dev))
			inval_push(fs, dir, "online");
		break;
	}
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */

int dl_fs_check_mountpoint(const char *path, char *why, size_t whylen)
{
	struct stat st, pst;
	char parent[PATH_MAX];
	DIR *d;
	struct dirent *e;
	bool empty = true;

	if (stat(path, &st) < 0) {
		int err = errno;

		if (err == ENOTCONN)
			snprintf(why, whylen,
				 "%s is a stale FUSE mount (its daemon died); "
				 "run: fusermount3 -u %s",
				 path, path);
		else
			snprintf(why, whylen, "%s: %s", path, strerror(err));
		return err == ENOTCONN ? -EBUSY : -err;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "%s is not a directory", path);
		return -ENOTDIR;
	}
	snprintf(parent, sizeof(parent), "%s/..", path);
	if (stat(parent, &pst) == 0 &&
	    (pst.st_dev != st.st_dev || pst.st_ino == st.st_ino)) {
		struct statvfs vfs;

		/* A dead daemon's mount may still stat from cached
		 * attributes; statfs always asks the file system. */
		if (statvfs(path, &vfs) < 0 && errno == ENOTCONN)
			snprintf(why, whylen,
				 "%s is a stale FUSE mount (its daemon died); "
				 "run: fusermount3 -u %s",
				 path, path);
		else
			snprintf(why, whylen,
				 "%s is already a mount point (unmount it first)",
				 path);
		return -EBUSY;
	}
	d = opendir(path);
	if (!d) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	closedir(d);
	if (!empty) {
		snprintf(why, whylen, "%s is not empty", path);
		return -ENOTEMPTY;
	}
	return 0;
}

int dl_fs_new(struct dl_tree *tree, struct dl_pci_platform *plat,
	      const struct dl_fs_options *opts, struct dl_fs **ret)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct dl_fs *fs;
	char optstr[256];
	int r = -ENOMEM;

	if (!tree || !opts || !opts->mountpoint || !ret)
		return -EINVAL;
	if (access("/dev/fuse", R_OK | W_OK) < 0)
		return -ENODEV;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->tree = tree;
	fs->plat = plat;
	fs->opts = *opts;
	fs->start = time(NULL);
	fs->next_ino = 1000;
	fs->inval_tail = &fs->inval_head;
	pthread_mutex_init(&fs->lock, NULL);
	pthread_mutex_init(&fs->inval_lock, NULL);
	pthread_cond_init(&fs->inval_cond, NULL);
	fs->mountpoint = realpath(opts->mountpoint, NULL);
	/*
	 * Resized by the number of nodes (accounting), not by chain length
	 * alone: with well-mixed hashes some chain always exceeds the
	 * threshold by chance, and hundreds of thousands of nodes (lspci
	 * over 65,536 functions) would grow the table to gigabytes. At
	 * least 64 Ki buckets (1 MiB each table): below that, the lazy
	 * resizes lag behind the bursts of adds (a full lspci) and deletes
	 * (the forgets after VFs go), and deleting walks long chains; with
	 * 256 x 255 VFs looked up, disabling them all took 5 times longer.
	 */
	fs->nodes = cds_lfht_new_flavor(1 << 16, 1 << 16, 0,
					CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
					&urcu_bp_flavor, NULL);
	fs->keys = cds_lfht_new_flavor(1 << 16, 1 << 16, 0,
				       CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
				       &urcu_bp_flavor, NULL);
	if (!fs->mountpoint || !fs->nodes || !fs->keys)
		goto fail;
	snprintf(optstr, sizeof(optstr),
		 "-odefault_permissions,fsname=devlife,subtype=devlife%s",
		 opts->allow_other ? ",allow_other" : "");
	if (fuse_opt_add_arg(&args, "devlifed") ||
	    fuse_opt_add_arg(&args, optstr) ||
	    (opts->debug && fuse_opt_add_arg(&args, "-d")))
		goto fail;
	fs->se = fuse_session_new(&args, &ops, sizeof(ops), fs);
	fuse_opt_free_args(&args);
	if (!fs->se) {
		r = -EINVAL;
		goto fail;
	}
	if (fuse_session_mount(fs->se, fs->mountpoint) != 0) {
		r = -ENODEV;
		goto fail;
	}
	fs->mounted = true;
	if (pthread_create(&fs->notify_thread, NULL, notify_main, fs) != 0)
		goto fail;
	fs->notify_started = true;
	r = dl_tree_watch(tree, on_event, fs);
	if (r < 0)
		goto fail;
	fs->watching = true;
	*ret = fs;
	return 0;
fail:
	dl_fs_free(fs);
	return r;
}

int dl_fs_run(struct dl_fs *fs)
{
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	int r;

	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(cfg, 0);
	fuse_loop_cfg_set_idle_threads(cfg, 4);
	if (fs->opts.max_threads)
		fuse_loop_cfg_set_max_threads(cfg, fs->opts.max_threads);
	r = fuse_session_loop_mt(fs->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	/*
	 * Nobody answers the kernel any more: an invalidation could now wait
	 * forever for a directory lock held by a process whose request will
	 * never be answered. Stop sending them.
	 */
	pthread_mutex_lock(&fs->inval_lock);
	fs->inval_stop = true;
	pthread_cond_signal(&fs->inval_cond);
	pthread_mutex_unlock(&fs->inval_lock);
	return r < 0 ? r : 0;
}

struct fuse_session *dl_fs_session(struct dl_fs *fs)
{
	return fs->se;
}

void dl_fs_exit(struct dl_fs *fs)
{
	if (fs && fs->se)
		fuse_session_exit(fs->se);
}

static void free_all_nodes(struct dl_fs *fs)
{
	struct cds_lfht_iter it;
	struct node *nd;

	if (!fs->nodes)
		return;
	rcu_read_lock();
	cds_lfht_for_each_entry(fs->nodes, &it, nd, by_ino) {
		cds_lfht_del(fs->nodes, &nd->by_ino);
		cds_lfht_del(fs->keys, &nd->by_key);
		call_rcu(&nd->rcu, node_free_rcu);
	}
	rcu_read_unlock();
}

void dl_fs_free(struct dl_fs *fs)
{
	if (!fs)
		return;
	if (fs->watching)
		dl_tree_unwatch(fs->tree, on_event, fs);
	if (fs->notify_started) {
		pthread_mutex_lock(&fs->inval_lock);
		fs->inval_stop = true;
		pthread_cond_signal(&fs->inval_cond);
		pthread_mutex_unlock(&fs->inval_lock);
		pthread_join(fs->notify_thread, NULL);
	}
	if (fs->mounted)
		fuse_session_unmount(fs->se);
	if (fs->se)
		fuse_session_destroy(fs->se);
	free_all_nodes(fs);
	urcu_bp_barrier();
	if (fs->nodes)
		cds_lfht_destroy(fs->nodes, NULL);
	if (fs->keys)
		cds_lfht_destroy(fs->keys, NULL);
	pthread_mutex_destroy(&fs->lock);
	pthread_mutex_destroy(&fs->inval_lock);
	pthread_cond_destroy(&fs->inval_cond);
	free(fs->mountpoint);
	free(fs);
}
