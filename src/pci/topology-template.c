/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Specs to config templates: the config space of a synthesized function
 * (header, BARs, bridge windows, capabilities) or of an imported one (its
 * bytes, completed with the masks its capabilities imply).
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "internal.h"
#include "topo-internal.h"
#include "topology.h"

/* ------------------------------------------------------------------ */
/* Specs to templates                                                  */

static uint32_t bar_lo(const struct dl_pci_bar_info *b, uint64_t addr)
{
	if (b->flags & DL_PCI_BAR_IO)
		return (uint32_t)addr | PCI_BASE_ADDRESS_SPACE_IO;
	return (uint32_t)addr | ((b->flags & DL_PCI_BAR_64) ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) |
	       ((b->flags & DL_PCI_BAR_PREF) ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
}

static void pcie_params_of(const struct dl_pci_spec *s, struct dl_pci_pcie_params *pp)
{
	bool port = s->type != DL_PCI_SPEC_ENDPOINT;

	memset(pp, 0, sizeof(*pp));
	pp->port_type = s->pcie_type;
	pp->max_speed = s->link_speed ? s->link_speed : 3;
	pp->max_width = s->link_width ? s->link_width : (port ? 16 : 4);
	pp->max_payload = port ? 1 : 2;
	pp->flr = !port;
	pp->slot = s->slot >= 0 && (s->pcie_type == PCI_EXP_TYPE_ROOT_PORT ||
				    s->pcie_type == PCI_EXP_TYPE_DOWNSTREAM);
	pp->slot_nr = pp->slot ? (unsigned int)s->slot : 0;
	pp->port_nr = port ? dl_pci_slot(s->devfn) : 0;
}

static int add_sriov_of(struct dl_pci_tmpl *t, const struct dl_pci_spec *s,
			bool set_addrs)
{
	struct dl_pci_sriov_params sp;
	unsigned int off;
	int r;

	memset(&sp, 0, sizeof(sp));
	sp.total_vfs = s->sriov.total;
	sp.vf_offset = s->sriov.offset;
	sp.vf_stride = s->sriov.stride;
	sp.vf_device = s->sriov.vf_device;
	sp.func_link = (uint8_t)dl_pci_fn(s->devfn);
	memcpy(sp.vf_bars, s->sriov.vf_bars, sizeof(sp.vf_bars));
	r = dl_pci_tmpl_add_sriov(t, &sp, &off);
	if (r < 0 || !set_addrs)
		return r;
	for (unsigned int i = 0; i < 6; i++) {
		const struct dl_pci_bar_info *b = &s->sriov.vf_bars[i];

		if (!b->size)
			continue;
		dl_pci_tmpl_set(t, off + PCI_SRIOV_BAR + 4 * i, 4,
				bar_lo(b, s->vf_bar_addr[i]));
		if (b->flags & DL_PCI_BAR_64)
			dl_pci_tmpl_set(t, off + PCI_SRIOV_BAR + 4 * i + 4, 4,
					(uint32_t)(s->vf_bar_addr[i] >> 32));
	}
	return 0;
}

static int imported_template(const struct dl_pci_spec *s, struct dl_pci_tmpl **ret)
{
	struct dl_pci_tmpl_hints h = s->hints;
	struct dl_pci_tmpl *t;
	bool cut = s->config_len < DL_PCI_CFG_LEGACY_SIZE;
	int r;

	if (cut && s->pcie)
		h.config_size = DL_PCI_CFG_SIZE;
	r = dl_pci_tmpl_new_from_bytes(s->config, s->config_len, &h, &t);
	if (r < 0)
		return r;
	if (cut && s->pcie) {
		/* sysfs told us more than the 64 readable bytes did */
		struct dl_pci_pcie_params pp;

		pcie_params_of(s, &pp);
		r = dl_pci_tmpl_add_pcie(t, &pp, NULL);
		if (r == 0 && s->sriov.total &&
		    (s->config[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK) == PCI_HEADER_TYPE_NORMAL)
			r = add_sriov_of(t, s, false);
		if (r < 0) {
			dl_pci_tmpl_put(t);
			return r;
		}
	}
	*ret = t;
	return 0;
}

/* The BARs and the ROM of @s, at their assigned addresses; the command
 * bits that decode them in *@cmd. */
static int set_bars_of(struct dl_pci_tmpl *t, const struct dl_pci_spec *s, uint16_t *cmd)
{
	int r = 0;

	for (unsigned int i = 0; i < 6 && r == 0; i++) {
		const struct dl_pci_bar_info *b = &s->bars[i];

		if (!b->size)
			continue;
		r = dl_pci_tmpl_set_bar(t, i, b->size, b->flags);
		if (r < 0)
			break;
		dl_pci_tmpl_set(t, PCI_BASE_ADDRESS_0 + 4 * i, 4, bar_lo(b, s->bar_addr[i]));
		if (b->flags & DL_PCI_BAR_64)
			dl_pci_tmpl_set(t, PCI_BASE_ADDRESS_0 + 4 * i + 4, 4,
					(uint32_t)(s->bar_addr[i] >> 32));
		*cmd |= (b->flags & DL_PCI_BAR_IO) ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	}
	if (r == 0 && s->rom_size) {
		r = dl_pci_tmpl_set_bar(t, DL_PCI_ROM, s->rom_size, 0);
		if (r == 0)
			dl_pci_tmpl_set(t, dl_pci__spec_is_bridge(s) ? PCI_ROM_ADDRESS1
								      : PCI_ROM_ADDRESS,
					4, (uint32_t)s->bar_addr[6]);
	}
	return r;
}

/* A bridge's bus numbers and windows. */
static void set_bridge_regs_of(struct dl_pci_tmpl *t, const struct dl_pci_spec *s)
{
	dl_pci_tmpl_set(t, PCI_PRIMARY_BUS, 1, s->bus);
	dl_pci_tmpl_set(t, PCI_SECONDARY_BUS, 1, (uint32_t)s->secbus);
	dl_pci_tmpl_set(t, PCI_SUBORDINATE_BUS, 1, (uint32_t)s->subbus);
	dl_pci_tmpl_set(t, PCI_IO_BASE, 1, ((s->win.io_base >> 8) & 0xf0) | PCI_IO_RANGE_TYPE_32);
	dl_pci_tmpl_set(t, PCI_IO_LIMIT, 1,
			((s->win.io_limit >> 8) & 0xf0) | PCI_IO_RANGE_TYPE_32);
	dl_pci_tmpl_set(t, PCI_IO_BASE_UPPER16, 2, s->win.io_base >> 16);
	dl_pci_tmpl_set(t, PCI_IO_LIMIT_UPPER16, 2, s->win.io_limit >> 16);
	dl_pci_tmpl_set(t, PCI_MEMORY_BASE, 2, (s->win.mem_base >> 16) & 0xfff0);
	dl_pci_tmpl_set(t, PCI_MEMORY_LIMIT, 2, (s->win.mem_limit >> 16) & 0xfff0);
	dl_pci_tmpl_set(t, PCI_PREF_MEMORY_BASE, 2,
			((s->win.pref_base >> 16) & 0xfff0) | PCI_PREF_RANGE_TYPE_64);
	dl_pci_tmpl_set(t, PCI_PREF_MEMORY_LIMIT, 2,
			((s->win.pref_limit >> 16) & 0xfff0) | PCI_PREF_RANGE_TYPE_64);
	dl_pci_tmpl_set(t, PCI_PREF_BASE_UPPER32, 4, (uint32_t)(s->win.pref_base >> 32));
	dl_pci_tmpl_set(t, PCI_PREF_LIMIT_UPPER32, 4, (uint32_t)(s->win.pref_limit >> 32));
}

/* The capabilities of @s. Host bridges carry none; everything else has
 * PM, then MSI, MSI-X and PCI Express as asked, and SR-IOV. */
static int add_caps_of(struct dl_pci_tmpl *t, const struct dl_pci_spec *s)
{
	int r = 0;

	if ((s->class >> 8) != PCI_CLASS_BRIDGE_HOST) {
		r = dl_pci_tmpl_add_pm(t, NULL);
		if (r == 0 && s->msi)
			r = dl_pci_tmpl_add_msi(t, s->msi, true, s->msi > 1, NULL);
		if (r == 0 && s->msix) {
			unsigned int k;

			for (k = 0; k < 6; k++)
				if (s->bars[k].size && !(s->bars[k].flags & DL_PCI_BAR_IO))
					break;
			r = k < 6 ? dl_pci_tmpl_add_msix(t, s->msix, k, 0, k,
							 (uint32_t)(s->bars[k].size / 2),
							 NULL)
				  : -EINVAL;
		}
		if (r == 0 && s->pcie) {
			struct dl_pci_pcie_params pp;

			pcie_params_of(s, &pp);
			r = dl_pci_tmpl_add_pcie(t, &pp, NULL);
		}
	}
	if (r == 0 && s->acs)
		r = dl_pci_tmpl_add_acs(t, NULL);
	if (r == 0 && s->sriov.total)
		r = add_sriov_of(t, s, true);
	return r;
}

int dl_pci_spec_template(const struct dl_pci_desc *d, const struct dl_pci_spec *s,
			 struct dl_pci_tmpl **ret)
{
	bool bridge = dl_pci__spec_is_bridge(s);
	struct dl_pci_tmpl *t;
	uint16_t cmd = 0;
	int r;

	assert_return(d && s && ret, -EINVAL);
	assert_return(d->validated, -EINVAL);
	if (s->config)
		return imported_template(s, ret);

	r = dl_pci_tmpl_new((bridge ? PCI_HEADER_TYPE_BRIDGE : PCI_HEADER_TYPE_NORMAL) |
				    (s->multifunction ? PCI_HEADER_TYPE_MFD : 0),
			    s->pcie, &t);
	if (r < 0)
		return r;
	r = dl_pci_tmpl_set_ids(t, s->vendor, s->device, s->class, s->rev, s->subvendor,
				s->subdevice);
	if (r == 0)
		r = set_bars_of(t, s, &cmd);
	if (r < 0)
		goto fail;
	if (bridge) {
		cmd = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
		set_bridge_regs_of(t, s);
	}
	dl_pci_tmpl_set(t, PCI_COMMAND, 2, cmd);
	if (s->irq) {
		dl_pci_tmpl_set(t, PCI_INTERRUPT_PIN, 1, 1); /* INTA */
		dl_pci_tmpl_set(t, PCI_INTERRUPT_LINE, 1, s->irq <= 0xff ? s->irq : 0xff);
	} else {
		dl_pci_tmpl_set(t, PCI_INTERRUPT_LINE, 1, 0xff);
	}
	r = add_caps_of(t, s);
	if (r < 0)
		goto fail;
	*ret = t;
	return 0;
fail:
	dl_pci_tmpl_put(t);
	return r;
}
