/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI functions and root buses as devlife devices: config access inside
 * the active section, sysfs attributes, bus numbering, SR-IOV VFs.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/pci_regs.h>

#include "devvec.h"
#include "internal.h"
#include "mdev.h"
#include "pci.h"
#include "resource.h"
#include "topology.h"

/* ------------------------------------------------------------------ */
/* Types                                                               */

static void pci_release(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_device_priv(dev);

	/* Copes with a device whose creation failed half-way. */
	dl_pci_cfg_free(f->cfg);
	free(f->driver_name);
	free(f->mdev_types);
	free(f->resource);
	dl_mdev__parent_free(f->mdev);
	if (f->sriov) {
		dl_pci_tmpl_put(f->sriov->vf_tmpl);
		free(f->sriov);
	}
}

const struct dl_device_type dl_pci_type = {
	.name = "pci",
	.release = pci_release,
};

const struct dl_device_type dl_pci_bus_type = {
	.name = "pci_bus",
	.release = NULL,
};

struct dl_pci_func *dl_pci_func_of(struct dl_device *dev)
{
	if (!dev || dl_device_type(dev) != &dl_pci_type)
		return NULL;
	return dl_device_priv(dev);
}

struct dl_pci_root *dl_pci_root_of(struct dl_device *dev)
{
	if (!dev || dl_device_type(dev) != &dl_pci_bus_type)
		return NULL;
	return dl_device_priv(dev);
}

int dl_pci_root_new(struct dl_tree *tree, uint32_t domain, uint8_t bus,
		    struct dl_device **ret)
{
	struct dl_device *dev;
	struct dl_pci_root *root;
	char name[32];
	int r;

	assert_return(tree && ret, -EINVAL);
	snprintf(name, sizeof(name), "pci%04x:%02x", (unsigned int)domain, bus);
	r = dl_device_new(tree, &dl_pci_bus_type, name, sizeof(*root), &dev);
	if (r < 0)
		return r;
	root = dl_device_priv(dev);
	root->domain = domain;
	atomic_init(&root->pm_forbid, false);
	root->bus = bus;
	*ret = dev;
	return 0;
}

static uint32_t cfg_rd(struct dl_pci_cfg *c, unsigned int off, unsigned int width)
{
	uint32_t v = 0;

	(void)dl_pci_cfg_readv(c, off, width, &v);
	return v;
}

/* The highest NUMA node a function was created with: nodes 0 to it are
 * the model's online nodes. */
static atomic_int max_node;

static void note_node(int node)
{
	int m = atomic_load(&max_node);

	while (node > m && !atomic_compare_exchange_weak(&max_node, &m, node))
		;
}

int dl_pci_func_new(struct dl_tree *tree, uint32_t domain, uint8_t bus,
		    uint8_t devfn, struct dl_pci_cfg *cfg,
		    const struct dl_pci_func_attrs *attrs, struct dl_device **ret)
{
	struct dl_pci_sriov *sr = NULL;
	struct dl_device *dev;
	struct dl_pci_func *f;
	unsigned int ht, cap;
	char name[24];
	int r;

	assert_return(tree && cfg && ret, -EINVAL);
	ht = cfg_rd(cfg, PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MASK;
	if (dl_pci_cfg_find_ext_cap(cfg, PCI_EXT_CAP_ID_SRIOV, 0, &cap) == 0 &&
	    ht == PCI_HEADER_TYPE_NORMAL) {
		sr = calloc(1, sizeof(*sr));
		if (!sr)
			return -ENOMEM;
		sr->cap = cap;
		sr->total = (uint16_t)cfg_rd(cfg, cap + PCI_SRIOV_TOTAL_VF, 2);
		atomic_init(&sr->numvfs, 0);
		atomic_init(&sr->drivers_autoprobe, true);
		if (attrs && attrs->vf_tmpl)
			sr->vf_tmpl = dl_pci_tmpl_get(attrs->vf_tmpl);
	}
	dl_pci_bdf_format(domain, bus, devfn, name, sizeof(name));
	r = dl_device_new(tree, &dl_pci_type, name, sizeof(*f), &dev);
	if (r < 0) {
		if (sr)
			dl_pci_tmpl_put(sr->vf_tmpl);
		free(sr);
		return r;
	}
	f = dl_device_priv(dev);
	f->dev = dev;
	f->domain = domain;
	f->bus = bus;
	f->devfn = devfn;
	f->sriov = sr;
	f->numa_node = -1;
	f->iommu_group = -1;
	atomic_init(&f->d3cold_allowed, true);
	atomic_init(&f->delay_us, 0);
	if (ht == PCI_HEADER_TYPE_BRIDGE)
		f->flags |= DL_PCI_F_BRIDGE;
	if (attrs) {
		f->numa_node = attrs->numa_node;
		note_node(attrs->numa_node);
		f->no_iov_res = attrs->no_iov_res;
		f->no_slot = attrs->no_slot;
		f->irq = attrs->irq;
		atomic_store_explicit(&f->delay_us, attrs->delay_us, memory_order_relaxed);
		if (attrs->driver_name && !(f->driver_name = strdup(attrs->driver_name)))
			goto nomem;
		if (attrs->resource && !(f->resource = strdup(attrs->resource)))
			goto nomem;
		if (attrs->mdev_types) {
			if (!(f->mdev_types = strdup(attrs->mdev_types)))
				goto nomem;
			r = dl_mdev__parent_new(attrs->mdev_types, &f->mdev);
			if (r < 0) {
				dl_device_put(dev); /* the release frees what was set */
				return r;
			}
			f->flags |= DL_PCI_F_MDEV_PARENT;
		}
		f->params = attrs->params;
		f->iommu_want = attrs->iommu_group;
	}
	f->vendor = (uint16_t)cfg_rd(cfg, PCI_VENDOR_ID, 2);
	f->device = (uint16_t)cfg_rd(cfg, PCI_DEVICE_ID, 2);
	f->class = cfg_rd(cfg, PCI_CLASS_REVISION, 4) >> 8;
	f->rev = (uint8_t)cfg_rd(cfg, PCI_REVISION_ID, 1);
	if (ht == PCI_HEADER_TYPE_NORMAL) {
		f->subvendor = (uint16_t)cfg_rd(cfg, PCI_SUBSYSTEM_VENDOR_ID, 2);
		f->subdevice = (uint16_t)cfg_rd(cfg, PCI_SUBSYSTEM_ID, 2);
	} else if (ht == PCI_HEADER_TYPE_CARDBUS) {
		/* pci_setup_device(): a CardBus bridge has them at 0x40 */
		f->subvendor = (uint16_t)cfg_rd(cfg, PCI_CB_SUBSYSTEM_VENDOR_ID, 2);
		f->subdevice = (uint16_t)cfg_rd(cfg, PCI_CB_SUBSYSTEM_ID, 2);
	} else if (dl_pci_cfg_find_cap(cfg, PCI_CAP_ID_SSVID, 0, &cap) == 0) {
		f->subvendor = (uint16_t)cfg_rd(cfg, cap + 4, 2);
		f->subdevice = (uint16_t)cfg_rd(cfg, cap + 6, 2);
	}
	/* last: from here on the device owns cfg */
	f->cfg = cfg;
	*ret = dev;
	return 0;
nomem:
	dl_device_put(dev); /* the release frees what was set */
	return -ENOMEM;
}

int dl_pci_func_set_delay(struct dl_device *dev, uint32_t delay_us)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	assert_return(f, -EINVAL);
	atomic_store_explicit(&f->delay_us, delay_us, memory_order_relaxed);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Config access from outside                                          */

int dl_pci_set_numa_node(struct dl_device *dev, int node)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	assert_return(f, -EINVAL);
	/* numa_node_store(): NUMA_NO_NODE, or below MAX_NUMNODES and
	 * node_online() */
	if (node != -1 && (node < 0 || node > atomic_load(&max_node)))
		return -EINVAL;
	__atomic_store_n(&f->numa_node, node, __ATOMIC_RELAXED);
	return 0;
}

int dl_pci_config_size(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	assert_return(f, -EINVAL);
	return (int)dl_pci_cfg_size(f->cfg);
}

/*
 * Sleep the configured delay inside the caller's active section, in
 * slices of at most 1 ms, so that a surprise removal (which marks the
 * device gone before it drains) ends the wait early.
 */
static int config_delay(struct dl_device *dev, struct dl_pci_func *f)
{
	uint64_t left = atomic_load_explicit(&f->delay_us, memory_order_relaxed);

	while (left) {
		uint64_t us = left < 1000 ? left : 1000;
		struct timespec ts = { 0, (long)us * 1000 };

		if (dl_device_is_gone(dev))
			return -ENODEV;
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		left -= us;
	}
	return 0;
}

static int config_access(struct dl_device *dev, unsigned int off, void *buf,
			 size_t len, bool write)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	unsigned int size;
	int r;

	assert_return(f && (buf || !len), -EINVAL);
	assert_return(len <= DL_PCI_CFG_SIZE, -EINVAL);
	size = dl_pci_cfg_size(f->cfg);
	if (off >= size || !len)
		return 0;
	if (len > size - off)
		len = size - off;
	if (dl_device_is_gone(dev) || dl_device_enter(dev) < 0)
		return -ENODEV;
	r = config_delay(dev, f);
	if (r == 0 && dl_device_is_gone(dev))
		r = -ENODEV;
	if (r == 0)
		r = write ? dl_pci_cfg_write(f->cfg, off, buf, len)
			  : dl_pci_cfg_read(f->cfg, off, buf, len);
	dl_device_exit(dev);
	return r < 0 ? r : (int)len;
}

int dl_pci_config_read(struct dl_device *dev, unsigned int off, void *buf,
		       size_t len)
{
	return config_access(dev, off, buf, len, false);
}

int dl_pci_config_write(struct dl_device *dev, unsigned int off,
			const void *buf, size_t len)
{
	/* not written through: config_access only reads @buf when writing */
	return config_access(dev, off, (void *)buf, len, true);
}

int dl_pci_dump(struct dl_device *dev, unsigned int bytes, FILE *out)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	uint8_t buf[DL_PCI_CFG_SIZE];
	int n;

	assert_return(f && out, -EINVAL);
	assert_return(bytes == DL_PCI_CFG_HEADER_SIZE || bytes == DL_PCI_CFG_LEGACY_SIZE ||
			      bytes == DL_PCI_CFG_SIZE,
		      -EINVAL);
	n = dl_pci_config_read(dev, 0, buf, bytes);
	if (n < 0)
		return n;
	fprintf(out, "%s %04x: %04x:%04x", dl_device_name(dev), f->class >> 8,
		f->vendor, f->device);
	if (f->rev)
		fprintf(out, " (rev %02x)", f->rev);
	fputc('\n', out);
	for (int i = 0; i < n; i++) {
		if (!(i & 15))
			fprintf(out, "%02x:", i);
		fprintf(out, " %02x", buf[i]);
		if ((i & 15) == 15)
			fputc('\n', out);
	}
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

/* ------------------------------------------------------------------ */
/* Bus numbering                                                       */

int dl_pci_bus_range(struct dl_device *dev, uint8_t *ret_sec, uint8_t *ret_sub)
{
	struct dl_pci_root *root = dl_pci_root_of(dev);
	struct dl_pci_func *f;

	assert_return(dev && ret_sec && ret_sub, -EINVAL);
	if (root) {
		*ret_sec = root->bus;
		*ret_sub = 0xff;
		return 0;
	}
	f = dl_pci_func_of(dev);
	assert_return(f, -EINVAL);
	if (!(f->flags & DL_PCI_F_BRIDGE))
		return -ENOTDIR;
	*ret_sec = (uint8_t)cfg_rd(f->cfg, PCI_SECONDARY_BUS, 1);
	*ret_sub = (uint8_t)cfg_rd(f->cfg, PCI_SUBORDINATE_BUS, 1);
	return 0;
}

/* ------------------------------------------------------------------ */
/* sysfs attributes                                                    */

static const char *const attr_names[DL_PCI_ATTR_COUNT] = {
	[DL_PCI_ATTR_VENDOR] = "vendor",
	[DL_PCI_ATTR_DEVICE] = "device",
	[DL_PCI_ATTR_CLASS] = "class",
	[DL_PCI_ATTR_REVISION] = "revision",
	[DL_PCI_ATTR_SUBSYSTEM_VENDOR] = "subsystem_vendor",
	[DL_PCI_ATTR_SUBSYSTEM_DEVICE] = "subsystem_device",
	[DL_PCI_ATTR_IRQ] = "irq",
	[DL_PCI_ATTR_RESOURCE] = "resource",
	[DL_PCI_ATTR_MODALIAS] = "modalias",
	[DL_PCI_ATTR_NUMA_NODE] = "numa_node",
	[DL_PCI_ATTR_SRIOV_TOTALVFS] = "sriov_totalvfs",
	[DL_PCI_ATTR_SRIOV_NUMVFS] = "sriov_numvfs",
	[DL_PCI_ATTR_SRIOV_OFFSET] = "sriov_offset",
	[DL_PCI_ATTR_SRIOV_STRIDE] = "sriov_stride",
	[DL_PCI_ATTR_SRIOV_VF_DEVICE] = "sriov_vf_device",
	[DL_PCI_ATTR_SRIOV_DRIVERS_AUTOPROBE] = "sriov_drivers_autoprobe",
};

const char *dl_pci_attr_name(enum dl_pci_attr attr)
{
	if ((unsigned int)attr >= DL_PCI_ATTR_COUNT)
		return NULL;
	return attr_names[attr];
}

int dl_pci_attr_lookup(const char *name)
{
	if (!name)
		return -ENOENT;
	for (int i = 0; i < DL_PCI_ATTR_COUNT; i++)
		if (!strcmp(name, attr_names[i]))
			return i;
	return -ENOENT;
}

bool dl_pci_attr_visible(struct dl_device *dev, enum dl_pci_attr attr)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	if (!f || (unsigned int)attr >= DL_PCI_ATTR_COUNT)
		return false;
	if (attr >= DL_PCI_ATTR_SRIOV_TOTALVFS)
		return f->sriov != NULL;
	return true;
}

int dl_pci_attr_show(struct dl_device *dev, enum dl_pci_attr attr, char *buf,
		     size_t len)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	struct dl_pci_sriov *sr;
	int k;

	assert_return(f && buf && len, -EINVAL);
	assert_return((unsigned int)attr < DL_PCI_ATTR_COUNT, -EINVAL);
	if (!dl_pci_attr_visible(dev, attr))
		return -ENOENT;
	sr = f->sriov;
	switch (attr) {
	case DL_PCI_ATTR_VENDOR:
		k = snprintf(buf, len, "0x%04x\n", f->vendor);
		break;
	case DL_PCI_ATTR_DEVICE:
		k = snprintf(buf, len, "0x%04x\n", f->device);
		break;
	case DL_PCI_ATTR_CLASS:
		k = snprintf(buf, len, "0x%06x\n", f->class);
		break;
	case DL_PCI_ATTR_REVISION:
		k = snprintf(buf, len, "0x%02x\n", f->rev);
		break;
	case DL_PCI_ATTR_SUBSYSTEM_VENDOR:
		k = snprintf(buf, len, "0x%04x\n", f->subvendor);
		break;
	case DL_PCI_ATTR_SUBSYSTEM_DEVICE:
		k = snprintf(buf, len, "0x%04x\n", f->subdevice);
		break;
	case DL_PCI_ATTR_IRQ:
		k = snprintf(buf, len, "%u\n", f->irq);
		break;
	case DL_PCI_ATTR_NUMA_NODE:
		k = snprintf(buf, len, "%d\n",
			     __atomic_load_n(&f->numa_node, __ATOMIC_RELAXED));
		break;
	case DL_PCI_ATTR_MODALIAS:
		k = snprintf(buf, len, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n",
			     f->vendor, f->device, f->subvendor, f->subdevice,
			     (f->class >> 16) & 0xff, (f->class >> 8) & 0xff, f->class & 0xff);
		break;
	case DL_PCI_ATTR_RESOURCE:
		return dl_pci__show_resource(f, buf, len);
	case DL_PCI_ATTR_SRIOV_TOTALVFS:
		k = snprintf(buf, len, "%u\n", sr->total);
		break;
	case DL_PCI_ATTR_SRIOV_NUMVFS:
		k = snprintf(buf, len, "%u\n",
			     atomic_load_explicit(&sr->numvfs, memory_order_relaxed));
		break;
	case DL_PCI_ATTR_SRIOV_OFFSET:
		k = snprintf(buf, len, "%u\n", cfg_rd(f->cfg, sr->cap + PCI_SRIOV_VF_OFFSET, 2));
		break;
	case DL_PCI_ATTR_SRIOV_STRIDE:
		k = snprintf(buf, len, "%u\n", cfg_rd(f->cfg, sr->cap + PCI_SRIOV_VF_STRIDE, 2));
		break;
	case DL_PCI_ATTR_SRIOV_VF_DEVICE:
		k = snprintf(buf, len, "%x\n", cfg_rd(f->cfg, sr->cap + PCI_SRIOV_VF_DID, 2));
		break;
	case DL_PCI_ATTR_SRIOV_DRIVERS_AUTOPROBE:
		k = snprintf(buf, len, "%u\n",
			     (unsigned int)atomic_load(&sr->drivers_autoprobe));
		break;
	default:
		return -EINVAL;
	}
	if (k < 0 || (size_t)k >= len)
		return -ENOSPC;
	return k;
}

/* ------------------------------------------------------------------ */
/* SR-IOV                                                              */

static int vf_new(struct dl_device *pf, struct dl_pci_func *pff, unsigned int n,
		  uint16_t rid, struct dl_device **ret)
{
	struct dl_pci_cfg *cfg;
	struct dl_device *dev;
	struct dl_pci_func *f;
	char name[24];
	int r;

	r = dl_pci_cfg_new(pff->sriov->vf_tmpl, &cfg);
	if (r < 0)
		return r;
	dl_pci_bdf_format(pff->domain, (uint8_t)(rid >> 8), (uint8_t)rid, name, sizeof(name));
	r = dl_device_new(dl_device_tree(pf), &dl_pci_type, name, sizeof(*f), &dev);
	if (r < 0) {
		dl_pci_cfg_free(cfg);
		return r;
	}
	f = dl_device_priv(dev);
	f->dev = dev;
	f->domain = pff->domain;
	f->bus = (uint8_t)(rid >> 8);
	f->devfn = (uint8_t)rid;
	f->flags = DL_PCI_F_VF;
	/* what the OS shows: the PF's vendor and the VF Device ID */
	f->vendor = pff->vendor;
	f->device = (uint16_t)cfg_rd(pff->cfg, pff->sriov->cap + PCI_SRIOV_VF_DID, 2);
	f->class = cfg_rd(cfg, PCI_CLASS_REVISION, 4) >> 8;
	f->rev = (uint8_t)cfg_rd(cfg, PCI_REVISION_ID, 1);
	f->subvendor = (uint16_t)cfg_rd(cfg, PCI_SUBSYSTEM_VENDOR_ID, 2);
	f->subdevice = (uint16_t)cfg_rd(cfg, PCI_SUBSYSTEM_ID, 2);
	f->numa_node = __atomic_load_n(&pff->numa_node, __ATOMIC_RELAXED);
	f->no_iov_res = pff->no_iov_res;
	atomic_init(&f->delay_us, 0);
	f->physfn = pf;
	f->vf_index = (uint16_t)n;
	f->cfg = cfg;
	atomic_init(&f->d3cold_allowed, true);
	/* no IOMMU for the PF, none for its VFs */
	f->iommu_group = -1;
	f->iommu_want = pff->iommu_want == DL_PCI_IOMMU_NONE ? DL_PCI_IOMMU_NONE
							     : DL_PCI_IOMMU_AUTO;
	/* sriov_drivers_autoprobe: read when the VF is built, as Linux does
	 * when it adds the VF to the bus */
	if (!atomic_load_explicit(&pff->sriov->drivers_autoprobe, memory_order_relaxed))
		dl_device_set_autoprobe(dev, false);
	*ret = dev;
	return 0;
}

struct vf_list {
	struct dl_device *pf;
	struct devvec dv;
};

static int collect_vf(struct dl_device *child, void *arg)
{
	struct vf_list *l = arg;
	struct dl_pci_func *f = dl_pci_func_of(child);

	if (!f || !(f->flags & DL_PCI_F_VF) || f->physfn != l->pf)
		return 0;
	return devvec_push(&l->dv, child);
}

static int cmp_vf_index(const void *a, const void *b)
{
	const struct dl_pci_func *x = dl_device_priv(*(struct dl_device *const *)a);
	const struct dl_pci_func *y = dl_device_priv(*(struct dl_device *const *)b);

	return (int)x->vf_index - (int)y->vf_index;
}

/* Remove every VF of @pf, the first first, as drivers/pci/iov.c
 * sriov_del_vfs() does (listeners see VF 0's remove first). Returns the
 * first error. */
static int remove_vfs(struct dl_device *pf)
{
	struct vf_list l = { .pf = pf };
	int r, first = 0;

	r = dl_device_for_each_child(pf, collect_vf, &l);
	if (r < 0)
		first = r;
	if (l.dv.n > 1)
		qsort(l.dv.v, l.dv.n, sizeof(*l.dv.v), cmp_vf_index);
	for (size_t i = 0; i < l.dv.n; i++) {
		r = dl_device_remove(l.dv.v[i], DL_REMOVE_WAIT, DL_NO_TIMEOUT);
		if (r < 0 && !first)
			first = r;
	}
	devvec_clear(&l.dv);
	return first;
}

static int sriov_disable(struct dl_device *pf, struct dl_pci_func *f)
{
	struct dl_pci_sriov *sr = f->sriov;
	int r = remove_vfs(pf);

	dl_pci_cfg_hw_write(f->cfg, sr->cap + PCI_SRIOV_CTRL, 2, 0,
			    PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE);
	dl_pci_cfg_hw_write(f->cfg, sr->cap + PCI_SRIOV_NUM_VF, 2, 0, 0xffff);
	atomic_store_explicit(&sr->numvfs, 0, memory_order_relaxed);
	return r;
}

static int sriov_enable(struct dl_device *pf, struct dl_pci_func *f,
			unsigned int numvfs)
{
	struct dl_pci_sriov *sr = f->sriov;
	uint16_t offset, stride, pf_rid = (uint16_t)(f->bus << 8 | f->devfn);
	uint8_t lo = f->bus, hi = 0xff;
	struct dl_device *parent = dl_device_parent(pf);
	int r;

	if (!sr->vf_tmpl) {
		r = dl_pci_tmpl_derive_vf(dl_pci_cfg_tmpl(f->cfg), &sr->vf_tmpl);
		if (r < 0)
			return r;
	}
	offset = (uint16_t)cfg_rd(f->cfg, sr->cap + PCI_SRIOV_VF_OFFSET, 2);
	stride = (uint16_t)cfg_rd(f->cfg, sr->cap + PCI_SRIOV_VF_STRIDE, 2);
	if (parent && dl_pci_bus_range(parent, &lo, &hi) < 0)
		lo = f->bus, hi = 0xff;
	/* VF 0 cannot be the PF, and VFs cannot share a routing ID */
	if (!offset || (numvfs > 1 && !stride))
		return -ENOSPC;
	for (unsigned int n = 0; n < numvfs; n++) {
		uint16_t rid;

		if (dl_pci_sriov_vf_rid(pf_rid, offset, stride, n, &rid) < 0 ||
		    (rid >> 8) < lo || (rid >> 8) > hi)
			return -ENOSPC;
	}

	dl_pci_cfg_hw_write(f->cfg, sr->cap + PCI_SRIOV_NUM_VF, 2, numvfs, 0xffff);
	dl_pci_cfg_hw_write(f->cfg, sr->cap + PCI_SRIOV_CTRL, 2,
			    PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE,
			    PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE);
	atomic_store_explicit(&sr->numvfs, numvfs, memory_order_relaxed);
	for (unsigned int n = 0; n < numvfs; n++) {
		struct dl_device *vf = NULL;
		uint16_t rid;

		dl_pci_sriov_vf_rid(pf_rid, offset, stride, n, &rid);
		r = vf_new(pf, f, n, rid, &vf);
		if (r == 0)
			r = dl_pci__iommu_join(vf, pf);
		if (r == 0) {
			dl_pci__pm_init(vf, pf);
			dl_pci__reset_init(vf, pf);
			r = dl_device_add(vf, pf);
			dl_pci__iommu_added(vf);
		}
		if (vf)
			dl_device_put(vf); /* the tree keeps it */
		if (r < 0) {
			sriov_disable(pf, f);
			return r;
		}
	}
	/* drivers/pci/iov.c sriov_enable(): KOBJ_CHANGE on the PF once
	 * sriov_add_vfs() added (and probed) every VF; sriov_disable()
	 * sends none. */
	dl_device_notify_change(pf, DL_PCI_CHANGE_SRIOV);
	return 0;
}

int dl_pci_sriov_set_numvfs(struct dl_device *pf, unsigned int numvfs)
{
	struct dl_pci_func *f = dl_pci_func_of(pf);
	unsigned int cur;

	assert_return(f && f->sriov, -EINVAL);
	assert_return(dl_device_lock_held(pf), -EINVAL);
	if (numvfs > f->sriov->total)
		return -ERANGE;
	cur = atomic_load_explicit(&f->sriov->numvfs, memory_order_relaxed);
	if (numvfs == cur)
		return 0;
	if (numvfs && cur)
		return -EBUSY;
	if (!numvfs)
		return sriov_disable(pf, f);
	return sriov_enable(pf, f, numvfs);
}

int dl_pci_sriov_set_drivers_autoprobe(struct dl_device *pf, bool on)
{
	struct dl_pci_func *f = dl_pci_func_of(pf);

	assert_return(f && f->sriov, -EINVAL);
	atomic_store(&f->sriov->drivers_autoprobe, on);
	return 0;
}

struct vf_find {
	struct dl_device *pf;
	unsigned int n;
	struct dl_device *found;
};

static int find_vf(struct dl_device *child, void *arg)
{
	struct vf_find *q = arg;
	struct dl_pci_func *f = dl_pci_func_of(child);

	if (!f || !(f->flags & DL_PCI_F_VF) || f->physfn != q->pf || f->vf_index != q->n)
		return 0;
	if (dl_device_state(child) != DL_STATE_LIVE)
		return 0;
	q->found = dl_device_get(child);
	return 1;
}

int dl_pci_sriov_get_vf(struct dl_device *pf, unsigned int n, struct dl_device **ret)
{
	struct dl_pci_func *f = dl_pci_func_of(pf);
	struct vf_find q = { pf, n, NULL };
	int r;

	assert_return(f && f->sriov && ret, -EINVAL);
	r = dl_device_for_each_child(pf, find_vf, &q);
	if (r < 0)
		return r;
	if (!q.found)
		return -ENOENT;
	*ret = q.found;
	return 0;
}
