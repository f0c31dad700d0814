/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The inside of config space, shared by config-template.c,
 * config-caps.c, config-dump.c and config-instance.c: the template and
 * instance structures and the helpers that build templates. Not part of
 * any API (config.h is).
 */
#ifndef DEVLIFE_PCI_CONFIG_INTERNAL_H
#define DEVLIFE_PCI_CONFIG_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/pci_regs.h>

#include "config.h"
#include "mutex.h"

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
	struct dl_mutex lock;       /* protects ov[]; a leaf lock */
	uint8_t ov[];               /* 4 * tmpl->nov bytes; under lock */
};

static inline bool range_ok(unsigned int off, size_t len)
{
	return off <= DL_PCI_CFG_SIZE && len <= DL_PCI_CFG_SIZE - off;
}

static inline bool width_ok(unsigned int width)
{
	return width == 1 || width == 2 || width == 4;
}

static inline void tset(struct dl_pci_tmpl *t, unsigned int off, unsigned int width,
		 uint32_t val)
{
	for (unsigned int i = 0; i < width; i++)
		t->data[off + i] = (uint8_t)(val >> (8 * i));
}

static inline uint32_t tget(const struct dl_pci_tmpl *t, unsigned int off,
		     unsigned int width)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < width; i++)
		v |= (uint32_t)t->data[off + i] << (8 * i);
	return v;
}

static inline void tmask(struct dl_pci_tmpl *t, unsigned int off, unsigned int width,
		  uint32_t wmask, uint32_t w1c)
{
	wmask &= ~w1c;
	for (unsigned int i = 0; i < width; i++) {
		t->wmask[off + i] = (uint8_t)(wmask >> (8 * i));
		t->w1c[off + i] = (uint8_t)(w1c >> (8 * i));
	}
}

static inline void tvolatile(struct dl_pci_tmpl *t, unsigned int off,
		      unsigned int len)
{
	for (unsigned int i = off; i < off + len; i++)
		t->vol[i / 8] |= (uint8_t)(1u << (i % 8));
}

static inline unsigned int bar_reg(const struct dl_pci_tmpl *t, unsigned int bar)
{
	if (bar == DL_PCI_ROM)
		return t->hdr_type == PCI_HEADER_TYPE_BRIDGE ? PCI_ROM_ADDRESS1
							     : PCI_ROM_ADDRESS;
	return PCI_BASE_ADDRESS_0 + 4 * bar;
}


/* config-template.c */

/* How many BARs the header type of @t has (6, 2 for a bridge, else 0). */
unsigned int dl_pci__nbars(const struct dl_pci_tmpl *t);

/*
 * Masks of a BAR-like register at @reg (also the SR-IOV VF BARs): address
 * bits below the size read 0, flag bits are read-only, the rest is RW.
 * With @set_flags the flag bits of the reset value are written too.
 */
void dl_pci__bar_masks(struct dl_pci_tmpl *t, unsigned int reg, uint64_t size,
		       unsigned int flags, bool rom, bool set_flags);

/* Whether @size is a size a BAR (or with @rom, an expansion ROM) of
 * @flags can have. */
bool dl_pci__bar_size_ok(uint64_t size, unsigned int flags, bool rom);

/* The architected masks of the standard header; @set_defaults also
 * writes its reset values. */
void dl_pci__header_masks(struct dl_pci_tmpl *t, bool set_defaults);

/* A new unsealed template of header type @hdr_type, or NULL. */
struct dl_pci_tmpl *dl_pci__tmpl_alloc(unsigned int hdr_type, bool extended);

/* config-caps.c: the masks of each capability at @off, as architected */
void dl_pci__pm_masks(struct dl_pci_tmpl *t, unsigned int off);
void dl_pci__msi_masks(struct dl_pci_tmpl *t, unsigned int off);
void dl_pci__msix_masks(struct dl_pci_tmpl *t, unsigned int off);
void dl_pci__pcie_masks(struct dl_pci_tmpl *t, unsigned int off);
void dl_pci__sriov_masks(struct dl_pci_tmpl *t, unsigned int off);
void dl_pci__aer_masks(struct dl_pci_tmpl *t, unsigned int off, unsigned int len);

/* The length of an MSI or PCI Express capability with these flags. */
unsigned int dl_pci__msi_len(uint16_t flags);
unsigned int dl_pci__pcie_len(uint16_t flags);

/* The length of the standard (extended) capability at @off of raw
 * config bytes @d, or 0 when it is not known. */
unsigned int dl_pci__std_cap_len(const uint8_t *d, unsigned int off);
unsigned int dl_pci__ext_cap_len(const uint8_t *d, unsigned int off);

/* Call @fn for each standard (extended) capability of raw config bytes
 * @d, up to CAP_TTL (EXT_CAP_TTL) hops. */
void dl_pci__walk_std_caps(const uint8_t *d,
			   void (*fn)(const uint8_t *d, unsigned int off, void *arg),
			   void *arg);
void dl_pci__walk_ext_caps(const uint8_t *d,
			   void (*fn)(const uint8_t *d, unsigned int off, void *arg),
			   void *arg);

/* Offset of the first standard capability @id in raw bytes, or 0. */
unsigned int dl_pci__find_std_cap_raw(const uint8_t *d, unsigned int id);

#endif
