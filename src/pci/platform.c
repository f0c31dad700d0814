/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PCI platform: the hardware model behind a tree (a validated
 * description plus a present flag per function) and the drivers of the
 * virtual machine's "OS". This file creates and frees a platform,
 * registers its drivers (the built-in ones are in drivers/), serves
 * driver_override and sriov_numvfs, and owns the per-bus event queues
 * that the bus drivers open and close; the hardware model and rescans
 * are in platform-hardware.c, host events in platform-host.c, the tree as text in
 * platform-print.c. The locks are described in platform-internal.h.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devvec.h"
#include "drivers/drivers.h"
#include "internal.h"
#include "mdev.h"
#include "pci.h"
#include "platform-internal.h"
#include "platform.h"
#include "topo-internal.h"
#include "topology.h"

static pthread_mutex_t override_lock = PTHREAD_MUTEX_INITIALIZER;

/* ------------------------------------------------------------------ */
/* Bus queues and the bus drivers                                      */

int dl_pci__bus_probe(struct dl_pci_platform *plat, struct dl_device *dev)
{
	struct dl_pci_root *root = dl_pci_root_of(dev);
	struct dl_pci_func *f = dl_pci_func_of(dev);
	struct busq *q = calloc(1, sizeof(*q));
	uint8_t sec = 0, sub = 0;

	if (!q)
		return -ENOMEM;
	q->dev = dev;
	if (root) {
		snprintf(q->name, sizeof(q->name), "bus-%04x:%02x",
			 (unsigned int)root->domain, root->bus);
	} else {
		(void)dl_pci_bus_range(dev, &sec, &sub);
		snprintf(q->name, sizeof(q->name), "bus-%04x:%02x",
			 (unsigned int)f->domain, sec);
	}
	pthread_mutex_lock(&plat->bus_lock);
	q->next = plat->buses;
	plat->buses = q;
	pthread_mutex_unlock(&plat->bus_lock);
	return 0;
}

void dl_pci__bus_remove(struct dl_pci_platform *plat, struct dl_device *dev)
{
	struct busq **pp, *q = NULL;

	/* Close the event source: after this no producer finds the queue,
	 * and the lock waited for every producer that had found it. */
	pthread_mutex_lock(&plat->bus_lock);
	for (pp = &plat->buses; *pp; pp = &(*pp)->next) {
		if ((*pp)->dev == dev) {
			q = *pp;
			*pp = q->next;
			break;
		}
	}
	pthread_mutex_unlock(&plat->bus_lock);
	if (!q)
		return;
	/* Drain, then tear down. */
	dl_workqueue_free(q->wq);
	free(q);
}

static int root_probe(struct dl_driver *drv, struct dl_device *dev)
{
	return dl_pci__bus_probe(dl_driver_data(drv), dev);
}

static void root_remove(struct dl_driver *drv, struct dl_device *dev)
{
	dl_pci__bus_remove(dl_driver_data(drv), dev);
}

static const struct dl_driver_ops root_ops = {
	.name = "pci-root",
	.type = &dl_pci_bus_type,
	.probe = root_probe,
	.remove = root_remove,
};

/* ------------------------------------------------------------------ */
/* Platform drivers                                                    */

static bool pdrv_match(struct dl_driver *drv, struct dl_device *dev)
{
	struct pdrv *pd = dl_driver_data(drv);
	struct dl_pci_func *f = dl_pci_func_of(dev);
	char ov[sizeof(f->driver_override)];
	struct dl_pci_id id;

	if (!f)
		return false;
	pthread_mutex_lock(&override_lock);
	memcpy(ov, f->driver_override, sizeof(ov));
	pthread_mutex_unlock(&override_lock);
	if (ov[0])
		return strcmp(ov, pd->pci->name) == 0;
	/* Linux's pci_device_can_probe(): with the PF's
	 * sriov_drivers_autoprobe off, a VF binds only through its
	 * driver_override. The PF outlives the VF (it is its parent). */
	if ((f->flags & DL_PCI_F_VF) && f->physfn &&
	    !atomic_load(&dl_pci_func_of(f->physfn)->sriov->drivers_autoprobe))
		return false;
	dl_pci__func_id(f, &id);
	if (dl_pci__dynid_match(pd, &id))
		return true;
	if (f->driver_name)
		return strcmp(f->driver_name, pd->pci->name) == 0;
	return pd->pci->match && pd->pci->match(dev, pd->data);
}

static int pdrv_probe(struct dl_driver *drv, struct dl_device *dev)
{
	struct pdrv *pd = dl_driver_data(drv);
	int r;

	/* local_pci_probe(): a runtime PM reference held while bound */
	dl_pci_pm_get(dev);
	if (pd->pci->enables)
		(void)dl_pci_enable_device(dev);
	r = pd->pci->probe ? pd->pci->probe(dev, pd->data) : 0;
	if (r < 0 && pd->pci->enables)
		dl_pci_disable_device(dev);
	if (r < 0)
		dl_pci_pm_put(dev);
	return r;
}

static void pdrv_remove(struct dl_driver *drv, struct dl_device *dev)
{
	struct pdrv *pd = dl_driver_data(drv);

	if (pd->pci->remove)
		pd->pci->remove(dev, pd->data);
	if (pd->pci->enables)
		dl_pci_disable_device(dev);
	dl_pci_pm_put(dev); /* pci_device_remove(): pm_runtime_put_sync() */
}

static int pdrv_online(struct dl_driver *drv, struct dl_device *dev)
{
	struct pdrv *pd = dl_driver_data(drv);

	return pd->pci->online(dev, pd->data);
}

static int pdrv_offline(struct dl_driver *drv, struct dl_device *dev)
{
	struct pdrv *pd = dl_driver_data(drv);

	return pd->pci->offline(dev, pd->data);
}

int dl_pci_platform_register_driver(struct dl_pci_platform *plat,
				    const struct dl_pci_driver *drv, void *data,
				    struct dl_driver **ret)
{
	struct pdrv *pd;
	int r;

	assert_return(plat && drv && drv->name && drv->name[0], -EINVAL);
	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return -ENOMEM;
	pd->plat = plat;
	pd->pci = drv;
	pd->data = data;
	pd->ops = (struct dl_driver_ops){
		.name = drv->name,
		.type = &dl_pci_type,
		.match = pdrv_match,
		.probe = pdrv_probe,
		.remove = pdrv_remove,
		.online = drv->online ? pdrv_online : NULL,
		.offline = drv->offline ? pdrv_offline : NULL,
	};
	r = dl_driver_register(plat->tree, &pd->ops, pd, &pd->handle);
	if (r < 0) {
		free(pd);
		return r;
	}
	pthread_mutex_lock(&plat->drv_lock);
	pd->next = plat->drivers;
	plat->drivers = pd;
	pthread_mutex_unlock(&plat->drv_lock);
	if (ret)
		*ret = pd->handle;
	if (dl_tree_autoprobe(plat->tree))
		(void)dl_pci__driver_attach(plat, pd);
	return 0;
}

int dl_pci_platform_unregister_driver(struct dl_pci_platform *plat,
				      struct dl_driver *drv)
{
	struct pdrv **pp, *pd = NULL;

	assert_return(plat && drv, -EINVAL);
	pthread_mutex_lock(&plat->drv_lock);
	for (pp = &plat->drivers; *pp; pp = &(*pp)->next) {
		if ((*pp)->handle == drv) {
			pd = *pp;
			*pp = pd->next;
			break;
		}
	}
	pthread_mutex_unlock(&plat->drv_lock);
	if (!pd)
		return -ENOENT;
	dl_driver_unregister(pd->handle);
	dl_pci__dynids_free(pd);
	free(pd);
	return 0;
}

/* The platform driver behind a core driver handle, or NULL. */
struct pdrv *dl_pci__pdrv_of(struct dl_pci_platform *plat, struct dl_driver *drv)
{
	struct pdrv *pd;

	if (!drv)
		return NULL;
	pthread_mutex_lock(&plat->drv_lock);
	for (pd = plat->drivers; pd; pd = pd->next)
		if (pd->handle == drv)
			break;
	pthread_mutex_unlock(&plat->drv_lock);
	return pd;
}

int dl_pci_platform_driver_override(struct dl_device *dev, const char *set,
				    char *buf, size_t len)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	size_t n;

	assert_return(f, -EINVAL);
	if (!set) {
		const char *v;
		int r = 0;

		assert_return(buf, -EINVAL);
		pthread_mutex_lock(&override_lock);
		v = f->driver_override[0] ? f->driver_override : "(null)";
		if (strlen(v) >= len)
			r = -ENOSPC;
		else
			strcpy(buf, v);
		pthread_mutex_unlock(&override_lock);
		return r;
	}
	n = strlen(set);
	if (n && set[n - 1] == '\n')
		n--;
	if (n >= sizeof(f->driver_override))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)set[i] <= ' ' || (unsigned char)set[i] >= 0x7f ||
		    set[i] == '/')
			return -EINVAL;
	pthread_mutex_lock(&override_lock);
	memcpy(f->driver_override, set, n);
	f->driver_override[n] = '\0';
	pthread_mutex_unlock(&override_lock);
	return 0;
}

int dl_pci_platform_sriov_numvfs(struct dl_pci_platform *plat, struct dl_device *pf,
				 unsigned int numvfs)
{
	struct dl_pci_func *f = dl_pci_func_of(pf);
	struct pdrv *pd;
	unsigned int cur;
	int r;

	assert_return(plat && f && f->sriov, -EINVAL);
	if (numvfs > f->sriov->total)
		return -ERANGE;
	/* Linux takes the device lock of the PF here; the caller's active
	 * reference comes first (active before device lock). */
	dl_device_lock(pf);
	cur = atomic_load_explicit(&f->sriov->numvfs, memory_order_relaxed);
	pd = dl_pci__pdrv_of(plat, dl_device_driver(pf));
	if (numvfs == cur)
		r = 0;
	else if (!pd || !pd->pci->sriov_configure)
		r = -ENOENT; /* no driver, or it cannot configure SR-IOV */
	else if (numvfs && cur)
		r = -EBUSY; /* from n to m goes through 0 */
	else
		r = pd->pci->sriov_configure(pf, numvfs, pd->data);
	dl_device_unlock(pf);
	return r < 0 ? r : 0;
}

bool dl_pci_platform_supports_online(struct dl_pci_platform *plat,
				     struct dl_device *dev)
{
	struct pdrv *pd;

	if (!plat || !dev)
		return false;
	pd = dl_pci__pdrv_of(plat, dl_device_driver(dev));
	return pd && pd->pci->online && pd->pci->offline;
}

int dl_pci_platform_get_stats(struct dl_pci_platform *plat,
			      struct dl_pci_platform_stats *ret)
{
	assert_return(plat && ret, -EINVAL);
	ret->violations = atomic_load(&plat->violations);
	return 0;
}

void dl_pci__platform_violation(struct dl_pci_platform *plat, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	atomic_fetch_add(&plat->violations, 1);
	fprintf(stderr, "devlife: VIOLATION: %s\n", msg);
}

struct dl_workqueue *dl_pci__platform_online_wq(struct dl_pci_platform *plat)
{
	struct dl_workqueue *wq;

	pthread_mutex_lock(&plat->drv_lock);
	if (!plat->online_wq &&
	    dl_workqueue_new(plat->tree, "auto-online", 1, &plat->online_wq) < 0)
		plat->online_wq = NULL;
	wq = plat->online_wq;
	pthread_mutex_unlock(&plat->drv_lock);
	return wq;
}

/* ------------------------------------------------------------------ */
/* Creation and teardown                                               */

static const struct dl_pci_driver *const builtin_drivers[] = {
	&dl_pci_port_driver,
	&dl_pci_virtio_driver,
	&dl_pci_nic_driver,
	&dl_pci_stub_driver,
	&dl_pci_vfio_driver,
	&dl_pci_sriov_pf_driver,
	&dl_pci_mdev_parent_driver,
	&dl_pci_auto_online_driver,
	&dl_pci_slow_driver,
	&dl_pci_faulty_driver,
};

static void unregister_all(struct dl_pci_platform *plat)
{
	for (;;) {
		struct pdrv *pd;

		pthread_mutex_lock(&plat->drv_lock);
		pd = plat->drivers;
		if (pd)
			plat->drivers = pd->next;
		pthread_mutex_unlock(&plat->drv_lock);
		if (!pd)
			break;
		dl_driver_unregister(pd->handle);
		dl_pci__dynids_free(pd);
		free(pd);
	}
	dl_driver_unregister(plat->mdev_drv);
	plat->mdev_drv = NULL;
	dl_driver_unregister(plat->root_drv);
	plat->root_drv = NULL;
	/* Every device is unbound: no online can be queued any more. */
	dl_workqueue_free(plat->online_wq);
	plat->online_wq = NULL;
}

static void platform_destroy(struct dl_pci_platform *plat)
{
	/* Bus queues die with their owners; none is left once every device
	 * is removed and the bus drivers are unregistered (which removes
	 * them from devices still bound). */
	assert(!plat->buses);
	while (plat->buses) {
		struct busq *q = plat->buses;

		plat->buses = q->next;
		dl_workqueue_free(q->wq);
		free(q);
	}
	free(plat->present);
	dl_mutex_destroy(&plat->scan_lock);
	dl_mutex_destroy(&plat->hw_lock);
	pthread_mutex_destroy(&plat->bus_lock);
	pthread_mutex_destroy(&plat->drv_lock);
	free(plat);
}

int dl_pci_platform_new(struct dl_tree *tree, struct dl_pci_desc *desc,
			struct dl_pci_error *err, struct dl_pci_platform **ret)
{
	struct dl_pci_platform *plat;
	int r;

	assert_return(tree && desc && ret, -EINVAL);
	if (!desc->validated)
		return dl_pci__fail(err, desc->source, 0, "description not validated");
	plat = calloc(1, sizeof(*plat));
	if (!plat)
		return -ENOMEM;
	plat->tree = tree;
	dl_mutex_init(&plat->scan_lock);
	dl_mutex_init(&plat->hw_lock);
	pthread_mutex_init(&plat->bus_lock, NULL);
	pthread_mutex_init(&plat->drv_lock, NULL);
	plat->present = malloc((desc->n ? desc->n : 1) * sizeof(bool));
	if (!plat->present) {
		platform_destroy(plat);
		return -ENOMEM;
	}
	for (size_t i = 0; i < desc->n; i++)
		plat->present[i] = true;
	atomic_init(&plat->violations, 0);
	r = dl_driver_register(tree, &root_ops, plat, &plat->root_drv);
	if (r == 0)
		r = dl_mdev_register_driver(tree, &plat->mdev_drv);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(builtin_drivers); i++)
		r = dl_pci_platform_register_driver(plat, builtin_drivers[i], plat,
						    NULL);
	if (r < 0) {
		if (err)
			dl_pci__fail(err, desc->source, 0,
				     "cannot register the platform's drivers: %s",
				     strerror(-r));
		unregister_all(plat);
		platform_destroy(plat);
		return r;
	}
	plat->desc = desc;
	r = dl_pci_desc_instantiate(desc, tree, err);
	if (r < 0) {
		plat->desc = NULL;
		unregister_all(plat);
		platform_destroy(plat);
		return r;
	}
	*ret = plat;
	return 0;
}

int dl_pci__collect_cb(struct dl_device *dev, void *arg)
{
	return devvec_push(arg, dev);
}

void dl_pci_platform_free(struct dl_pci_platform *plat)
{
	struct devvec roots = { 0 };

	if (!plat)
		return;
	/* Each root's removal removes its subtree; the bus drivers' remove
	 * close and drain every bus queue on the way. */
	while (dl_tree_for_each_root(plat->tree, dl_pci__collect_cb, &roots) == -ENOMEM) {
		devvec_clear(&roots);
		sched_yield();
	}
	for (size_t i = 0; i < roots.n; i++)
		(void)dl_device_remove(roots.v[i], DL_REMOVE_WAIT, DL_NO_TIMEOUT);
	devvec_clear(&roots);
	unregister_all(plat);
	dl_pci_desc_free(plat->desc);
	platform_destroy(plat);
}

struct dl_tree *dl_pci_platform_tree(struct dl_pci_platform *plat)
{
	assert_return(plat, NULL);
	return plat->tree;
}
