/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A growable array of lifetime references to devices: what a walk of
 * children or roots collects (dl_device_for_each_child() and friends
 * call back under the topology lock) so the caller can act on each one
 * afterwards, outside it.
 */
#ifndef DEVLIFE_PCI_DEVVEC_H
#define DEVLIFE_PCI_DEVVEC_H

#include <devlife/devlife.h>
#include <errno.h>
#include <stdlib.h>

struct devvec {
	struct dl_device **v;
	size_t n, cap;
};

/* Append a reference to @dev. Returns 0 or -ENOMEM (@dv unchanged). */
static inline int devvec_push(struct devvec *dv, struct dl_device *dev)
{
	if (dv->n == dv->cap) {
		size_t cap = dv->cap ? 2 * dv->cap : 16;
		struct dl_device **v = realloc(dv->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		dv->v = v;
		dv->cap = cap;
	}
	dv->v[dv->n++] = dl_device_get(dev);
	return 0;
}

/* Drop every reference, free the array, leave @dv empty. */
static inline void devvec_clear(struct devvec *dv)
{
	for (size_t i = 0; i < dv->n; i++)
		dl_device_put(dv->v[i]);
	free(dv->v);
	*dv = (struct devvec){ 0 };
}

#endif
