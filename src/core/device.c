/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Devices: construction, lifetime references, publication and lookup.
 *
 * Lifetime (refcount) and discoverability (published, the registry) are
 * separate: a lookup finds only published devices and takes a reference
 * with get-unless-zero, so it never resurrects a device whose last
 * reference is going; the memory is reclaimed after an RCU grace period,
 * so a lookup that is still looking at the node is safe.
 */
#include <stddef.h>
#include <string.h>

#include "core.h"

static unsigned long name_hash(const char *s)
{
	/* FNV-1a, 64 bit. */
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return (unsigned long)h;
}

static int valid_name(const char *name)
{
	size_t len = 0;

	for (const char *p = name; *p; p++, len++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    *p == '/')
			return 0;
	return len >= 1 && len <= DL_NAME_MAX;
}

DL_EXPORT int dl_device_new(struct dl_tree *tree,
			    const struct dl_device_type *type,
			    const char *name, size_t priv_size,
			    struct dl_device **ret)
{
	struct dl_device *dev;
	size_t len, off, size;

	assert_return(tree && type && name && ret, -EINVAL);
	assert_return(valid_name(name), -EINVAL);
	assert_return(priv_size < ((size_t)1 << 30), -EINVAL);
	len = strlen(name);
	off = (offsetof(struct dl_device, name) + len + 1 + 15) & ~(size_t)15;
	size = off + priv_size;
	dev = dl__calloc(1, size);
	if (!dev)
		return -ENOMEM;
	memcpy(dev->name, name, len + 1);
	dev->priv = priv_size ? (char *)dev + off : NULL;
	dev->tree = tree;
	dev->type = type;
	CDS_INIT_LIST_HEAD(&dev->children);
	CDS_INIT_LIST_HEAD(&dev->sibling);
	cds_lfht_node_init(&dev->node);
	atomic_init(&dev->refcount, 1);
	atomic_init(&dev->state, DL_STATE_NEW);
	/* Built closed: nobody enters until dl_device_add() opens it. */
	atomic_init(&dev->gate.deact, 1);
	atomic_init(&dev->gate_final, 1);
	dev->autoprobe = true;
	pthread_mutex_init(&dev->lock, NULL);
	dev->hash = name_hash(name);
	dev->id = atomic_fetch_add(&tree->next_id, 1) + 1;
	atomic_fetch_add(&tree->refs, 1);
	atomic_fetch_add(&tree->stats.devices_allocated, 1);
	*ret = dev;
	return 0;
}

static void free_rcu(struct rcu_head *head)
{
	struct dl_device *dev = caa_container_of(head, struct dl_device, rcu);
	struct dl_tree *tree = dev->tree;
	struct dl_device *parent = dev->parent;

	if (dev->type->release)
		dev->type->release(dev);
	dl__trace(tree, dev, DL_EV_RELEASE, 0);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
	/* A child pins its parent for its whole life. */
	dl_device_put(parent);
	atomic_fetch_sub(&tree->stats.devices_allocated, 1);
	dl__tree_put(tree);
}

DL_EXPORT struct dl_device *dl_device_get(struct dl_device *dev)
{
	if (dev) {
		long old = atomic_fetch_add_explicit(&dev->refcount, 1,
						     memory_order_relaxed);

		if (DL_DEBUG && dl__unlikely(old <= 0))
			dl__die("dl_device_get(%s) on a released device",
				dev->name);
	}
	return dev;
}

DL_EXPORT struct dl_device *dl_device_put(struct dl_device *dev)
{
	long old;

	if (!dev)
		return NULL;
	old = atomic_fetch_sub_explicit(&dev->refcount, 1,
					memory_order_release);
	if (dl__likely(old > 1))
		return NULL;
	if (dl__unlikely(old <= 0)) {
		if (DL_DEBUG)
			dl__die("dl_device_put(%s): reference count was %ld "
				"(double put, or put after release)",
				dev->name, old);
		return NULL;
	}
	atomic_thread_fence(memory_order_acquire);
	{
		int st = atomic_load(&dev->state);

		if (st != DL_STATE_NEW && st != DL_STATE_DEAD)
			dl__die("last reference to %s dropped while it is "
				"%s (unbalanced put)",
				dev->name,
				st == DL_STATE_LIVE ? "LIVE" : "REMOVING");
	}
	DL_TEST_POINT("put:release", dev);
	call_rcu(&dev->rcu, free_rcu);
	return NULL;
}

static int match_name(struct cds_lfht_node *node, const void *key)
{
	struct dl_device *dev = caa_container_of(node, struct dl_device, node);

	return strcmp(dev->name, key) == 0;
}

DL_EXPORT int dl_device_lookup(struct dl_tree *tree, const char *name,
			       struct dl_device **ret)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	struct dl_device *dev = NULL;

	assert_return(tree && name && ret, -EINVAL);
	if (!tree->registry)
		return -ENOENT;
	rcu_read_lock();
	cds_lfht_lookup(tree->registry, name_hash(name), match_name, name,
			&iter);
	node = cds_lfht_iter_get_node(&iter);
	if (node) {
		dev = caa_container_of(node, struct dl_device, node);
		DL_TEST_POINT("lookup:found", dev);
		if (!atomic_load(&dev->published) || !dl__get_unless_zero(dev))
			dev = NULL;
	}
	rcu_read_unlock();
	if (!dev)
		return -ENOENT;
	/* Removal may have started between the check and the get; a
	 * lookup that sees it must not return the device. */
	if (!atomic_load(&dev->published)) {
		dl_device_put(dev);
		return -ENOENT;
	}
	*ret = dev;
	return 0;
}

DL_EXPORT int dl_device_add(struct dl_device *dev, struct dl_device *parent)
{
	struct dl_tree *tree;
	struct cds_lfht_node *got;
	struct dl_trace_record rec;
	int r = 0;
	bool expected = false;

	assert_return(dev && dev != parent, -EINVAL);
	tree = dev->tree;
	assert_return(!parent || parent->tree == tree, -EINVAL);
	assert_return(atomic_load(&dev->state) == DL_STATE_NEW, -EINVAL);
	/* One add per device, even if two threads race on a NEW one. */
	if (!atomic_compare_exchange_strong(&dev->adding, &expected, true))
		return -EINVAL;

	if (parent) {
		/* The parent's removal drains this: either we fail here,
		 * or the parent's removal waits and then removes us too. */
		r = dl_device_enter(parent);
		if (r < 0) {
			atomic_store(&dev->adding, false);
			return -ENODEV;
		}
	}
	DL_TEST_POINT("add:parent-entered", dev);

	dl__topology_lock(tree);
	if (!parent && atomic_load(&tree->freeing)) {
		r = -ENODEV;
		goto unlock;
	}
	if (atomic_load(&dev->state) != DL_STATE_NEW || dev->linked) {
		r = -EINVAL;
		goto unlock;
	}
	if (parent && atomic_load(&parent->state) != DL_STATE_LIVE &&
	    (atomic_load(&parent->state) != DL_STATE_REMOVING ||
	     atomic_load(&parent->gate_final) != 0)) {
		/*
		 * A removal that can no longer be refused has started (the
		 * gate may not be closed yet). One that may still be refused
		 * is not visible: it counts our active reference on the
		 * parent (try mode refuses, a drain waits for us and its
		 * second walk finds the child).
		 */
		r = -ENODEV;
		goto unlock;
	}
	/* liburcu's hash table wants its updaters in a read-side section
	 * too (they walk bucket chains). */
	rcu_read_lock();
	got = cds_lfht_add_unique(tree->registry, dev->hash, match_name,
				  dev->name, &dev->node);
	rcu_read_unlock();
	if (got != &dev->node) {
		r = -EEXIST;
		goto unlock;
	}
	dl__registry_added_locked(tree);
	dev->parent = dl_device_get(parent);
	cds_list_add_tail(&dev->sibling,
			  parent ? &parent->children : &tree->roots);
	dev->linked = true;
	/* The tree's reference: dropped when the device is DEAD. */
	dl_device_get(dev);
	/* Recorded before anyone can find it LIVE and start removing or
	 * claiming it. */
	dl__trace_record(tree, dev, DL_EV_ADD, 0, &rec);
	atomic_store(&dev->state, DL_STATE_LIVE);
	/* Open the gate only now, fully built and linked (pairs with
	 * the acquire of whoever finds it: registry or children list). */
	atomic_store(&dev->gate_final, 0);
	atomic_store(&dev->gate.deact, 0);
	atomic_store(&dev->published, true);
unlock:
	dl__topology_unlock(tree);
	if (r < 0)
		atomic_store(&dev->adding, false);
	if (r == 0) {
		atomic_fetch_add(&tree->stats.adds, 1);
		atomic_fetch_add(&tree->stats.devices_live, 1);
		dl__trace_notify(tree, dev, &rec);
		DL_TEST_POINT("add:published", dev);
		if (dev->autoprobe && atomic_load(&tree->autoprobe))
			(void)dl_device_bind(dev, NULL);
	}
	if (parent)
		dl_device_exit(parent);
	return r;
}

DL_EXPORT enum dl_device_state dl_device_state(const struct dl_device *dev)
{
	assert_return(dev, DL_STATE_DEAD);
	return (enum dl_device_state)atomic_load(&dev->state);
}

DL_EXPORT bool dl_device_is_gone(const struct dl_device *dev)
{
	assert_return(dev, true);
	return atomic_load_explicit(&dev->gone, memory_order_acquire) > 0;
}

DL_EXPORT const char *dl_device_name(const struct dl_device *dev)
{
	assert_return(dev, NULL);
	return dev->name;
}

DL_EXPORT const struct dl_device_type *dl_device_type(
	const struct dl_device *dev)
{
	assert_return(dev, NULL);
	return dev->type;
}

DL_EXPORT struct dl_tree *dl_device_tree(const struct dl_device *dev)
{
	assert_return(dev, NULL);
	return dev->tree;
}

DL_EXPORT uint64_t dl_device_id(const struct dl_device *dev)
{
	assert_return(dev, 0);
	return dev->id;
}

DL_EXPORT void *dl_device_priv(struct dl_device *dev)
{
	assert_return(dev, NULL);
	return dev->priv;
}

DL_EXPORT struct dl_device *dl_device_parent(const struct dl_device *dev)
{
	assert_return(dev, NULL);
	return dev->parent;
}

/* Snapshot a list under the topology lock, with references. */
int dl__snapshot_list(struct dl_tree *tree, struct cds_list_head *head,
		      struct dl_device ***ret, size_t *ret_n)
{
	struct dl_device **v = NULL, *c;
	size_t n, cap = 0;

	for (;;) {
		n = 0;
		dl__topology_lock(tree);
		cds_list_for_each_entry(c, head, sibling)
			n++;
		if (n <= cap) {
			n = 0;
			cds_list_for_each_entry(c, head, sibling)
				v[n++] = dl_device_get(c);
			dl__topology_unlock(tree);
			*ret = v;
			*ret_n = n;
			return 0;
		}
		dl__topology_unlock(tree);
		free(v);
		cap = n + 8;
		v = dl__calloc(cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
}

int dl__for_each_in(struct dl_tree *tree, struct cds_list_head *head,
		    int (*fn)(struct dl_device *, void *), void *arg)
{
	struct dl_device **v;
	size_t n, i;
	int r;

	r = dl__snapshot_list(tree, head, &v, &n);
	if (r < 0)
		return r;
	for (i = 0; i < n && r == 0; i++)
		r = fn(v[i], arg);
	for (i = 0; i < n; i++)
		dl_device_put(v[i]);
	free(v);
	return r;
}

DL_EXPORT int dl_device_for_each_child(struct dl_device *dev,
				       int (*fn)(struct dl_device *, void *),
				       void *arg)
{
	assert_return(dev && fn, -EINVAL);
	return dl__for_each_in(dev->tree, &dev->children, fn, arg);
}
