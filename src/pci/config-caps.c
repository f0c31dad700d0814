/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Capabilities of a template: the standard ones (PM, MSI, MSI-X, PCI
 * Express, vendor-specific) and the extended ones (SR-IOV, AER) with
 * their architected masks, which templates made from dumps share; and
 * walking the capability lists of raw config bytes.
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
/* Standard capabilities: masks (shared with the dump importer) and    */
/* builders                                                            */

void dl_pci__pm_masks(struct dl_pci_tmpl *t, unsigned int off)
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
	dl_pci__pm_masks(t, off);
	if (ret_off)
		*ret_off = off;
	return 0;
}

unsigned int dl_pci__msi_len(uint16_t flags)
{
	unsigned int len = (flags & PCI_MSI_FLAGS_64BIT) ? 14 : 10;

	if (flags & PCI_MSI_FLAGS_MASKBIT)
		len = (flags & PCI_MSI_FLAGS_64BIT) ? 24 : 20;
	return len;
}

void dl_pci__msi_masks(struct dl_pci_tmpl *t, unsigned int off)
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
	r = dl_pci_tmpl_add_cap(t, PCI_CAP_ID_MSI, dl_pci__msi_len(flags), &off);
	if (r < 0)
		return r;
	tset(t, off + PCI_MSI_FLAGS, 2, flags);
	dl_pci__msi_masks(t, off);
	if (ret_off)
		*ret_off = off;
	return 0;
}

void dl_pci__msix_masks(struct dl_pci_tmpl *t, unsigned int off)
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
	dl_pci__msix_masks(t, off);
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
unsigned int dl_pci__pcie_len(uint16_t flags)
{
	unsigned int type = (flags & PCI_EXP_FLAGS_TYPE) >> 4;
	bool endpoint = type == PCI_EXP_TYPE_ENDPOINT || type == PCI_EXP_TYPE_LEG_END ||
			type == PCI_EXP_TYPE_RC_END || type == PCI_EXP_TYPE_RC_EC;

	if ((flags & PCI_EXP_FLAGS_VERS) < 2)
		return endpoint ? 0x14 : 0x24;
	return endpoint ? 0x34 : 0x3c;
}

void dl_pci__pcie_masks(struct dl_pci_tmpl *t, unsigned int off)
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
	r = dl_pci_tmpl_add_cap(t, PCI_CAP_ID_EXP, dl_pci__pcie_len(flags), &off);
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

	dl_pci__pcie_masks(t, off);
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

void dl_pci__sriov_masks(struct dl_pci_tmpl *t, unsigned int off)
{
	tmask(t, off + PCI_SRIOV_CTRL, 2,
	      PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE | PCI_SRIOV_CTRL_ARI, 0);
	tmask(t, off + PCI_SRIOV_STATUS, 2, 0, PCI_SRIOV_STATUS_VFM);
	tmask(t, off + PCI_SRIOV_NUM_VF, 2, 0xffff, 0);
	tmask(t, off + PCI_SRIOV_SYS_PGSIZE, 4, tget(t, off + PCI_SRIOV_SUP_PGSIZE, 4),
	      0);
	for (unsigned int i = 0; i < PCI_SRIOV_NUM_BARS; i++) {
		if (t->vf_bars[i].size)
			dl_pci__bar_masks(t, off + PCI_SRIOV_BAR + 4 * i, t->vf_bars[i].size,
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
		if ((b->flags & DL_PCI_BAR_IO) || !dl_pci__bar_size_ok(b->size, b->flags, false))
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
			dl_pci__bar_masks(t, off + PCI_SRIOV_BAR + 4 * i, p->vf_bars[i].size,
				  p->vf_bars[i].flags, false, true);
	}
	dl_pci__sriov_masks(t, off);
	t->sriov_off = off;
	if (ret_off)
		*ret_off = off;
	return 0;
}

/*
 * Access Control Services: Source Validation, Request and Completion
 * Redirect, Upstream Forwarding, each capable and (as pci_std_enable_acs()
 * leaves them when an IOMMU is on) enabled.
 */
int dl_pci_tmpl_add_acs(struct dl_pci_tmpl *t, unsigned int *ret_off)
{
	const uint16_t bits = PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF;
	unsigned int off;
	int r;

	r = dl_pci_tmpl_add_ext_cap(t, PCI_EXT_CAP_ID_ACS, 1, 8, &off);
	if (r < 0)
		return r;
	tset(t, off + PCI_ACS_CAP, 2, bits);
	tset(t, off + PCI_ACS_CTRL, 2, bits);
	tmask(t, off + PCI_ACS_CTRL, 2, bits, 0);
	if (ret_off)
		*ret_off = off;
	return 0;
}

void dl_pci__aer_masks(struct dl_pci_tmpl *t, unsigned int off, unsigned int len)
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
unsigned int dl_pci__std_cap_len(const uint8_t *d, unsigned int off)
{
	switch (d[off]) {
	case PCI_CAP_ID_PM:
		return PCI_PM_SIZEOF;
	case PCI_CAP_ID_MSI:
		return dl_pci__msi_len(get_le16(d + off + PCI_MSI_FLAGS));
	case PCI_CAP_ID_MSIX:
		return PCI_CAP_MSIX_SIZEOF;
	case PCI_CAP_ID_EXP:
		return dl_pci__pcie_len(get_le16(d + off + PCI_EXP_FLAGS));
	case PCI_CAP_ID_VNDR:
		return d[off + PCI_CAP_FLAGS] >= 3 ? d[off + PCI_CAP_FLAGS] : 0;
	case PCI_CAP_ID_SSVID:
		return 8; /* SSVID: header, vendor, device */
	default:
		return 0;
	}
}

unsigned int dl_pci__ext_cap_len(const uint8_t *d, unsigned int off)
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
void dl_pci__walk_std_caps(const uint8_t *d,
			   void (*fn)(const uint8_t *d, unsigned int off, void *arg),
			   void *arg)
{
	unsigned int type = d[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK;
	unsigned int pos;

	if (!(get_le16(d + PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return;
	pos = d[type == PCI_HEADER_TYPE_CARDBUS ? PCI_CB_CAPABILITY_LIST
						 : PCI_CAPABILITY_LIST];
	for (int ttl = CAP_TTL; ttl > 0; ttl--) {
		pos &= ~3u;
		if (pos < DL_PCI_CFG_HEADER_SIZE || pos > DL_PCI_CFG_LEGACY_SIZE - 4)
			return;
		if (d[pos] == 0xff)
			return;
		fn(d, pos, arg);
		pos = d[pos + PCI_CAP_LIST_NEXT];
	}
}

void dl_pci__walk_ext_caps(const uint8_t *d,
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
unsigned int dl_pci__find_std_cap_raw(const uint8_t *d, unsigned int id)
{
	unsigned int type = d[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK;
	unsigned int pos;

	if (!(get_le16(d + PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = d[type == PCI_HEADER_TYPE_CARDBUS ? PCI_CB_CAPABILITY_LIST
						 : PCI_CAPABILITY_LIST];
	for (int ttl = CAP_TTL; ttl > 0; ttl--) {
		pos &= ~3u;
		if (pos < DL_PCI_CFG_HEADER_SIZE || pos > DL_PCI_CFG_LEGACY_SIZE - 4)
			return 0;
		if (d[pos] == id)
			return pos;
		pos = d[pos + PCI_CAP_LIST_NEXT];
	}
	return 0;
}
