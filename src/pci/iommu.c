/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IOMMU groups, as Linux forms them for PCI (drivers/iommu/iommu.c,
 * pci_device_group(); ACS from drivers/pci/pci.c, pci_acs_enabled() and
 * pci_acs_path_enabled()). A function joins its group when it is added
 * (the kernel's iommu_bus_notifier() at BUS_NOTIFY_ADD_DEVICE, before the
 * ADD uevent and before any probe) and leaves it when it is unlinked; a
 * group exists while it has a function, and a new group takes the lowest
 * number no group has (iommu_group_alloc()'s ida_alloc()).
 *
 * The walk, for a function F:
 *  1. DMA aliases (pci_for_each_dma_alias()): a bridge above F that is
 *     not a PCI Express root or switch port (a PCIe-to-PCI bridge, a
 *     conventional PCI bridge) takes F's requests as its own: F joins the
 *     nearest such bridge's group.
 *  2. Upwards from F's bus while the path to the root is not isolated by
 *     ACS (pci_acs_path_enabled() with REQ_ACS_FLAGS): F joins the group
 *     of the first bridge whose path is not isolated.
 *  3. The other functions of F's slot (get_pci_function_alias_group()):
 *     when F is multi-function and its own ACS does not isolate it, F
 *     joins the group of a function of the same slot that is not isolated
 *     either.
 *  4. Otherwise a new group.
 * Device-specific ACS quirks (pci_dev_specific_acs_enabled()) and quirked
 * DMA aliases are not modelled.
 *
 * A function may also be given its group (a topology's iommu_group=N, an
 * import of a machine that had one) or none (iommu_group=none, an import
 * of a machine without an IOMMU).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <linux/pci_regs.h>

#include "devvec.h"
#include "internal.h"
#include "pci.h"

/* pci_device_group()'s REQ_ACS_FLAGS */
#define REQ_ACS_FLAGS (PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF)

/* Serializes the choice of a number with the adds in flight. */
static pthread_mutex_t iommu_lock = PTHREAD_MUTEX_INITIALIZER;
/* Functions given a group, not yet linked into their tree (iommu_lock). */
static struct dl_pci_func *pending;

/* Numbers a description being instantiated gives (iommu_lock). */
struct reserved {
	struct reserved *next;
	struct dl_tree *tree;
	int id;
};
static struct reserved *reserved;

static uint32_t rd(struct dl_pci_func *f, unsigned int off, unsigned int width)
{
	uint32_t v = 0;

	(void)dl_pci_cfg_readv(f->cfg, off, width, &v);
	return v;
}

/* The PCI Express device/port type, or -1 for a conventional function. */
static int pcie_type(struct dl_pci_func *f)
{
	unsigned int cap;

	if (dl_pci_cfg_find_cap(f->cfg, PCI_CAP_ID_EXP, 0, &cap) < 0)
		return -1;
	return (int)((rd(f, cap + PCI_EXP_FLAGS, 2) & PCI_EXP_FLAGS_TYPE) >> 4);
}

/* pdev->multifunction: a VF never is (pci_iov_add_virtfn()). */
static bool multifunction(struct dl_pci_func *f)
{
	if (f->flags & DL_PCI_F_VF)
		return false;
	return rd(f, PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MFD;
}

/* pci_acs_flags_enabled() */
static bool acs_flags_enabled(struct dl_pci_func *f, uint16_t flags)
{
	unsigned int pos;
	uint16_t cap, ctrl;

	if (dl_pci_cfg_find_ext_cap(f->cfg, PCI_EXT_CAP_ID_ACS, 0, &pos) < 0)
		return false;
	cap = (uint16_t)rd(f, pos + PCI_ACS_CAP, 2);
	ctrl = (uint16_t)rd(f, pos + PCI_ACS_CTRL, 2);
	/* what the capability lacks is hard-wired on, egress control aside */
	flags &= cap | PCI_ACS_EC;
	return (ctrl & flags) == flags;
}

/* pci_acs_enabled(), without device-specific quirks */
static bool acs_enabled(struct dl_pci_func *f)
{
	switch (pcie_type(f)) {
	case -1: /* conventional PCI and PCI-X never isolate */
	case PCI_EXP_TYPE_PCIE_BRIDGE:
	case PCI_EXP_TYPE_PCI_BRIDGE:
	case PCI_EXP_TYPE_RC_EC:
		return false;
	case PCI_EXP_TYPE_DOWNSTREAM:
	case PCI_EXP_TYPE_ROOT_PORT:
		return acs_flags_enabled(f, REQ_ACS_FLAGS);
	case PCI_EXP_TYPE_ENDPOINT:
	case PCI_EXP_TYPE_UPSTREAM:
	case PCI_EXP_TYPE_LEG_END:
	case PCI_EXP_TYPE_RC_END:
		if (multifunction(f))
			return acs_flags_enabled(f, REQ_ACS_FLAGS);
		return true;
	default:
		return true;
	}
}

/*
 * The bridge whose secondary side F's bus is (bus->self), or NULL on a
 * root bus. A VF's bus is its PF's, or a virtual bus without a bridge
 * whose parent is the PF's: either way the PF's bridge.
 */
static struct dl_pci_func *upstream(struct dl_pci_func *f, struct dl_device *parent)
{
	if (f->flags & DL_PCI_F_VF)
		parent = dl_device_parent(parent);
	return dl_pci_func_of(parent);
}

static struct dl_pci_func *upstream_of(struct dl_pci_func *f)
{
	return upstream(f, dl_device_parent(f->dev));
}

/* pci_acs_path_enabled(start, NULL, REQ_ACS_FLAGS) */
static bool acs_path_enabled(struct dl_pci_func *b)
{
	for (; b; b = upstream_of(b))
		if (!acs_enabled(b))
			return false;
	return true;
}

static bool is_port(struct dl_pci_func *b)
{
	int t = pcie_type(b);

	return t == PCI_EXP_TYPE_ROOT_PORT || t == PCI_EXP_TYPE_UPSTREAM ||
	       t == PCI_EXP_TYPE_DOWNSTREAM;
}

struct slot_find {
	struct dl_pci_func *self;
	int group;
};

static int slot_cb(struct dl_device *dev, void *arg)
{
	struct slot_find *s = arg;
	struct dl_pci_func *t = dl_pci_func_of(dev);

	if (!t || t == s->self || (t->flags & DL_PCI_F_VF) || t->bus != s->self->bus ||
	    dl_pci_slot(t->devfn) != dl_pci_slot(s->self->devfn) || acs_enabled(t) ||
	    t->iommu_group < 0)
		return 0;
	s->group = t->iommu_group;
	return 1;
}

/* pci_device_group() for F, added under @parent: its group, or -1 for a
 * new one. */
static int device_group(struct dl_pci_func *f, struct dl_device *parent)
{
	struct dl_pci_func *pdev = f, *b;
	struct dl_device *pparent = parent;
	struct slot_find s;

	/* 1. DMA aliases */
	for (b = upstream(f, parent); b; b = upstream_of(b)) {
		if (is_port(b))
			continue;
		if (b->iommu_group >= 0)
			return b->iommu_group;
		pdev = b;
		pparent = dl_device_parent(b->dev);
	}
	/* 2. up to where ACS isolates */
	for (b = upstream(pdev, pparent); b; b = upstream_of(b)) {
		if (acs_path_enabled(b))
			break;
		pdev = b;
		pparent = dl_device_parent(b->dev);
		if (b->iommu_group >= 0)
			return b->iommu_group;
	}
	if (pdev != f && pdev->iommu_group >= 0)
		return pdev->iommu_group;
	/* 3. the slot's other functions */
	if (!multifunction(pdev) || acs_enabled(pdev) || !pparent)
		return -1;
	s = (struct slot_find){ pdev, -1 };
	(void)dl_device_for_each_child(pparent, slot_cb, &s);
	return s.group;
}

/* The numbers in use in @tree: linked functions and adds in flight. */
static int collect_cb(struct dl_device *dev, void *arg)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	struct devvec *v = arg;
	int r = 0;

	if (f && f->iommu_group >= 0)
		r = devvec_push(v, dev);
	if (r == 0)
		r = dl_device_for_each_child(dev, collect_cb, arg);
	return r;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* ida_alloc(): the lowest number no group of @tree has. */
static int lowest_free(struct dl_tree *tree)
{
	struct devvec v = { 0 };
	size_t n = 0, cap;
	int *ids, id = 0;

	if (dl_tree_for_each_root(tree, collect_cb, &v) < 0) {
		devvec_clear(&v);
		return -ENOMEM;
	}
	cap = v.n + 1;
	for (struct dl_pci_func *p = pending; p; p = p->iommu_next)
		cap++;
	for (struct reserved *e = reserved; e; e = e->next)
		cap++;
	ids = malloc(cap * sizeof(*ids));
	if (!ids) {
		devvec_clear(&v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < v.n; i++)
		ids[n++] = dl_pci_func_of(v.v[i])->iommu_group;
	for (struct dl_pci_func *p = pending; p; p = p->iommu_next)
		if (dl_device_tree(p->dev) == tree && p->iommu_group >= 0)
			ids[n++] = p->iommu_group;
	for (struct reserved *e = reserved; e; e = e->next)
		if (e->tree == tree)
			ids[n++] = e->id;
	devvec_clear(&v);
	qsort(ids, n, sizeof(*ids), cmp_int);
	for (size_t i = 0; i < n && ids[i] <= id; i++)
		if (ids[i] == id)
			id++;
	free(ids);
	return id;
}

int dl_pci__iommu_join(struct dl_device *dev, struct dl_device *parent)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	int g;

	assert_return(f && !f->iommu_pending, -EINVAL);
	f->iommu_group = -1;
	if (f->iommu_want == DL_PCI_IOMMU_NONE)
		return 0;
	pthread_mutex_lock(&iommu_lock);
	g = f->iommu_want > 0 ? f->iommu_want - 1 : device_group(f, parent);
	if (g < 0)
		g = lowest_free(dl_device_tree(dev));
	if (g >= 0) {
		f->iommu_group = g;
		f->iommu_pending = true;
		f->iommu_next = pending;
		pending = f;
	}
	pthread_mutex_unlock(&iommu_lock);
	return g < 0 ? g : 0;
}

void dl_pci__iommu_added(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	if (!f || !f->iommu_pending)
		return;
	pthread_mutex_lock(&iommu_lock);
	for (struct dl_pci_func **pp = &pending; *pp; pp = &(*pp)->iommu_next) {
		if (*pp == f) {
			*pp = f->iommu_next;
			break;
		}
	}
	f->iommu_pending = false;
	f->iommu_next = NULL;
	pthread_mutex_unlock(&iommu_lock);
}

int dl_pci_iommu_group(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	if (!f || f->iommu_group < 0)
		return -ENOENT;
	return f->iommu_group;
}

int dl_pci__iommu_reserve(struct dl_tree *tree, int id, bool on)
{
	struct reserved *e, **pp;
	int r = -ENOENT;

	pthread_mutex_lock(&iommu_lock);
	if (on) {
		e = malloc(sizeof(*e));
		if (e) {
			*e = (struct reserved){ reserved, tree, id };
			reserved = e;
		}
		r = e ? 0 : -ENOMEM;
	} else {
		for (pp = &reserved; *pp; pp = &(*pp)->next) {
			if ((*pp)->tree == tree && (*pp)->id == id) {
				e = *pp;
				*pp = e->next;
				free(e);
				r = 0;
				break;
			}
		}
	}
	pthread_mutex_unlock(&iommu_lock);
	return r;
}
