/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The `resource` attribute of a PCI function: the kernel's resources as
 * resource_show() in drivers/pci/pci-sysfs.c prints them, derived from
 * config space as the kernel's enumeration derives them (docs/import.md),
 * or an imported sysfs tree's own text.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <linux/pci_regs.h>

#include "internal.h"
#include "pci.h"
#include "resource.h"

static uint32_t cfg_rd(struct dl_pci_cfg *c, unsigned int off, unsigned int width)
{
	uint32_t v = 0;

	(void)dl_pci_cfg_readv(c, off, width, &v);
	return v;
}

/* Linux's IORESOURCE_* flags, as the `resource` file shows them. */
#define IORES_IO 0x00000100ull
#define IORES_MEM 0x00000200ull
#define IORES_PREFETCH 0x00002000ull
#define IORES_READONLY 0x00004000ull
#define IORES_SIZEALIGN 0x00040000ull
#define IORES_MEM_64 0x00100000ull
#define IORES_ROM_ENABLE 0x00000001ull

static uint64_t bar_ioflags(const struct dl_pci_bar_info *b)
{
	uint64_t fl;

	if (b->flags & DL_PCI_BAR_IO)
		return IORES_IO | IORES_SIZEALIGN | PCI_BASE_ADDRESS_SPACE_IO;
	fl = IORES_MEM | IORES_SIZEALIGN;
	if (b->flags & DL_PCI_BAR_64)
		fl |= IORES_MEM_64 | PCI_BASE_ADDRESS_MEM_TYPE_64;
	if (b->flags & DL_PCI_BAR_PREF)
		fl |= IORES_PREFETCH | PCI_BASE_ADDRESS_MEM_PREFETCH;
	return fl;
}

/* Address programmed in a BAR-like register pair of @c at @reg. */
static uint64_t bar_addr(struct dl_pci_cfg *c, unsigned int reg,
			 const struct dl_pci_bar_info *b)
{
	uint32_t lo = cfg_rd(c, reg, 4);
	uint64_t a;

	if (b->flags & DL_PCI_BAR_IO)
		return lo & PCI_BASE_ADDRESS_IO_MASK;
	a = lo & PCI_BASE_ADDRESS_MEM_MASK;
	if (b->flags & DL_PCI_BAR_64)
		a |= (uint64_t)cfg_rd(c, reg + 4, 4) << 32;
	return a;
}

struct res_line {
	uint64_t start, end, flags;
};

static void res_set(struct res_line *l, uint64_t start, uint64_t size, uint64_t flags)
{
	if (!size)
		return;
	l->start = start;
	l->end = start + size - 1;
	l->flags = flags;
}

/*
 * A BAR, ROM or VF BAR: one at address 0 is one the kernel did not
 * assign, whose resource it resets to zero (reset_resource() in
 * drivers/pci/setup-bus.c); lspci then prints no region for it.
 */
static void bar_set(struct res_line *l, uint64_t start, uint64_t size, uint64_t flags)
{
	if (start)
		res_set(l, start, size, flags);
}

/* include/linux/pci_ids.h; IORESOURCE_IO | IORESOURCE_PCI_FIXED (linux/pci.h) */
#define PCI_CLASS_STORAGE_IDE 0x0101
#define LEGACY_IO_RESOURCE (IORES_IO | 0x10ull)

/* The BARs and the ROM of a function that is no VF, into @res[0..6]. */
static void own_bars(struct dl_pci_func *f, const struct dl_pci_tmpl *t, bool bridge,
		     struct res_line *res)
{
	struct dl_pci_bar_info b;

	for (unsigned int i = 0; i < (bridge ? 2u : 6u); i++) {
		dl_pci_tmpl_bar(t, i, &b);
		bar_set(&res[i], bar_addr(f->cfg, PCI_BASE_ADDRESS_0 + 4 * i, &b), b.size,
			bar_ioflags(&b));
	}
	dl_pci_tmpl_bar(t, DL_PCI_ROM, &b);
	if (b.size) {
		uint32_t rom = cfg_rd(f->cfg, bridge ? PCI_ROM_ADDRESS1 : PCI_ROM_ADDRESS, 4);

		bar_set(&res[6], rom & PCI_ROM_ADDRESS_MASK, b.size,
			IORES_MEM | IORES_PREFETCH | IORES_READONLY | IORES_SIZEALIGN |
				(rom & PCI_ROM_ADDRESS_ENABLE ? IORES_ROM_ENABLE : 0));
	}
	/*
	 * pci_setup_device(): an IDE controller whose channel is in legacy
	 * mode (its programming interface bit clear) has the ISA ports,
	 * whatever BARs 0-3 say.
	 */
	if (!bridge && f->class >> 8 == PCI_CLASS_STORAGE_IDE) {
		if (!(f->class & 0x01)) {
			res_set(&res[0], 0x1f0, 8, LEGACY_IO_RESOURCE);
			res_set(&res[1], 0x3f6, 1, LEGACY_IO_RESOURCE);
		}
		if (!(f->class & 0x04)) {
			res_set(&res[2], 0x170, 8, LEGACY_IO_RESOURCE);
			res_set(&res[3], 0x376, 1, LEGACY_IO_RESOURCE);
		}
	}
}

/*
 * resource_show() in drivers/pci/pci-sysfs.c: one line per resource,
 * the BARs, the ROM and the six SR-IOV resources (CONFIG_PCI_IOV), then
 * for a bridge with a bus behind it (a CardBus bridge too) its four
 * windows; an imported sysfs tree shows its source's own text.
 */
int dl_pci__show_resource(struct dl_pci_func *f, char *buf, size_t len)
{
	const struct dl_pci_tmpl *t = dl_pci_cfg_tmpl(f->cfg);
	bool bridge = f->flags & DL_PCI_F_BRIDGE;
	bool cardbus = (cfg_rd(f->cfg, PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MASK) ==
		       PCI_HEADER_TYPE_CARDBUS;
	struct res_line res[17];
	unsigned int nlines = bridge || cardbus ? 17 : 13;
	struct dl_pci_bar_info b;
	size_t used = 0;

	if (f->resource) {
		size_t n = strlen(f->resource);

		if (n >= len)
			return -ENOSPC;
		memcpy(buf, f->resource, n + 1);
		return (int)n;
	}
	memset(res, 0, sizeof(res));
	if (f->flags & DL_PCI_F_VF) {
		/* A VF's BARs are slices of its PF's VF BARs. */
		struct dl_pci_func *pf = dl_pci_func_of(f->physfn);
		const struct dl_pci_tmpl *pt = pf ? dl_pci_cfg_tmpl(pf->cfg) : NULL;

		for (unsigned int i = 0; pf && pf->sriov && i < 6; i++) {
			uint64_t base;

			if (dl_pci_tmpl_vf_bar(pt, i, &b) < 0 || !b.size)
				continue;
			base = bar_addr(pf->cfg, pf->sriov->cap + PCI_SRIOV_BAR + 4 * i, &b);
			if (base)
				res_set(&res[i], base + (uint64_t)f->vf_index * b.size, b.size,
					bar_ioflags(&b));
		}
	} else {
		own_bars(f, t, bridge, res);
	}
	if (f->sriov) {
		for (unsigned int i = 0; i < 6; i++) {
			if (dl_pci_tmpl_vf_bar(t, i, &b) < 0 || !b.size)
				continue;
			bar_set(&res[7 + i],
				bar_addr(f->cfg, f->sriov->cap + PCI_SRIOV_BAR + 4 * i, &b),
				b.size * f->sriov->total, bar_ioflags(&b));
		}
	}
	if (bridge) {
		uint8_t h[DL_PCI_CFG_HEADER_SIZE];
		uint64_t base, limit;
		unsigned int iot, pft;

		dl_pci_cfg_read(f->cfg, 0, h, sizeof(h));
		iot = h[PCI_IO_BASE] & PCI_IO_RANGE_TYPE_MASK;
		base = (uint64_t)(h[PCI_IO_BASE] & 0xf0) << 8;
		limit = (uint64_t)(h[PCI_IO_LIMIT] & 0xf0) << 8 | 0xfff;
		if (iot == PCI_IO_RANGE_TYPE_32) {
			base |= (uint64_t)get_le16(h + PCI_IO_BASE_UPPER16) << 16;
			limit |= (uint64_t)get_le16(h + PCI_IO_LIMIT_UPPER16) << 16;
		}
		if (base <= limit)
			res_set(&res[13], base, limit - base + 1, IORES_IO | iot);
		base = (uint64_t)(get_le16(h + PCI_MEMORY_BASE) & 0xfff0) << 16;
		limit = (uint64_t)(get_le16(h + PCI_MEMORY_LIMIT) & 0xfff0) << 16 | 0xfffff;
		if (base <= limit)
			res_set(&res[14], base, limit - base + 1, IORES_MEM);
		pft = h[PCI_PREF_MEMORY_BASE] & PCI_PREF_RANGE_TYPE_MASK;
		base = (uint64_t)(get_le16(h + PCI_PREF_MEMORY_BASE) & 0xfff0) << 16;
		limit = (uint64_t)(get_le16(h + PCI_PREF_MEMORY_LIMIT) & 0xfff0) << 16 | 0xfffff;
		if (pft == PCI_PREF_RANGE_TYPE_64) {
			base |= (uint64_t)get_le32(h + PCI_PREF_BASE_UPPER32) << 32;
			limit |= (uint64_t)get_le32(h + PCI_PREF_LIMIT_UPPER32) << 32;
		}
		if (base <= limit)
			res_set(&res[15], base, limit - base + 1,
				IORES_MEM | IORES_PREFETCH | pft |
					(pft == PCI_PREF_RANGE_TYPE_64 ? IORES_MEM_64 : 0));
	}
	for (unsigned int i = 0; i < nlines; i++) {
		int k;

		/* A kernel without CONFIG_PCI_IOV has no IOV resources: its
		 * resource_show() prints 7 lines (11 for a bridge). */
		if (f->no_iov_res && i >= 7 && i < 13)
			continue;
		k = snprintf(buf + used, len - used, "0x%016llx 0x%016llx 0x%016llx\n",
			     (unsigned long long)res[i].start,
			     (unsigned long long)res[i].end,
			     (unsigned long long)res[i].flags);

		if (k < 0 || (size_t)k >= len - used)
			return -ENOSPC;
		used += (size_t)k;
	}
	return (int)used;
}
