/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tree as text (dl_pci_platform_print_tree(): devlifectl tree): one
 * line per device with its IDs, state, driver and active users.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devvec.h"
#include "internal.h"
#include "pci.h"
#include "platform-internal.h"
#include "platform.h"

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
	char drvname[DL_NAME_MAX + 1] = "-";
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
	if (dl_device_for_each_child(dev, dl_pci__collect_cb, &kids) == -ENOMEM)
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
	r = dl_tree_for_each_root(plat->tree, dl_pci__collect_cb, &roots);
	if (roots.n > 1)
		qsort(roots.v, roots.n, sizeof(*roots.v), cmp_dev_name);
	for (size_t i = 0; i < roots.n && r == 0; i++)
		r = print_dev(plat, roots.v[i], f, 0);
	devvec_clear(&roots);
	if (r == 0 && (fflush(f) != 0 || ferror(f)))
		r = -EIO;
	return r < 0 ? -EIO : 0;
}
