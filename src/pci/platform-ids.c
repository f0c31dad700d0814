/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A driver's dynamic IDs and the attaches that follow them, as
 * drivers/pci/pci-driver.c has them: `new_id` (new_id_store(),
 * pci_add_dynid() and its driver_attach()), `remove_id`
 * (remove_id_store()), the match of an ID (pci_match_one_device()); and a
 * driver registered after functions exist probing them (driver_register()
 * -> bus_add_driver() -> driver_attach(), if the bus's drivers_autoprobe
 * is on).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devvec.h"
#include "internal.h"
#include "pci.h"
#include "platform-internal.h"
#include "platform.h"

/* Guards every driver's dynamic ID list (a leaf: taken inside match). */
static pthread_mutex_t dynid_lock = PTHREAD_MUTEX_INITIALIZER;

struct dynid {
	struct dynid *next;
	struct dl_pci_id id;
};

bool dl_pci_id_match(const struct dl_pci_id *id, const struct dl_pci_id *dev)
{
	return (id->vendor == DL_PCI_ANY_ID || id->vendor == dev->vendor) &&
	       (id->device == DL_PCI_ANY_ID || id->device == dev->device) &&
	       (id->subvendor == DL_PCI_ANY_ID || id->subvendor == dev->subvendor) &&
	       (id->subdevice == DL_PCI_ANY_ID || id->subdevice == dev->subdevice) &&
	       !((id->class ^ dev->class) & id->class_mask);
}

void dl_pci__func_id(struct dl_pci_func *f, struct dl_pci_id *ret)
{
	*ret = (struct dl_pci_id){ f->vendor, f->device, f->subvendor, f->subdevice,
				   f->class, 0 };
}

bool dl_pci__dynid_match(struct pdrv *pd, const struct dl_pci_id *dev)
{
	bool yes = false;

	pthread_mutex_lock(&dynid_lock);
	for (struct dynid *d = pd->dynids; d && !yes; d = d->next)
		yes = dl_pci_id_match(&d->id, dev);
	pthread_mutex_unlock(&dynid_lock);
	return yes;
}

void dl_pci__dynids_free(struct pdrv *pd)
{
	pthread_mutex_lock(&dynid_lock);
	while (pd->dynids) {
		struct dynid *d = pd->dynids;

		pd->dynids = d->next;
		free(d);
	}
	pthread_mutex_unlock(&dynid_lock);
}

/* sscanf(buf, "%x %x ...") as the kernel's: the fields read before the
 * first that does not parse. */
static int scan_ids(const char *text, uint32_t *v, int max, unsigned long *data)
{
	int n = max == 7 ? sscanf(text, "%" SCNx32 " %" SCNx32 " %" SCNx32 " %" SCNx32
				  " %" SCNx32 " %" SCNx32 " %lx",
				  &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], data)
			 : sscanf(text, "%" SCNx32 " %" SCNx32 " %" SCNx32 " %" SCNx32
				  " %" SCNx32 " %" SCNx32,
				  &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]);

	return n < 0 ? 0 : n;
}

static int collect_funcs(struct dl_device *dev, void *arg)
{
	int r = 0;

	if (dl_pci_func_of(dev))
		r = devvec_push(arg, dev);
	if (r == 0)
		r = dl_device_for_each_child(dev, collect_funcs, arg);
	return r;
}

/* driver_attach(): every function without a driver that @pd matches is
 * probed; failures leave it as it was. */
int dl_pci__driver_attach(struct dl_pci_platform *plat, struct pdrv *pd)
{
	struct devvec v = { 0 };
	int r = dl_tree_for_each_root(plat->tree, collect_funcs, &v);

	for (size_t i = 0; i < v.n; i++)
		if (!dl_device_driver(v.v[i]))
			(void)dl_device_bind(v.v[i], pd->handle);
	devvec_clear(&v);
	return r < 0 ? r : 0;
}

static struct pdrv *find_pdrv(struct dl_pci_platform *plat, const char *name)
{
	struct pdrv *pd;

	pthread_mutex_lock(&plat->drv_lock);
	for (pd = plat->drivers; pd; pd = pd->next)
		if (strcmp(pd->pci->name, name) == 0)
			break;
	pthread_mutex_unlock(&plat->drv_lock);
	return pd;
}

int dl_pci_platform_new_id(struct dl_pci_platform *plat, const char *drv,
			   const char *text)
{
	uint32_t v[6] = { 0, 0, DL_PCI_ANY_ID, DL_PCI_ANY_ID, 0, 0 };
	unsigned long data = 0;
	struct dynid *d;
	struct pdrv *pd;
	int n;

	assert_return(plat && drv && text, -EINVAL);
	pd = find_pdrv(plat, drv);
	if (!pd)
		return -ENODEV;
	n = scan_ids(text, v, 7, &data);
	if (n < 2)
		return -EINVAL;
	if (n != 7) {
		/* a function with these IDs would match already */
		struct dl_pci_id dev = { v[0], v[1], v[2], v[3], v[4], 0 };

		if (dl_pci__dynid_match(pd, &dev) ||
		    (pd->pci->match_id && pd->pci->match_id(&dev, pd->data)))
			return -EEXIST;
	}
	/* only driver_data its ID table has: every table here has 0 */
	if (data != 0)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->id = (struct dl_pci_id){ v[0], v[1], v[2], v[3], v[4], v[5] };
	pthread_mutex_lock(&dynid_lock);
	/* pci_add_dynid(): list_add_tail() */
	struct dynid **pp = &pd->dynids;
	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
	pthread_mutex_unlock(&dynid_lock);
	return dl_pci__driver_attach(plat, pd);
}

int dl_pci_platform_remove_id(struct dl_pci_platform *plat, const char *drv,
			      const char *text)
{
	uint32_t v[6] = { 0, 0, DL_PCI_ANY_ID, DL_PCI_ANY_ID, 0, 0 };
	struct pdrv *pd;
	int r = -ENODEV;

	assert_return(plat && drv && text, -EINVAL);
	pd = find_pdrv(plat, drv);
	if (!pd)
		return -ENODEV;
	if (scan_ids(text, v, 6, NULL) < 2)
		return -EINVAL;
	pthread_mutex_lock(&dynid_lock);
	for (struct dynid **pp = &pd->dynids; *pp; pp = &(*pp)->next) {
		struct dl_pci_id *id = &(*pp)->id;

		if (id->vendor == v[0] && id->device == v[1] &&
		    (v[2] == DL_PCI_ANY_ID || id->subvendor == v[2]) &&
		    (v[3] == DL_PCI_ANY_ID || id->subdevice == v[3]) &&
		    !((id->class ^ v[4]) & v[5])) {
			struct dynid *d = *pp;

			*pp = d->next;
			free(d);
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&dynid_lock);
	return r;
}
