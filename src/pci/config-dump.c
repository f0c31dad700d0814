/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Templates from config-space dumps (lspci -xxxx, sysfs config): the
 * bytes as reset values, BAR sizes inferred from their addresses, and
 * the masks the capabilities found in the bytes imply.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>

#include "config-internal.h"
#include "config.h"
#include "internal.h"

/* ------------------------------------------------------------------ */
/* Templates from dumps                                                */

static uint64_t estimate_size(uint64_t addr, bool io)
{
	uint64_t max = io ? EST_IO_MAX : EST_MEM_MAX;
	uint64_t low = addr & (~addr + 1); /* lowest set bit */

	if (!low || low > max)
		return max;
	if (!io && low < 16)
		return 16;
	if (io && low < 4)
		return 4;
	return low;
}

/* Infer a BAR-like register's size and flags from its reset value. */
static void infer_bar(struct dl_pci_tmpl *t, unsigned int reg, unsigned int slot,
		      unsigned int nslots, bool known, uint64_t hint,
		      struct dl_pci_bar_info *ret, bool vf)
{
	uint32_t lo = tget(t, reg, 4);
	struct dl_pci_bar_info b = { 0, 0 };
	uint64_t addr;

	if (lo & PCI_BASE_ADDRESS_SPACE_IO) {
		if (vf)
			goto out; /* VF BARs are memory only */
		b.flags = DL_PCI_BAR_IO;
		addr = lo & PCI_BASE_ADDRESS_IO_MASK;
	} else {
		uint32_t type = lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK;

		if (type == PCI_BASE_ADDRESS_MEM_TYPE_64 && slot + 1 < nslots)
			b.flags |= DL_PCI_BAR_64;
		if (lo & PCI_BASE_ADDRESS_MEM_PREFETCH)
			b.flags |= DL_PCI_BAR_PREF;
		addr = lo & PCI_BASE_ADDRESS_MEM_MASK;
		if (b.flags & DL_PCI_BAR_64)
			addr |= (uint64_t)tget(t, reg + 4, 4) << 32;
	}
	if (known)
		b.size = hint;
	else if (lo == 0 && !((b.flags & DL_PCI_BAR_64) && tget(t, reg + 4, 4)))
		b.size = 0;
	else
		b.size = estimate_size(addr, b.flags & DL_PCI_BAR_IO);
	if (b.size && !dl_pci__bar_size_ok(b.size, b.flags, false) &&
	    !(known && (b.flags & DL_PCI_BAR_IO) && is_pow2_u64(b.size) && b.size <= 65536))
		/* a real device's I/O BAR may exceed the spec's 256 bytes:
		 * the kernel sizes it up to IO_SPACE_LIMIT (64K) */
		b.size = estimate_size(addr, b.flags & DL_PCI_BAR_IO);
	if (b.size)
		dl_pci__bar_masks(t, reg, b.size, b.flags, false, false);
out:
	*ret = b;
}

struct import_ctx {
	struct dl_pci_tmpl *t;
	const struct dl_pci_tmpl_hints *hints;
	unsigned int last;
	unsigned int end;
};

static void import_std_cap(const uint8_t *d, unsigned int off, void *arg)
{
	struct import_ctx *ctx = arg;
	unsigned int len = dl_pci__std_cap_len(d, off);

	switch (d[off]) {
	case PCI_CAP_ID_PM:
		dl_pci__pm_masks(ctx->t, off);
		break;
	case PCI_CAP_ID_MSI:
		dl_pci__msi_masks(ctx->t, off);
		break;
	case PCI_CAP_ID_MSIX:
		dl_pci__msix_masks(ctx->t, off);
		break;
	case PCI_CAP_ID_EXP:
		dl_pci__pcie_masks(ctx->t, off);
		break;
	}
	ctx->last = off;
	if (!len || off + len > ctx->end)
		ctx->end = len ? off + len : DL_PCI_CFG_LEGACY_SIZE;
}

static void import_ext_cap(const uint8_t *d, unsigned int off, void *arg)
{
	struct import_ctx *ctx = arg;
	struct dl_pci_tmpl *t = ctx->t;
	unsigned int len = dl_pci__ext_cap_len(d, off);

	switch (get_le16(d + off)) {
	case PCI_EXT_CAP_ID_SRIOV:
		if (t->sriov_off || t->hdr_type != PCI_HEADER_TYPE_NORMAL ||
		    off + PCI_EXT_CAP_SRIOV_SIZEOF > DL_PCI_CFG_SIZE)
			break;
		t->sriov_off = off;
		for (unsigned int i = 0; i < PCI_SRIOV_NUM_BARS; i++) {
			bool known = ctx->hints && (ctx->hints->known & (1u << (8 + i)));

			if (i > 0 && (t->vf_bars[i - 1].flags & DL_PCI_BAR_64) &&
			    t->vf_bars[i - 1].size)
				continue;
			infer_bar(t, off + PCI_SRIOV_BAR + 4 * i, i, PCI_SRIOV_NUM_BARS,
				  known, known ? ctx->hints->vf_bar_size[i] : 0,
				  &t->vf_bars[i], true);
		}
		dl_pci__sriov_masks(t, off);
		break;
	case PCI_EXT_CAP_ID_ERR: {
		/* root ports also have the Root Error registers */
		unsigned int aer_len = PCI_ERR_ROOT_COMMAND;
		unsigned int pcie = dl_pci__find_std_cap_raw(t->data, PCI_CAP_ID_EXP);

		if (pcie && ((get_le16(t->data + pcie + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_TYPE) >>
			     4) == PCI_EXP_TYPE_ROOT_PORT)
			aer_len = PCI_ERR_ROOT_ERR_SRC + 4;
		if (off + aer_len <= DL_PCI_CFG_SIZE)
			dl_pci__aer_masks(t, off, aer_len);
		break;
	}
	}
	ctx->last = off;
	if (!len || off + len > ctx->end)
		ctx->end = len ? off + len : DL_PCI_CFG_SIZE;
}

int dl_pci_tmpl_new_from_bytes(const void *bytes, size_t len,
			       const struct dl_pci_tmpl_hints *hints,
			       struct dl_pci_tmpl **ret)
{
	const uint8_t *b = bytes;
	struct dl_pci_tmpl *t;
	unsigned int type, n;
	bool extended;

	assert_return(bytes && ret, -EINVAL);
	assert_return(len >= DL_PCI_CFG_HEADER_SIZE && len <= DL_PCI_CFG_SIZE, -EINVAL);
	type = b[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK;
	assert_return(type <= PCI_HEADER_TYPE_CARDBUS, -EINVAL);
	if (hints && hints->config_size) {
		assert_return(hints->config_size == DL_PCI_CFG_SIZE ||
				      (hints->config_size == DL_PCI_CFG_LEGACY_SIZE &&
				       len <= DL_PCI_CFG_LEGACY_SIZE),
			      -EINVAL);
		extended = hints->config_size == DL_PCI_CFG_SIZE;
	} else {
		extended = len > DL_PCI_CFG_LEGACY_SIZE;
	}

	t = dl_pci__tmpl_alloc(type, extended);
	if (!t)
		return -ENOMEM;
	memcpy(t->data, b, len);
	if (len < DL_PCI_CFG_LEGACY_SIZE) {
		/* The capabilities were not readable: keep the chain
		 * consistent by having none. */
		t->data[PCI_STATUS] &= (uint8_t)~PCI_STATUS_CAP_LIST;
		if (type == PCI_HEADER_TYPE_CARDBUS)
			t->data[PCI_CB_CAPABILITY_LIST] = 0;
		else
			t->data[PCI_CAPABILITY_LIST] = 0;
	}
	dl_pci__header_masks(t, false);

	n = dl_pci__nbars(t);
	for (unsigned int i = 0; i < n; i++) {
		bool known = hints && (hints->known & (1u << i));

		if (i > 0 && (t->bars[i - 1].flags & DL_PCI_BAR_64) && t->bars[i - 1].size)
			continue;
		infer_bar(t, bar_reg(t, i), i, n, known, known ? hints->bar_size[i] : 0,
			  &t->bars[i], false);
	}
	if (type != PCI_HEADER_TYPE_CARDBUS) {
		unsigned int reg = bar_reg(t, DL_PCI_ROM);
		uint32_t rom = tget(t, reg, 4);
		uint64_t size = 0;

		if (hints && (hints->known & (1u << DL_PCI_ROM)))
			size = hints->bar_size[DL_PCI_ROM];
		else if (rom & PCI_ROM_ADDRESS_MASK)
			size = estimate_size(rom & PCI_ROM_ADDRESS_MASK, false);
		if (size && size < 2048)
			size = 2048;
		if (size && dl_pci__bar_size_ok(size, 0, true)) {
			dl_pci__bar_masks(t, reg, size, 0, true, false);
			t->bars[DL_PCI_ROM].size = size;
		}
	}

	if (len >= DL_PCI_CFG_LEGACY_SIZE && type != PCI_HEADER_TYPE_CARDBUS) {
		struct import_ctx ctx = { t, hints, 0, 0x40 };

		dl_pci__walk_std_caps(t->data, import_std_cap, &ctx);
		t->cap_last = ctx.last;
		t->cap_free = ctx.end;
		if (t->extended) {
			ctx.last = 0;
			ctx.end = DL_PCI_CFG_LEGACY_SIZE;
			dl_pci__walk_ext_caps(t->data, import_ext_cap, &ctx);
			t->ext_last = ctx.last;
			t->ext_free = ctx.end;
		}
	} else {
		/* no room for capabilities in a CardBus header we do not model */
		if (type == PCI_HEADER_TYPE_CARDBUS)
			t->cap_free = DL_PCI_CFG_LEGACY_SIZE;
	}
	*ret = t;
	return 0;
}
