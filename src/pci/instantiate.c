/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Building a validated description into a tree: root buses, functions
 * (parents first), VFs, driver binding. All or nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pci.h"
#include "topo-internal.h"
#include "topology.h"

struct inst {
	const struct dl_pci_desc *d;
	struct dl_tree *tree;
	struct dl_pci_error *err;
	struct dl_device **devs;   /* per spec, our lifetime references */
	struct dl_device **roots;  /* root buses we added, our references */
	size_t nroots;
};

static int cmp_loc(const void *a, const void *b, void *arg)
{
	const struct dl_pci_spec *specs = arg;
	const struct dl_pci_spec *x = &specs[*(const size_t *)a];
	const struct dl_pci_spec *y = &specs[*(const size_t *)b];
	uint32_t rx = (uint32_t)x->bus << 8 | x->devfn, ry = (uint32_t)y->bus << 8 | y->devfn;

	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	return rx < ry ? -1 : rx > ry;
}

void dl_pci__desc_order(const struct dl_pci_desc *d, size_t *order)
{
	for (size_t i = 0; i < d->n; i++)
		order[i] = i;
	/* parents sit on lower bus numbers than their children */
	qsort_r(order, d->n, sizeof(*order), cmp_loc, d->specs);
}

static int root_for(struct inst *in, const struct dl_pci_spec *s,
		    struct dl_device **ret)
{
	struct dl_device *root;
	int r;

	for (size_t i = 0; i < in->nroots; i++) {
		struct dl_pci_root *pr = dl_pci_root_of(in->roots[i]);

		if (pr->domain == s->domain && pr->bus == s->bus) {
			*ret = in->roots[i];
			return 0;
		}
	}
	r = dl_pci_root_new(in->tree, s->domain, s->bus, &root);
	if (r < 0)
		return r;
	r = dl_device_add(root, NULL);
	if (r < 0) {
		dl_device_put(root);
		dl_pci__fail(in->err, in->d->source, s->line,
			     "cannot add root bus pci%04x:%02x: %s",
			     (unsigned int)s->domain, s->bus,
			     r == -EEXIST ? "it already exists" : strerror(-r));
		return r;
	}
	in->roots[in->nroots++] = root;
	*ret = root;
	return 0;
}

int dl_pci__spec_add(const struct dl_pci_desc *d, size_t idx, struct dl_tree *tree,
		     struct dl_device *parent, struct dl_pci_error *err,
		     struct dl_device **ret)
{
	const struct dl_pci_spec *s = &d->specs[idx];
	struct dl_pci_func_attrs a = {
		.numa_node = s->numa_node,
		.no_iov_res = s->no_iov_res,
		.no_slot = s->config != NULL && !s->slot_known,
		.irq = s->irq,
		.delay_us = s->delay_us,
		.driver_name = s->driver,
		.mdev_types = s->mdev_types,
		.params = s->params,
		.resource = s->resource,
		.iommu_group = s->iommu_group,
	};
	struct dl_device *dev = NULL;
	struct dl_pci_tmpl *t = NULL;
	struct dl_pci_cfg *cfg = NULL;
	char name[24];
	int r;

	dl_pci_spec_name(s, name, sizeof(name));
	r = dl_pci_spec_template(d, s, &t);
	if (r == 0)
		r = dl_pci_cfg_new(t, &cfg);
	dl_pci_tmpl_put(t);
	if (r == 0 && s->vf_config) {
		r = dl_pci_tmpl_new_from_bytes(s->vf_config, s->vf_config_len, NULL,
					       &a.vf_tmpl);
		if (r == 0)
			dl_pci_tmpl_seal(a.vf_tmpl);
	}
	if (r == 0)
		r = dl_pci_func_new(tree, s->domain, s->bus, s->devfn, cfg, &a, &dev);
	dl_pci_tmpl_put(a.vf_tmpl);
	if (r < 0) {
		dl_pci_cfg_free(cfg);
		dl_pci__fail(err, d->source, s->line, "%s: %s", name, strerror(-r));
		return r;
	}
	if (s->driver || s->sriov.numvfs || s->unbound)
		dl_device_set_autoprobe(dev, false);
	r = dl_pci__iommu_join(dev, parent);
	if (r == 0) {
		dl_pci__pm_init(dev, parent);
		dl_pci__reset_init(dev, parent);
		r = dl_device_add(dev, parent);
		dl_pci__iommu_added(dev);
	}
	if (r < 0) {
		dl_device_put(dev);
		dl_pci__fail(err, d->source, s->line, "cannot add %s: %s", name,
			     r == -EEXIST ? "the name is taken" : strerror(-r));
		return r;
	}
	*ret = dev;
	if (s->sriov.numvfs) {
		dl_device_lock(dev);
		r = dl_pci_sriov_set_numvfs(dev, s->sriov.numvfs);
		dl_device_unlock(dev);
		if (r < 0) {
			dl_pci__fail(err, d->source, s->line,
				     "%s: cannot enable %u VFs: %s", name, s->sriov.numvfs,
				     strerror(-r));
			return r;
		}
	}
	/* with the bus's drivers_autoprobe off, an add binds nothing */
	if (!dl_tree_autoprobe(tree))
		return 0;
	if (s->driver) {
		struct dl_driver *drv = dl_driver_find(tree, s->driver);

		/* a driver that is not registered (yet) leaves it unbound;
		 * a failing probe leaves it unbound too, as an add does */
		if (drv)
			(void)dl_device_bind(dev, drv);
	} else if (s->sriov.numvfs && !s->unbound) {
		(void)dl_device_bind(dev, NULL);
	}
	return 0;
}

static int add_one(struct inst *in, size_t idx)
{
	const struct dl_pci_spec *s = &in->d->specs[idx];
	struct dl_device *parent;
	int r;

	if (s->parent >= 0) {
		parent = in->devs[s->parent];
	} else {
		r = root_for(in, s, &parent);
		if (r < 0)
			return r;
	}
	return dl_pci__spec_add(in->d, idx, in->tree, parent, in->err, &in->devs[idx]);
}

int dl_pci_desc_instantiate(const struct dl_pci_desc *d, struct dl_tree *tree,
			    struct dl_pci_error *err)
{
	struct inst in = { d, tree, err, NULL, NULL, 0 };
	size_t *order = NULL;
	int r = -ENOMEM;

	assert_return(d && tree, -EINVAL);
	if (!d->validated)
		return dl_pci__fail(err, d->source, 0, "description not validated");
	if (!d->n)
		return 0;
	in.devs = calloc(d->n, sizeof(*in.devs));
	in.roots = calloc(d->n, sizeof(*in.roots));
	order = calloc(d->n, sizeof(*order));
	if (!in.devs || !in.roots || !order) {
		dl_pci__fail(err, d->source, 0, "out of memory");
		goto out;
	}
	dl_pci__desc_order(d, order);
	/* groups the description gives are not for those it leaves to us */
	for (size_t k = 0; k < d->n; k++)
		if (d->specs[k].iommu_group > 0 &&
		    dl_pci__iommu_reserve(tree, d->specs[k].iommu_group - 1, true) < 0)
			goto out;
	for (size_t k = 0; k < d->n; k++) {
		r = add_one(&in, order[k]);
		if (r < 0)
			break;
	}
	if (r < 0) {
		/* all or nothing: every parent was added by us */
		for (size_t i = in.nroots; i-- > 0;)
			dl_device_remove(in.roots[i], DL_REMOVE_WAIT, DL_NO_TIMEOUT);
	}
out:
	for (size_t k = 0; k < d->n; k++)
		if (d->specs[k].iommu_group > 0)
			(void)dl_pci__iommu_reserve(tree, d->specs[k].iommu_group - 1, false);
	for (size_t i = 0; in.devs && i < d->n; i++)
		dl_device_put(in.devs[i]);
	for (size_t i = 0; i < in.nroots; i++)
		dl_device_put(in.roots[i]);
	free(in.devs);
	free(in.roots);
	free(order);
	return r;
}
