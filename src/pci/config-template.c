/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Config-space templates: building one (header, IDs, BARs, raw
 * registers and their masks), sealing it, deriving a VF's template from
 * a PF's, and reading what a sealed one says. Capabilities are added by
 * config-caps.c, templates made from dumps by config-dump.c; instances
 * (a function's registers) are in config-instance.c.
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
/* Template building helpers                                           */

unsigned int dl_pci__nbars(const struct dl_pci_tmpl *t)
{
	switch (t->hdr_type) {
	case PCI_HEADER_TYPE_NORMAL:
		return 6;
	case PCI_HEADER_TYPE_BRIDGE:
		return 2;
	case PCI_HEADER_TYPE_CARDBUS:
		return 1; /* pci_setup_device(): its socket registers */
	default:
		return 0;
	}
}

/*
 * Masks of a BAR-like register at @reg (also the SR-IOV VF BARs): address
 * bits below the size read 0, flag bits are read-only, the rest is RW.
 * With @set_flags the flag bits of the reset value are written too.
 */
void dl_pci__bar_masks(struct dl_pci_tmpl *t, unsigned int reg, uint64_t size,
		      unsigned int flags, bool rom, bool set_flags)
{
	if (rom) {
		tmask(t, reg, 4, ((uint32_t)~(size - 1) & PCI_ROM_ADDRESS_MASK) |
				 PCI_ROM_ADDRESS_ENABLE, 0);
		return;
	}
	if (flags & DL_PCI_BAR_IO) {
		tmask(t, reg, 4, (uint32_t)(~(size - 1) & PCI_BASE_ADDRESS_IO_MASK), 0);
		if (set_flags)
			tset(t, reg, 4, PCI_BASE_ADDRESS_SPACE_IO);
		return;
	}
	uint32_t fl = 0; /* the kind bits, read-only */

	if (flags & DL_PCI_BAR_64)
		fl |= PCI_BASE_ADDRESS_MEM_TYPE_64;
	if (flags & DL_PCI_BAR_PREF)
		fl |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	tmask(t, reg, 4, (uint32_t)(~(size - 1) & PCI_BASE_ADDRESS_MEM_MASK), 0);
	if (set_flags)
		tset(t, reg, 4, fl);
	if (flags & DL_PCI_BAR_64) {
		tmask(t, reg + 4, 4, (uint32_t)(~(size - 1) >> 32), 0);
		if (set_flags)
			tset(t, reg + 4, 4, 0);
	}
}

bool dl_pci__bar_size_ok(uint64_t size, unsigned int flags, bool rom)
{
	if (!is_pow2_u64(size))
		return false;
	if (rom)
		return size >= 2048 && size <= (1ull << 31);
	if (flags & DL_PCI_BAR_IO)
		return !(flags & (DL_PCI_BAR_64 | DL_PCI_BAR_PREF)) && size >= 4 &&
		       size <= 256;
	if (flags & DL_PCI_BAR_64)
		return size >= 16 && size <= (1ull << 63);
	return size >= 16 && size <= (1ull << 31);
}

/* The architected masks of the standard header; @set_defaults also
 * writes the reset values a fresh bridge has (closed windows). */
void dl_pci__header_masks(struct dl_pci_tmpl *t, bool set_defaults)
{
	tmask(t, PCI_COMMAND, 2,
	      PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		      PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
		      PCI_COMMAND_INTX_DISABLE,
	      0);
	tmask(t, PCI_STATUS, 2, 0,
	      PCI_STATUS_DETECTED_PARITY | PCI_STATUS_SIG_SYSTEM_ERROR |
		      PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_REC_TARGET_ABORT |
		      PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_PARITY);
	tmask(t, PCI_CACHE_LINE_SIZE, 1, 0xff, 0);
	tmask(t, PCI_LATENCY_TIMER, 1, 0xff, 0);
	tmask(t, PCI_INTERRUPT_LINE, 1, 0xff, 0);
	if (t->hdr_type != PCI_HEADER_TYPE_BRIDGE)
		return;

	tmask(t, PCI_PRIMARY_BUS, 1, 0xff, 0);
	tmask(t, PCI_SECONDARY_BUS, 1, 0xff, 0);
	tmask(t, PCI_SUBORDINATE_BUS, 1, 0xff, 0);
	tmask(t, PCI_SEC_LATENCY_TIMER, 1, 0xff, 0);
	tmask(t, PCI_IO_BASE, 1, PCI_IO_RANGE_MASK & 0xff, 0);
	tmask(t, PCI_IO_LIMIT, 1, PCI_IO_RANGE_MASK & 0xff, 0);
	tmask(t, PCI_SEC_STATUS, 2, 0,
	      PCI_STATUS_DETECTED_PARITY | PCI_STATUS_SIG_SYSTEM_ERROR |
		      PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_REC_TARGET_ABORT |
		      PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_PARITY);
	tmask(t, PCI_MEMORY_BASE, 2, PCI_MEMORY_RANGE_MASK & 0xffff, 0);
	tmask(t, PCI_MEMORY_LIMIT, 2, PCI_MEMORY_RANGE_MASK & 0xffff, 0);
	tmask(t, PCI_PREF_MEMORY_BASE, 2, PCI_PREF_RANGE_MASK & 0xffff, 0);
	tmask(t, PCI_PREF_MEMORY_LIMIT, 2, PCI_PREF_RANGE_MASK & 0xffff, 0);
	tmask(t, PCI_BRIDGE_CONTROL, 2,
	      PCI_BRIDGE_CTL_PARITY | PCI_BRIDGE_CTL_SERR | PCI_BRIDGE_CTL_ISA |
		      PCI_BRIDGE_CTL_VGA | 0x10 /* VGA 16-bit decode */ |
		      PCI_BRIDGE_CTL_BUS_RESET,
	      0);
	if (set_defaults) {
		/* 32-bit I/O and 64-bit prefetchable decode, windows closed. */
		tset(t, PCI_IO_BASE, 1, 0xf0 | PCI_IO_RANGE_TYPE_32);
		tset(t, PCI_IO_LIMIT, 1, PCI_IO_RANGE_TYPE_32);
		tset(t, PCI_MEMORY_BASE, 2, 0xfff0);
		tset(t, PCI_MEMORY_LIMIT, 2, 0);
		tset(t, PCI_PREF_MEMORY_BASE, 2, 0xfff0 | PCI_PREF_RANGE_TYPE_64);
		tset(t, PCI_PREF_MEMORY_LIMIT, 2, PCI_PREF_RANGE_TYPE_64);
	}
	if ((t->data[PCI_IO_BASE] & PCI_IO_RANGE_TYPE_MASK) == PCI_IO_RANGE_TYPE_32) {
		tmask(t, PCI_IO_BASE_UPPER16, 2, 0xffff, 0);
		tmask(t, PCI_IO_LIMIT_UPPER16, 2, 0xffff, 0);
	}
	if ((t->data[PCI_PREF_MEMORY_BASE] & PCI_PREF_RANGE_TYPE_MASK) ==
	    PCI_PREF_RANGE_TYPE_64) {
		tmask(t, PCI_PREF_BASE_UPPER32, 4, 0xffffffff, 0);
		tmask(t, PCI_PREF_LIMIT_UPPER32, 4, 0xffffffff, 0);
	}
}

struct dl_pci_tmpl *dl_pci__tmpl_alloc(unsigned int hdr_type, bool extended)
{
	struct dl_pci_tmpl *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	atomic_init(&t->refs, 1);
	t->hdr_type = (uint8_t)hdr_type;
	t->extended = extended;
	t->cap_free = DL_PCI_CFG_HEADER_SIZE;
	t->ext_free = extended ? DL_PCI_CFG_LEGACY_SIZE : DL_PCI_CFG_SIZE;
	return t;
}

int dl_pci_tmpl_new(unsigned int header_type, bool extended,
		    struct dl_pci_tmpl **ret)
{
	unsigned int type = header_type & PCI_HEADER_TYPE_MASK;
	struct dl_pci_tmpl *t;

	assert_return(ret, -EINVAL);
	assert_return(!(header_type & ~0xffu), -EINVAL);
	assert_return(type == PCI_HEADER_TYPE_NORMAL ||
			      type == PCI_HEADER_TYPE_BRIDGE,
		      -EINVAL);

	t = dl_pci__tmpl_alloc(type, extended);
	if (!t)
		return -ENOMEM;
	t->data[PCI_HEADER_TYPE] = (uint8_t)header_type;
	dl_pci__header_masks(t, true);
	*ret = t;
	return 0;
}

struct dl_pci_tmpl *dl_pci_tmpl_get(struct dl_pci_tmpl *t)
{
	if (t)
		atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
	return t;
}

struct dl_pci_tmpl *dl_pci_tmpl_put(struct dl_pci_tmpl *t)
{
	/* acq_rel: the last put sees every instance's use of the template */
	if (t && atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
		free(t);
	return NULL;
}

int dl_pci_tmpl_set(struct dl_pci_tmpl *t, unsigned int off, unsigned int width,
		    uint32_t val)
{
	assert_return(t && width_ok(width) && range_ok(off, width), -EINVAL);
	assert_return(!t->sealed, -EPERM);
	tset(t, off, width, val);
	return 0;
}

int dl_pci_tmpl_set_mask(struct dl_pci_tmpl *t, unsigned int off,
			 unsigned int width, uint32_t wmask, uint32_t w1c)
{
	assert_return(t && width_ok(width) && range_ok(off, width), -EINVAL);
	assert_return(!t->sealed, -EPERM);
	tmask(t, off, width, wmask, w1c);
	return 0;
}

int dl_pci_tmpl_set_volatile(struct dl_pci_tmpl *t, unsigned int off,
			     unsigned int len)
{
	assert_return(t && range_ok(off, len), -EINVAL);
	assert_return(!t->sealed, -EPERM);
	tvolatile(t, off, len);
	return 0;
}

int dl_pci_tmpl_set_ids(struct dl_pci_tmpl *t, uint16_t vendor, uint16_t device,
			uint32_t class, uint8_t rev, uint16_t subvendor,
			uint16_t subdevice)
{
	assert_return(t && class <= 0xffffff, -EINVAL);
	assert_return(!t->sealed, -EPERM);
	tset(t, PCI_VENDOR_ID, 2, vendor);
	tset(t, PCI_DEVICE_ID, 2, device);
	tset(t, PCI_CLASS_REVISION, 4, class << 8 | rev);
	if (t->hdr_type == PCI_HEADER_TYPE_NORMAL) {
		tset(t, PCI_SUBSYSTEM_VENDOR_ID, 2, subvendor);
		tset(t, PCI_SUBSYSTEM_ID, 2, subdevice);
	}
	return 0;
}

int dl_pci_tmpl_set_bar(struct dl_pci_tmpl *t, unsigned int bar, uint64_t size,
			unsigned int flags)
{
	bool rom = bar == DL_PCI_ROM;

	assert_return(t, -EINVAL);
	assert_return(!t->sealed, -EPERM);
	assert_return(rom || bar < dl_pci__nbars(t), -EINVAL);
	if (rom)
		flags = 0;
	assert_return(!(flags & ~(DL_PCI_BAR_IO | DL_PCI_BAR_64 | DL_PCI_BAR_PREF)),
		      -EINVAL);
	assert_return(dl_pci__bar_size_ok(size, flags, rom), -EINVAL);
	if (!rom) {
		/* the slot must not be the upper half of a 64-bit BAR ... */
		if (bar > 0 && (t->bars[bar - 1].flags & DL_PCI_BAR_64) &&
		    t->bars[bar - 1].size)
			return -EINVAL;
		/* ... and a 64-bit BAR needs a free slot above it */
		if (flags & DL_PCI_BAR_64) {
			if (bar + 1 >= dl_pci__nbars(t) || t->bars[bar + 1].size)
				return -EINVAL;
		}
	}
	dl_pci__bar_masks(t, bar_reg(t, bar), size, flags, rom, true);
	t->bars[bar].size = size;
	t->bars[bar].flags = flags;
	return 0;
}

int dl_pci_tmpl_add_cap(struct dl_pci_tmpl *t, unsigned int id,
			unsigned int len, unsigned int *ret_off)
{
	unsigned int off;

	assert_return(t && id && id <= 0xff && len >= 2 && len <= 0xc0, -EINVAL);
	assert_return(ret_off, -EINVAL);
	assert_return(!t->sealed, -EPERM);
	assert_return(t->hdr_type <= PCI_HEADER_TYPE_BRIDGE, -EINVAL);

	off = (t->cap_free + 3) & ~3u;
	if (off < DL_PCI_CFG_HEADER_SIZE)
		off = DL_PCI_CFG_HEADER_SIZE;
	if (off + len > DL_PCI_CFG_LEGACY_SIZE)
		return -ENOSPC;

	memset(t->data + off, 0, len);
	memset(t->wmask + off, 0, len);
	memset(t->w1c + off, 0, len);
	t->data[off] = (uint8_t)id;
	t->data[off + 1] = 0;
	if (t->cap_last)
		t->data[t->cap_last + 1] = (uint8_t)off;
	else
		t->data[PCI_CAPABILITY_LIST] = (uint8_t)off;
	t->data[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	t->cap_last = off;
	t->cap_free = off + len;
	*ret_off = off;
	return 0;
}

int dl_pci_tmpl_add_ext_cap(struct dl_pci_tmpl *t, unsigned int id,
			    unsigned int version, unsigned int len,
			    unsigned int *ret_off)
{
	unsigned int off;

	assert_return(t && id && id <= 0xffff && version <= 0xf, -EINVAL);
	assert_return(len >= 4 && len <= DL_PCI_CFG_SIZE - DL_PCI_CFG_LEGACY_SIZE,
		      -EINVAL);
	assert_return(ret_off, -EINVAL);
	assert_return(!t->sealed, -EPERM);
	assert_return(t->extended, -EINVAL);

	off = (t->ext_free + 3) & ~3u;
	if (off + len > DL_PCI_CFG_SIZE)
		return -ENOSPC;
	memset(t->data + off, 0, len);
	memset(t->wmask + off, 0, len);
	memset(t->w1c + off, 0, len);
	tset(t, off, 4, id | version << 16);
	if (t->ext_last) {
		uint32_t h = tget(t, t->ext_last, 4);

		tset(t, t->ext_last, 4, (h & 0xfffff) | (uint32_t)off << 20);
	}
	t->ext_last = off;
	t->ext_free = off + len;
	*ret_off = off;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sealing, VF templates, accessors                                    */

int dl_pci_tmpl_seal(struct dl_pci_tmpl *t)
{
	unsigned int n = 0;

	assert_return(t, -EINVAL);
	if (t->sealed)
		return 0;
	for (unsigned int d = 0; d < NDWORDS; d++) {
		bool keep = false;

		for (unsigned int i = 4 * d; i < 4 * d + 4; i++)
			if (t->wmask[i] || t->w1c[i] || (t->vol[i / 8] & (1u << (i % 8))))
				keep = true;
		if (!t->extended && d >= DL_PCI_CFG_LEGACY_SIZE / 4)
			keep = false;
		t->ov_slot[d] = keep ? (uint16_t)n++ : OV_NONE;
	}
	t->nov = n;
	t->sealed = true;
	return 0;
}

static void copy_cap_body(struct dl_pci_tmpl *dst, unsigned int doff,
			  const struct dl_pci_tmpl *src, unsigned int soff,
			  unsigned int hdr, unsigned int len)
{
	memcpy(dst->data + doff + hdr, src->data + soff + hdr, len - hdr);
	memcpy(dst->wmask + doff + hdr, src->wmask + soff + hdr, len - hdr);
	memcpy(dst->w1c + doff + hdr, src->w1c + soff + hdr, len - hdr);
	for (unsigned int i = hdr; i < len; i++)
		if (src->vol[(soff + i) / 8] & (1u << ((soff + i) % 8)))
			tvolatile(dst, doff + i, 1);
}

int dl_pci_tmpl_derive_vf(const struct dl_pci_tmpl *pf, struct dl_pci_tmpl **ret)
{
	struct dl_pci_tmpl *vf;
	unsigned int pos, off;
	int ttl, r = 0;

	assert_return(pf && ret, -EINVAL);
	assert_return(pf->sriov_off, -EINVAL);

	r = dl_pci_tmpl_new(PCI_HEADER_TYPE_NORMAL, pf->extended, &vf);
	if (r < 0)
		return r;
	r = dl_pci_tmpl_set_ids(vf, 0xffff, 0xffff, tget(pf, PCI_CLASS_REVISION, 4) >> 8,
				pf->data[PCI_REVISION_ID],
				(uint16_t)tget(pf, PCI_SUBSYSTEM_VENDOR_ID, 2),
				(uint16_t)tget(pf, PCI_SUBSYSTEM_ID, 2));
	if (r < 0)
		goto fail;
	/* VFs: no I/O or memory decode of their own (VF MSE lives in the PF),
	 * no INTx, no cache line or latency timer. */
	tmask(vf, PCI_COMMAND, 2,
	      PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR, 0);
	tmask(vf, PCI_CACHE_LINE_SIZE, 1, 0, 0);
	tmask(vf, PCI_LATENCY_TIMER, 1, 0, 0);
	tmask(vf, PCI_INTERRUPT_LINE, 1, 0, 0);

	/* Standard capabilities in the PF's order. */
	if (pf->data[PCI_STATUS] & PCI_STATUS_CAP_LIST) {
		pos = pf->data[PCI_CAPABILITY_LIST];
		for (ttl = CAP_TTL; ttl > 0; ttl--) {
			unsigned int id, len;

			pos &= ~3u;
			if (pos < DL_PCI_CFG_HEADER_SIZE || pos > DL_PCI_CFG_LEGACY_SIZE - 4)
				break;
			id = pf->data[pos];
			len = dl_pci__std_cap_len(pf->data, pos);
			if (len && pos + len <= DL_PCI_CFG_LEGACY_SIZE &&
			    (id == PCI_CAP_ID_PM || id == PCI_CAP_ID_MSI ||
			     id == PCI_CAP_ID_MSIX || id == PCI_CAP_ID_EXP ||
			     id == PCI_CAP_ID_VNDR)) {
				r = dl_pci_tmpl_add_cap(vf, id, len, &off);
				if (r < 0)
					goto fail;
				copy_cap_body(vf, off, pf, pos, 2, len);
			}
			pos = pf->data[pos + PCI_CAP_LIST_NEXT];
		}
	}
	if (pf->extended) {
		pos = DL_PCI_CFG_LEGACY_SIZE;
		for (ttl = EXT_CAP_TTL; ttl > 0; ttl--) {
			uint32_t h = tget(pf, pos, 4);
			unsigned int id = h & 0xffff, len;

			if (h == 0 || h == 0xffffffff)
				break;
			len = dl_pci__ext_cap_len(pf->data, pos);
			if (len && pos + len <= DL_PCI_CFG_SIZE &&
			    (id == PCI_EXT_CAP_ID_ERR || id == PCI_EXT_CAP_ID_ARI ||
			     id == PCI_EXT_CAP_ID_DSN)) {
				r = dl_pci_tmpl_add_ext_cap(vf, id, PCI_EXT_CAP_VER(h), len,
							    &off);
				if (r < 0)
					goto fail;
				copy_cap_body(vf, off, pf, pos, 4, len);
			}
			pos = PCI_EXT_CAP_NEXT(h);
			if (pos < DL_PCI_CFG_LEGACY_SIZE || pos > DL_PCI_CFG_SIZE - 4)
				break;
		}
	}
	dl_pci_tmpl_seal(vf);
	*ret = vf;
	return 0;
fail:
	dl_pci_tmpl_put(vf);
	return r;
}

int dl_pci_tmpl_bar(const struct dl_pci_tmpl *t, unsigned int bar,
		    struct dl_pci_bar_info *ret)
{
	assert_return(t && ret && bar <= DL_PCI_ROM, -EINVAL);
	*ret = t->bars[bar];
	return 0;
}

int dl_pci_tmpl_vf_bar(const struct dl_pci_tmpl *t, unsigned int bar,
		       struct dl_pci_bar_info *ret)
{
	assert_return(t && ret && bar < PCI_SRIOV_NUM_BARS, -EINVAL);
	if (!t->sriov_off)
		return -ENOENT;
	*ret = t->vf_bars[bar];
	return 0;
}

unsigned int dl_pci_tmpl_config_size(const struct dl_pci_tmpl *t)
{
	return t->extended ? DL_PCI_CFG_SIZE : DL_PCI_CFG_LEGACY_SIZE;
}

unsigned int dl_pci_tmpl_overlay_size(const struct dl_pci_tmpl *t)
{
	return t && t->sealed ? 4 * t->nov : 0;
}
