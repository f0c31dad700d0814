/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The node table: every dynamic inode of the view is a node, created on
 * lookup and freed on the kernel's last forget. A node that names a
 * device holds a lifetime reference on it until the device dies; then it
 * becomes a tombstone (view.h) and the device can go, whatever the
 * kernel still holds. The table is liburcu's cds_lfht indexed three
 * times (by inode number; by what the node names, so that a second
 * lookup of the same file finds the same inode; by the device it names,
 * to find a dying device's nodes), changed under fs->lock and read
 * lock-free.
 *
 * Active references. Every operation on a node that names a device
 * enters the device first (node_enter()) and leaves it when the reply is
 * built, so a removal waits for operations in flight, and once it has
 * begun lookups fail with ENOENT and I/O with ENODEV.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

/* The first inode number of a node: far above the static ones. */
#define FIRST_DYNAMIC_INO 1000
_Static_assert(FIRST_DYNAMIC_INO > K_STATIC_MAX, "static inodes apart");

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

static int match_dev(struct cds_lfht_node *ht, const void *arg)
{
	const struct node *nd = caa_container_of(ht, struct node, by_dev);

	return nd->dev == arg;
}

static unsigned long dev_hash(const struct dl_device *dev)
{
	return (unsigned long)mix64((uint64_t)(uintptr_t)dev);
}

/* The node of a dynamic inode. Valid while the kernel holds a lookup
 * count on the inode, i.e. during any request about it. */
struct node *node_of(struct dl_fs *fs, fuse_ino_t ino)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *ht;
	struct node *nd = NULL;
	bool ready;

	rcu_read_lock();
	cds_lfht_lookup(fs->nodes, ino_hash(ino), match_ino, &ino, &it);
	ht = cds_lfht_iter_get_node(&it);
	if (ht) {
		nd = caa_container_of(ht, struct node, by_ino);
		ready = atomic_load_explicit(&nd->ready, memory_order_acquire);
		fs_assert(ready); /* added to the tables once ready */
		if (!ready)
			nd = NULL;
	}
	rcu_read_unlock();
	return nd;
}

/*
 * What inode @ino names, into @k, with a reference on the device it names
 * (if any) for the request; @k->drv points into the node, valid until the
 * reply. 0; -ENOENT if there is no such inode; -ENODEV if it is a
 * tombstone (@k then names no device: what it was, without it). Drop
 * the reference with key_put().
 */
int node_key(struct dl_fs *fs, fuse_ino_t ino, struct key *k)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *ht;
	struct dl_device *dev = NULL;
	struct node *nd;

	if (ino < K_STATIC_MAX) {
		*k = (struct key){ .kind = (enum kind)ino };
		return 0;
	}
	rcu_read_lock();
	cds_lfht_lookup(fs->nodes, ino_hash(ino), match_ino, &ino, &it);
	ht = cds_lfht_iter_get_node(&it);
	if (!ht) {
		rcu_read_unlock();
		return -ENOENT;
	}
	nd = caa_container_of(ht, struct node, by_ino);
	fs_assert(atomic_load_explicit(&nd->ready, memory_order_acquire));
	/* The node's reference, if it still holds one, is dropped only
	 * after a grace period: taking ours inside this section is safe. */
	if (nd->dev) {
		dev = atomic_load_explicit(&nd->held, memory_order_acquire);
		if (dev)
			dl_device_get(dev);
	}
	rcu_read_unlock();
	*k = (struct key){ nd->kind, dev, nd->idx, nd->n, nd->drv };
	return nd->dev && !dev ? -ENODEV : 0;
}

/* Drops node_key()'s reference. */
void key_put(const struct key *k)
{
	if (k->dev)
		dl_device_put((struct dl_device *)k->dev);
}

/* Find the node naming k, if the kernel knows it (for invalidations). */
fuse_ino_t ino_of_key(struct dl_fs *fs, const struct key *k)
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

/* Note a driver directory the kernel looked up: unbind
 * and removal invalidate the device's link in it. Kept: a few names. */
void drvdir_seen_locked(struct dl_fs *fs, const char *name)
{
	fs_assert_held(&fs->lock);
	for (unsigned int i = 0; i < fs->ndrvdirs; i++)
		if (strcmp(fs->drvdirs[i], name) == 0)
			return;
	if (fs->ndrvdirs < DRVDIRS_MAX)
		snprintf(fs->drvdirs[fs->ndrvdirs++], sizeof(fs->drvdirs[0]),
			 "%s", name);
}

/* A new node for @k (hash @h), counting one kernel lookup; 0 if out of
 * memory. */
static fuse_ino_t node_add_locked(struct dl_fs *fs, const struct key *k,
				  unsigned long h)
{
	const char *drv = k->drv ? k->drv : "";
	size_t drvlen = strlen(drv);
	struct node *nd;

	fs_assert_held(&fs->lock);
	/* Driver names are looked up only if they fit (lookup_drivers()). */
	fs_assert(drvlen <= DL_NAME_MAX);
	nd = calloc(1, sizeof(*nd) + drvlen + 1);
	if (!nd)
		return 0;
	nd->ino = fs->next_ino++;
	nd->kind = k->kind;
	nd->dev = k->dev;
	atomic_init(&nd->held, dl_device_get((struct dl_device *)k->dev));
	nd->idx = k->idx;
	nd->n = k->n;
	memcpy(nd->drv, drv, drvlen + 1);
	nd->nlookup = 1;
	nd->hash = h;
	if (k->kind == K_DRVDIR)
		drvdir_seen_locked(fs, nd->drv);
	cds_lfht_node_init(&nd->by_ino);
	cds_lfht_node_init(&nd->by_key);
	cds_lfht_node_init(&nd->by_dev);
	atomic_store_explicit(&nd->ready, true, memory_order_release);
	rcu_read_lock();
	cds_lfht_add(fs->nodes, ino_hash(nd->ino), &nd->by_ino);
	cds_lfht_add(fs->keys, h, &nd->by_key);
	if (nd->dev)
		cds_lfht_add(fs->devnodes, dev_hash(nd->dev), &nd->by_dev);
	rcu_read_unlock();
	return nd->ino;
}

/* The node naming @k (hash @h), counting one more kernel lookup, or a
 * new one. */
static fuse_ino_t node_ref_locked(struct dl_fs *fs, const struct key *k,
				  unsigned long h)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *ht;
	struct node *nd;

	fs_assert_held(&fs->lock);
	rcu_read_lock();
	cds_lfht_lookup(fs->keys, h, match_key, k, &it);
	ht = cds_lfht_iter_get_node(&it);
	rcu_read_unlock();
	if (!ht)
		return node_add_locked(fs, k, h);
	nd = caa_container_of(ht, struct node, by_key);
	/* A node is in the tables from its first lookup to its last
	 * forget. */
	fs_assert(nd->nlookup > 0);
	nd->nlookup++;
	return nd->ino;
}

/* Look up or create the node for k and count one kernel lookup. Returns
 * its inode number (a static kind's own), or 0 if out of memory. */
fuse_ino_t node_get(struct dl_fs *fs, const struct key *k)
{
	fuse_ino_t ino;
	unsigned long h;

	if (k->kind < K_STATIC_MAX) {
		fs_assert(!k->dev && k->kind >= K_ROOT);
		return (fuse_ino_t)k->kind;
	}
	fs_assert(k->kind > K_STATIC_MAX && k->kind < K_MAX);
	h = key_hash(k->kind, k->dev, k->idx, k->n, k->drv);
	fs_mutex_lock(&fs->lock);
	ino = node_ref_locked(fs, k, h);
	fs_mutex_unlock(&fs->lock);
	return ino;
}

static void node_free_rcu(struct rcu_head *head)
{
	struct node *nd = caa_container_of(head, struct node, rcu);

	struct dl_device *dev = atomic_load_explicit(&nd->held,
						     memory_order_relaxed);

	if (dev)
		dl_device_put(dev);
	free(nd);
}

/* Takes a node out of fs->keys and fs->devnodes (a tombstone is in
 * neither). */
static void node_unkey_locked(struct dl_fs *fs, struct node *nd)
{
	fs_assert_held(&fs->lock);
	if (nd->tomb)
		return;
	cds_lfht_del(fs->keys, &nd->by_key);
	if (nd->dev)
		cds_lfht_del(fs->devnodes, &nd->by_dev);
}

/* Count @n kernel lookups of @nd forgotten; at the last, take it out of
 * the tables and free it once no reader can see it. */
static void node_unref_locked(struct dl_fs *fs, struct node *nd, uint64_t n)
{
	fs_assert_held(&fs->lock);
	nd->nlookup = nd->nlookup > n ? nd->nlookup - n : 0;
	if (nd->nlookup > 0)
		return;
	rcu_read_lock();
	cds_lfht_del(fs->nodes, &nd->by_ino);
	node_unkey_locked(fs, nd);
	rcu_read_unlock();
	call_rcu(&nd->rcu, node_free_rcu);
	atomic_fetch_add_explicit(&fs->nodes_freed, 1, memory_order_relaxed);
}

/* The kernel forgot @n lookups of @ino (static inodes: nothing). */
void node_forget(struct dl_fs *fs, fuse_ino_t ino, uint64_t n)
{
	struct node *nd;

	if (ino < K_STATIC_MAX)
		return;
	fs_mutex_lock(&fs->lock);
	nd = node_of(fs, ino);
	if (nd)
		node_unref_locked(fs, nd, n);
	fs_mutex_unlock(&fs->lock);
}

/* A dead device's references, dropped once no reader can take one. */
struct dead_refs {
	struct rcu_head rcu;
	struct dl_device *dev;
	unsigned int n;
};

static void dead_refs_put_rcu(struct rcu_head *head)
{
	struct dead_refs *d = caa_container_of(head, struct dead_refs, rcu);

	while (d->n--)
		dl_device_put(d->dev);
	free(d);
}

/*
 * @dev has died: every node naming it becomes a tombstone (view.h), and
 * their references on it go after a grace period, so the device is freed
 * even while the kernel still holds inodes of it (a file of it held
 * open, a shell in its directory). Called by the tree's watcher at
 * DL_EV_DEAD, after the invalidations that need the nodes' keys were
 * queued; never blocks on anything but fs->lock (a leaf), and never puts
 * a reference itself (the watcher runs under the core's locks). Out of
 * memory, the nodes keep their references until forgotten, as before.
 */
void node_tombstone(struct dl_fs *fs, struct dl_device *dev)
{
	struct dead_refs *d = calloc(1, sizeof(*d));
	struct cds_lfht_iter it;
	struct cds_lfht_node *ht;

	if (!d)
		return;
	d->dev = dev;
	fs_mutex_lock(&fs->lock);
	rcu_read_lock();
	for (;;) {
		struct node *nd;

		cds_lfht_lookup(fs->devnodes, dev_hash(dev), match_dev, dev,
				&it);
		ht = cds_lfht_iter_get_node(&it);
		if (!ht)
			break;
		nd = caa_container_of(ht, struct node, by_dev);
		node_unkey_locked(fs, nd);
		nd->tomb = true;
		atomic_store_explicit(&nd->held, NULL, memory_order_release);
		d->n++;
	}
	rcu_read_unlock();
	fs_mutex_unlock(&fs->lock);
	if (d->n)
		call_rcu(&d->rcu, dead_refs_put_rcu);
	else
		free(d);
}

/* Enter the device a node names (if any). 0, or -ENOENT if it is going
 * or gone. */
int node_enter(struct dl_device *dev)
{
	if (!dev)
		return 0;
	return dl_device_enter_tagged(dev, "sysfs") < 0 ? -ENOENT : 0;
}

void node_exit(struct dl_device *dev)
{
	if (dev)
		dl_device_exit(dev);
}

int nodes_init(struct dl_fs *fs)
{
	fs->next_ino = FIRST_DYNAMIC_INO;
	fs_mutex_init(&fs->lock);
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
	fs->devnodes = cds_lfht_new_flavor(1 << 16, 1 << 16, 0,
					   CDS_LFHT_AUTO_RESIZE |
						   CDS_LFHT_ACCOUNTING,
					   &urcu_bp_flavor, NULL);
	return fs->nodes && fs->keys && fs->devnodes ? 0 : -ENOMEM;
}

/* Free every node and the tables; nobody uses them any more. */
void nodes_free(struct dl_fs *fs)
{
	struct cds_lfht_iter it;
	struct node *nd;

	if (fs->nodes) {
		rcu_read_lock();
		cds_lfht_for_each_entry(fs->nodes, &it, nd, by_ino) {
			cds_lfht_del(fs->nodes, &nd->by_ino);
			if (!nd->tomb) {
				cds_lfht_del(fs->keys, &nd->by_key);
				if (nd->dev)
					cds_lfht_del(fs->devnodes, &nd->by_dev);
			}
			call_rcu(&nd->rcu, node_free_rcu);
		}
		rcu_read_unlock();
	}
	urcu_bp_barrier();
	if (fs->nodes)
		cds_lfht_destroy(fs->nodes, NULL);
	if (fs->keys)
		cds_lfht_destroy(fs->keys, NULL);
	if (fs->devnodes)
		cds_lfht_destroy(fs->devnodes, NULL);
	fs_mutex_destroy(&fs->lock);
}
