/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Address assignment: BARs, ROMs, VF BARs and bridge windows of the
 * synthesized functions, bus by bus below each root bus (the last pass of
 * validation), and the placement of one function added later above
 * everything in use (a host add).
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

struct cursors {
	uint64_t mem32, mem64, io;
};

#define MEM32_START 0xc0000000ull
#define MEM32_END 0xfec00000ull
#define MEM64_START 0x4000000000ull
#define IO_START 0x1000ull
#define IO_END 0x10000ull

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int alloc_range(uint64_t *cursor, uint64_t size, uint64_t align,
		       uint64_t end, uint64_t *ret)
{
	uint64_t a = align_up(*cursor, align);

	if (a < *cursor || a + size < a || (end && a + size > end))
		return -ENOSPC;
	*ret = a;
	*cursor = a + size;
	return 0;
}

static uint64_t *pick_cursor(struct cursors *c, const struct dl_pci_bar_info *b,
			     uint64_t *ret_end)
{
	if (b->flags & DL_PCI_BAR_IO) {
		*ret_end = IO_END;
		return &c->io;
	}
	/* Non-prefetchable BARs must sit in a bridge's 32-bit window. */
	if ((b->flags & DL_PCI_BAR_64) && (b->flags & DL_PCI_BAR_PREF)) {
		*ret_end = 0;
		return &c->mem64;
	}
	*ret_end = MEM32_END;
	return &c->mem32;
}

static int assign_spec_bars(struct dl_pci_desc *d, struct dl_pci_spec *s,
			    struct cursors *c, struct dl_pci_error *err)
{
	char name[24];
	uint64_t end, *cur;

	dl_pci_spec_name(s, name, sizeof(name));
	for (unsigned int i = 0; i < 6; i++) {
		if (!s->bars[i].size)
			continue;
		cur = pick_cursor(c, &s->bars[i], &end);
		if (alloc_range(cur, s->bars[i].size, s->bars[i].size, end,
				&s->bar_addr[i]) < 0)
			return dl_pci__fail(err, d->source, s->line,
					    "%s: no address space left for bar%u", name, i);
	}
	if (s->rom_size &&
	    alloc_range(&c->mem32, s->rom_size, s->rom_size, MEM32_END, &s->bar_addr[6]) < 0)
		return dl_pci__fail(err, d->source, s->line,
				    "%s: no address space left for the ROM", name);
	for (unsigned int i = 0; i < 6 && s->sriov.total; i++) {
		const struct dl_pci_bar_info *b = &s->sriov.vf_bars[i];

		if (!b->size)
			continue;
		cur = pick_cursor(c, b, &end);
		if (b->size > UINT64_MAX / s->sriov.total ||
		    alloc_range(cur, b->size * s->sriov.total, b->size, end,
				&s->vf_bar_addr[i]) < 0)
			return dl_pci__fail(err, d->source, s->line,
					    "%s: no address space left for vfbar%u", name, i);
	}
	return 0;
}

/* Assign addresses on one bus (children of @bridge, or a root bus). */
static int assign_bus(struct dl_pci_desc *d, const size_t *order, long bridge,
		      uint32_t domain, unsigned int bus, struct cursors *c,
		      int depth, struct dl_pci_error *err)
{
	int r;

	if (depth > 256)
		return dl_pci__fail(err, d->source, 0, "bridges nest too deeply");
	for (size_t k = 0; k < d->n; k++) {
		struct dl_pci_spec *s = &d->specs[order[k]];
		struct cursors start;

		if (s->parent != bridge || s->domain != domain || s->bus != bus)
			continue;
		if (!s->config) {
			r = assign_spec_bars(d, s, c, err);
			if (r < 0)
				return r;
		}
		if (!dl_pci__spec_is_bridge(s))
			continue;
		c->io = align_up(c->io, 0x1000);
		c->mem32 = align_up(c->mem32, 0x100000);
		c->mem64 = align_up(c->mem64, 0x100000);
		start = *c;
		r = assign_bus(d, order, (long)order[k], domain, (unsigned int)s->secbus,
			       c, depth + 1, err);
		if (r < 0)
			return r;
		c->io = align_up(c->io, 0x1000);
		c->mem32 = align_up(c->mem32, 0x100000);
		c->mem64 = align_up(c->mem64, 0x100000);
		if (s->config)
			continue;
		/* closed windows read base > limit */
		s->win.io_base = 0xf000;
		s->win.io_limit = 0;
		s->win.mem_base = 0xfff00000;
		s->win.mem_limit = 0;
		s->win.pref_base = 0xfff00000;
		s->win.pref_limit = 0;
		if (c->io > start.io) {
			s->win.io_base = (uint32_t)start.io;
			s->win.io_limit = (uint32_t)c->io - 1;
		}
		if (c->mem32 > start.mem32) {
			s->win.mem_base = (uint32_t)start.mem32;
			s->win.mem_limit = (uint32_t)(c->mem32 - 1);
		}
		if (c->mem64 > start.mem64) {
			s->win.pref_base = start.mem64;
			s->win.pref_limit = c->mem64 - 1;
		}
		if (c->mem32 > MEM32_END)
			return dl_pci__fail(err, d->source, s->line,
					    "no 32-bit memory space left behind this bridge");
	}
	return 0;
}

static void cursor_past(uint64_t *cur, uint64_t start, uint64_t size)
{
	if (size && start + size > *cur)
		*cur = start + size;
}

int dl_pci__desc_place_new(struct dl_pci_desc *d, size_t idx, struct dl_pci_error *err)
{
	struct cursors c = { MEM32_START, MEM64_START, IO_START };
	struct dl_pci_spec *s;
	uint64_t end;

	assert_return(d && idx < d->n, -EINVAL);
	s = &d->specs[idx];
	for (size_t i = 0; i < d->n; i++) {
		const struct dl_pci_spec *o = &d->specs[i];

		if (i == idx || o->config)
			continue;
		for (unsigned int b = 0; b < 6; b++) {
			if (o->bars[b].size)
				cursor_past(pick_cursor(&c, &o->bars[b], &end), o->bar_addr[b],
					    o->bars[b].size);
			if (o->sriov.total && o->sriov.vf_bars[b].size)
				cursor_past(pick_cursor(&c, &o->sriov.vf_bars[b], &end),
					    o->vf_bar_addr[b],
					    o->sriov.vf_bars[b].size * o->sriov.total);
		}
		cursor_past(&c.mem32, o->bar_addr[6], o->rom_size);
		if (dl_pci__spec_is_bridge(o)) {
			if (o->win.io_base <= o->win.io_limit)
				cursor_past(&c.io, o->win.io_base,
					    (uint64_t)o->win.io_limit - o->win.io_base + 1);
			if (o->win.mem_base <= o->win.mem_limit)
				cursor_past(&c.mem32, o->win.mem_base,
					    (uint64_t)o->win.mem_limit - o->win.mem_base + 1);
			if (o->win.pref_base <= o->win.pref_limit)
				cursor_past(&c.mem64, o->win.pref_base,
					    o->win.pref_limit - o->win.pref_base + 1);
		}
	}
	if (s->config)
		return 0;
	memset(s->bar_addr, 0, sizeof(s->bar_addr));
	memset(s->vf_bar_addr, 0, sizeof(s->vf_bar_addr));
	if (dl_pci__spec_is_bridge(s)) {
		s->win.io_base = 0xf000;
		s->win.io_limit = 0;
		s->win.mem_base = 0xfff00000;
		s->win.mem_limit = 0;
		s->win.pref_base = 0xfff00000;
		s->win.pref_limit = 0;
	}
	return assign_spec_bars(d, s, &c, err);
}

int dl_pci__desc_assign_addresses(struct dl_pci_desc *d, const size_t *order,
				  struct dl_pci_error *err)
{
	for (size_t k = 0; k < d->n; k++) {
		const struct dl_pci_spec *s = &d->specs[order[k]];
		struct cursors c = { MEM32_START, MEM64_START, IO_START };
		int r;

		if (s->parent >= 0)
			continue;
		if (k > 0) {
			const struct dl_pci_spec *x = &d->specs[order[k - 1]];

			if (x->parent < 0 && x->domain == s->domain && x->bus == s->bus)
				continue; /* bus already done */
		}
		r = assign_bus(d, order, -1, s->domain, s->bus, &c, 0, err);
		if (r < 0)
			return r;
	}
	return 0;
}
