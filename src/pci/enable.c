/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A function's enable count, as drivers/pci/pci.c keeps it
 * (pci_enable_device(), pci_disable_device(), enable_cnt): the first
 * enable enables the bridge above (pci_enable_bridge()) and turns on
 * Memory and I/O decode for the BARs the function has assigned
 * (pci_enable_resources()); the last disable turns Bus Master off
 * (do_pci_disable_device()). Drivers that enable their function in probe
 * (dl_pci_driver's @enables) and disable it in remove count here, as the
 * sysfs `enable` file does.
 */
#include <errno.h>

#include <linux/pci_regs.h>

#include "config.h"
#include "internal.h"
#include "pci.h"

static uint32_t rd(struct dl_pci_func *f, unsigned int off, unsigned int width)
{
	uint32_t v = 0;

	(void)dl_pci_cfg_readv(f->cfg, off, width, &v);
	return v;
}

/* pci_enable_resources(): the decode bits of the BARs that have an
 * address (the kernel claimed them; an unassigned one it reset). */
static uint16_t decode_bits(struct dl_pci_func *f)
{
	const struct dl_pci_tmpl *t = dl_pci_cfg_tmpl(f->cfg);
	unsigned int nbars = (f->flags & DL_PCI_F_BRIDGE) ? 2 : 6;
	uint16_t cmd = 0;

	if (f->flags & DL_PCI_F_BRIDGE) /* its windows: as the firmware left them */
		cmd |= (uint16_t)(rd(f, PCI_COMMAND, 2) & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned int i = 0; i < nbars; i++) {
		struct dl_pci_bar_info b;
		uint32_t lo = rd(f, PCI_BASE_ADDRESS_0 + 4 * i, 4);

		if (dl_pci_tmpl_bar(t, i, &b) < 0 || !b.size)
			continue;
		if (b.flags & DL_PCI_BAR_IO) {
			if (lo & PCI_BASE_ADDRESS_IO_MASK)
				cmd |= PCI_COMMAND_IO;
		} else {
			bool is64 = b.flags & DL_PCI_BAR_64;
			uint32_t hi = is64 && i < 5 ? rd(f, PCI_BASE_ADDRESS_0 + 4 * (i + 1), 4) : 0;

			if ((lo & PCI_BASE_ADDRESS_MEM_MASK) || hi)
				cmd |= PCI_COMMAND_MEMORY;
			if (is64)
				i++;
		}
	}
	return cmd;
}

static struct dl_pci_func *upstream_bridge(struct dl_pci_func *f)
{
	struct dl_device *p = dl_device_parent(f->dev);

	if (f->flags & DL_PCI_F_VF)
		p = dl_device_parent(p);
	return dl_pci_func_of(p);
}

int dl_pci_enable_device(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev), *b;
	uint32_t cmd;

	assert_return(f, -EINVAL);
	if (atomic_fetch_add(&f->enable_cnt, 1) > 0)
		return 0;
	/* pci_enable_bridge(): enabled once, and a bus master */
	b = upstream_bridge(f);
	if (b && atomic_load(&b->enable_cnt) == 0) {
		(void)dl_pci_enable_device(b->dev);
		cmd = rd(b, PCI_COMMAND, 2);
		(void)dl_pci_cfg_writev(b->cfg, PCI_COMMAND, 2, cmd | PCI_COMMAND_MASTER);
	}
	cmd = rd(f, PCI_COMMAND, 2);
	if ((cmd | decode_bits(f)) != cmd)
		(void)dl_pci_cfg_writev(f->cfg, PCI_COMMAND, 2, cmd | decode_bits(f));
	return 0;
}

void dl_pci_disable_device(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	uint32_t cmd;
	int c;

	if (!f)
		return;
	c = atomic_load(&f->enable_cnt);
	do {
		if (c <= 0)
			return; /* pci_disable_device() of a disabled one warns */
	} while (!atomic_compare_exchange_weak(&f->enable_cnt, &c, c - 1));
	if (c != 1)
		return;
	cmd = rd(f, PCI_COMMAND, 2);
	if (cmd & PCI_COMMAND_MASTER)
		(void)dl_pci_cfg_writev(f->cfg, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MASTER);
}

int dl_pci_enable_count(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	assert_return(f, -EINVAL);
	return atomic_load(&f->enable_cnt);
}
