/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Topology descriptions: management, validation (bus numbering, VF
 * routing, address assignment), the topology-file parser, the built-in
 * default, and specs to config templates. Nothing here touches a tree.
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
/* Errors                                                              */

int dl_pci__fail(struct dl_pci_error *err, const char *source, unsigned int line,
		 const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err)
		return -EINVAL;
	err->line = line;
	if (line)
		n = snprintf(err->msg, sizeof(err->msg), "%s:%u: ",
			     source ? source : "<memory>", line);
	else
		n = snprintf(err->msg, sizeof(err->msg), "%s: ",
			     source ? source : "<memory>");
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Names                                                               */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse exactly @n hex digits. */
static bool hexn(const char *s, size_t n, uint32_t *ret)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++) {
		int h = hexval((unsigned char)s[i]);

		if (h < 0)
			return false;
		v = v << 4 | (uint32_t)h;
	}
	*ret = v;
	return true;
}

int dl_pci_bdf_parse(const char *s, size_t len, uint32_t *ret_domain,
		     uint8_t *ret_bus, uint8_t *ret_devfn)
{
	uint32_t dom = 0, bus, dev, fn;
	size_t dl = 0;

	assert_return(s && ret_domain && ret_bus && ret_devfn, -EINVAL);
	/* "BB:DD.F" is 7 characters; a domain adds 4 to 8 digits and ':' */
	if (len > 7) {
		dl = len - 8;
		if (dl < 4 || dl > 8 || s[dl] != ':' || !hexn(s, dl, &dom))
			return -EINVAL;
		s += dl + 1;
		len -= dl + 1;
	}
	if (len != 7 || s[2] != ':' || s[5] != '.')
		return -EINVAL;
	if (!hexn(s, 2, &bus) || !hexn(s + 3, 2, &dev) || !hexn(s + 6, 1, &fn))
		return -EINVAL;
	if (dev > 0x1f || fn > 7)
		return -EINVAL;
	*ret_domain = dom;
	*ret_bus = (uint8_t)bus;
	*ret_devfn = (uint8_t)(dev << 3 | fn);
	return 0;
}

char *dl_pci_bdf_format(uint32_t domain, uint8_t bus, uint8_t devfn, char *buf,
			size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%u", (unsigned int)domain, bus,
		 devfn >> 3, devfn & 7u);
	return buf;
}

char *dl_pci_spec_name(const struct dl_pci_spec *s, char *buf, size_t len)
{
	return dl_pci_bdf_format(s->domain, s->bus, s->devfn, buf, len);
}

/* ------------------------------------------------------------------ */
/* Descriptions                                                        */

void dl_pci_spec_init(struct dl_pci_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->type = DL_PCI_SPEC_ENDPOINT;
	s->secbus = -1;
	s->subbus = -1;
	s->slot = -1;
	s->numa_node = -1;
	s->parent = -1;
}

void dl_pci__spec_clear(struct dl_pci_spec *s)
{
	free(s->driver);
	free(s->mdev_types);
	free(s->config);
	free(s->vf_config);
	s->driver = s->mdev_types = NULL;
	s->config = s->vf_config = NULL;
}

int dl_pci_desc_new(const char *source, struct dl_pci_desc **ret)
{
	struct dl_pci_desc *d;

	assert_return(ret, -EINVAL);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->source = strdup(source ? source : "<memory>");
	if (!d->source) {
		free(d);
		return -ENOMEM;
	}
	*ret = d;
	return 0;
}

struct dl_pci_desc *dl_pci_desc_free(struct dl_pci_desc *d)
{
	if (!d)
		return NULL;
	for (size_t i = 0; i < d->n; i++)
		dl_pci__spec_clear(&d->specs[i]);
	free(d->specs);
	free(d->source);
	free(d);
	return NULL;
}

static void *memdup(const void *p, size_t n)
{
	void *q;

	if (!p)
		return NULL;
	q = malloc(n ? n : 1);
	if (q)
		memcpy(q, p, n);
	return q;
}

int dl_pci_desc_append(struct dl_pci_desc *d, const struct dl_pci_spec *s,
		       struct dl_pci_spec **ret)
{
	struct dl_pci_spec c = *s;

	assert_return(d && s, -EINVAL);
	assert_return(!s->config || (s->config_len >= 64 &&
				     s->config_len <= DL_PCI_CFG_SIZE),
		      -EINVAL);
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		struct dl_pci_spec *n = realloc(d->specs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		d->specs = n;
		d->cap = cap;
	}
	c.driver = s->driver ? strdup(s->driver) : NULL;
	c.mdev_types = s->mdev_types ? strdup(s->mdev_types) : NULL;
	c.config = memdup(s->config, s->config_len);
	c.vf_config = memdup(s->vf_config, s->vf_config_len);
	if ((s->driver && !c.driver) || (s->mdev_types && !c.mdev_types) ||
	    (s->config && !c.config) || (s->vf_config && !c.vf_config)) {
		dl_pci__spec_clear(&c);
		return -ENOMEM;
	}
	d->specs[d->n] = c;
	if (ret)
		*ret = &d->specs[d->n];
	d->n++;
	d->validated = false;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */

static bool is_bridge(const struct dl_pci_spec *s)
{
	return s->type != DL_PCI_SPEC_ENDPOINT;
}

static uint32_t rid_of(const struct dl_pci_spec *s)
{
	return (uint32_t)s->bus << 8 | s->devfn;
}

static int cmp_spec_loc(const void *a, const void *b, void *arg)
{
	const struct dl_pci_spec *specs = arg;
	const struct dl_pci_spec *x = &specs[*(const size_t *)a];
	const struct dl_pci_spec *y = &specs[*(const size_t *)b];

	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	if (rid_of(x) != rid_of(y))
		return rid_of(x) < rid_of(y) ? -1 : 1;
	/* equal: keep source order so the later line is reported */
	return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_bridge_sec(const void *a, const void *b, void *arg)
{
	const struct dl_pci_spec *specs = arg;
	const struct dl_pci_spec *x = &specs[*(const size_t *)a];
	const struct dl_pci_spec *y = &specs[*(const size_t *)b];

	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	if (x->secbus != y->secbus)
		return x->secbus < y->secbus ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static bool is_ancestor(const struct dl_pci_spec *specs, long anc, long i)
{
	for (long p = specs[i].parent; p >= 0; p = specs[p].parent)
		if (p == anc)
			return true;
	return false;
}

/*
 * How many VFs validation must place: every possible one (TotalVFs) for
 * a synthesized PF; for an imported one only those enabled, because real
 * firmware need not reserve bus numbers for all of them (enabling more
 * later fails as it would on that machine).
 */
static unsigned int vf_count(const struct dl_pci_spec *s)
{
	return s->config ? s->sriov.numvfs : s->sriov.total;
}

/* Largest bus number a PF's VFs can use, or -1 (-ERANGE: past bus ff). */
static int vf_max_bus(const struct dl_pci_spec *s, unsigned int *ret_bad_vf)
{
	uint16_t rid;

	if (!vf_count(s))
		return -1;
	for (unsigned int n = 0; n < vf_count(s); n++) {
		if (dl_pci_sriov_vf_rid((uint16_t)rid_of(s), s->sriov.offset,
					s->sriov.stride, n, &rid) < 0) {
			*ret_bad_vf = n;
			return -ERANGE;
		}
	}
	dl_pci_sriov_vf_rid((uint16_t)rid_of(s), s->sriov.offset, s->sriov.stride,
			    vf_count(s) - 1u, &rid);
	/* the stride may be "negative" modulo nothing: VFs only go up */
	return rid >> 8;
}

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
		if (!is_bridge(s))
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
		if (is_bridge(o)) {
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
	if (is_bridge(s)) {
		s->win.io_base = 0xf000;
		s->win.io_limit = 0;
		s->win.mem_base = 0xfff00000;
		s->win.mem_limit = 0;
		s->win.pref_base = 0xfff00000;
		s->win.pref_limit = 0;
	}
	return assign_spec_bars(d, s, &c, err);
}

static unsigned int pcie_type_of(const struct dl_pci_desc *d,
				 const struct dl_pci_spec *s)
{
	const struct dl_pci_spec *p = s->parent >= 0 ? &d->specs[s->parent] : NULL;

	switch (s->type) {
	case DL_PCI_SPEC_ROOTPORT:
		return PCI_EXP_TYPE_ROOT_PORT;
	case DL_PCI_SPEC_UPSTREAM:
		return PCI_EXP_TYPE_UPSTREAM;
	case DL_PCI_SPEC_DOWNSTREAM:
		return PCI_EXP_TYPE_DOWNSTREAM;
	case DL_PCI_SPEC_BRIDGE:
		/* a PCIe bridge on a root bus is a root port; below a
		 * conventional bridge it can only be a PCI Express bridge */
		if (!p)
			return PCI_EXP_TYPE_ROOT_PORT;
		if (!p->pcie)
			return PCI_EXP_TYPE_PCI_BRIDGE;
		if (p->pcie_type == PCI_EXP_TYPE_UPSTREAM)
			return PCI_EXP_TYPE_DOWNSTREAM;
		return PCI_EXP_TYPE_UPSTREAM;
	case DL_PCI_SPEC_ENDPOINT:
	default:
		return p ? PCI_EXP_TYPE_ENDPOINT : PCI_EXP_TYPE_RC_END;
	}
}

/* The routing-ID owners of one domain: 0 free, else spec index + 1, or
 * VF_OWNER | spec index for a VF. */
#define VF_OWNER 0x80000000u

static int check_vfs(struct dl_pci_desc *d, uint32_t domain, uint32_t *owner,
		     struct dl_pci_error *err)
{
	char a[24], b[24];

	memset(owner, 0, 65536 * sizeof(*owner));
	for (size_t i = 0; i < d->n; i++)
		if (d->specs[i].domain == domain)
			owner[rid_of(&d->specs[i])] = (uint32_t)i + 1;
	for (size_t i = 0; i < d->n; i++) {
		struct dl_pci_spec *s = &d->specs[i];
		const struct dl_pci_spec *p;
		unsigned int lo, hi;

		if (s->domain != domain || !vf_count(s))
			continue;
		p = s->parent >= 0 ? &d->specs[s->parent] : NULL;
		lo = p ? (unsigned int)p->secbus : s->bus;
		hi = p ? (unsigned int)p->subbus : 0xff;
		for (unsigned int n = 0; n < vf_count(s); n++) {
			uint16_t rid;
			uint32_t o;

			dl_pci_sriov_vf_rid((uint16_t)rid_of(s), s->sriov.offset,
					    s->sriov.stride, n, &rid);
			dl_pci_spec_name(s, a, sizeof(a));
			if ((rid >> 8) < lo || (rid >> 8) > hi)
				return dl_pci__fail(err, d->source, s->line,
						    "VF %u of %s would be on bus %02x, outside "
						    "buses %02x-%02x",
						    n, a, rid >> 8, lo, hi);
			o = owner[rid];
			if (o & VF_OWNER) {
				const struct dl_pci_spec *q = &d->specs[o & ~VF_OWNER];

				dl_pci_bdf_format(domain, (uint8_t)(rid >> 8),
						  (uint8_t)rid, b, sizeof(b));
				return dl_pci__fail(err, d->source, s->line,
						    "VF %u of %s would be %s, a VF of the "
						    "function at line %u",
						    n, a, b, q->line);
			}
			if (o) {
				dl_pci_spec_name(&d->specs[o - 1], b, sizeof(b));
				return dl_pci__fail(err, d->source, s->line,
						    "VF %u of %s would be %s, which line %u "
						    "defines",
						    n, a, b, d->specs[o - 1].line);
			}
			owner[rid] = VF_OWNER | (uint32_t)i;
		}
	}
	return 0;
}

int dl_pci_desc_validate(struct dl_pci_desc *d, struct dl_pci_error *err)
{
	size_t *order = NULL, *br = NULL, nbr = 0;
	uint32_t *owner = NULL;
	int *need = NULL;
	long *need_src = NULL;
	char a[24], b[24];
	int r = -ENOMEM;

	assert_return(d, -EINVAL);
	d->validated = false;
	if (!d->n) {
		d->validated = true;
		return 0;
	}
	order = calloc(d->n, sizeof(*order));
	br = calloc(d->n, sizeof(*br));
	need = calloc(d->n, sizeof(*need));
	need_src = calloc(d->n, sizeof(*need_src));
	if (!order || !br || !need || !need_src)
		goto out;

	/* Functions are unique. */
	for (size_t i = 0; i < d->n; i++)
		order[i] = i;
	qsort_r(order, d->n, sizeof(*order), cmp_spec_loc, d->specs);
	for (size_t k = 1; k < d->n; k++) {
		const struct dl_pci_spec *x = &d->specs[order[k - 1]];
		const struct dl_pci_spec *y = &d->specs[order[k]];

		if (x->domain == y->domain && rid_of(x) == rid_of(y)) {
			r = dl_pci__fail(err, d->source, y->line,
					 "%s is already defined at line %u",
					 dl_pci_spec_name(y, a, sizeof(a)), x->line);
			goto out;
		}
	}

	/* SR-IOV: enabled VFs are possible VFs, with distinct routing IDs. */
	for (size_t i = 0; i < d->n; i++) {
		const struct dl_pci_spec *s = &d->specs[i];

		dl_pci_spec_name(s, a, sizeof(a));
		if (s->sriov.numvfs > s->sriov.total) {
			r = dl_pci__fail(err, d->source, s->line,
					 "%s: NumVFs %u is above TotalVFs %u", a,
					 s->sriov.numvfs, s->sriov.total);
			goto out;
		}
		if (s->sriov.numvfs && (!s->sriov.offset ||
					(s->sriov.numvfs > 1 && !s->sriov.stride))) {
			r = dl_pci__fail(err, d->source, s->line,
					 "%s: VF offset %u, stride %u cannot place %u VFs", a,
					 s->sriov.offset, s->sriov.stride, s->sriov.numvfs);
			goto out;
		}
	}

	/* Bridges: a secondary bus above their own, each used once. */
	for (size_t i = 0; i < d->n; i++) {
		struct dl_pci_spec *s = &d->specs[i];

		s->parent = -1;
		if (!is_bridge(s))
			continue;
		dl_pci_spec_name(s, a, sizeof(a));
		if (s->secbus < 0 || s->secbus > 0xff) {
			r = dl_pci__fail(err, d->source, s->line,
					 "bridge %s needs a secondary bus (secbus=)", a);
			goto out;
		}
		if (s->secbus <= s->bus) {
			r = dl_pci__fail(err, d->source, s->line,
					 "secondary bus %02x of %s must be above its own bus "
					 "%02x",
					 s->secbus, a, s->bus);
			goto out;
		}
		if (s->subbus >= 0 && s->subbus < s->secbus) {
			r = dl_pci__fail(err, d->source, s->line,
					 "subordinate bus %02x of %s is below its secondary "
					 "bus %02x",
					 s->subbus, a, s->secbus);
			goto out;
		}
		br[nbr++] = i;
	}
	qsort_r(br, nbr, sizeof(*br), cmp_bridge_sec, d->specs);
	for (size_t k = 1; k < nbr; k++) {
		const struct dl_pci_spec *x = &d->specs[br[k - 1]];
		const struct dl_pci_spec *y = &d->specs[br[k]];

		if (x->domain == y->domain && x->secbus == y->secbus) {
			r = dl_pci__fail(err, d->source, y->line,
					 "bus %02x is already the secondary bus of %s (line %u)",
					 y->secbus, dl_pci_spec_name(x, a, sizeof(a)),
					 x->line);
			goto out;
		}
	}

	/* Parents: the bridge whose secondary bus a function sits on. */
	for (size_t i = 0; i < d->n; i++) {
		struct dl_pci_spec *s = &d->specs[i];
		size_t lo = 0, hi = nbr;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			const struct dl_pci_spec *m = &d->specs[br[mid]];

			if (m->domain < s->domain ||
			    (m->domain == s->domain && m->secbus < s->bus))
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < nbr && d->specs[br[lo]].domain == s->domain &&
		    d->specs[br[lo]].secbus == s->bus)
			s->parent = (long)br[lo];
	}

	/* Port types by position. */
	for (size_t i = 0; i < d->n; i++) {
		struct dl_pci_spec *s = &d->specs[i];
		const struct dl_pci_spec *p = s->parent >= 0 ? &d->specs[s->parent] : NULL;

		if (s->config)
			continue;
		dl_pci_spec_name(s, a, sizeof(a));
		if (s->type == DL_PCI_SPEC_ROOTPORT && p) {
			r = dl_pci__fail(err, d->source, s->line,
					 "root port %s must be on a root bus, not behind %s",
					 a, dl_pci_spec_name(p, b, sizeof(b)));
			goto out;
		}
		if (s->type == DL_PCI_SPEC_UPSTREAM &&
		    (!p || (p->type != DL_PCI_SPEC_ROOTPORT &&
			    p->type != DL_PCI_SPEC_DOWNSTREAM))) {
			r = dl_pci__fail(err, d->source, s->line,
					 "upstream port %s must be below a root port or a "
					 "downstream port",
					 a);
			goto out;
		}
		if (s->type == DL_PCI_SPEC_DOWNSTREAM &&
		    (!p || p->type != DL_PCI_SPEC_UPSTREAM)) {
			r = dl_pci__fail(err, d->source, s->line,
					 "downstream port %s must be below an upstream port",
					 a);
			goto out;
		}
	}

	/* Subordinate buses: cover everything below, VF buses included. */
	for (size_t i = 0; i < d->n; i++) {
		need[i] = -1;
		need_src[i] = -1;
	}
	for (size_t i = 0; i < d->n; i++) {
		const struct dl_pci_spec *s = &d->specs[i];
		unsigned int bad_vf = 0;
		int top = s->bus;
		int vf = vf_max_bus(s, &bad_vf);

		if (vf == -ERANGE) {
			r = dl_pci__fail(err, d->source, s->line,
					 "VF %u of %s would be past bus ff", bad_vf,
					 dl_pci_spec_name(s, a, sizeof(a)));
			goto out;
		}
		if (vf > top)
			top = vf;
		if (is_bridge(s))
			top = s->subbus > s->secbus ? s->subbus : s->secbus;
		for (long p = s->parent; p >= 0; p = d->specs[p].parent) {
			if (top > need[p]) {
				need[p] = top;
				need_src[p] = (long)i;
			}
		}
	}
	for (size_t k = nbr; k-- > 0;) {
		/* deepest (highest secondary) first, so parents see children's
		 * computed subordinate buses */
		size_t i = br[k];
		struct dl_pci_spec *s = &d->specs[i];

		if (s->subbus < 0) {
			s->subbus = need[i] > s->secbus ? need[i] : s->secbus;
			for (long p = s->parent; p >= 0; p = d->specs[p].parent) {
				if (s->subbus > need[p]) {
					need[p] = s->subbus;
					need_src[p] = (long)i;
				}
			}
		} else if (need[i] > s->subbus) {
			const struct dl_pci_spec *q = &d->specs[need_src[i]];

			r = dl_pci__fail(err, d->source, s->line,
					 "buses %02x-%02x of %s do not cover bus %02x needed "
					 "by %s (line %u)",
					 s->secbus, s->subbus,
					 dl_pci_spec_name(s, a, sizeof(a)), need[i],
					 dl_pci_spec_name(q, b, sizeof(b)), q->line);
			goto out;
		}
	}

	/* Bus ranges nest or are disjoint; root buses are outside them. */
	for (size_t k = 0; k < nbr; k++) {
		const struct dl_pci_spec *x = &d->specs[br[k]];

		for (size_t m = k + 1; m < nbr; m++) {
			const struct dl_pci_spec *y = &d->specs[br[m]];

			if (y->domain != x->domain || y->secbus > x->subbus)
				break;
			if (!is_ancestor(d->specs, (long)br[k], (long)br[m])) {
				r = dl_pci__fail(err, d->source, y->line,
						 "buses %02x-%02x of %s overlap buses "
						 "%02x-%02x of %s (line %u)",
						 y->secbus, y->subbus,
						 dl_pci_spec_name(y, a, sizeof(a)),
						 x->secbus, x->subbus,
						 dl_pci_spec_name(x, b, sizeof(b)), x->line);
				goto out;
			}
		}
	}
	for (size_t i = 0; i < d->n; i++) {
		const struct dl_pci_spec *s = &d->specs[i];

		if (s->parent >= 0)
			continue;
		for (size_t k = 0; k < nbr; k++) {
			const struct dl_pci_spec *x = &d->specs[br[k]];

			if (x->domain == s->domain && s->bus >= x->secbus &&
			    s->bus <= x->subbus) {
				r = dl_pci__fail(err, d->source, s->line,
						 "bus %02x of %s is inside buses %02x-%02x "
						 "of %s (line %u) but no bridge has it as its "
						 "secondary bus",
						 s->bus, dl_pci_spec_name(s, a, sizeof(a)),
						 x->secbus, x->subbus,
						 dl_pci_spec_name(x, b, sizeof(b)), x->line);
				goto out;
			}
		}
	}

	/* VF routing IDs, one domain at a time. */
	owner = malloc(65536 * sizeof(*owner));
	if (!owner)
		goto out;
	for (size_t k = 0; k < d->n; k++) {
		uint32_t dom = d->specs[order[k]].domain;

		if (k > 0 && d->specs[order[k - 1]].domain == dom)
			continue;
		r = check_vfs(d, dom, owner, err);
		if (r < 0)
			goto out;
	}

	/* Multi-function bits and PCIe port types (parents first: bus
	 * order). */
	for (size_t k = 0; k < d->n; k++) {
		struct dl_pci_spec *s = &d->specs[order[k]];

		s->multifunction = (s->devfn & 7) != 0;
		if (k > 0) {
			const struct dl_pci_spec *x = &d->specs[order[k - 1]];

			if (x->domain == s->domain && x->bus == s->bus &&
			    (x->devfn >> 3) == (s->devfn >> 3))
				s->multifunction = true;
		}
		if (k + 1 < d->n) {
			const struct dl_pci_spec *y = &d->specs[order[k + 1]];

			if (y->domain == s->domain && y->bus == s->bus &&
			    (y->devfn >> 3) == (s->devfn >> 3))
				s->multifunction = true;
		}
	}
	for (size_t k = 0; k < d->n; k++) {
		/* sorted by bus: a parent (lower bus) comes before its children */
		struct dl_pci_spec *s = &d->specs[order[k]];

		/* imported functions keep the type their bytes say, unless
		 * their capabilities could not be read */
		if (s->pcie && (!s->config || s->config_len < DL_PCI_CFG_LEGACY_SIZE))
			s->pcie_type = pcie_type_of(d, s);
	}

	/* Addresses, per root bus. */
	for (size_t k = 0; k < d->n; k++) {
		const struct dl_pci_spec *s = &d->specs[order[k]];
		struct cursors c = { MEM32_START, MEM64_START, IO_START };

		if (s->parent >= 0)
			continue;
		if (k > 0) {
			const struct dl_pci_spec *x = &d->specs[order[k - 1]];

			if (x->parent < 0 && x->domain == s->domain && x->bus == s->bus)
				continue; /* bus already done */
		}
		r = assign_bus(d, order, -1, s->domain, s->bus, &c, 0, err);
		if (r < 0)
			goto out;
	}
	d->validated = true;
	r = 0;
out:
	if (r == -ENOMEM && err)
		dl_pci__fail(err, d->source, 0, "out of memory");
	free(owner);
	free(need_src);
	free(need);
	free(br);
	free(order);
	return r;
}

/* ------------------------------------------------------------------ */
/* Lines and numbers                                                   */

bool dl_pci__next_line(struct dl_pci__lines *l, const char **ret_s, size_t *ret_n)
{
	const char *s, *e;

	if (l->p >= l->end)
		return false;
	s = l->p;
	e = memchr(s, '\n', (size_t)(l->end - s));
	if (!e)
		e = l->end;
	l->p = e < l->end ? e + 1 : e;
	l->no++;
	if (e > s && e[-1] == '\r')
		e--;
	*ret_s = s;
	*ret_n = (size_t)(e - s);
	return true;
}

/* Decimal, or hex with 0x; or hex with 0x optional when @hex. */
bool dl_pci__parse_u64(const char *s, size_t n, bool hex, uint64_t *ret)
{
	uint64_t v = 0;
	unsigned int base = hex ? 16 : 10;

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		n -= 2;
	}
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int dgt = hexval((unsigned char)s[i]);

		if (dgt < 0 || (unsigned int)dgt >= base)
			return false;
		if (v > (UINT64_MAX - (uint64_t)dgt) / base)
			return false;
		v = v * base + (uint64_t)dgt;
	}
	*ret = v;
	return true;
}

/* A size: a number with an optional K, M, G or T (powers of 1024). */
bool dl_pci__parse_size(const char *s, size_t n, uint64_t *ret)
{
	unsigned int shift = 0;
	uint64_t v;

	if (n >= 1 && !(n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
		switch (toupper((unsigned char)s[n - 1])) {
		case 'K':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		case 'T':
			shift = 40;
			break;
		}
		if (shift)
			n--;
	}
	if (!dl_pci__parse_u64(s, n, false, &v))
		return false;
	if (shift && v > (UINT64_MAX >> shift))
		return false;
	*ret = v << shift;
	return true;
}

/* ------------------------------------------------------------------ */
/* Topology files                                                      */

struct tok {
	const char *s;
	size_t n;
};

static bool tok_eq(struct tok t, const char *lit)
{
	return strlen(lit) == t.n && !memcmp(t.s, lit, t.n);
}

/* Split "a,b,c" (no empty items). Returns the number or -1. */
static int split_commas(struct tok v, struct tok *items, int max)
{
	int k = 0;
	const char *p = v.s, *end = v.s + v.n;

	while (p <= end) {
		const char *c = memchr(p, ',', (size_t)(end - p));

		if (!c)
			c = end;
		if (c == p || k == max)
			return -1;
		items[k].s = p;
		items[k].n = (size_t)(c - p);
		k++;
		p = c + 1;
	}
	return k;
}

static bool name_ok(struct tok t, size_t max)
{
	if (!t.n || t.n > max)
		return false;
	for (size_t i = 0; i < t.n; i++) {
		unsigned char c = (unsigned char)t.s[i];

		if (!isalnum(c) && c != '_' && c != '-' && c != '.')
			return false;
	}
	return true;
}

static char *tokdup(struct tok t)
{
	char *s = malloc(t.n + 1);

	if (s) {
		memcpy(s, t.s, t.n);
		s[t.n] = '\0';
	}
	return s;
}

struct line_ctx {
	const char *src;
	unsigned int line;
	struct dl_pci_error *err;
	struct dl_pci_spec *s;
};

#define LFAIL(ctx, ...) dl_pci__fail((ctx)->err, (ctx)->src, (ctx)->line, __VA_ARGS__)

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
		if (!name_ok(name, 63))
			return LFAIL(ctx, "mdev_types: bad type name '%.*s' (letters, digits, "
					  "'_', '-', '.'; at most 63)",
				     (int)name.n, name.s);
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

enum {
	K_VENDOR, K_DEVICE, K_SUBVENDOR, K_SUBDEVICE, K_CLASS, K_REV, K_TYPE,
	K_SECBUS, K_SUBBUS, K_BAR0, K_BAR5 = K_BAR0 + 5, K_VFBAR0,
	K_VFBAR5 = K_VFBAR0 + 5, K_ROM, K_PCIE, K_LINK, K_SLOT, K_MSI, K_MSIX,
	K_SRIOV, K_DRIVER, K_DELAY, K_MDEV, K_NUMA, K_IRQ, K_PROBE_DELAY,
	K_REMOVE_DELAY, K_OP_DELAY, K_PROBE_ERRNO, K_PROBE_VFS, K_COUNT
};

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

static int parse_kv(struct line_ctx *ctx, unsigned int k, struct tok key,
		    struct tok v, bool *pcie_given)
{
	struct dl_pci_spec *s = ctx->s;
	uint64_t x;
	int r = 0;

	switch (k) {
	case K_VENDOR:
	case K_DEVICE:
	case K_SUBVENDOR:
	case K_SUBDEVICE:
		r = parse_num(ctx, key, v, true, 0xffff, &x);
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
	case K_CLASS:
		r = parse_num(ctx, key, v, true, 0xffffff, &x);
		s->class = (uint32_t)x;
		return r;
	case K_REV:
		r = parse_num(ctx, key, v, true, 0xff, &x);
		s->rev = (uint8_t)x;
		return r;
	case K_SECBUS:
	case K_SUBBUS:
		r = parse_num(ctx, key, v, true, 0xff, &x);
		if (k == K_SECBUS)
			s->secbus = (int)x;
		else
			s->subbus = (int)x;
		return r;
	case K_TYPE:
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
	case K_ROM:
		if (!dl_pci__parse_size(v.s, v.n, &x) || !is_pow2_u64(x) || x < 2048 ||
		    x > (1ull << 31))
			return LFAIL(ctx, "rom: expected a power-of-two size from 2K to 2G, "
					  "got '%.*s'",
				     (int)v.n, v.s);
		s->rom_size = x;
		return 0;
	case K_PCIE:
		*pcie_given = true;
		return parse_yesno(ctx, key, v, &s->pcie);
	case K_LINK: {
		/* genNxW */
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
		s->link_speed = (unsigned int)sp;
		s->link_width = (unsigned int)w;
		return 0;
	}
	case K_SLOT:
		if (tok_eq(v, "no")) {
			s->slot = -2; /* explicitly none */
			return 0;
		}
		r = parse_num(ctx, key, v, false, 0x1fff, &x);
		s->slot = (int)x;
		return r;
	case K_MSI:
		r = parse_num(ctx, key, v, false, 32, &x);
		if (r < 0)
			return r;
		if (x & (x - 1))
			return LFAIL(ctx, "msi: vectors must be 0, 1, 2, 4, 8, 16 or 32");
		s->msi = (unsigned int)x;
		return 0;
	case K_MSIX:
		r = parse_num(ctx, key, v, false, 2048, &x);
		s->msix = (unsigned int)x;
		return r;
	case K_SRIOV:
		return parse_sriov(ctx, v);
	case K_DRIVER:
		if (!name_ok(v, 63))
			return LFAIL(ctx, "driver: bad name '%.*s' (letters, digits, '_', "
					  "'-', '.'; at most 63)",
				     (int)v.n, v.s);
		free(s->driver);
		s->driver = tokdup(v);
		return s->driver ? 0 : -ENOMEM;
	case K_DELAY:
		r = parse_num(ctx, key, v, false, 60000000, &x);
		s->delay_us = (uint32_t)x;
		return r;
	case K_MDEV:
		return parse_mdev_types(ctx, v);
	case K_NUMA:
		if (tok_eq(v, "-1")) {
			s->numa_node = -1;
			return 0;
		}
		r = parse_num(ctx, key, v, false, 1023, &x);
		s->numa_node = (int)x;
		return r;
	case K_IRQ:
		r = parse_num(ctx, key, v, false, 65535, &x);
		s->irq = (unsigned int)x;
		return r;
	case K_PROBE_DELAY:
	case K_REMOVE_DELAY:
	case K_OP_DELAY:
		r = parse_num(ctx, key, v, false, 60000000, &x);
		if (k == K_PROBE_DELAY)
			s->params.probe_delay_us = (uint32_t)x;
		else if (k == K_REMOVE_DELAY)
			s->params.remove_delay_us = (uint32_t)x;
		else
			s->params.op_delay_us = (uint32_t)x;
		return r;
	case K_PROBE_ERRNO:
		for (size_t i = 0; i < ARRAY_SIZE(errno_names); i++) {
			if (tok_eq(v, errno_names[i].name)) {
				s->params.probe_errno = (uint16_t)errno_names[i].value;
				return 0;
			}
		}
		if (!dl_pci__parse_u64(v.s, v.n, false, &x) || x > 4095)
			return LFAIL(ctx, "probe_errno: expected an errno name (EIO, ENODEV, "
					  "...) or a number up to 4095, got '%.*s'",
				     (int)v.n, v.s);
		s->params.probe_errno = (uint16_t)x;
		return 0;
	case K_PROBE_VFS:
		r = parse_num(ctx, key, v, false, 65535, &x);
		s->params.probe_vfs = (uint16_t)x;
		return r;
	default:
		if (k >= K_BAR0 && k <= K_BAR5)
			return parse_bar(ctx, key, v, false, &s->bars[k - K_BAR0]);
		if (k >= K_VFBAR0 && k <= K_VFBAR5)
			return parse_bar(ctx, key, v, true,
					 &s->sriov.vf_bars[k - K_VFBAR0]);
		return -EINVAL;
	}
}

static int check_bars(struct line_ctx *ctx, const struct dl_pci_bar_info *b,
		      const char *pfx)
{
	for (unsigned int i = 0; i < 6; i++) {
		if (!b[i].size || !(b[i].flags & DL_PCI_BAR_64))
			continue;
		if (i == 5)
			return LFAIL(ctx, "%s5 cannot be 64-bit (it has no upper half)", pfx);
		if (b[i + 1].size)
			return LFAIL(ctx, "%s%u is the upper half of 64-bit %s%u", pfx, i + 1,
				     pfx, i);
	}
	return 0;
}

/* Checks that need the whole line. */
static int check_line(struct line_ctx *ctx, uint64_t seen, bool pcie_given)
{
	struct dl_pci_spec *s = ctx->s;
	bool bridge = is_bridge(s);
	bool port = s->type == DL_PCI_SPEC_ROOTPORT || s->type == DL_PCI_SPEC_UPSTREAM ||
		    s->type == DL_PCI_SPEC_DOWNSTREAM;
	int r;

	if (!(seen & (1ull << K_VENDOR)))
		return LFAIL(ctx, "missing vendor=");
	if (!(seen & (1ull << K_DEVICE)))
		return LFAIL(ctx, "missing device=");
	if (s->vendor == 0xffff || s->vendor == 0)
		return LFAIL(ctx, "vendor 0x%04x is not a valid vendor ID", s->vendor);
	if (!(seen & (1ull << K_CLASS))) {
		if (!bridge)
			return LFAIL(ctx, "missing class= (e.g. class=0x020000)");
		s->class = PCI_CLASS_BRIDGE_PCI << 8;
	}
	if (port || s->sriov.total) {
		if (pcie_given && !s->pcie)
			return LFAIL(ctx, "%s needs pcie=yes",
				     s->sriov.total ? "sriov" : "a PCI Express port");
		s->pcie = true;
	}
	if ((s->link_speed || (seen & (1ull << K_SLOT))) && !s->pcie)
		return LFAIL(ctx, "%s needs pcie=yes",
			     s->link_speed ? "link" : "slot");
	if (bridge) {
		if (!(seen & (1ull << K_SECBUS)))
			return LFAIL(ctx, "a bridge needs secbus=");
		for (unsigned int i = 2; i < 6; i++)
			if (s->bars[i].size)
				return LFAIL(ctx, "bar%u: a bridge has only bar0 and bar1", i);
		if (s->sriov.total)
			return LFAIL(ctx, "sriov: a bridge cannot have SR-IOV");
		if (s->mdev_types)
			return LFAIL(ctx, "mdev_types: only endpoints can be mdev parents");
	} else if (seen & (1ull << K_SECBUS | 1u << K_SUBBUS)) {
		return LFAIL(ctx, "secbus/subbus: only bridges have them (type=bridge)");
	}
	if ((seen & (1ull << K_SLOT)) && s->type != DL_PCI_SPEC_ROOTPORT &&
	    s->type != DL_PCI_SPEC_DOWNSTREAM)
		return LFAIL(ctx, "slot: only root ports and downstream ports have slots");
	if (s->slot == -2)
		s->slot = -1;
	else if (!(seen & (1ull << K_SLOT)) &&
		 (s->type == DL_PCI_SPEC_ROOTPORT || s->type == DL_PCI_SPEC_DOWNSTREAM))
		s->slot = s->devfn >> 3;
	r = check_bars(ctx, s->bars, "bar");
	if (r < 0)
		return r;
	r = check_bars(ctx, s->sriov.vf_bars, "vfbar");
	if (r < 0)
		return r;
	for (unsigned int i = 0; i < 6; i++)
		if (s->sriov.vf_bars[i].size && !s->sriov.total)
			return LFAIL(ctx, "vfbar%u needs sriov=", i);
	if (s->params.probe_vfs && !s->sriov.total)
		return LFAIL(ctx, "probe_vfs needs sriov=");
	if (s->params.probe_vfs > s->sriov.total)
		return LFAIL(ctx, "probe_vfs: %u is above TotalVFs %u", s->params.probe_vfs,
			     s->sriov.total);
	if (s->msix) {
		unsigned int k;

		for (k = 0; k < 6; k++)
			if (s->bars[k].size && !(s->bars[k].flags & DL_PCI_BAR_IO))
				break;
		if (k == 6)
			return LFAIL(ctx, "msix needs a memory BAR for its table");
		/* table at 0, PBA at half the BAR */
		if (16ull * s->msix > s->bars[k].size / 2 ||
		    8ull * ((s->msix + 63) / 64) > s->bars[k].size / 2)
			return LFAIL(ctx, "msix=%u does not fit in bar%u (%llu bytes: table "
					  "and PBA need %u)",
				     s->msix, k, (unsigned long long)s->bars[k].size,
				     2 * 16 * s->msix);
	}
	return 0;
}

/*
 * Parse one topology line into @s. Returns 1 for a blank or comment line,
 * 0 for a device, or a negative errno.
 */
int dl_pci__parse_topology_line(const char *p, size_t n, const char *src,
				unsigned int line, struct dl_pci_spec *s,
				struct dl_pci_error *err)
{
	struct line_ctx ctx = { src, line, err, s };
	const char *hash = memchr(p, '#', n);
	const char *end = hash ? hash : p + n;
	uint64_t seen = 0;
	bool pcie_given = false, first = true;
	int r;

	dl_pci_spec_init(s);
	s->line = line;
	if (memchr(p, '\0', n))
		return LFAIL(&ctx, "NUL byte in line");
	while (p < end) {
		struct tok t, key, v;
		const char *eq;
		unsigned int k;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		t.s = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		t.n = (size_t)(p - t.s);
		if (first) {
			first = false;
			if (dl_pci_bdf_parse(t.s, t.n, &s->domain, &s->bus, &s->devfn) < 0)
				return LFAIL(&ctx, "expected a function name DDDD:BB:DD.F or "
						   "BB:DD.F (hex), got '%.*s'",
					     (int)t.n, t.s);
			continue;
		}
		eq = memchr(t.s, '=', t.n);
		if (!eq || eq == t.s)
			return LFAIL(&ctx, "expected key=value, got '%.*s'", (int)t.n, t.s);
		key.s = t.s;
		key.n = (size_t)(eq - t.s);
		v.s = eq + 1;
		v.n = t.n - key.n - 1;
		for (k = 0; k < K_COUNT; k++)
			if (tok_eq(key, key_names[k]))
				break;
		if (k == K_COUNT)
			return LFAIL(&ctx, "unknown key '%.*s'", (int)key.n, key.s);
		if (!v.n)
			return LFAIL(&ctx, "%.*s: empty value", (int)key.n, key.s);
		if (seen & (1ull << k))
			return LFAIL(&ctx, "%.*s given twice", (int)key.n, key.s);
		seen |= 1ull << k;
		r = parse_kv(&ctx, k, key, v, &pcie_given);
		if (r < 0)
			return r;
	}
	if (first)
		return 1;
	return check_line(&ctx, seen, pcie_given);
}

int dl_pci_desc_parse_topology(const char *text, size_t len, const char *source,
			       struct dl_pci_error *err, struct dl_pci_desc **ret)
{
	struct dl_pci__lines l = { text, text + len, 0 };
	struct dl_pci_desc *d = NULL;
	struct dl_pci_spec s;
	const char *p;
	size_t n;
	int r;

	assert_return((text || !len) && ret, -EINVAL);
	r = dl_pci_desc_new(source, &d);
	if (r < 0)
		return r;
	while (dl_pci__next_line(&l, &p, &n)) {
		r = dl_pci__parse_topology_line(p, n, d->source, l.no, &s, err);
		if (r == 1)
			continue;
		if (r == 0)
			r = dl_pci_desc_append(d, &s, NULL);
		dl_pci__spec_clear(&s);
		if (r < 0)
			goto fail;
	}
	r = dl_pci_desc_validate(d, err);
	if (r < 0)
		goto fail;
	*ret = d;
	return 0;
fail:
	if (r == -ENOMEM && err)
		dl_pci__fail(err, d->source, 0, "out of memory");
	dl_pci_desc_free(d);
	return r;
}

int dl_pci__read_all(const char *path, char **ret_buf, size_t *ret_len)
{
	size_t cap = 65536, len = 0;
	char *buf = NULL;
	int fd, r = 0;

	if (!strcmp(path, "-"))
		fd = dup(STDIN_FILENO);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t k;

		if (len == cap) {
			char *nb;

			if (cap >= (64u << 20)) {
				r = -EFBIG;
				break;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int dl_pci_desc_load_topology(const char *path, struct dl_pci_error *err,
			      struct dl_pci_desc **ret)
{
	char *buf;
	size_t len;
	int r;

	assert_return(path && ret, -EINVAL);
	r = dl_pci__read_all(path, &buf, &len);
	if (r < 0) {
		if (err)
			dl_pci__fail(err, strcmp(path, "-") ? path : "<stdin>", 0, "%s",
				     strerror(-r));
		return r;
	}
	r = dl_pci_desc_parse_topology(buf, len, strcmp(path, "-") ? path : "<stdin>",
				       err, ret);
	free(buf);
	return r;
}

/* ------------------------------------------------------------------ */
/* The built-in default                                                */

static const char default_topology[] =
	"# devlife built-in default topology (see docs/topology.md)\n"
	"#\n"
	"# host bridge\n"
	"0000:00:00.0 vendor=0x8086 device=0x29c0 class=0x060000 rev=0x02 "
	"subvendor=0x8086 subdevice=0x29c0\n"
	"# PCIe root port: buses 01-02 (the NIC's VFs reach bus 02)\n"
	"0000:00:01.0 type=rootport vendor=0x8086 device=0x3420 rev=0x02 secbus=01 "
	"subbus=02 link=gen3x16 msi=1 irq=24\n"
	"# two-port SR-IOV NIC: VF n of PF f is 01:00.f + 0xc0 + 2n; its PF\n"
	"# driver serves sriov_numvfs\n"
	"0000:01:00.0 vendor=0x8086 device=0x10fb class=0x020000 rev=0x01 "
	"subvendor=0x8086 subdevice=0x000c link=gen2x8 bar0=512K,64 bar2=32,io "
	"bar4=16K,64 rom=512K msi=1 msix=64 "
	"sriov=64,offset=0xc0,stride=2,vfdev=0x10ed vfbar0=16K,64,pref "
	"vfbar3=16K,64,pref numa=0 irq=16 driver=devlife-nic\n"
	"0000:01:00.1 vendor=0x8086 device=0x10fb class=0x020000 rev=0x01 "
	"subvendor=0x8086 subdevice=0x000c link=gen2x8 bar0=512K,64 bar2=32,io "
	"bar4=16K,64 rom=512K msi=1 msix=64 "
	"sriov=64,offset=0xc0,stride=2,vfdev=0x10ed vfbar0=16K,64,pref "
	"vfbar3=16K,64,pref numa=0 irq=17 driver=devlife-nic\n"
	"# GPU-like mediated-device parent\n"
	"0000:00:02.0 vendor=0x8086 device=0x3e92 class=0x030000 rev=0x02 "
	"subvendor=0x8086 subdevice=0x2212 pcie=yes bar0=16M,64 bar2=256M,64,pref "
	"bar4=64,io rom=128K msi=1 mdev_types=i915-GVTg_V5_4:2,i915-GVTg_V5_8:4 "
	"irq=11 driver=mdev-parent\n"
	"# virtio 1.0 network and block devices\n"
	"0000:00:03.0 vendor=0x1af4 device=0x1041 class=0x020000 rev=0x01 "
	"subvendor=0x1af4 subdevice=0x1100 bar1=4K bar4=16K,64,pref msix=3 irq=10\n"
	"0000:00:04.0 vendor=0x1af4 device=0x1042 class=0x010000 rev=0x01 "
	"subvendor=0x1af4 subdevice=0x1100 bar1=4K bar4=16K,64,pref msix=2 irq=11\n"
	"# the slow device: every config access takes delay_us\n"
	"0000:00:05.0 vendor=0x1b36 device=0x0005 class=0x00ff00 rev=0x00 "
	"subvendor=0x1af4 subdevice=0x1100 bar0=4K delay_us=100000 irq=10\n";

const char *dl_pci_default_topology(void)
{
	return default_topology;
}

int dl_pci_desc_default(uint32_t slow_delay_us, struct dl_pci_desc **ret)
{
	struct dl_pci_desc *d;
	int r;

	assert_return(ret, -EINVAL);
	r = dl_pci_desc_parse_topology(default_topology, sizeof(default_topology) - 1,
				       "<default>", NULL, &d);
	if (r < 0)
		return r;
	if (slow_delay_us) {
		for (size_t i = 0; i < d->n; i++)
			if (d->specs[i].delay_us)
				d->specs[i].delay_us = slow_delay_us;
	}
	*ret = d;
	return 0;
}

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
	pp->port_nr = port ? (unsigned int)(s->devfn >> 3) : 0;
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
	sp.func_link = (uint8_t)(s->devfn & 7);
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
		if (r == 0 && s->sriov.total && (s->config[PCI_HEADER_TYPE] & 0x7f) == 0)
			r = add_sriov_of(t, s, false);
		if (r < 0) {
			dl_pci_tmpl_put(t);
			return r;
		}
	}
	*ret = t;
	return 0;
}

int dl_pci_spec_template(const struct dl_pci_desc *d, const struct dl_pci_spec *s,
			 struct dl_pci_tmpl **ret)
{
	bool bridge = is_bridge(s);
	struct dl_pci_tmpl *t;
	uint16_t cmd = 0;
	int r;

	assert_return(d && s && ret, -EINVAL);
	assert_return(d->validated, -EINVAL);
	if (s->config)
		return imported_template(s, ret);

	r = dl_pci_tmpl_new((bridge ? PCI_HEADER_TYPE_BRIDGE : PCI_HEADER_TYPE_NORMAL) |
				    (s->multifunction ? 0x80 : 0),
			    s->pcie, &t);
	if (r < 0)
		return r;
	r = dl_pci_tmpl_set_ids(t, s->vendor, s->device, s->class, s->rev, s->subvendor,
				s->subdevice);
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
		cmd |= (b->flags & DL_PCI_BAR_IO) ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	}
	if (r == 0 && s->rom_size) {
		r = dl_pci_tmpl_set_bar(t, DL_PCI_ROM, s->rom_size, 0);
		if (r == 0)
			dl_pci_tmpl_set(t, bridge ? PCI_ROM_ADDRESS1 : PCI_ROM_ADDRESS, 4,
					(uint32_t)s->bar_addr[6]);
	}
	if (r < 0)
		goto fail;
	if (bridge) {
		cmd = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
		dl_pci_tmpl_set(t, PCI_PRIMARY_BUS, 1, s->bus);
		dl_pci_tmpl_set(t, PCI_SECONDARY_BUS, 1, (uint32_t)s->secbus);
		dl_pci_tmpl_set(t, PCI_SUBORDINATE_BUS, 1, (uint32_t)s->subbus);
		dl_pci_tmpl_set(t, PCI_IO_BASE, 1,
				((s->win.io_base >> 8) & 0xf0) | PCI_IO_RANGE_TYPE_32);
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
		dl_pci_tmpl_set(t, PCI_PREF_LIMIT_UPPER32, 4,
				(uint32_t)(s->win.pref_limit >> 32));
	}
	dl_pci_tmpl_set(t, PCI_COMMAND, 2, cmd);
	if (s->irq) {
		dl_pci_tmpl_set(t, PCI_INTERRUPT_PIN, 1, 1); /* INTA */
		dl_pci_tmpl_set(t, PCI_INTERRUPT_LINE, 1, s->irq <= 0xff ? s->irq : 0xff);
	} else {
		dl_pci_tmpl_set(t, PCI_INTERRUPT_LINE, 1, 0xff);
	}

	/* Host bridges carry no capabilities; everything else has PM. */
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
	if (r == 0 && s->sriov.total)
		r = add_sriov_of(t, s, true);
	if (r < 0)
		goto fail;
	*ret = t;
	return 0;
fail:
	dl_pci_tmpl_put(t);
	return r;
}
