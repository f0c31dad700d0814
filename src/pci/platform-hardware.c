/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The platform's hardware model: which functions of the description are
 * present, and rescans, which add the present functions that are not in
 * the tree (Linux's pci_rescan_bus()). Locks: platform-internal.h.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pci.h"
#include "platform-internal.h"
#include "topo-internal.h"
#include "topology.h"

/* ------------------------------------------------------------------ */
/* The hardware model                                                  */

long dl_pci__find_spec_locked(struct dl_pci_platform *plat, uint32_t domain,
			     uint8_t bus, uint8_t devfn)
{
	const struct dl_pci_desc *d = plat->desc;

	DL_ASSERT_LOCKED(dl_mutex_held(&plat->hw_lock) || dl_mutex_held(&plat->scan_lock));
	for (size_t i = 0; i < d->n; i++)
		if (d->specs[i].domain == domain && d->specs[i].bus == bus &&
		    d->specs[i].devfn == devfn)
			return (long)i;
	return -1;
}

/* Mark spec @idx and everything behind it absent: ejecting a bridge
 * takes what sits behind it out of the machine too. Needs both locks. */
void dl_pci__mark_absent_locked(struct dl_pci_platform *plat, long idx)
{
	const struct dl_pci_desc *d = plat->desc;

	dl_mutex_assert_held(&plat->scan_lock);
	dl_mutex_assert_held(&plat->hw_lock);
	assert(idx >= 0 && (size_t)idx < d->n);
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
	dl_mutex_lock(&plat->hw_lock);
	i = dl_pci__find_spec_locked(plat, domain, bus, devfn);
	r = i < 0 ? -ENOENT : plat->present[i];
	dl_mutex_unlock(&plat->hw_lock);
	return r;
}

/* The name of the device above spec @idx: its bridge or its root bus. */
void dl_pci__parent_name(const struct dl_pci_desc *d, size_t idx, char *buf,
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
int dl_pci__rescan_spec_locked(struct dl_pci_platform *plat, size_t idx)
{
	const struct dl_pci_desc *d = plat->desc;
	struct dl_device *dev = NULL, *parent;
	char name[32];
	int r;

	dl_mutex_assert_held(&plat->scan_lock);
	assert(idx < d->n);
	if (!plat->present[idx])
		return 0;
	dl_pci_spec_name(&d->specs[idx], name, sizeof(name));
	if (dl_device_lookup(plat->tree, name, &dev) == 0) {
		dl_device_put(dev);
		return 0;
	}
	dl_pci__parent_name(d, idx, name, sizeof(name));
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

	dl_mutex_lock(&plat->scan_lock);
	order = malloc((plat->desc->n ? plat->desc->n : 1) * sizeof(*order));
	if (!order) {
		dl_mutex_unlock(&plat->scan_lock);
		return -ENOMEM;
	}
	dl_pci__desc_order(plat->desc, order);
	for (size_t k = 0; k < plat->desc->n; k++) {
		int r;

		if (scope && !spec_under(plat->desc, order[k], scope))
			continue;
		r = dl_pci__rescan_spec_locked(plat, order[k]);
		if (r > 0)
			added++;
		else if (r < 0 && !first)
			first = r;
	}
	dl_mutex_unlock(&plat->scan_lock);
	free(order);
	return added || !first ? added : first;
}
