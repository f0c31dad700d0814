/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The keys of a topology line (docs/topology.md): their names, and one
 * parser per key in key_parsers[]. Adding a key is a value of the key
 * enum (topology-parse-internal.h), its name and its parser here.
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

#include <devlife/device.h>

#include "internal.h"
#include "topo-internal.h"
#include "topology-parse-internal.h"
#include "topology.h"

static int parse_bar(struct line_ctx *ctx, struct tok key, struct tok v,
		     bool vf, struct dl_pci_bar_info *ret)
{
	struct tok it[4];
	int n = split_commas(v, it, 4);
	struct dl_pci_bar_info b = { 0, 0 };

	if (n < 1 || !dl_pci__parse_size(it[0].s, it[0].n, &b.size))
		return LFAIL(ctx, "%.*s: expected SIZE[,64][,pref][,io], got '%.*s'",
			     (int)key.n, key.s, (int)v.n, v.s);
	for (int i = 1; i < n; i++) {
		unsigned int f;

		if (tok_eq(it[i], "64"))
			f = DL_PCI_BAR_64;
		else if (tok_eq(it[i], "pref"))
			f = DL_PCI_BAR_PREF;
		else if (tok_eq(it[i], "io") && !vf)
			f = DL_PCI_BAR_IO;
		else
			return LFAIL(ctx, "%.*s: unknown flag '%.*s' (64, pref%s)",
				     (int)key.n, key.s, (int)it[i].n, it[i].s,
				     vf ? "" : ", io");
		if (b.flags & f)
			return LFAIL(ctx, "%.*s: flag '%.*s' given twice", (int)key.n,
				     key.s, (int)it[i].n, it[i].s);
		b.flags |= f;
	}
	if ((b.flags & DL_PCI_BAR_IO) && (b.flags & ~DL_PCI_BAR_IO))
		return LFAIL(ctx, "%.*s: an I/O BAR is neither 64-bit nor prefetchable",
			     (int)key.n, key.s);
	if (!is_pow2_u64(b.size))
		return LFAIL(ctx, "%.*s: size %llu is not a power of two", (int)key.n,
			     key.s, (unsigned long long)b.size);
	if ((b.flags & DL_PCI_BAR_IO) && (b.size < 4 || b.size > 256))
		return LFAIL(ctx, "%.*s: an I/O BAR is 4 to 256 bytes", (int)key.n, key.s);
	if (!(b.flags & DL_PCI_BAR_IO) && b.size < 16)
		return LFAIL(ctx, "%.*s: a memory BAR is at least 16 bytes", (int)key.n,
			     key.s);
	if (!(b.flags & (DL_PCI_BAR_IO | DL_PCI_BAR_64)) && b.size > (1ull << 31))
		return LFAIL(ctx, "%.*s: a 32-bit BAR is at most 2G; add ',64'", (int)key.n,
			     key.s);
	*ret = b;
	return 0;
}

static int parse_sriov(struct line_ctx *ctx, struct tok v)
{
	struct dl_pci_sriov_spec *sr = &ctx->s->sriov;
	struct tok it[8];
	int n = split_commas(v, it, 8);
	unsigned int seen = 0;
	uint64_t x;

	if (n < 1 || !dl_pci__parse_u64(it[0].s, it[0].n, false, &x) || x < 1 ||
	    x > 0xffff)
		return LFAIL(ctx, "sriov: expected TOTAL[,offset=N][,stride=N][,vfdev=ID]"
				  "[,numvfs=N] with TOTAL 1..65535, got '%.*s'",
			     (int)v.n, v.s);
	sr->total = (uint16_t)x;
	sr->offset = 1;
	sr->stride = 1;
	for (int i = 1; i < n; i++) {
		static const char *const keys[] = { "offset", "stride", "vfdev", "numvfs" };
		const char *eq = memchr(it[i].s, '=', it[i].n);
		struct tok k, val;
		unsigned int ki;

		if (!eq)
			return LFAIL(ctx, "sriov: expected key=value, got '%.*s'",
				     (int)it[i].n, it[i].s);
		k.s = it[i].s;
		k.n = (size_t)(eq - it[i].s);
		val.s = eq + 1;
		val.n = it[i].n - k.n - 1;
		for (ki = 0; ki < ARRAY_SIZE(keys); ki++)
			if (tok_eq(k, keys[ki]))
				break;
		if (ki == ARRAY_SIZE(keys))
			return LFAIL(ctx, "sriov: unknown key '%.*s' (offset, stride, vfdev, "
					  "numvfs)",
				     (int)k.n, k.s);
		if (seen & (1u << ki))
			return LFAIL(ctx, "sriov: '%s' given twice", keys[ki]);
		seen |= 1u << ki;
		if (!dl_pci__parse_u64(val.s, val.n, ki == 2, &x) || x > 0xffff)
			return LFAIL(ctx, "sriov: %s: expected a number 0..0xffff, got '%.*s'",
				     keys[ki], (int)val.n, val.s);
		switch (ki) {
		case 0:
			sr->offset = (uint16_t)x;
			break;
		case 1:
			sr->stride = (uint16_t)x;
			break;
		case 2:
			sr->vf_device = (uint16_t)x;
			break;
		case 3:
			sr->numvfs = (uint16_t)x;
			break;
		}
	}
	if (!(seen & 4))
		sr->vf_device = ctx->s->device;
	if (!sr->offset)
		return LFAIL(ctx, "sriov: offset must not be 0 (VF 0 would be the PF)");
	if (!sr->stride && sr->total > 1)
		return LFAIL(ctx, "sriov: stride must not be 0 with more than one VF");
	if (sr->numvfs > sr->total)
		return LFAIL(ctx, "sriov: numvfs %u is above TotalVFs %u", sr->numvfs,
			     sr->total);
	return 0;
}

static int parse_mdev_types(struct line_ctx *ctx, struct tok v)
{
	const char *p = v.s, *end = v.s + v.n;

	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *colon;
		struct tok name;
		uint64_t x;

		if (!c)
			c = end;
		colon = memchr(p, ':', (size_t)(c - p));
		name.s = p;
		name.n = (size_t)((colon ? colon : c) - p);
		if (!name_ok(name, DL_NAME_MAX))
			return LFAIL(ctx, "mdev_types: bad type name '%.*s' (letters, digits, "
					  "'_', '-', '.'; at most %d)",
				     (int)name.n, name.s, DL_NAME_MAX);
		if (colon && (!dl_pci__parse_u64(colon + 1, (size_t)(c - colon - 1), false,
						 &x) ||
			      x < 1 || x > 65535))
			return LFAIL(ctx, "mdev_types: bad instance count '%.*s' for '%.*s'",
				     (int)(c - colon - 1), colon + 1, (int)name.n, name.s);
		p = c + 1;
		if (c < end && p == end)
			return LFAIL(ctx, "mdev_types: empty type name");
	}
	if (!v.n)
		return LFAIL(ctx, "mdev_types: empty list");
	free(ctx->s->mdev_types);
	ctx->s->mdev_types = tokdup(v);
	if (!ctx->s->mdev_types)
		return -ENOMEM;
	ctx->s->mdev_parent = true;
	return 0;
}

static int parse_yesno(struct line_ctx *ctx, struct tok key, struct tok v, bool *ret)
{
	if (tok_eq(v, "yes") || tok_eq(v, "1") || tok_eq(v, "true"))
		*ret = true;
	else if (tok_eq(v, "no") || tok_eq(v, "0") || tok_eq(v, "false"))
		*ret = false;
	else
		return LFAIL(ctx, "%.*s: expected yes or no, got '%.*s'", (int)key.n,
			     key.s, (int)v.n, v.s);
	return 0;
}

static const char *const key_names[K_COUNT] = {
	[K_VENDOR] = "vendor", [K_DEVICE] = "device", [K_SUBVENDOR] = "subvendor",
	[K_SUBDEVICE] = "subdevice", [K_CLASS] = "class", [K_REV] = "rev",
	[K_TYPE] = "type", [K_SECBUS] = "secbus", [K_SUBBUS] = "subbus",
	[K_BAR0] = "bar0", [K_BAR0 + 1] = "bar1", [K_BAR0 + 2] = "bar2",
	[K_BAR0 + 3] = "bar3", [K_BAR0 + 4] = "bar4", [K_BAR5] = "bar5",
	[K_VFBAR0] = "vfbar0", [K_VFBAR0 + 1] = "vfbar1", [K_VFBAR0 + 2] = "vfbar2",
	[K_VFBAR0 + 3] = "vfbar3", [K_VFBAR0 + 4] = "vfbar4", [K_VFBAR5] = "vfbar5",
	[K_ROM] = "rom", [K_PCIE] = "pcie", [K_LINK] = "link", [K_SLOT] = "slot",
	[K_MSI] = "msi", [K_MSIX] = "msix", [K_SRIOV] = "sriov",
	[K_DRIVER] = "driver", [K_DELAY] = "delay_us", [K_MDEV] = "mdev_types",
	[K_NUMA] = "numa", [K_IRQ] = "irq", [K_PROBE_DELAY] = "probe_delay_us",
	[K_REMOVE_DELAY] = "remove_delay_us", [K_OP_DELAY] = "op_delay_us",
	[K_PROBE_ERRNO] = "probe_errno", [K_PROBE_VFS] = "probe_vfs",
	[K_ACS] = "acs", [K_IOMMU_GROUP] = "iommu_group",
};
_Static_assert(K_COUNT <= 64, "keys are a 64-bit set");

/* The errno names probe_errno accepts besides numbers. */
static const struct {
	const char *name;
	int value;
} errno_names[] = {
	{ "EPERM", EPERM },     { "ENOENT", ENOENT },   { "EIO", EIO },
	{ "ENXIO", ENXIO },     { "EAGAIN", EAGAIN },   { "ENOMEM", ENOMEM },
	{ "EACCES", EACCES },   { "EBUSY", EBUSY },     { "EEXIST", EEXIST },
	{ "ENODEV", ENODEV },   { "EINVAL", EINVAL },   { "ENOSPC", ENOSPC },
	{ "ERANGE", ERANGE },   { "ENOSYS", ENOSYS },   { "EOPNOTSUPP", EOPNOTSUPP },
	{ "ETIMEDOUT", ETIMEDOUT }, { "EPROBE_DEFER", 517 },
};

static int parse_num(struct line_ctx *ctx, struct tok key, struct tok v, bool hex,
		     uint64_t max, uint64_t *ret)
{
	if (!dl_pci__parse_u64(v.s, v.n, hex, ret) || *ret > max)
		return LFAIL(ctx, "%.*s: expected a %snumber up to 0x%llx, got '%.*s'",
			     (int)key.n, key.s, hex ? "hex " : "", (unsigned long long)max,
			     (int)v.n, v.s);
	return 0;
}

/* vendor, device, subvendor, subdevice: 16-bit hex IDs */
static int parse_id16(struct line_ctx *ctx, unsigned int k, struct tok key, struct tok v)
{
	struct dl_pci_spec *s = ctx->s;
	uint64_t x;
	int r = parse_num(ctx, key, v, true, 0xffff, &x);

	if (r < 0)
		return r;
	if (k == K_VENDOR)
		s->vendor = (uint16_t)x;
	else if (k == K_DEVICE)
		s->device = (uint16_t)x;
	else if (k == K_SUBVENDOR)
		s->subvendor = (uint16_t)x;
	else
		s->subdevice = (uint16_t)x;
	return 0;
}

/* class: the 24-bit class code; rev: the revision ID */
static int parse_class_rev(struct line_ctx *ctx, unsigned int k, struct tok key,
			   struct tok v)
{
	uint64_t x;
	int r;

	if (k == K_CLASS) {
		r = parse_num(ctx, key, v, true, 0xffffff, &x);
		ctx->s->class = (uint32_t)x;
	} else {
		r = parse_num(ctx, key, v, true, 0xff, &x);
		ctx->s->rev = (uint8_t)x;
	}
	return r;
}

/* secbus, subbus: a bridge's secondary and subordinate bus */
static int parse_bridge_bus(struct line_ctx *ctx, unsigned int k, struct tok key,
			    struct tok v)
{
	uint64_t x;
	int r = parse_num(ctx, key, v, true, 0xff, &x);

	if (k == K_SECBUS)
		ctx->s->secbus = (int)x;
	else
		ctx->s->subbus = (int)x;
	return r;
}

static int parse_type(struct line_ctx *ctx, unsigned int k, struct tok key, struct tok v)
{
	struct dl_pci_spec *s = ctx->s;

	if (tok_eq(v, "endpoint"))
		s->type = DL_PCI_SPEC_ENDPOINT;
	else if (tok_eq(v, "bridge"))
		s->type = DL_PCI_SPEC_BRIDGE;
	else if (tok_eq(v, "rootport"))
		s->type = DL_PCI_SPEC_ROOTPORT;
	else if (tok_eq(v, "upstream"))
		s->type = DL_PCI_SPEC_UPSTREAM;
	else if (tok_eq(v, "downstream"))
		s->type = DL_PCI_SPEC_DOWNSTREAM;
	else
		return LFAIL(ctx, "type: expected endpoint, bridge, rootport, "
				  "upstream or downstream, got '%.*s'",
			     (int)v.n, v.s);
	return 0;
}

/* bar0..bar5, vfbar0..vfbar5 */
static int parse_bar_key(struct line_ctx *ctx, unsigned int k, struct tok key,
			 struct tok v)
{
	if (k >= K_BAR0 && k <= K_BAR5)
		return parse_bar(ctx, key, v, false, &ctx->s->bars[k - K_BAR0]);
	return parse_bar(ctx, key, v, true, &ctx->s->sriov.vf_bars[k - K_VFBAR0]);
}

static int parse_rom(struct line_ctx *ctx, unsigned int k, struct tok key, struct tok v)
{
	uint64_t x;

	if (!dl_pci__parse_size(v.s, v.n, &x) || !is_pow2_u64(x) || x < 2048 ||
	    x > (1ull << 31))
		return LFAIL(ctx, "rom: expected a power-of-two size from 2K to 2G, "
				  "got '%.*s'",
			     (int)v.n, v.s);
	ctx->s->rom_size = x;
	return 0;
}

static int parse_pcie(struct line_ctx *ctx, unsigned int k, struct tok key, struct tok v)
{
	ctx->pcie_given = true;
	return parse_yesno(ctx, key, v, &ctx->s->pcie);
}

/* link: genNxW */
static int parse_link(struct line_ctx *ctx, unsigned int k, struct tok key, struct tok v)
{
	const char *xp = memchr(v.s, 'x', v.n);
	uint64_t sp, w;

	if (v.n < 5 || memcmp(v.s, "gen", 3) || !xp ||
	    !dl_pci__parse_u64(v.s + 3, (size_t)(xp - v.s - 3), false, &sp) ||
	    !dl_pci__parse_u64(xp + 1, (size_t)(v.s + v.n - xp - 1), false, &w) ||
	    sp < 1 || sp > 5 ||
	    (w != 1 && w != 2 && w != 4 && w != 8 && w != 12 && w != 16 && w != 32))
		return LFAIL(ctx, "link: expected genNxW (N 1..5, W 1, 2, 4, 8, 12, "
				  "16 or 32), got '%.*s'",
			     (int)v.n, v.s);
	ctx->s->link_speed = (unsigned int)sp;
	ctx->s->link_width = (unsigned int)w;
	return 0;
}

/* slot: the physical slot number, or "no" */
static int parse_slot(struct line_ctx *ctx, unsigned int k, struct tok key, struct tok v)
{
	uint64_t x;
	int r;

	if (tok_eq(v, "no")) {
		ctx->s->slot = -2; /* explicitly none */
		return 0;
	}
	r = parse_num(ctx, key, v, false, 0x1fff, &x);
	ctx->s->slot = (int)x;
	return r;
}

/* msi: a power-of-two vector count up to 32 */
static int parse_msi(struct line_ctx *ctx, unsigned int k, struct tok key, struct tok v)
{
	uint64_t x;
	int r = parse_num(ctx, key, v, false, 32, &x);

	if (r < 0)
		return r;
	if (x & (x - 1))
		return LFAIL(ctx, "msi: vectors must be 0, 1, 2, 4, 8, 16 or 32");
	ctx->s->msi = (unsigned int)x;
	return 0;
}

static int parse_msix(struct line_ctx *ctx, unsigned int k, struct tok key, struct tok v)
{
	uint64_t x;
	int r = parse_num(ctx, key, v, false, 2048, &x);

	ctx->s->msix = (unsigned int)x;
	return r;
}

static int parse_sriov_key(struct line_ctx *ctx, unsigned int k, struct tok key,
			   struct tok v)
{
	return parse_sriov(ctx, v);
}

static int parse_driver(struct line_ctx *ctx, unsigned int k, struct tok key,
			struct tok v)
{
	struct dl_pci_spec *s = ctx->s;

	if (!name_ok(v, DL_NAME_MAX))
		return LFAIL(ctx, "driver: bad name '%.*s' (letters, digits, '_', "
				  "'-', '.'; at most %d)",
			     (int)v.n, v.s, DL_NAME_MAX);
	free(s->driver);
	s->driver = tokdup(v);
	return s->driver ? 0 : -ENOMEM;
}

/* delay_us, probe_delay_us, remove_delay_us, op_delay_us: up to 60 s */
static int parse_delay(struct line_ctx *ctx, unsigned int k, struct tok key, struct tok v)
{
	struct dl_pci_spec *s = ctx->s;
	uint64_t x;
	int r = parse_num(ctx, key, v, false, 60000000, &x);

	if (k == K_DELAY)
		s->delay_us = (uint32_t)x;
	else if (k == K_PROBE_DELAY)
		s->params.probe_delay_us = (uint32_t)x;
	else if (k == K_REMOVE_DELAY)
		s->params.remove_delay_us = (uint32_t)x;
	else
		s->params.op_delay_us = (uint32_t)x;
	return r;
}

static int parse_mdev_key(struct line_ctx *ctx, unsigned int k, struct tok key,
			  struct tok v)
{
	return parse_mdev_types(ctx, v);
}

/* numa: a node up to 1023, or -1 */
static int parse_numa(struct line_ctx *ctx, unsigned int k, struct tok key, struct tok v)
{
	uint64_t x;
	int r;

	if (tok_eq(v, "-1")) {
		ctx->s->numa_node = -1;
		return 0;
	}
	r = parse_num(ctx, key, v, false, 1023, &x);
	ctx->s->numa_node = (int)x;
	return r;
}

static int parse_irq(struct line_ctx *ctx, unsigned int k, struct tok key, struct tok v)
{
	uint64_t x;
	int r = parse_num(ctx, key, v, false, 65535, &x);

	ctx->s->irq = (unsigned int)x;
	return r;
}

/* probe_errno: an errno name or a number up to 4095 */
static int parse_probe_errno(struct line_ctx *ctx, unsigned int k, struct tok key,
			     struct tok v)
{
	uint64_t x;

	for (size_t i = 0; i < ARRAY_SIZE(errno_names); i++) {
		if (tok_eq(v, errno_names[i].name)) {
			ctx->s->params.probe_errno = (uint16_t)errno_names[i].value;
			return 0;
		}
	}
	if (!dl_pci__parse_u64(v.s, v.n, false, &x) || x > 4095)
		return LFAIL(ctx, "probe_errno: expected an errno name (EIO, ENODEV, "
				  "...) or a number up to 4095, got '%.*s'",
			     (int)v.n, v.s);
	ctx->s->params.probe_errno = (uint16_t)x;
	return 0;
}

static int parse_probe_vfs(struct line_ctx *ctx, unsigned int k, struct tok key,
			   struct tok v)
{
	uint64_t x;
	int r = parse_num(ctx, key, v, false, 65535, &x);

	ctx->s->params.probe_vfs = (uint16_t)x;
	return r;
}

static int parse_acs(struct line_ctx *ctx, unsigned int k, struct tok key, struct tok v)
{
	return parse_yesno(ctx, key, v, &ctx->s->acs);
}

/* iommu_group: a number, or none (a machine without an IOMMU) */
static int parse_iommu_group(struct line_ctx *ctx, unsigned int k, struct tok key,
			     struct tok v)
{
	uint64_t x;
	int r;

	if (tok_eq(v, "none")) {
		ctx->s->iommu_group = DL_PCI_IOMMU_NONE;
		return 0;
	}
	if (!dl_pci__parse_u64(v.s, v.n, false, &x) || x > 65535)
		return LFAIL(ctx, "iommu_group: expected a number up to 65535 or "
				  "'none', got '%.*s'", (int)v.n, v.s);
	r = 0;
	ctx->s->iommu_group = DL_PCI_IOMMU_ID((int)x);
	return r;
}

/* The parser of each key: one row per key, K_COUNT rows. */
static int (*const key_parsers[K_COUNT])(struct line_ctx *, unsigned int, struct tok,
					  struct tok) = {
	[K_VENDOR] = parse_id16, [K_DEVICE] = parse_id16,
	[K_SUBVENDOR] = parse_id16, [K_SUBDEVICE] = parse_id16,
	[K_CLASS] = parse_class_rev, [K_REV] = parse_class_rev,
	[K_TYPE] = parse_type,
	[K_SECBUS] = parse_bridge_bus, [K_SUBBUS] = parse_bridge_bus,
	[K_BAR0 ... K_BAR5] = parse_bar_key, [K_VFBAR0 ... K_VFBAR5] = parse_bar_key,
	[K_ROM] = parse_rom, [K_PCIE] = parse_pcie, [K_LINK] = parse_link,
	[K_SLOT] = parse_slot, [K_MSI] = parse_msi, [K_MSIX] = parse_msix,
	[K_SRIOV] = parse_sriov_key, [K_DRIVER] = parse_driver,
	[K_DELAY] = parse_delay, [K_MDEV] = parse_mdev_key, [K_NUMA] = parse_numa,
	[K_IRQ] = parse_irq, [K_PROBE_DELAY] = parse_delay,
	[K_REMOVE_DELAY] = parse_delay, [K_OP_DELAY] = parse_delay,
	[K_PROBE_ERRNO] = parse_probe_errno, [K_PROBE_VFS] = parse_probe_vfs,
	[K_ACS] = parse_acs, [K_IOMMU_GROUP] = parse_iommu_group,
};

unsigned int dl_pci__topology_key(struct tok key)
{
	unsigned int k;

	for (k = 0; k < K_COUNT; k++)
		if (tok_eq(key, key_names[k]))
			break;
	return k;
}

int dl_pci__parse_key(struct line_ctx *ctx, unsigned int k, struct tok key, struct tok v)
{
	assert(k < K_COUNT && key_parsers[k]);
	return key_parsers[k](ctx, k, key, v);
}
