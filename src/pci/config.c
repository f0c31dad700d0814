/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI configuration space: shared read-only templates and small
 * per-function overlays. See config.h for the model.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>

#include "config.h"
#include "internal.h"

#define NDWORDS (DL_PCI_CFG_SIZE / 4)
#define OV_NONE 0xffffu

/* How many hops a capability walk takes before it calls the list broken. */
#define CAP_TTL 48
#define EXT_CAP_TTL ((DL_PCI_CFG_SIZE - DL_PCI_CFG_LEGACY_SIZE) / 8)

/* Estimated BAR sizes are capped here (see struct dl_pci_tmpl_hints). */
#define EST_MEM_MAX (256ull << 20)
#define EST_IO_MAX 256ull

struct dl_pci_tmpl {
	atomic_long refs;
	/*
	 * Everything below is written only by the builder, before
	 * dl_pci_tmpl_seal(); a sealed template is immutable and read
	 * without locks by every instance that shares it.
	 */
	bool sealed;
	bool extended;
	uint8_t hdr_type;           /* without the multi-function bit */
	unsigned int cap_free;      /* next free standard-cap offset */
	unsigned int cap_last;      /* last standard cap, 0 if none */
	unsigned int ext_free;      /* next free extended-cap offset */
	unsigned int ext_last;      /* last extended cap, 0 if none */
	unsigned int sriov_off;     /* SR-IOV capability, 0 if none */
	struct dl_pci_bar_info bars[7];
	struct dl_pci_bar_info vf_bars[6];
	unsigned int nov;           /* overlay dwords (set by seal) */
	uint16_t ov_slot[NDWORDS];  /* dword -> overlay slot or OV_NONE */
	uint8_t vol[DL_PCI_CFG_SIZE / 8]; /* volatile bytes, a bitmap */
	uint8_t data[DL_PCI_CFG_SIZE];    /* reset values */
	uint8_t wmask[DL_PCI_CFG_SIZE];   /* RW bits */
	uint8_t w1c[DL_PCI_CFG_SIZE];     /* RW1C bits */
};

struct dl_pci_cfg {
	struct dl_pci_tmpl *tmpl;   /* written once; holds a reference */
	pthread_mutex_t lock;       /* protects ov[]; a leaf lock */
	uint8_t ov[];               /* 4 * tmpl->nov bytes; under lock */
};

/* ------------------------------------------------------------------ */
/* Template building helpers                                           */

static bool range_ok(unsigned int off, size_t len)
{
	return off <= DL_PCI_CFG_SIZE && len <= DL_PCI_CFG_SIZE - off;
}

static bool width_ok(unsigned int width)
{
	return width == 1 || width == 2 || width == 4;
}

static void tset(struct dl_pci_tmpl *t, unsigned int off, unsigned int width,
		 uint32_t val)
{
	for (unsigned int i = 0; i < width; i++)
		t->data[off + i] = (uint8_t)(val >> (8 * i));
}

static uint32_t tget(const struct dl_pci_tmpl *t, unsigned int off,
		     unsigned int width)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < width; i++)
		v |= (uint32_t)t->data[off + i] << (8 * i);
	return v;
}

static void tmask(struct dl_pci_tmpl *t, unsigned int off, unsigned int width,
		  uint32_t wmask, uint32_t w1c)
{
	wmask &= ~w1c;
	for (unsigned int i = 0; i < width; i++) {
		t->wmask[off + i] = (uint8_t)(wmask >> (8 * i));
		t->w1c[off + i] = (uint8_t)(w1c >> (8 * i));
	}
}

static void tvolatile(struct dl_pci_tmpl *t, unsigned int off,
		      unsigned int len)
{
	for (unsigned int i = off; i < off + len; i++)
		t->vol[i / 8] |= (uint8_t)(1u << (i % 8));
}

static unsigned int bar_reg(const struct dl_pci_tmpl *t, unsigned int bar)
{
	if (bar == DL_PCI_ROM)
		return t->hdr_type == PCI_HEADER_TYPE_BRIDGE ? PCI_ROM_ADDRESS1
							     : PCI_ROM_ADDRESS;
	return PCI_BASE_ADDRESS_0 + 4 * bar;
}

static unsigned int nbars(const struct dl_pci_tmpl *t)
{
	switch (t->hdr_type) {
	case PCI_HEADER_TYPE_NORMAL:
		return 6;
	case PCI_HEADER_TYPE_BRIDGE:
		return 2;
	default:
		return 0;
	}
}

/*
 * Masks of a BAR-like register at @reg (also the SR-IOV VF BARs): address
 * bits below the size read 0, flag bits are read-only, the rest is RW.
 * With @set_flags the flag bits of the reset value are written too.
 */
static void bar_masks(struct dl_pci_tmpl *t, unsigned int reg, uint64_t size,
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

static bool bar_size_ok(uint64_t size, unsigned int flags, bool rom)
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
static void header_masks(struct dl_pci_tmpl *t, bool set_defaults)
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

static struct dl_pci_tmpl *tmpl_alloc(unsigned int hdr_type, bool extended)
{
	struct dl_pci_tmpl *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	atomic_init(&t->refs, 1);
	t->hdr_type = (uint8_t)hdr_type;
	t->extended = extended;
	t->cap_free = 0x40;
	t->ext_free = extended ? DL_PCI_CFG_LEGACY_SIZE : DL_PCI_CFG_SIZE;
	return t;
}

int dl_pci_tmpl_new(unsigned int header_type, bool extended,
		    struct dl_pci_tmpl **ret)
{
	unsigned int type = header_type & 0x7f;
	struct dl_pci_tmpl *t;

	assert_return(ret, -EINVAL);
	assert_return(!(header_type & ~0xffu), -EINVAL);
	assert_return(type == PCI_HEADER_TYPE_NORMAL ||
			      type == PCI_HEADER_TYPE_BRIDGE,
		      -EINVAL);

	t = tmpl_alloc(type, extended);
	if (!t)
		return -ENOMEM;
	t->data[PCI_HEADER_TYPE] = (uint8_t)header_type;
	header_masks(t, true);
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
	assert_return(rom || bar < nbars(t), -EINVAL);
	if (rom)
		flags = 0;
	assert_return(!(flags & ~(DL_PCI_BAR_IO | DL_PCI_BAR_64 | DL_PCI_BAR_PREF)),
		      -EINVAL);
	assert_return(bar_size_ok(size, flags, rom), -EINVAL);
	if (!rom) {
		/* the slot must not be the upper half of a 64-bit BAR ... */
		if (bar > 0 && (t->bars[bar - 1].flags & DL_PCI_BAR_64) &&
		    t->bars[bar - 1].size)
			return -EINVAL;
		/* ... and a 64-bit BAR needs a free slot above it */
		if (flags & DL_PCI_BAR_64) {
			if (bar + 1 >= nbars(t) || t->bars[bar + 1].size)
				return -EINVAL;
		}
	}
	bar_masks(t, bar_reg(t, bar), size, flags, rom, true);
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
	if (off < 0x40)
		off = 0x40;
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
/* Standard capabilities: masks (shared with the dump importer) and    */
/* builders                                                            */

static void pm_masks(struct dl_pci_tmpl *t, unsigned int off)
{
	tmask(t, off + PCI_PM_CTRL, 2,
	      PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_ENABLE,
	      PCI_PM_CTRL_PME_STATUS);
}

int dl_pci_tmpl_add_pm(struct dl_pci_tmpl *t, unsigned int *ret_off)
{
	unsigned int off;
	int r;

	r = dl_pci_tmpl_add_cap(t, PCI_CAP_ID_PM, PCI_PM_SIZEOF, &off);
	if (r < 0)
		return r;
	tset(t, off + PCI_PM_PMC, 2,
	     3 | PCI_PM_CAP_PME_D0 | PCI_PM_CAP_PME_D3hot | PCI_PM_CAP_PME_D3cold);
	tset(t, off + PCI_PM_CTRL, 2, PCI_PM_CTRL_NO_SOFT_RESET);
	pm_masks(t, off);
	if (ret_off)
		*ret_off = off;
	return 0;
}

static unsigned int msi_len(uint16_t flags)
{
	unsigned int len = (flags & PCI_MSI_FLAGS_64BIT) ? 14 : 10;

	if (flags & PCI_MSI_FLAGS_MASKBIT)
		len = (flags & PCI_MSI_FLAGS_64BIT) ? 24 : 20;
	return len;
}

static void msi_masks(struct dl_pci_tmpl *t, unsigned int off)
{
	uint16_t flags = (uint16_t)tget(t, off + PCI_MSI_FLAGS, 2);
	bool is64 = flags & PCI_MSI_FLAGS_64BIT;
	unsigned int nvec = 1u << ((flags & PCI_MSI_FLAGS_QMASK) >> 1);
	unsigned int data = off + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);

	tmask(t, off + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE,
	      0);
	tmask(t, off + PCI_MSI_ADDRESS_LO, 4, 0xfffffffc, 0);
	if (is64)
		tmask(t, off + PCI_MSI_ADDRESS_HI, 4, 0xffffffff, 0);
	tmask(t, data, 2, 0xffff, 0);
	if (flags & PCI_MSI_FLAGS_MASKBIT) {
		unsigned int mask = off + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);

		if (nvec > 32)
			nvec = 32;
		tmask(t, mask, 4, nvec == 32 ? 0xffffffff : (1u << nvec) - 1, 0);
	}
}

int dl_pci_tmpl_add_msi(struct dl_pci_tmpl *t, unsigned int nvec, bool addr64,
			bool maskable, unsigned int *ret_off)
{
	unsigned int off, log2 = 0;
	uint16_t flags;
	int r;

	assert_return(nvec >= 1 && nvec <= 32 && !(nvec & (nvec - 1)), -EINVAL);
	while ((1u << log2) < nvec)
		log2++;
	flags = (uint16_t)(log2 << 1);
	if (addr64)
		flags |= PCI_MSI_FLAGS_64BIT;
	if (maskable)
		flags |= PCI_MSI_FLAGS_MASKBIT;
	r = dl_pci_tmpl_add_cap(t, PCI_CAP_ID_MSI, msi_len(flags), &off);
	if (r < 0)
		return r;
	tset(t, off + PCI_MSI_FLAGS, 2, flags);
	msi_masks(t, off);
	if (ret_off)
		*ret_off = off;
	return 0;
}

static void msix_masks(struct dl_pci_tmpl *t, unsigned int off)
{
	tmask(t, off + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL,
	      0);
}

int dl_pci_tmpl_add_msix(struct dl_pci_tmpl *t, unsigned int nvec,
			 unsigned int table_bir, uint32_t table_off,
			 unsigned int pba_bir, uint32_t pba_off,
			 unsigned int *ret_off)
{
	unsigned int off;
	int r;

	assert_return(nvec >= 1 && nvec <= 2048, -EINVAL);
	assert_return(table_bir < 6 && pba_bir < 6, -EINVAL);
	assert_return(!(table_off & 7) && !(pba_off & 7), -EINVAL);
	r = dl_pci_tmpl_add_cap(t, PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF, &off);
	if (r < 0)
		return r;
	tset(t, off + PCI_MSIX_FLAGS, 2, nvec - 1);
	tset(t, off + PCI_MSIX_TABLE, 4, table_off | table_bir);
	tset(t, off + PCI_MSIX_PBA, 4, pba_off | pba_bir);
	msix_masks(t, off);
	if (ret_off)
		*ret_off = off;
	return 0;
}

static bool pcie_has_link(unsigned int type)
{
	return type != PCI_EXP_TYPE_RC_END && type != PCI_EXP_TYPE_RC_EC;
}

static bool pcie_is_downstream(unsigned int type)
{
	return type == PCI_EXP_TYPE_ROOT_PORT || type == PCI_EXP_TYPE_DOWNSTREAM;
}

/*
 * Length of a PCI Express capability: version 1 stops after Link Status
 * (root ports: after Root Status); version 2 endpoints end with Link
 * Status 2 (0x32, padded to 0x34), version 2 ports with Slot Status 2.
 */
static unsigned int pcie_len(uint16_t flags)
{
	unsigned int type = (flags & PCI_EXP_FLAGS_TYPE) >> 4;
	bool endpoint = type == PCI_EXP_TYPE_ENDPOINT || type == PCI_EXP_TYPE_LEG_END ||
			type == PCI_EXP_TYPE_RC_END || type == PCI_EXP_TYPE_RC_EC;

	if ((flags & PCI_EXP_FLAGS_VERS) < 2)
		return endpoint ? 0x14 : 0x24;
	return endpoint ? 0x34 : 0x3c;
}

static void pcie_masks(struct dl_pci_tmpl *t, unsigned int off)
{
	uint16_t flags = (uint16_t)tget(t, off + PCI_EXP_FLAGS, 2);
	unsigned int type = (flags & PCI_EXP_FLAGS_TYPE) >> 4;
	bool v2 = (flags & PCI_EXP_FLAGS_VERS) >= 2;
	bool port = pcie_is_downstream(type);
	uint16_t devctl = 0x7fff;
	uint16_t lnkctl;

	/* Bridge Configuration Retry Enable is writable in bridges; FLR's
	 * Initiate bit (endpoints) reads 0, so it is not stored. */
	if (type == PCI_EXP_TYPE_PCI_BRIDGE)
		devctl |= PCI_EXP_DEVCTL_BCR_FLR;
	tmask(t, off + PCI_EXP_DEVCTL, 2, devctl, 0);
	tmask(t, off + PCI_EXP_DEVSTA, 2, 0,
	      PCI_EXP_DEVSTA_CED | PCI_EXP_DEVSTA_NFED | PCI_EXP_DEVSTA_FED |
		      PCI_EXP_DEVSTA_URD);

	if (pcie_has_link(type)) {
		lnkctl = PCI_EXP_LNKCTL_ASPMC | PCI_EXP_LNKCTL_CCC |
			 PCI_EXP_LNKCTL_ES | PCI_EXP_LNKCTL_CLKREQ_EN |
			 PCI_EXP_LNKCTL_HAWD;
		if (type != PCI_EXP_TYPE_ROOT_PORT)
			lnkctl |= PCI_EXP_LNKCTL_RCB;
		/* Retrain Link reads 0: not stored. */
		if (port || type == PCI_EXP_TYPE_PCI_BRIDGE)
			lnkctl |= PCI_EXP_LNKCTL_LD | PCI_EXP_LNKCTL_LBMIE |
				  PCI_EXP_LNKCTL_LABIE;
		tmask(t, off + PCI_EXP_LNKCTL, 2, lnkctl, 0);
		tmask(t, off + PCI_EXP_LNKSTA, 2, 0,
		      PCI_EXP_LNKSTA_LBMS | PCI_EXP_LNKSTA_LABS);
		tvolatile(t, off + PCI_EXP_LNKSTA, 2);
	}
	if (flags & PCI_EXP_FLAGS_SLOT) {
		tmask(t, off + PCI_EXP_SLTCTL, 2, 0x1fff, 0);
		tmask(t, off + PCI_EXP_SLTSTA, 2, 0,
		      PCI_EXP_SLTSTA_ABP | PCI_EXP_SLTSTA_PFD | PCI_EXP_SLTSTA_MRLSC |
			      PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_CC |
			      PCI_EXP_SLTSTA_DLLSC);
		tvolatile(t, off + PCI_EXP_SLTSTA, 2);
	}
	if (type == PCI_EXP_TYPE_ROOT_PORT || type == PCI_EXP_TYPE_RC_EC) {
		tmask(t, off + PCI_EXP_RTCTL, 2, 0x001f, 0);
		tmask(t, off + PCI_EXP_RTSTA, 4, 0, PCI_EXP_RTSTA_PME);
		tvolatile(t, off + PCI_EXP_RTSTA, 4);
	}
	if (!v2)
		return;
	tmask(t, off + PCI_EXP_DEVCTL2, 2,
	      PCI_EXP_DEVCTL2_COMP_TIMEOUT | PCI_EXP_DEVCTL2_COMP_TMOUT_DIS |
		      (port ? PCI_EXP_DEVCTL2_ARI : 0) | PCI_EXP_DEVCTL2_ATOMIC_REQ |
		      PCI_EXP_DEVCTL2_IDO_REQ_EN | PCI_EXP_DEVCTL2_IDO_CMP_EN |
		      PCI_EXP_DEVCTL2_LTR_EN,
	      0);
	if (pcie_has_link(type)) {
		tmask(t, off + PCI_EXP_LNKCTL2, 2, 0xffff, 0);
		tmask(t, off + PCI_EXP_LNKSTA2, 2, 0, 0x0020);
		tvolatile(t, off + PCI_EXP_LNKSTA2, 2);
	}
}

int dl_pci_tmpl_add_pcie(struct dl_pci_tmpl *t,
			 const struct dl_pci_pcie_params *p,
			 unsigned int *ret_off)
{
	unsigned int off, type, speed, width, cspeed, cwidth;
	uint32_t devcap, lnkcap, devcap2;
	uint16_t flags, lnksta;
	bool port;
	int r;

	assert_return(t && p, -EINVAL);
	type = p->port_type;
	assert_return(type <= PCI_EXP_TYPE_RC_EC && type != 2 && type != 3,
		      -EINVAL);
	speed = p->max_speed ? p->max_speed : 3;
	width = p->max_width ? p->max_width : 4;
	cspeed = p->cur_speed ? p->cur_speed : speed;
	cwidth = p->cur_width ? p->cur_width : width;
	assert_return(speed <= 5 && cspeed <= speed, -EINVAL);
	assert_return(width <= 32 && cwidth <= width, -EINVAL);
	assert_return(p->max_payload <= 5, -EINVAL);
	port = pcie_is_downstream(type);
	assert_return(!p->slot || port, -EINVAL);

	flags = (uint16_t)(2 | type << 4);
	if (p->slot)
		flags |= PCI_EXP_FLAGS_SLOT;
	r = dl_pci_tmpl_add_cap(t, PCI_CAP_ID_EXP, pcie_len(flags), &off);
	if (r < 0)
		return r;
	tset(t, off + PCI_EXP_FLAGS, 2, flags);

	/* L0s < 512 ns, L1 < 64 us, role-based error reporting */
	devcap = p->max_payload | PCI_EXP_DEVCAP_EXT_TAG | 2u << 6 | 6u << 9 |
		 PCI_EXP_DEVCAP_RBER;
	if (p->flr && (type == PCI_EXP_TYPE_ENDPOINT || type == PCI_EXP_TYPE_RC_END ||
		       type == PCI_EXP_TYPE_LEG_END))
		devcap |= PCI_EXP_DEVCAP_FLR;
	tset(t, off + PCI_EXP_DEVCAP, 4, devcap);
	/* Relaxed ordering, extended tags, no snoop; MPS 128, MRRS 512. */
	tset(t, off + PCI_EXP_DEVCTL, 2,
	     port ? 0x2000
		  : PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_EXT_TAG |
			    PCI_EXP_DEVCTL_NOSNOOP_EN | 0x2000);

	if (pcie_has_link(type)) {
		/* ASPM L0s and L1, L0s exit < 256 ns, L1 exit < 8 us */
		lnkcap = speed | width << 4 | PCI_EXP_LNKCAP_ASPM_L0S |
			 PCI_EXP_LNKCAP_ASPM_L1 | 3u << 12 | 4u << 15 |
			 (p->port_nr & 0xff) << 24;
		if (port)
			lnkcap |= PCI_EXP_LNKCAP_DLLLARC | PCI_EXP_LNKCAP_LBNC;
		tset(t, off + PCI_EXP_LNKCAP, 4, lnkcap);
		tset(t, off + PCI_EXP_LNKCTL, 2,
		     type == PCI_EXP_TYPE_ROOT_PORT ? 0 : PCI_EXP_LNKCTL_RCB);
		lnksta = (uint16_t)(cspeed | cwidth << 4 | PCI_EXP_LNKSTA_SLC);
		if (port)
			lnksta |= PCI_EXP_LNKSTA_DLLLA;
		tset(t, off + PCI_EXP_LNKSTA, 2, lnksta);
		/* Supported Link Speeds Vector: every speed up to the max */
		tset(t, off + PCI_EXP_LNKCAP2, 4, ((1u << speed) - 1) << 1);
		tset(t, off + PCI_EXP_LNKCTL2, 2, speed);
		if (cspeed >= 3)
			tset(t, off + PCI_EXP_LNKSTA2, 2, 0x001e);
	}
	if (p->slot) {
		/* Hot-plug capable, surprise removal, power controller,
		 * attention button/indicator, no command completed
		 * support. */
		tset(t, off + PCI_EXP_SLTCAP, 4,
		     PCI_EXP_SLTCAP_ABP | PCI_EXP_SLTCAP_PCP | PCI_EXP_SLTCAP_AIP |
			     PCI_EXP_SLTCAP_PIP | PCI_EXP_SLTCAP_HPS |
			     PCI_EXP_SLTCAP_HPC | PCI_EXP_SLTCAP_NCCS |
			     (p->slot_nr & 0x1fff) << 19);
		tset(t, off + PCI_EXP_SLTCTL, 2, 0x01c0); /* power on, attention off */
		tset(t, off + PCI_EXP_SLTSTA, 2, PCI_EXP_SLTSTA_PDS);
	}
	if (type == PCI_EXP_TYPE_ROOT_PORT)
		tset(t, off + PCI_EXP_RTCAP, 2, PCI_EXP_RTCAP_CRSVIS);

	/* Completion timeout ranges A-D and disable, LTR; ARI forwarding
	 * in downstream ports. */
	devcap2 = 0xf | PCI_EXP_DEVCAP2_COMP_TMOUT_DIS | PCI_EXP_DEVCAP2_LTR;
	if (port)
		devcap2 |= PCI_EXP_DEVCAP2_ARI;
	tset(t, off + PCI_EXP_DEVCAP2, 4, devcap2);

	pcie_masks(t, off);
	/* PCIe hardwires the latency timers to 0. */
	tmask(t, PCI_LATENCY_TIMER, 1, 0, 0);
	if (t->hdr_type == PCI_HEADER_TYPE_BRIDGE)
		tmask(t, PCI_SEC_LATENCY_TIMER, 1, 0, 0);
	if (ret_off)
		*ret_off = off;
	return 0;
}

int dl_pci_tmpl_add_vendor_cap(struct dl_pci_tmpl *t, const void *body,
			       size_t body_len, unsigned int *ret_off)
{
	unsigned int off;
	int r;

	assert_return(body_len <= 0xc0 - 3, -EINVAL);
	r = dl_pci_tmpl_add_cap(t, PCI_CAP_ID_VNDR, (unsigned int)body_len + 3, &off);
	if (r < 0)
		return r;
	t->data[off + PCI_CAP_FLAGS] = (uint8_t)(body_len + 3);
	if (body && body_len)
		memcpy(t->data + off + 3, body, body_len);
	if (ret_off)
		*ret_off = off;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Extended capabilities                                               */

static void sriov_masks(struct dl_pci_tmpl *t, unsigned int off)
{
	tmask(t, off + PCI_SRIOV_CTRL, 2,
	      PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE | PCI_SRIOV_CTRL_ARI, 0);
	tmask(t, off + PCI_SRIOV_STATUS, 2, 0, PCI_SRIOV_STATUS_VFM);
	tmask(t, off + PCI_SRIOV_NUM_VF, 2, 0xffff, 0);
	tmask(t, off + PCI_SRIOV_SYS_PGSIZE, 4, tget(t, off + PCI_SRIOV_SUP_PGSIZE, 4),
	      0);
	for (unsigned int i = 0; i < PCI_SRIOV_NUM_BARS; i++) {
		if (t->vf_bars[i].size)
			bar_masks(t, off + PCI_SRIOV_BAR + 4 * i, t->vf_bars[i].size,
				  t->vf_bars[i].flags, false, false);
	}
}

int dl_pci_tmpl_add_sriov(struct dl_pci_tmpl *t,
			  const struct dl_pci_sriov_params *p,
			  unsigned int *ret_off)
{
	unsigned int off;
	int r;

	assert_return(t && p, -EINVAL);
	assert_return(p->total_vfs >= 1, -EINVAL);
	assert_return(p->initial_vfs <= p->total_vfs, -EINVAL);
	assert_return(p->vf_stride || p->total_vfs == 1, -EINVAL);
	assert_return(t->hdr_type == PCI_HEADER_TYPE_NORMAL && !t->sriov_off,
		      -EINVAL);
	for (unsigned int i = 0; i < PCI_SRIOV_NUM_BARS; i++) {
		const struct dl_pci_bar_info *b = &p->vf_bars[i];

		if (!b->size)
			continue;
		if ((b->flags & DL_PCI_BAR_IO) || !bar_size_ok(b->size, b->flags, false))
			return -EINVAL;
		if (i > 0 && (p->vf_bars[i - 1].flags & DL_PCI_BAR_64) &&
		    p->vf_bars[i - 1].size)
			return -EINVAL;
		if ((b->flags & DL_PCI_BAR_64) &&
		    (i + 1 >= PCI_SRIOV_NUM_BARS || p->vf_bars[i + 1].size))
			return -EINVAL;
	}

	r = dl_pci_tmpl_add_ext_cap(t, PCI_EXT_CAP_ID_SRIOV, 1, PCI_EXT_CAP_SRIOV_SIZEOF,
				    &off);
	if (r < 0)
		return r;
	tset(t, off + PCI_SRIOV_INITIAL_VF, 2,
	     p->initial_vfs ? p->initial_vfs : p->total_vfs);
	tset(t, off + PCI_SRIOV_TOTAL_VF, 2, p->total_vfs);
	tset(t, off + PCI_SRIOV_FUNC_LINK, 1, p->func_link);
	tset(t, off + PCI_SRIOV_VF_OFFSET, 2, p->vf_offset);
	tset(t, off + PCI_SRIOV_VF_STRIDE, 2, p->vf_stride);
	tset(t, off + PCI_SRIOV_VF_DID, 2, p->vf_device);
	tset(t, off + PCI_SRIOV_SUP_PGSIZE, 4, p->sup_pgsize ? p->sup_pgsize : 0x553);
	tset(t, off + PCI_SRIOV_SYS_PGSIZE, 4, 1);
	for (unsigned int i = 0; i < PCI_SRIOV_NUM_BARS; i++) {
		t->vf_bars[i] = p->vf_bars[i];
		if (p->vf_bars[i].size)
			bar_masks(t, off + PCI_SRIOV_BAR + 4 * i, p->vf_bars[i].size,
				  p->vf_bars[i].flags, false, true);
	}
	sriov_masks(t, off);
	t->sriov_off = off;
	if (ret_off)
		*ret_off = off;
	return 0;
}

static void aer_masks(struct dl_pci_tmpl *t, unsigned int off, unsigned int len)
{
	if (len < PCI_ERR_ROOT_COMMAND)
		return;
	tmask(t, off + PCI_ERR_UNCOR_STATUS, 4, 0, 0x03fff030);
	tmask(t, off + PCI_ERR_UNCOR_MASK, 4, 0x03fff030, 0);
	tmask(t, off + PCI_ERR_UNCOR_SEVER, 4, 0x03fff030, 0);
	tmask(t, off + PCI_ERR_COR_STATUS, 4, 0, 0x0000f1c1);
	tmask(t, off + PCI_ERR_COR_MASK, 4, 0x0000f1c1, 0);
	tmask(t, off + PCI_ERR_CAP, 4,
	      PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE, 0);
	if (len >= PCI_ERR_ROOT_ERR_SRC + 4) {
		tmask(t, off + PCI_ERR_ROOT_COMMAND, 4, 0x7, 0);
		tmask(t, off + PCI_ERR_ROOT_STATUS, 4, 0, 0x7f);
	}
}

/* ------------------------------------------------------------------ */
/* Capability walking over raw bytes (templates and dumps)             */

/* Length of a standard capability, or 0 when it is not known. */
static unsigned int std_cap_len(const uint8_t *d, unsigned int off)
{
	switch (d[off]) {
	case PCI_CAP_ID_PM:
		return PCI_PM_SIZEOF;
	case PCI_CAP_ID_MSI:
		return msi_len(get_le16(d + off + PCI_MSI_FLAGS));
	case PCI_CAP_ID_MSIX:
		return PCI_CAP_MSIX_SIZEOF;
	case PCI_CAP_ID_EXP:
		return pcie_len(get_le16(d + off + PCI_EXP_FLAGS));
	case PCI_CAP_ID_VNDR:
		return d[off + PCI_CAP_FLAGS] >= 3 ? d[off + PCI_CAP_FLAGS] : 0;
	case PCI_CAP_ID_SSVID:
		return 8; /* SSVID: header, vendor, device */
	default:
		return 0;
	}
}

static unsigned int ext_cap_len(const uint8_t *d, unsigned int off)
{
	switch (get_le16(d + off)) {
	case PCI_EXT_CAP_ID_SRIOV:
		return PCI_EXT_CAP_SRIOV_SIZEOF;
	case PCI_EXT_CAP_ID_ERR:
		/* the Root Port registers exist only in root ports */
		return PCI_ERR_ROOT_COMMAND;
	case PCI_EXT_CAP_ID_ARI:
		return PCI_EXT_CAP_ARI_SIZEOF;
	case PCI_EXT_CAP_ID_DSN:
		return PCI_EXT_CAP_DSN_SIZEOF;
	default:
		return 0;
	}
}

/*
 * Call @fn for each standard capability of the bytes @d (at least 256
 * valid bytes); stops at loops and bad pointers.
 */
static void walk_std_caps(const uint8_t *d,
			  void (*fn)(const uint8_t *d, unsigned int off, void *arg),
			  void *arg)
{
	unsigned int type = d[PCI_HEADER_TYPE] & 0x7f;
	unsigned int pos;

	if (!(get_le16(d + PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return;
	pos = d[type == PCI_HEADER_TYPE_CARDBUS ? PCI_CB_CAPABILITY_LIST
						 : PCI_CAPABILITY_LIST];
	for (int ttl = CAP_TTL; ttl > 0; ttl--) {
		pos &= ~3u;
		if (pos < 0x40 || pos > DL_PCI_CFG_LEGACY_SIZE - 4)
			return;
		if (d[pos] == 0xff)
			return;
		fn(d, pos, arg);
		pos = d[pos + PCI_CAP_LIST_NEXT];
	}
}

static void walk_ext_caps(const uint8_t *d,
			  void (*fn)(const uint8_t *d, unsigned int off, void *arg),
			  void *arg)
{
	unsigned int pos = DL_PCI_CFG_LEGACY_SIZE;

	for (int ttl = EXT_CAP_TTL; ttl > 0; ttl--) {
		uint32_t h = get_le32(d + pos);

		if (h == 0 || h == 0xffffffff)
			return;
		fn(d, pos, arg);
		pos = PCI_EXT_CAP_NEXT(h);
		if (pos < DL_PCI_CFG_LEGACY_SIZE || pos > DL_PCI_CFG_SIZE - 4)
			return;
	}
}

/* Offset of the first standard capability @id in raw bytes, or 0. */
static unsigned int find_std_cap_raw(const uint8_t *d, unsigned int id)
{
	unsigned int type = d[PCI_HEADER_TYPE] & 0x7f;
	unsigned int pos;

	if (!(get_le16(d + PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = d[type == PCI_HEADER_TYPE_CARDBUS ? PCI_CB_CAPABILITY_LIST
						 : PCI_CAPABILITY_LIST];
	for (int ttl = CAP_TTL; ttl > 0; ttl--) {
		pos &= ~3u;
		if (pos < 0x40 || pos > DL_PCI_CFG_LEGACY_SIZE - 4)
			return 0;
		if (d[pos] == id)
			return pos;
		pos = d[pos + PCI_CAP_LIST_NEXT];
	}
	return 0;
}

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
	if (b.size && !bar_size_ok(b.size, b.flags, false))
		b.size = estimate_size(addr, b.flags & DL_PCI_BAR_IO);
	if (b.size)
		bar_masks(t, reg, b.size, b.flags, false, false);
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
	unsigned int len = std_cap_len(d, off);

	switch (d[off]) {
	case PCI_CAP_ID_PM:
		pm_masks(ctx->t, off);
		break;
	case PCI_CAP_ID_MSI:
		msi_masks(ctx->t, off);
		break;
	case PCI_CAP_ID_MSIX:
		msix_masks(ctx->t, off);
		break;
	case PCI_CAP_ID_EXP:
		pcie_masks(ctx->t, off);
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
	unsigned int len = ext_cap_len(d, off);

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
		sriov_masks(t, off);
		break;
	case PCI_EXT_CAP_ID_ERR: {
		/* root ports also have the Root Error registers */
		unsigned int aer_len = PCI_ERR_ROOT_COMMAND;
		unsigned int pcie = find_std_cap_raw(t->data, PCI_CAP_ID_EXP);

		if (pcie && ((get_le16(t->data + pcie + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_TYPE) >>
			     4) == PCI_EXP_TYPE_ROOT_PORT)
			aer_len = PCI_ERR_ROOT_ERR_SRC + 4;
		if (off + aer_len <= DL_PCI_CFG_SIZE)
			aer_masks(t, off, aer_len);
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
	assert_return(len >= 64 && len <= DL_PCI_CFG_SIZE, -EINVAL);
	type = b[PCI_HEADER_TYPE] & 0x7f;
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

	t = tmpl_alloc(type, extended);
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
	header_masks(t, false);

	n = nbars(t);
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
		if (size && bar_size_ok(size, 0, true)) {
			bar_masks(t, reg, size, 0, true, false);
			t->bars[DL_PCI_ROM].size = size;
		}
	}

	if (len >= DL_PCI_CFG_LEGACY_SIZE && type != PCI_HEADER_TYPE_CARDBUS) {
		struct import_ctx ctx = { t, hints, 0, 0x40 };

		walk_std_caps(t->data, import_std_cap, &ctx);
		t->cap_last = ctx.last;
		t->cap_free = ctx.end;
		if (t->extended) {
			ctx.last = 0;
			ctx.end = DL_PCI_CFG_LEGACY_SIZE;
			walk_ext_caps(t->data, import_ext_cap, &ctx);
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
			if (pos < 0x40 || pos > DL_PCI_CFG_LEGACY_SIZE - 4)
				break;
			id = pf->data[pos];
			len = std_cap_len(pf->data, pos);
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
			len = ext_cap_len(pf->data, pos);
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

/* ------------------------------------------------------------------ */
/* Instances                                                           */

int dl_pci_cfg_new(struct dl_pci_tmpl *t, struct dl_pci_cfg **ret)
{
	struct dl_pci_cfg *c;

	assert_return(t && ret, -EINVAL);
	dl_pci_tmpl_seal(t);
	c = malloc(sizeof(*c) + 4 * (size_t)t->nov);
	if (!c)
		return -ENOMEM;
	if (pthread_mutex_init(&c->lock, NULL)) {
		free(c);
		return -ENOMEM;
	}
	c->tmpl = dl_pci_tmpl_get(t);
	for (unsigned int d = 0; d < NDWORDS; d++)
		if (t->ov_slot[d] != OV_NONE)
			memcpy(c->ov + 4 * t->ov_slot[d], t->data + 4 * d, 4);
	*ret = c;
	return 0;
}

struct dl_pci_cfg *dl_pci_cfg_free(struct dl_pci_cfg *c)
{
	if (!c)
		return NULL;
	pthread_mutex_destroy(&c->lock);
	dl_pci_tmpl_put(c->tmpl);
	free(c);
	return NULL;
}

const struct dl_pci_tmpl *dl_pci_cfg_tmpl(const struct dl_pci_cfg *c)
{
	return c->tmpl;
}

unsigned int dl_pci_cfg_size(const struct dl_pci_cfg *c)
{
	return dl_pci_tmpl_config_size(c->tmpl);
}

size_t dl_pci_cfg_footprint(const struct dl_pci_cfg *c)
{
	return sizeof(*c) + 4 * (size_t)c->tmpl->nov;
}

/* Pointer to the current byte at @off, or NULL if it is template-only. */
static uint8_t *ov_byte(struct dl_pci_cfg *c, unsigned int off)
{
	uint16_t slot = c->tmpl->ov_slot[off / 4];

	return slot == OV_NONE ? NULL : &c->ov[4 * slot + off % 4];
}

/* Reads one byte; caller holds c->lock. */
static uint8_t read_byte_locked(struct dl_pci_cfg *c, unsigned int off)
{
	const uint8_t *p;

	if (off >= dl_pci_cfg_size(c))
		return 0xff;
	p = ov_byte(c, off);
	return p ? *p : c->tmpl->data[off];
}

int dl_pci_cfg_read(struct dl_pci_cfg *c, unsigned int off, void *buf, size_t len)
{
	uint8_t *out = buf;

	assert_return(c && (buf || !len) && range_ok(off, len), -EINVAL);
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < len; i++)
		out[i] = read_byte_locked(c, off + (unsigned int)i);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int dl_pci_cfg_write(struct dl_pci_cfg *c, unsigned int off, const void *buf,
		     size_t len)
{
	const struct dl_pci_tmpl *t;
	const uint8_t *in = buf;
	unsigned int size;

	assert_return(c && (buf || !len) && range_ok(off, len), -EINVAL);
	t = c->tmpl;
	size = dl_pci_cfg_size(c);
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < len && off + i < size; i++) {
		unsigned int o = off + (unsigned int)i;
		uint8_t wm = t->wmask[o], w1 = t->w1c[o], v = in[i];
		uint8_t *p;

		if (!(wm | w1))
			continue;
		p = ov_byte(c, o);
		assert(p);
		*p = (uint8_t)((*p & ~wm & ~(w1 & v)) | (v & wm));
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int dl_pci_cfg_readv(struct dl_pci_cfg *c, unsigned int off, unsigned int width,
		     uint32_t *ret)
{
	uint8_t b[4];
	int r;

	assert_return(ret && width_ok(width), -EINVAL);
	r = dl_pci_cfg_read(c, off, b, width);
	if (r < 0)
		return r;
	*ret = width == 1 ? b[0] : width == 2 ? get_le16(b) : get_le32(b);
	return 0;
}

int dl_pci_cfg_writev(struct dl_pci_cfg *c, unsigned int off,
		      unsigned int width, uint32_t val)
{
	uint8_t b[4];

	assert_return(width_ok(width), -EINVAL);
	put_le32(b, val);
	return dl_pci_cfg_write(c, off, b, width);
}

int dl_pci_cfg_hw_write(struct dl_pci_cfg *c, unsigned int off,
			unsigned int width, uint32_t val, uint32_t mask)
{
	assert_return(c && width_ok(width) && range_ok(off, width), -EINVAL);
	for (unsigned int i = 0; i < width; i++)
		if (((mask >> (8 * i)) & 0xff) &&
		    (off + i >= dl_pci_cfg_size(c) || !ov_byte(c, off + i)))
			return -EROFS;
	pthread_mutex_lock(&c->lock);
	for (unsigned int i = 0; i < width; i++) {
		uint8_t m = (uint8_t)(mask >> (8 * i)), v = (uint8_t)(val >> (8 * i));
		uint8_t *p;

		if (!m)
			continue;
		p = ov_byte(c, off + i);
		*p = (uint8_t)((*p & ~m) | (v & m));
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void dl_pci_cfg_reset(struct dl_pci_cfg *c)
{
	const struct dl_pci_tmpl *t = c->tmpl;

	pthread_mutex_lock(&c->lock);
	for (unsigned int d = 0; d < NDWORDS; d++)
		if (t->ov_slot[d] != OV_NONE)
			memcpy(c->ov + 4 * t->ov_slot[d], t->data + 4 * d, 4);
	pthread_mutex_unlock(&c->lock);
}

int dl_pci_cfg_find_cap(struct dl_pci_cfg *c, unsigned int id,
			unsigned int after, unsigned int *ret_off)
{
	unsigned int pos, type;
	int r = -ENOENT;

	assert_return(c && ret_off && id <= 0xff, -EINVAL);
	assert_return(after == 0 || (after >= 0x40 && after < 0x100), -EINVAL);
	pthread_mutex_lock(&c->lock);
	if (!(read_byte_locked(c, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		goto out;
	type = read_byte_locked(c, PCI_HEADER_TYPE) & 0x7f;
	if (after)
		pos = read_byte_locked(c, after + PCI_CAP_LIST_NEXT);
	else
		pos = read_byte_locked(c, type == PCI_HEADER_TYPE_CARDBUS
						  ? PCI_CB_CAPABILITY_LIST
						  : PCI_CAPABILITY_LIST);
	for (int ttl = CAP_TTL; ttl > 0; ttl--) {
		unsigned int cid;

		pos &= ~3u;
		if (pos < 0x40 || pos > DL_PCI_CFG_LEGACY_SIZE - 4)
			break;
		cid = read_byte_locked(c, pos);
		if (cid == 0xff)
			break;
		if (cid == id) {
			*ret_off = pos;
			r = 0;
			break;
		}
		pos = read_byte_locked(c, pos + PCI_CAP_LIST_NEXT);
	}
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

static uint32_t read32_locked(struct dl_pci_cfg *c, unsigned int off)
{
	return (uint32_t)read_byte_locked(c, off) |
	       (uint32_t)read_byte_locked(c, off + 1) << 8 |
	       (uint32_t)read_byte_locked(c, off + 2) << 16 |
	       (uint32_t)read_byte_locked(c, off + 3) << 24;
}

int dl_pci_cfg_find_ext_cap(struct dl_pci_cfg *c, unsigned int id,
			    unsigned int after, unsigned int *ret_off)
{
	unsigned int pos = DL_PCI_CFG_LEGACY_SIZE;
	int r = -ENOENT;

	assert_return(c && ret_off && id <= 0xffff, -EINVAL);
	assert_return(after == 0 || (after >= DL_PCI_CFG_LEGACY_SIZE &&
				     after <= DL_PCI_CFG_SIZE - 4),
		      -EINVAL);
	if (!c->tmpl->extended)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	if (after) {
		pos = PCI_EXT_CAP_NEXT(read32_locked(c, after));
		if (pos < DL_PCI_CFG_LEGACY_SIZE)
			goto out;
	}
	for (int ttl = EXT_CAP_TTL; ttl > 0; ttl--) {
		uint32_t h;

		if (pos > DL_PCI_CFG_SIZE - 4)
			break;
		h = read32_locked(c, pos);
		if (h == 0 || h == 0xffffffff)
			break;
		if (PCI_EXT_CAP_ID(h) == id) {
			*ret_off = pos;
			r = 0;
			break;
		}
		pos = PCI_EXT_CAP_NEXT(h);
		if (pos < DL_PCI_CFG_LEGACY_SIZE)
			break;
	}
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* ------------------------------------------------------------------ */

int dl_pci_sriov_vf_rid(uint16_t pf_rid, uint16_t offset, uint16_t stride,
			unsigned int n, uint16_t *ret_rid)
{
	uint64_t rid;

	assert_return(ret_rid, -EINVAL);
	rid = (uint64_t)pf_rid + offset + (uint64_t)n * stride;
	if (rid > 0xffff)
		return -ERANGE;
	*ret_rid = (uint16_t)rid;
	return 0;
}
