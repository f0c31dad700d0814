/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PCI platform: the hardware model behind a tree (a validated
 * description plus a present flag per function), rescans, host events on
 * per-bus ordered queues, the drivers of the virtual machine's "OS" and
 * driver_override.
 *
 * Locks (all leaves with respect to the core, in this order):
 *   scan_lock  serializes whatever changes the hardware model or adds
 *              functions from it (rescan, host add, marking functions
 *              absent). Held across dl_device_add() (so across probes),
 *              never across a removal or anything that waits for a
 *              drain: a removal may be waiting for a thread that wants
 *              scan_lock.
 *   hw_lock    desc and present: changed with both locks held, read
 *              with either. Never held across a call into the core.
 *   bus_lock   the bus queues. Held while queuing an event, which is
 *              the barrier between producers and a bus going away.
 *   drv_lock   the list of platform drivers.
 *   override_lock  driver_override strings (file-wide: the API has no
 *              platform argument).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devvec.h"
#include "drivers/drivers.h"
#include "internal.h"
#include "mdev.h"
#include "pci.h"
#include "platform.h"
#include "topo-internal.h"
#include "topology.h"

/* One driver registered through the platform. The core sees @ops, with
 * the pdrv itself as the driver's data. */
struct pdrv {
	struct pdrv *next;               /* plat->drv_lock */
	struct dl_pci_platform *plat;    /* written once */
	const struct dl_pci_driver *pci; /* written once */
	void *data;                      /* written once */
	struct dl_driver_ops ops;        /* written once, before registration */
	struct dl_driver *handle;        /* written once, after registration */
};

/*
 * The event queue of one bus. It exists from the probe of the bus's
 * owner (a root bus device or a bridge) by the platform's bus driver to
 * that driver's remove, which unlinks it under bus_lock (no producer can
 * find it any more, and every producer that found it has finished
 * queuing), then closes, drains and frees the queue: the order DESIGN.md
 * asks of a bus that goes away. Removal of the owner has already
 * cancelled what had not started by then.
 */
struct busq {
	struct busq *next;         /* plat->bus_lock */
	struct dl_device *dev;     /* the owner; no reference: the entry
				    * dies in the owner's driver remove */
	struct dl_workqueue *wq;   /* bus_lock; made at the first event */
	char name[24];             /* written once */
};

struct dl_pci_platform {
	struct dl_tree *tree;      /* written once */
	pthread_mutex_t scan_lock;
	pthread_mutex_t hw_lock;
	struct dl_pci_desc *desc;  /* scan_lock + hw_lock to change */
	bool *present;             /* per spec; scan_lock + hw_lock to change */
	pthread_mutex_t bus_lock;
	struct busq *buses;        /* bus_lock */
	pthread_mutex_t drv_lock;
	struct pdrv *drivers;      /* drv_lock */
	struct dl_driver *root_drv; /* written once */
	struct dl_driver *mdev_drv; /* written once */
	struct dl_workqueue *online_wq; /* drv_lock; made at the first use */
	atomic_uint_fast64_t violations;
};

static pthread_mutex_t override_lock = PTHREAD_MUTEX_INITIALIZER;

/* ------------------------------------------------------------------ */
/* Bus queues and the bus drivers                                      */

static int bus_probe(struct dl_pci_platform *plat, struct dl_device *dev)
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

static void bus_remove(struct dl_pci_platform *plat, struct dl_device *dev)
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
	return bus_probe(dl_driver_data(drv), dev);
}

static void root_remove(struct dl_driver *drv, struct dl_device *dev)
{
	bus_remove(dl_driver_data(drv), dev);
}

static const struct dl_driver_ops root_ops = {
	.name = "pci-root",
	.type = &dl_pci_bus_type,
	.probe = root_probe,
	.remove = root_remove,
};

static bool port_match(struct dl_device *dev, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	return f && (f->flags & DL_PCI_F_BRIDGE);
}

static int port_probe(struct dl_device *dev, void *data)
{
	return bus_probe(data, dev);
}

static void port_remove(struct dl_device *dev, void *data)
{
	bus_remove(data, dev);
}

static bool virtio_match(struct dl_device *dev, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	return f && f->vendor == 0x1af4;
}

/* A PF driver lets go of its VFs when it is unbound, as Linux's do with
 * pci_disable_sriov() in their remove. */
static void nic_remove(struct dl_device *dev, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	if (f && f->sriov &&
	    atomic_load_explicit(&f->sriov->numvfs, memory_order_relaxed))
		(void)dl_pci_sriov_set_numvfs(dev, 0);
}

static int nic_sriov_configure(struct dl_device *dev, unsigned int numvfs, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	int r;

	if (!f || !f->sriov)
		return -ENODEV;
	dl_pci__sleep_us(f->params.op_delay_us);
	r = dl_pci_sriov_set_numvfs(dev, numvfs);
	return r < 0 ? r : (int)numvfs;
}

static const struct dl_pci_driver port_driver = {
	.name = "pcieport",
	.match = port_match,
	.probe = port_probe,
	.remove = port_remove,
};

static const struct dl_pci_driver virtio_driver = {
	.name = "virtio-pci",
	.match = virtio_match,
};

static const struct dl_pci_driver nic_driver = {
	.name = "devlife-nic",
	.remove = nic_remove,
	.sriov_configure = nic_sriov_configure,
};

static const struct dl_pci_driver stub_driver = {
	.name = "pci-stub",
};

/* vfio-pci, as pci-stub, binds only what is given to it (its ID table
 * is empty: driver_override, or a topology's choice) and takes any
 * function so given. It has no IOMMU groups to join yet. */
static const struct dl_pci_driver vfio_driver = {
	.name = "vfio-pci",
};

/* ------------------------------------------------------------------ */
/* Platform drivers                                                    */

static bool pdrv_match(struct dl_driver *drv, struct dl_device *dev)
{
	struct pdrv *pd = dl_driver_data(drv);
	struct dl_pci_func *f = dl_pci_func_of(dev);
	char ov[sizeof(f->driver_override)];

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
	if (f->driver_name)
		return strcmp(f->driver_name, pd->pci->name) == 0;
	return pd->pci->match && pd->pci->match(dev, pd->data);
}

static int pdrv_probe(struct dl_driver *drv, struct dl_device *dev)
{
	struct pdrv *pd = dl_driver_data(drv);

	return pd->pci->probe ? pd->pci->probe(dev, pd->data) : 0;
}

static void pdrv_remove(struct dl_driver *drv, struct dl_device *dev)
{
	struct pdrv *pd = dl_driver_data(drv);

	if (pd->pci->remove)
		pd->pci->remove(dev, pd->data);
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
	free(pd);
	return 0;
}

/* The platform driver behind a core driver handle, or NULL. */
static struct pdrv *pdrv_of(struct dl_pci_platform *plat, struct dl_driver *drv)
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
	pd = pdrv_of(plat, dl_device_driver(pf));
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
	pd = pdrv_of(plat, dl_device_driver(dev));
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

void dl_pci__sleep_us(uint32_t us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };

	if (!us)
		return;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* Creation and teardown                                               */

static const struct dl_pci_driver *const builtin_drivers[] = {
	&port_driver,
	&virtio_driver,
	&nic_driver,
	&stub_driver,
	&vfio_driver,
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
	while (plat->buses) {
		struct busq *q = plat->buses;

		plat->buses = q->next;
		dl_workqueue_free(q->wq);
		free(q);
	}
	free(plat->present);
	pthread_mutex_destroy(&plat->scan_lock);
	pthread_mutex_destroy(&plat->hw_lock);
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
	pthread_mutex_init(&plat->scan_lock, NULL);
	pthread_mutex_init(&plat->hw_lock, NULL);
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

static int collect_cb(struct dl_device *dev, void *arg)
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
	while (dl_tree_for_each_root(plat->tree, collect_cb, &roots) == -ENOMEM) {
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

/* ------------------------------------------------------------------ */
/* The hardware model                                                  */

static long find_spec_locked(struct dl_pci_platform *plat, uint32_t domain,
			     uint8_t bus, uint8_t devfn)
{
	const struct dl_pci_desc *d = plat->desc;

	for (size_t i = 0; i < d->n; i++)
		if (d->specs[i].domain == domain && d->specs[i].bus == bus &&
		    d->specs[i].devfn == devfn)
			return (long)i;
	return -1;
}

/* Mark spec @idx and everything behind it absent: ejecting a bridge
 * takes what sits behind it out of the machine too. Needs both locks. */
static void mark_absent_locked(struct dl_pci_platform *plat, long idx)
{
	const struct dl_pci_desc *d = plat->desc;

	plat->present[idx] = false;
	for (size_t i = 0; i < d->n; i++)
		for (long p = d->specs[i].parent; p >= 0; p = d->specs[p].parent)
			if (p == idx)
				plat->present[i] = false;
}

int dl_pci_platform_present(struct dl_pci_platform *plat, uint32_t domain,
			    uint8_t bus, uint8_t devfn)
{
	long i;
	int r;

	assert_return(plat, -EINVAL);
	pthread_mutex_lock(&plat->hw_lock);
	i = find_spec_locked(plat, domain, bus, devfn);
	r = i < 0 ? -ENOENT : plat->present[i];
	pthread_mutex_unlock(&plat->hw_lock);
	return r;
}

/* The name of the device above spec @idx: its bridge or its root bus. */
static void parent_name(const struct dl_pci_desc *d, size_t idx, char *buf,
			size_t len)
{
	const struct dl_pci_spec *s = &d->specs[idx];

	if (s->parent >= 0)
		dl_pci_spec_name(&d->specs[s->parent], buf, len);
	else
		snprintf(buf, len, "pci%04x:%02x", (unsigned int)s->domain, s->bus);
}

/* Whether spec @idx sits below the root bus or bridge named @scope. */
static bool spec_under(const struct dl_pci_desc *d, size_t idx, const char *scope)
{
	char name[32];
	long top = (long)idx;

	for (long p = d->specs[idx].parent; p >= 0; p = d->specs[p].parent) {
		dl_pci_spec_name(&d->specs[p], name, sizeof(name));
		if (!strcmp(name, scope))
			return true;
		top = p;
	}
	snprintf(name, sizeof(name), "pci%04x:%02x",
		 (unsigned int)d->specs[top].domain, d->specs[top].bus);
	return !strcmp(name, scope);
}

/*
 * Add spec @idx if it is present, not in the tree and its parent is
 * LIVE. Needs scan_lock. Returns 1 if added, 0 if there was nothing to
 * do, or -errno.
 */
static int rescan_spec_locked(struct dl_pci_platform *plat, size_t idx)
{
	const struct dl_pci_desc *d = plat->desc;
	struct dl_device *dev = NULL, *parent;
	char name[32];
	int r;

	if (!plat->present[idx])
		return 0;
	dl_pci_spec_name(&d->specs[idx], name, sizeof(name));
	if (dl_device_lookup(plat->tree, name, &dev) == 0) {
		dl_device_put(dev);
		return 0;
	}
	parent_name(d, idx, name, sizeof(name));
	if (dl_device_lookup(plat->tree, name, &parent) < 0)
		return 0;
	r = dl_pci__spec_add(d, idx, plat->tree, parent, NULL, &dev);
	dl_device_put(parent);
	if (dev) {
		dl_device_put(dev);
		return 1;
	}
	/* a parent going away, or the name still held by a removal */
	return r == -ENODEV || r == -EEXIST ? 0 : r;
}

int dl_pci_platform_rescan(struct dl_pci_platform *plat, struct dl_device *below)
{
	const char *scope = NULL;
	size_t *order;
	int added = 0, first = 0;

	assert_return(plat, -EINVAL);
	/* An endpoint (or a VF) rescans the bus it sits on, as Linux's
	 * per-device `rescan` does. */
	while (below && !dl_pci_root_of(below) &&
	       !(dl_pci_func_of(below) &&
		 (dl_pci_func_of(below)->flags & DL_PCI_F_BRIDGE)))
		below = dl_device_parent(below);
	if (below)
		scope = dl_device_name(below);

	pthread_mutex_lock(&plat->scan_lock);
	order = malloc((plat->desc->n ? plat->desc->n : 1) * sizeof(*order));
	if (!order) {
		pthread_mutex_unlock(&plat->scan_lock);
		return -ENOMEM;
	}
	dl_pci__desc_order(plat->desc, order);
	for (size_t k = 0; k < plat->desc->n; k++) {
		int r;

		if (scope && !spec_under(plat->desc, order[k], scope))
			continue;
		r = rescan_spec_locked(plat, order[k]);
		if (r > 0)
			added++;
		else if (r < 0 && !first)
			first = r;
	}
	pthread_mutex_unlock(&plat->scan_lock);
	free(order);
	return added || !first ? added : first;
}

/* ------------------------------------------------------------------ */
/* Host events                                                         */

struct dl_pci_host_ticket {
	struct dl_pci_platform *plat; /* written once */
	enum dl_pci_host_event ev;    /* written once */
	uint32_t domain;              /* written once */
	uint8_t bus, devfn;           /* written once */
	char **kv;                    /* written once, NULL-terminated */
	int result;                   /* the worker's, read after done */
	char msg[256];                /* likewise */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;                    /* lock */
	atomic_int refs;              /* the submitter's and the work's */
};

static void ev_unref(struct dl_pci_host_ticket *e)
{
	if (atomic_fetch_sub(&e->refs, 1) != 1)
		return;
	for (size_t i = 0; e->kv && e->kv[i]; i++)
		free(e->kv[i]);
	free(e->kv);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->cond);
	free(e);
}

static int ev_fail(struct dl_pci_host_ticket *e, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int ev_fail(struct dl_pci_host_ticket *e, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return r;
}

/* The child of @owner named @name, in any state but NEW or DEAD, with a
 * reference; so that an eject racing with another removal of the same
 * function still returns only once it is gone. */
struct child_find {
	const char *name;
	struct dl_device *found;
};

static int find_child_cb(struct dl_device *child, void *arg)
{
	struct child_find *q = arg;
	enum dl_device_state st = dl_device_state(child);

	if (strcmp(dl_device_name(child), q->name) ||
	    (st != DL_STATE_LIVE && st != DL_STATE_REMOVING))
		return 0;
	q->found = dl_device_get(child);
	return 1;
}

static struct dl_device *find_child(struct dl_device *owner, const char *name)
{
	struct child_find q = { name, NULL };

	/* Callers have marked the hardware absent already: NULL must mean
	 * "not in the tree", never "could not look" (a snapshot that failed
	 * made an eject report success and leave the device in the tree;
	 * tests/scenarios/test-faults.c). Memory comes back. */
	while (dl_device_for_each_child(owner, find_child_cb, &q) == -ENOMEM)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	return q.found;
}

static int handle_eject(struct dl_pci_platform *plat, struct dl_device *owner,
			struct dl_pci_host_ticket *e, bool surprise)
{
	struct dl_device *dev;
	bool was_present;
	char name[24];
	long idx;
	int r;

	dl_pci_bdf_format(e->domain, e->bus, e->devfn, name, sizeof(name));
	pthread_mutex_lock(&plat->scan_lock);
	pthread_mutex_lock(&plat->hw_lock);
	idx = find_spec_locked(plat, e->domain, e->bus, e->devfn);
	was_present = idx >= 0 && plat->present[idx];
	if (was_present)
		mark_absent_locked(plat, idx);
	pthread_mutex_unlock(&plat->hw_lock);
	pthread_mutex_unlock(&plat->scan_lock);
	if (idx < 0) {
		struct dl_device *vf = NULL;

		if (dl_device_lookup(plat->tree, name, &vf) == 0) {
			bool is_vf = dl_pci_func_of(vf) &&
				     (dl_pci_func_of(vf)->flags & DL_PCI_F_VF);

			dl_device_put(vf);
			if (is_vf)
				return ev_fail(e, -EOPNOTSUPP,
					       "%s is a virtual function: its PF's "
					       "sriov_numvfs controls it",
					       name);
		}
		return ev_fail(e, -ENODEV, "no function %s in the hardware", name);
	}
	/* If present was already false, an earlier eject (or relations
	 * event) took the hardware; the device may still be on its way out,
	 * and this eject too returns only once it is gone. */
	dev = find_child(owner, name);
	if (!dev && !was_present)
		return ev_fail(e, -ENODEV, "%s is not present", name);
	if (!dev) {
		snprintf(e->msg, sizeof(e->msg),
			 "%s: hardware removed (it was not in the tree)", name);
		return 0;
	}
	r = dl_device_remove(dev, surprise ? DL_REMOVE_SURPRISE : DL_REMOVE_WAIT,
			     DL_NO_TIMEOUT);
	dl_device_put(dev);
	if (r < 0)
		return ev_fail(e, r, "cannot remove %s: %s", name, strerror(-r));
	snprintf(e->msg, sizeof(e->msg), "%s %s", surprise ? "surprise-removed" : "ejected",
		 name);
	return 0;
}

static int handle_relations(struct dl_pci_platform *plat, struct dl_device *owner,
			    struct dl_pci_host_ticket *e)
{
	const struct dl_pci_desc *d;
	size_t nlisted = 0, ngone = 0, used = 0;
	char (*names)[24] = NULL;
	uint8_t *listed = NULL;
	long *gone = NULL;
	int r = 0;

	for (nlisted = 0; e->kv && e->kv[nlisted]; nlisted++)
		;
	listed = malloc(nlisted ? nlisted : 1);
	if (!listed)
		return ev_fail(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < nlisted; i++) {
		uint32_t dom;
		uint8_t bus, devfn;

		if (dl_pci_bdf_parse(e->kv[i], strlen(e->kv[i]), &dom, &bus, &devfn) < 0 ||
		    dom != e->domain || bus != e->bus) {
			free(listed);
			return ev_fail(e, -EINVAL, "'%.32s' is not a function on bus %04x:%02x",
				       e->kv[i], (unsigned int)e->domain, e->bus);
		}
		listed[i] = devfn;
	}

	pthread_mutex_lock(&plat->scan_lock);
	pthread_mutex_lock(&plat->hw_lock);
	d = plat->desc;
	gone = malloc((d->n ? d->n : 1) * sizeof(*gone));
	if (gone) {
		for (size_t i = 0; i < d->n; i++) {
			const struct dl_pci_spec *s = &d->specs[i];
			bool keep = false;

			if (s->domain != e->domain || s->bus != e->bus || !plat->present[i])
				continue;
			for (size_t k = 0; k < nlisted && !keep; k++)
				keep = listed[k] == s->devfn;
			if (keep)
				continue;
			mark_absent_locked(plat, (long)i);
			gone[ngone++] = (long)i;
		}
	}
	/* names now, while the description cannot change under us */
	if (gone)
		names = calloc(ngone ? ngone : 1, sizeof(*names));
	for (size_t k = 0; names && k < ngone; k++)
		dl_pci_spec_name(&d->specs[gone[k]], names[k], sizeof(names[k]));
	pthread_mutex_unlock(&plat->hw_lock);
	pthread_mutex_unlock(&plat->scan_lock);
	free(listed);
	free(gone);
	if (!names)
		return ev_fail(e, -ENOMEM, "out of memory");

	used = (size_t)snprintf(e->msg, sizeof(e->msg), ngone ? "ejected" : "nothing to eject");
	for (size_t k = 0; k < ngone; k++) {
		struct dl_device *dev = find_child(owner, names[k]);
		int q = 0;

		if (dev) {
			q = dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT);
			dl_device_put(dev);
		}
		if (q < 0 && !r)
			r = ev_fail(e, q, "cannot remove %s: %s", names[k], strerror(-q));
		if (!r && used < sizeof(e->msg))
			used += (size_t)snprintf(e->msg + used, sizeof(e->msg) - used, " %s",
						 names[k]);
	}
	free(names);
	return r;
}

static int handle_add(struct dl_pci_platform *plat, struct dl_device *owner,
		      struct dl_pci_host_ticket *e)
{
	struct dl_pci_desc *one = NULL, *cand = NULL, *old;
	struct dl_pci_error perr = { 0 };
	struct dl_device *dev = NULL;
	bool *present = NULL;
	size_t *map = NULL, len, newidx;
	char name[24], pname[32], *line;
	long idx;
	int r;

	dl_pci_bdf_format(e->domain, e->bus, e->devfn, name, sizeof(name));
	/* One topology line, so that every key means what it means in a
	 * topology file and errors come from the same parser. */
	len = strlen(name) + 1;
	for (size_t i = 0; e->kv && e->kv[i]; i++) {
		for (const char *p = e->kv[i]; *p; p++)
			if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '#')
				return ev_fail(e, -EINVAL, "bad byte in argument '%.32s'",
					       e->kv[i]);
		len += strlen(e->kv[i]) + 1;
	}
	line = malloc(len + 1);
	if (!line)
		return ev_fail(e, -ENOMEM, "out of memory");
	strcpy(line, name);
	for (size_t i = 0; e->kv && e->kv[i]; i++) {
		strcat(line, " ");
		strcat(line, e->kv[i]);
	}
	r = dl_pci_desc_parse_topology(line, strlen(line), "add", &perr, &one);
	free(line);
	if (r < 0) {
		/* "add:1: unknown key 'x'": the line is the request's own */
		const char *why = strncmp(perr.msg, "add:1: ", 7) ? perr.msg : perr.msg + 7;

		return ev_fail(e, r, "%s", r == -ENOMEM ? "out of memory" : why);
	}
	if (one->n != 1) {
		dl_pci_desc_free(one);
		return ev_fail(e, -EINVAL, "add describes %zu functions", one->n);
	}

	pthread_mutex_lock(&plat->scan_lock);
	if (dl_device_lookup(plat->tree, name, &dev) == 0) {
		dl_device_put(dev);
		r = ev_fail(e, -EEXIST, "%s is already in the tree", name);
		goto out;
	}
	idx = find_spec_locked(plat, e->domain, e->bus, e->devfn);
	if (idx >= 0 && plat->present[idx]) {
		r = ev_fail(e, -EEXIST, "%s is already present (a rescan adds it)", name);
		goto out;
	}
	/* The new machine: what is present now plus the new function,
	 * validated as a whole (free address, bus decoded by its bridge,
	 * bus ranges, VF routing IDs). Absent functions are dropped. */
	old = plat->desc;
	r = dl_pci_desc_new(old->source, &cand);
	map = malloc((old->n + 1) * sizeof(*map));
	present = malloc((old->n + 1) * sizeof(*present));
	if (r < 0 || !map || !present) {
		r = ev_fail(e, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < old->n; i++) {
		if (!plat->present[i])
			continue;
		map[cand->n] = i;
		r = dl_pci_desc_append(cand, &old->specs[i], NULL);
		if (r < 0) {
			r = ev_fail(e, r, "out of memory");
			goto out;
		}
	}
	newidx = cand->n;
	one->specs[0].line = 0;
	r = dl_pci_desc_append(cand, &one->specs[0], NULL);
	if (r == 0)
		r = dl_pci_desc_validate(cand, &perr);
	if (r < 0) {
		r = ev_fail(e, r, "%s does not fit the hardware: %s", name,
			    r == -ENOMEM ? "out of memory" : perr.msg);
		goto out;
	}
	/* Functions already built keep their addresses; the new one goes
	 * above everything. */
	for (size_t k = 0; k < newidx; k++) {
		struct dl_pci_spec *c = &cand->specs[k];
		const struct dl_pci_spec *o = &old->specs[map[k]];

		memcpy(c->bar_addr, o->bar_addr, sizeof(c->bar_addr));
		memcpy(c->vf_bar_addr, o->vf_bar_addr, sizeof(c->vf_bar_addr));
		c->win = o->win;
	}
	r = dl_pci__desc_place_new(cand, newidx, &perr);
	if (r < 0) {
		r = ev_fail(e, r, "%s does not fit the hardware: %s", name, perr.msg);
		goto out;
	}
	parent_name(cand, newidx, pname, sizeof(pname));
	if (strcmp(pname, dl_device_name(owner))) {
		r = ev_fail(e, -ENODEV, "%s would sit below %s, not %s", name, pname,
			    dl_device_name(owner));
		goto out;
	}
	for (size_t i = 0; i < cand->n; i++)
		present[i] = true;
	pthread_mutex_lock(&plat->hw_lock);
	plat->desc = cand;
	free(plat->present);
	plat->present = present;
	pthread_mutex_unlock(&plat->hw_lock);
	cand = old;
	present = NULL;

	r = dl_pci__spec_add(plat->desc, newidx, plat->tree, owner, &perr, &dev);
	if (dev) {
		dl_device_put(dev);
		if (r < 0)
			ev_fail(e, r, "added %s, but: %s", name, perr.msg);
		else
			snprintf(e->msg, sizeof(e->msg), "added %s", name);
	} else {
		ev_fail(e, r, "%s is in the hardware but cannot be added: %s", name,
			perr.msg);
	}
out:
	pthread_mutex_unlock(&plat->scan_lock);
	dl_pci_desc_free(cand);
	dl_pci_desc_free(one);
	free(present);
	free(map);
	return r;
}

static enum dl_pci_ers_result recover_locked(const struct dl_pci_error_handlers *h,
					     struct dl_device *dev, void *data)
{
	enum dl_pci_ers_result res = h->error_detected(dev, data);

	if (res == DL_PCI_ERS_DISCONNECT)
		return res;
	if (res == DL_PCI_ERS_NEED_RESET) {
		/* The reset itself is not modelled: config space is kept,
		 * as after pci_restore_state(). */
		res = h->slot_reset ? h->slot_reset(dev, data) : DL_PCI_ERS_RECOVERED;
		if (res != DL_PCI_ERS_RECOVERED)
			return DL_PCI_ERS_DISCONNECT;
	}
	if (h->resume)
		h->resume(dev, data);
	return DL_PCI_ERS_RECOVERED;
}

static int handle_error(struct dl_pci_platform *plat, struct dl_device *owner,
			struct dl_pci_host_ticket *e)
{
	enum dl_pci_ers_result res = DL_PCI_ERS_DISCONNECT;
	struct dl_device *dev;
	struct pdrv *pd = NULL;
	char name[24], drvname[64] = "";
	bool handled = false, is_vf;
	long idx;
	int r;

	dl_pci_bdf_format(e->domain, e->bus, e->devfn, name, sizeof(name));
	dev = find_child(owner, name);
	if (!dev || !dl_pci_func_of(dev)) {
		dl_device_put(dev);
		return ev_fail(e, -ENODEV, "no function %s in the tree", name);
	}
	is_vf = dl_pci_func_of(dev)->flags & DL_PCI_F_VF;
	/* active(dev) before device_lock(dev): a removal that started
	 * first makes this fail instead of running handlers on a dying
	 * device. */
	if (dl_device_enter_tagged(dev, "error-recovery") < 0) {
		dl_device_put(dev);
		return ev_fail(e, -ENODEV, "%s is going away", name);
	}
	dl_device_lock(dev);
	pd = pdrv_of(plat, dl_device_driver(dev));
	if (pd) {
		snprintf(drvname, sizeof(drvname), "%s", pd->pci->name);
		if (pd->pci->err_handler && pd->pci->err_handler->error_detected) {
			handled = true;
			res = recover_locked(pd->pci->err_handler, dev, pd->data);
		}
	}
	dl_device_unlock(dev);
	dl_device_exit(dev);
	if (handled && res == DL_PCI_ERS_RECOVERED) {
		dl_device_put(dev);
		snprintf(e->msg, sizeof(e->msg), "%s recovered by %s", name, drvname);
		return 0;
	}
	if (is_vf) {
		dl_device_put(dev);
		return ev_fail(e, -EOPNOTSUPP,
			       "%s is a virtual function its driver cannot recover", name);
	}
	r = dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT);
	dl_device_put(dev);
	if (r < 0)
		return ev_fail(e, r, "cannot remove %s: %s", name, strerror(-r));
	pthread_mutex_lock(&plat->scan_lock);
	pthread_mutex_lock(&plat->hw_lock);
	idx = find_spec_locked(plat, e->domain, e->bus, e->devfn);
	pthread_mutex_unlock(&plat->hw_lock);
	r = idx >= 0 ? rescan_spec_locked(plat, (size_t)idx) : 0;
	pthread_mutex_unlock(&plat->scan_lock);
	if (r < 0)
		return ev_fail(e, r, "%s removed, but the rescan failed: %s", name,
			       strerror(-r));
	snprintf(e->msg, sizeof(e->msg), "%s: %s; removed and rescanned", name,
		 handled ? "the driver gave up" : "no error handlers");
	return 0;
}

static void ev_run(struct dl_device *owner, void *arg)
{
	struct dl_pci_host_ticket *e = arg;
	struct dl_pci_platform *plat = e->plat;

	switch (e->ev) {
	case DL_PCI_HOST_ADD:
		e->result = handle_add(plat, owner, e);
		break;
	case DL_PCI_HOST_EJECT:
		e->result = handle_eject(plat, owner, e, false);
		break;
	case DL_PCI_HOST_SURPRISE:
		e->result = handle_eject(plat, owner, e, true);
		break;
	case DL_PCI_HOST_RELATIONS:
		e->result = handle_relations(plat, owner, e);
		break;
	case DL_PCI_HOST_ERROR:
		e->result = handle_error(plat, owner, e);
		break;
	}
}

static void ev_done(void *arg, int status)
{
	struct dl_pci_host_ticket *e = arg;

	if (status < 0) {
		e->result = -ENODEV;
		snprintf(e->msg, sizeof(e->msg),
			 "bus %04x:%02x went away before the event ran (%s)",
			 (unsigned int)e->domain, e->bus,
			 status == -ECANCELED ? "cancelled" : "skipped");
	}
	pthread_mutex_lock(&e->lock);
	e->done = true;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	ev_unref(e);
}

/* The device that owns bus @domain:@bus (a bridge with it as secondary
 * bus, or the root bus), with a reference. */
static int bus_owner(struct dl_pci_platform *plat, uint32_t domain, uint8_t bus,
		     char *msg, size_t msglen, struct dl_device **ret)
{
	const struct dl_pci_desc *d;
	char name[32];
	long bridge = -1;
	bool present = true;

	pthread_mutex_lock(&plat->hw_lock);
	d = plat->desc;
	for (size_t i = 0; i < d->n; i++) {
		const struct dl_pci_spec *s = &d->specs[i];

		if (s->type != DL_PCI_SPEC_ENDPOINT && s->domain == domain &&
		    s->secbus == bus) {
			bridge = (long)i;
			present = plat->present[i];
			dl_pci_spec_name(s, name, sizeof(name));
			break;
		}
	}
	pthread_mutex_unlock(&plat->hw_lock);
	if (bridge < 0)
		snprintf(name, sizeof(name), "pci%04x:%02x", (unsigned int)domain, bus);
	if (!present) {
		if (msg && msglen)
			snprintf(msg, msglen, "bus %04x:%02x is gone: its bridge %s was removed",
				 (unsigned int)domain, bus, name);
		return -ENODEV;
	}
	if (dl_device_lookup(plat->tree, name, ret) < 0) {
		if (msg && msglen)
			snprintf(msg, msglen, "no bus %04x:%02x in the tree",
				 (unsigned int)domain, bus);
		return -ENODEV;
	}
	return 0;
}

int dl_pci_platform_host_submit(struct dl_pci_platform *plat,
				enum dl_pci_host_event ev, uint32_t domain,
				uint8_t bus, uint8_t devfn,
				const char *const *kv, char *msg, size_t msglen,
				struct dl_pci_host_ticket **ret)
{
	struct dl_pci_host_ticket *e;
	struct dl_device *owner = NULL;
	struct busq *q;
	size_t nkv = 0;
	int r;

	assert_return(plat && ret, -EINVAL);
	assert_return(ev >= DL_PCI_HOST_ADD && ev <= DL_PCI_HOST_ERROR, -EINVAL);
	if (msg && msglen)
		msg[0] = '\0';
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->plat = plat;
	e->ev = ev;
	e->domain = domain;
	e->bus = bus;
	e->devfn = ev == DL_PCI_HOST_RELATIONS ? 0 : devfn;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	atomic_init(&e->refs, 1);
	while (kv && kv[nkv])
		nkv++;
	e->kv = calloc(nkv + 1, sizeof(*e->kv));
	if (!e->kv) {
		ev_unref(e);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nkv; i++) {
		e->kv[i] = strdup(kv[i]);
		if (!e->kv[i]) {
			ev_unref(e);
			return -ENOMEM;
		}
	}

	r = bus_owner(plat, domain, bus, msg, msglen, &owner);
	if (r < 0) {
		ev_unref(e);
		return r;
	}
	atomic_fetch_add(&e->refs, 1); /* the work's */
	pthread_mutex_lock(&plat->bus_lock);
	for (q = plat->buses; q; q = q->next)
		if (q->dev == owner)
			break;
	if (!q) {
		r = -ENODEV;
		if (msg && msglen)
			snprintf(msg, msglen, "%s has no port driver bound: "
				 "it handles no host events",
				 dl_device_name(owner));
	} else {
		if (!q->wq)
			r = dl_workqueue_new(plat->tree, q->name, 1, &q->wq);
		if (r == 0)
			r = dl_work_queue(q->wq, owner, ev_run, ev_done, e);
		if ((r == -ENODEV || r == -ESHUTDOWN) && msg && msglen)
			snprintf(msg, msglen, "bus %04x:%02x is going away",
				 (unsigned int)domain, bus);
		if (r == -ESHUTDOWN)
			r = -ENODEV;
	}
	pthread_mutex_unlock(&plat->bus_lock);
	dl_device_put(owner);
	if (r < 0) {
		atomic_fetch_sub(&e->refs, 1); /* the work was not queued */
		ev_unref(e);
		if (msg && msglen && !msg[0])
			snprintf(msg, msglen, "%s", strerror(-r));
		return r;
	}
	*ret = e;
	return 0;
}

int dl_pci_platform_host_wait(struct dl_pci_host_ticket *e, char *msg,
			      size_t msglen)
{
	int r;

	assert_return(e, -EINVAL);
	pthread_mutex_lock(&e->lock);
	while (!e->done)
		pthread_cond_wait(&e->cond, &e->lock);
	pthread_mutex_unlock(&e->lock);
	r = e->result;
	if (msg && msglen)
		snprintf(msg, msglen, "%s", e->msg);
	ev_unref(e);
	return r;
}

int dl_pci_platform_host(struct dl_pci_platform *plat,
			 enum dl_pci_host_event ev, uint32_t domain,
			 uint8_t bus, uint8_t devfn, const char *const *kv,
			 char *msg, size_t msglen)
{
	struct dl_pci_host_ticket *e;
	int r;

	r = dl_pci_platform_host_submit(plat, ev, domain, bus, devfn, kv, msg, msglen,
					&e);
	if (r < 0)
		return r;
	return dl_pci_platform_host_wait(e, msg, msglen);
}

/* ------------------------------------------------------------------ */
/* The tree, as text                                                   */

static const char *state_name(enum dl_device_state st)
{
	switch (st) {
	case DL_STATE_NEW:
		return "NEW";
	case DL_STATE_LIVE:
		return "LIVE";
	case DL_STATE_REMOVING:
		return "REMOVING";
	case DL_STATE_DEAD:
		return "DEAD";
	}
	return "?";
}

static int cmp_dev_name(const void *a, const void *b)
{
	return strcmp(dl_device_name(*(struct dl_device *const *)a),
		      dl_device_name(*(struct dl_device *const *)b));
}

/*
 * The name of @drv if the platform registered it. Only the pointer is
 * compared (under drv_lock), never followed: the platform's own handles
 * stay valid until the platform is freed, whatever the device does.
 */
static bool platform_driver_name(struct dl_pci_platform *plat, struct dl_driver *drv,
				 char *buf, size_t len)
{
	const char *name = NULL;
	struct pdrv *pd;

	pthread_mutex_lock(&plat->drv_lock);
	if (drv == plat->root_drv)
		name = "pci-root";
	else if (drv == plat->mdev_drv)
		name = "vfio_mdev";
	for (pd = plat->drivers; !name && pd; pd = pd->next)
		if (pd->handle == drv)
			name = pd->pci->name;
	if (name)
		snprintf(buf, len, "%s", name);
	pthread_mutex_unlock(&plat->drv_lock);
	return name != NULL;
}

static int print_dev(struct dl_pci_platform *plat, struct dl_device *dev, FILE *f,
		     int depth)
{
	struct dl_pci_func *fn = dl_pci_func_of(dev);
	struct devvec kids = { 0 };
	struct dl_driver *drv;
	char drvname[64] = "-";
	int r = 0;

	/*
	 * A driver the platform registered is named without the device
	 * lock, so the tree never waits for a driver callback in progress
	 * (a slow remove, a stuck probe: what one looks at the tree for).
	 * Any other driver pointer is stable only under the device lock (an
	 * unregistration frees it after unbinding under that lock).
	 */
	drv = dl_device_driver(dev);
	if (drv && !platform_driver_name(plat, drv, drvname, sizeof(drvname))) {
		dl_device_lock(dev);
		drv = dl_device_driver(dev);
		snprintf(drvname, sizeof(drvname), "%s", drv ? dl_driver_name(drv) : "-");
		dl_device_unlock(dev);
	}
	fprintf(f, "%*s%s", 2 * depth, "", dl_device_name(dev));
	if (fn)
		fprintf(f, " [%04x:%04x]", fn->vendor, fn->device);
	fprintf(f, " %s%s drv=%s users=%ld\n", state_name(dl_device_state(dev)),
		dl_device_is_gone(dev) ? " gone" : "", drvname,
		dl_device_active_users(dev));
	if (dl_device_for_each_child(dev, collect_cb, &kids) == -ENOMEM)
		r = -ENOMEM;
	if (kids.n > 1)
		qsort(kids.v, kids.n, sizeof(*kids.v), cmp_dev_name);
	for (size_t i = 0; i < kids.n && r == 0; i++)
		r = print_dev(plat, kids.v[i], f, depth + 1);
	devvec_clear(&kids);
	return r;
}

int dl_pci_platform_print_tree(struct dl_pci_platform *plat, FILE *f)
{
	struct devvec roots = { 0 };
	int r;

	assert_return(plat && f, -EINVAL);
	r = dl_tree_for_each_root(plat->tree, collect_cb, &roots);
	if (roots.n > 1)
		qsort(roots.v, roots.n, sizeof(*roots.v), cmp_dev_name);
	for (size_t i = 0; i < roots.n && r == 0; i++)
		r = print_dev(plat, roots.v[i], f, 0);
	devvec_clear(&roots);
	if (r == 0 && (fflush(f) != 0 || ferror(f)))
		r = -EIO;
	return r < 0 ? -EIO : 0;
}
