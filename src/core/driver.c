/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Drivers: registration, matching, bind/unbind, online/offline.
 *
 * Every driver callback runs under the device lock of its device and
 * under an active reference taken by whoever triggered it (add, bind,
 * online) — except remove, which runs from removal after the drain, or
 * from unbind under the unbinder's active reference. Callbacks never run
 * under the topology lock, so a driver may add and remove children from
 * probe and remove (the SR-IOV PF enabling VFs in probe).
 */
#include <string.h>
#include <unistd.h>

#include "core.h"

DL_EXPORT int dl_driver_register(struct dl_tree *tree,
				 const struct dl_driver_ops *ops, void *data,
				 struct dl_driver **ret)
{
	struct dl_driver *drv, *d;

	assert_return(tree && ops && ops->name && ops->name[0], -EINVAL);
	drv = dl__calloc(1, sizeof(*drv));
	if (!drv)
		return -ENOMEM;
	drv->tree = tree;
	drv->ops = ops;
	drv->data = data;
	pthread_mutex_lock(&tree->drivers_lock);
	cds_list_for_each_entry(d, &tree->drivers, node) {
		if (strcmp(d->ops->name, ops->name) == 0) {
			pthread_mutex_unlock(&tree->drivers_lock);
			free(drv);
			return -EEXIST;
		}
	}
	cds_list_add_tail(&drv->node, &tree->drivers);
	pthread_mutex_unlock(&tree->drivers_lock);
	if (ret)
		*ret = drv;
	return 0;
}

DL_EXPORT struct dl_driver *dl_driver_find(struct dl_tree *tree,
					   const char *name)
{
	struct dl_driver *d, *found = NULL;

	assert_return(tree && name, NULL);
	pthread_mutex_lock(&tree->drivers_lock);
	cds_list_for_each_entry(d, &tree->drivers, node)
		if (!d->dying && strcmp(d->ops->name, name) == 0)
			found = d;
	pthread_mutex_unlock(&tree->drivers_lock);
	return found;
}

DL_EXPORT int dl_tree_for_each_driver(struct dl_tree *tree,
				      int (*fn)(struct dl_driver *, void *),
				      void *arg)
{
	struct dl_driver *d;
	int r = 0;

	assert_return(tree && fn, -EINVAL);
	pthread_mutex_lock(&tree->drivers_lock);
	cds_list_for_each_entry(d, &tree->drivers, node) {
		if (d->dying)
			continue;
		r = fn(d, arg);
		if (r)
			break;
	}
	pthread_mutex_unlock(&tree->drivers_lock);
	return r;
}

DL_EXPORT const char *dl_driver_name(const struct dl_driver *drv)
{
	assert_return(drv, NULL);
	return drv->ops->name;
}

DL_EXPORT void *dl_driver_data(const struct dl_driver *drv)
{
	assert_return(drv, NULL);
	return drv->data;
}

void dl__driver_detach_locked(struct dl_device *dev)
{
	struct dl_driver *drv = atomic_load(&dev->driver);

	dl__assert_device_locked(dev);
	if (!drv)
		return;
	if (drv->ops->remove)
		drv->ops->remove(drv, dev);
	atomic_store(&dev->driver, NULL);
	dev->drvdata = NULL;
	atomic_store(&dev->online, false);
	dl__trace(dev->tree, dev, DL_EV_UNBIND, 0);
}

/* Collect every registered device (a snapshot with references). */
static int snapshot_registry(struct dl_tree *tree, struct dl_device ***ret,
			     size_t *ret_n)
{
	struct cds_lfht_iter iter;
	struct dl_device *dev, **v = NULL;
	size_t n = 0, cap = 0;

	rcu_read_lock();
	/* Not cds_lfht_for_each_entry(): node is not the first member, and
	 * that macro computes the entry of the NULL that ends the walk. */
	for (cds_lfht_first(tree->registry, &iter);
	     cds_lfht_iter_get_node(&iter) != NULL;
	     cds_lfht_next(tree->registry, &iter)) {
		dev = caa_container_of(cds_lfht_iter_get_node(&iter),
				       struct dl_device, node);
		if (n == cap) {
			struct dl_device **nv;

			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				rcu_read_unlock();
				while (n)
					dl_device_put(v[--n]);
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		if (dl__get_unless_zero(dev))
			v[n++] = dev;
	}
	rcu_read_unlock();
	*ret = v;
	*ret_n = n;
	return 0;
}

DL_EXPORT void dl_driver_unregister(struct dl_driver *drv)
{
	struct dl_tree *tree;
	struct dl_device **v;
	size_t n;

	if (!drv)
		return;
	tree = drv->tree;
	/* No new bind picks this driver once dying is set (checked by
	 * bind under both the device lock and drivers_lock). */
	pthread_mutex_lock(&tree->drivers_lock);
	drv->dying = true;
	pthread_mutex_unlock(&tree->drivers_lock);

	while (snapshot_registry(tree, &v, &n) < 0)
		usleep(1000);
	for (size_t i = 0; i < n; i++) {
		dl_device_lock(v[i]);
		if (atomic_load(&v[i]->driver) == drv)
			dl__driver_detach_locked(v[i]);
		dl_device_unlock(v[i]);
		dl_device_put(v[i]);
	}
	free(v);

	pthread_mutex_lock(&tree->drivers_lock);
	while (drv->pins)
		pthread_cond_wait(&tree->drivers_cond, &tree->drivers_lock);
	cds_list_del(&drv->node);
	pthread_mutex_unlock(&tree->drivers_lock);
	free(drv);
}

void dl__drivers_free_all(struct dl_tree *tree)
{
	for (;;) {
		struct dl_driver *drv = NULL;

		pthread_mutex_lock(&tree->drivers_lock);
		if (!cds_list_empty(&tree->drivers))
			drv = cds_list_first_entry(&tree->drivers,
						   struct dl_driver, node);
		pthread_mutex_unlock(&tree->drivers_lock);
		if (!drv)
			return;
		dl_driver_unregister(drv);
	}
}

/*
 * Whether drv wants dev: drivers_lock held on entry and on return, but
 * not across match(), which may call dl_driver_find() or anything else
 * that takes it (the kernel calls driver_match_device() under the device
 * lock only, from bus_for_each_drv()'s klist walk). The pin keeps drv
 * on the list meanwhile, so the caller's walk can go on from it.
 */
static bool driver_matches_locked(struct dl_tree *tree, struct dl_driver *drv,
				  struct dl_device *dev)
{
	bool yes;

	dl__assert_mutex_held(&tree->drivers_lock, "drivers_lock");
	dl__assert_device_locked(dev);
	if (drv->dying)
		return false;
	if (drv->ops->type && drv->ops->type != dev->type)
		return false;
	if (!drv->ops->match)
		return true;
	drv->pins++;
	pthread_mutex_unlock(&tree->drivers_lock);
	yes = drv->ops->match(drv, dev);
	pthread_mutex_lock(&tree->drivers_lock);
	if (--drv->pins == 0 && drv->dying)
		pthread_cond_broadcast(&tree->drivers_cond);
	return yes && !drv->dying;
}

DL_EXPORT int dl_device_bind(struct dl_device *dev, struct dl_driver *drv)
{
	struct dl_tree *tree;
	struct dl_driver *pick = NULL, *d;
	int r = 0;

	assert_return(dev, -EINVAL);
	assert_return(!drv || drv->tree == dev->tree, -EINVAL);
	tree = dev->tree;
	if (dl_device_enter(dev) < 0)
		return -ENODEV;
	dl_device_lock(dev);
	if (atomic_load(&dev->state) != DL_STATE_LIVE) {
		r = -ENODEV;
		goto out;
	}
	if (atomic_load(&dev->driver)) {
		r = -EBUSY;
		goto out;
	}
	pthread_mutex_lock(&tree->drivers_lock);
	if (drv) {
		if (driver_matches_locked(tree, drv, dev))
			pick = drv;
	} else {
		cds_list_for_each_entry(d, &tree->drivers, node) {
			if (driver_matches_locked(tree, d, dev)) {
				pick = d;
				break;
			}
		}
	}
	pthread_mutex_unlock(&tree->drivers_lock);
	if (!pick) {
		r = -ENXIO;
		goto out;
	}
	DL_TEST_POINT("bind:probe", dev);
	atomic_store(&dev->driver, pick);
	r = pick->ops->probe ? pick->ops->probe(pick, dev) : 0;
	if (r < 0) {
		atomic_store(&dev->driver, NULL);
		dev->drvdata = NULL;
		dl__trace(tree, dev, DL_EV_PROBE_FAIL, r);
	} else {
		r = 0;
		dl__trace(tree, dev, DL_EV_BIND, 0);
	}
out:
	dl_device_unlock(dev);
	dl_device_exit(dev);
	return r;
}

DL_EXPORT int dl_device_unbind(struct dl_device *dev)
{
	int r = 0;

	assert_return(dev, -EINVAL);
	if (dl_device_enter(dev) < 0)
		return -ENODEV;
	dl_device_lock(dev);
	/* As bind: a removal that has started owns the unbinding. */
	if (atomic_load(&dev->state) != DL_STATE_LIVE)
		r = -ENODEV;
	else if (!atomic_load(&dev->driver))
		r = -ENOENT;
	else
		dl__driver_detach_locked(dev);
	dl_device_unlock(dev);
	dl_device_exit(dev);
	return r;
}

DL_EXPORT struct dl_driver *dl_device_driver(struct dl_device *dev)
{
	assert_return(dev, NULL);
	return atomic_load_explicit(&dev->driver, memory_order_acquire);
}

DL_EXPORT void dl_device_set_autoprobe(struct dl_device *dev, bool autoprobe)
{
	if (dev)
		dev->autoprobe = autoprobe;
}

DL_EXPORT void dl_tree_set_autoprobe(struct dl_tree *tree, bool autoprobe)
{
	if (tree)
		atomic_store(&tree->autoprobe, autoprobe);
}

DL_EXPORT bool dl_tree_autoprobe(struct dl_tree *tree)
{
	assert_return(tree, false);
	return atomic_load(&tree->autoprobe);
}

DL_EXPORT void dl_device_set_drvdata(struct dl_device *dev, void *data)
{
	if (dev)
		dev->drvdata = data;
}

DL_EXPORT void *dl_device_get_drvdata(struct dl_device *dev)
{
	assert_return(dev, NULL);
	return dev->drvdata;
}

static int set_online(struct dl_device *dev, bool on)
{
	struct dl_driver *drv;
	int (*cb)(struct dl_driver *, struct dl_device *);
	bool run = false;
	int r;

	assert_return(dev, -EINVAL);
	if (dl_device_enter(dev) < 0)
		return -ENODEV;
	DL_TEST_POINT(on ? "online:entered" : "offline:entered", dev);
	dl_device_lock(dev);
	drv = atomic_load(&dev->driver);
	cb = !drv ? NULL : on ? drv->ops->online : drv->ops->offline;
	/*
	 * LIVE, checked under wait_lock, the lock a removal starts under,
	 * and marked as running a callback there: a removal waits for the
	 * mark to go before it starts (remove.c), so the callback never
	 * sees its device being removed, as with the kernel's device_lock
	 * around device_online() and kill_device().
	 */
	pthread_mutex_lock(&dev->tree->wait_lock);
	if (atomic_load(&dev->state) != DL_STATE_LIVE)
		r = -ENODEV;
	else if (!cb)
		r = -EOPNOTSUPP;
	else if (atomic_load(&dev->online) == on)
		r = 0;
	else {
		dev->onlining_tid = gettid();
		run = true;
	}
	pthread_mutex_unlock(&dev->tree->wait_lock);
	if (run) {
		r = cb(drv, dev);
		if (r >= 0) {
			r = 0;
			atomic_store(&dev->online, on);
			dl__trace(dev->tree, dev,
				  on ? DL_EV_ONLINE : DL_EV_OFFLINE, 0);
		}
		pthread_mutex_lock(&dev->tree->wait_lock);
		dev->onlining_tid = 0;
		pthread_cond_broadcast(&dev->tree->wait_cond);
		pthread_mutex_unlock(&dev->tree->wait_lock);
	}
	dl_device_unlock(dev);
	dl_device_exit(dev);
	return r;
}

DL_EXPORT int dl_device_online(struct dl_device *dev)
{
	return set_online(dev, true);
}

DL_EXPORT int dl_device_offline(struct dl_device *dev)
{
	return set_online(dev, false);
}

DL_EXPORT bool dl_device_is_online(const struct dl_device *dev)
{
	assert_return(dev, false);
	return atomic_load(&dev->online);
}
