/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Validation of a topology description (dl_pci_desc_validate()): one
 * pass per rule, in the order the rules depend on each other; the last
 * pass assigns addresses (topology-place.c).
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

#include "import.h"
#include "internal.h"
#include "topo-internal.h"
#include "topology.h"

/* ------------------------------------------------------------------ */
/* Validation                                                          */

/* Whether spec @i is the first of @d on its bus. */
static bool is_first_on_bus(const struct dl_pci_desc *d, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (d->specs[k].domain == d->specs[i].domain &&
		    d->specs[k].bus == d->specs[i].bus)
			return false;
	return true;
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

/* What the passes of one validation share. */
struct vctx {
	struct dl_pci_desc *d;
	struct dl_pci_error *err;
	size_t *order;     /* specs by domain, bus and devfn */
	size_t *br;        /* the bridges by domain and secondary bus */
	size_t nbr;
	int *need;         /* per bridge: the highest bus below it, or -1 */
	long *need_src;    /* per bridge: the spec that needs need[], or -1 */
};

#define VFAIL(v, line, ...) dl_pci__fail((v)->err, (v)->d->source, (line), __VA_ARGS__)

/* Functions are unique. Sorts v->order. */
static int check_unique(struct vctx *v)
{
	struct dl_pci_desc *d = v->d;
	char a[24];

	for (size_t i = 0; i < d->n; i++)
		v->order[i] = i;
	qsort_r(v->order, d->n, sizeof(*v->order), cmp_spec_loc, d->specs);
	for (size_t k = 1; k < d->n; k++) {
		const struct dl_pci_spec *x = &d->specs[v->order[k - 1]];
		const struct dl_pci_spec *y = &d->specs[v->order[k]];

		if (x->domain == y->domain && rid_of(x) == rid_of(y))
			return VFAIL(v, y->line, "%s is already defined at line %u",
				     dl_pci_spec_name(y, a, sizeof(a)), x->line);
	}
	return 0;
}

/* SR-IOV: enabled VFs are possible VFs, and an offset and a stride can
 * place them. */
static int check_numvfs(struct vctx *v)
{
	struct dl_pci_desc *d = v->d;
	char a[24];

	for (size_t i = 0; i < d->n; i++) {
		const struct dl_pci_spec *s = &d->specs[i];

		dl_pci_spec_name(s, a, sizeof(a));
		if (s->sriov.numvfs > s->sriov.total)
			return VFAIL(v, s->line, "%s: NumVFs %u is above TotalVFs %u", a,
				     s->sriov.numvfs, s->sriov.total);
		if (s->sriov.numvfs && (!s->sriov.offset ||
					(s->sriov.numvfs > 1 && !s->sriov.stride)))
			return VFAIL(v, s->line, "%s: VF offset %u, stride %u cannot place %u VFs",
				     a, s->sriov.offset, s->sriov.stride, s->sriov.numvfs);
	}
	return 0;
}

/* Bridges: a secondary bus above their own, each used once. Fills v->br
 * and unlinks every parent (link_parents() links them again). */
static int check_secondary_buses(struct vctx *v)
{
	struct dl_pci_desc *d = v->d;
	char a[24];

	for (size_t i = 0; i < d->n; i++) {
		struct dl_pci_spec *s = &d->specs[i];

		s->parent = -1;
		if (!dl_pci__spec_is_bridge(s))
			continue;
		dl_pci_spec_name(s, a, sizeof(a));
		if (s->config && (s->secbus <= s->bus || s->subbus < s->secbus)) {
			/*
			 * An imported bridge the firmware left unconfigured:
			 * pci_scan_bridge_extend() would give it buses of its
			 * own; the import keeps its registers, with no bus
			 * behind it.
			 */
			if (dl_pci__note(d, s->line,
					 "bridge %s has buses %02x-%02x behind it, not above "
					 "its own bus %02x: imported without a bus behind it",
					 a, s->secbus, s->subbus, s->bus) < 0)
				return -ENOMEM;
			s->type = DL_PCI_SPEC_ENDPOINT;
			continue;
		}
		if (s->secbus < 0 || s->secbus > 0xff)
			return VFAIL(v, s->line, "bridge %s needs a secondary bus (secbus=)", a);
		if (s->secbus <= s->bus)
			return VFAIL(v, s->line,
				     "secondary bus %02x of %s must be above its own bus %02x",
				     s->secbus, a, s->bus);
		if (s->subbus >= 0 && s->subbus < s->secbus)
			return VFAIL(v, s->line,
				     "subordinate bus %02x of %s is below its secondary bus %02x",
				     s->subbus, a, s->secbus);
		v->br[v->nbr++] = i;
	}
	qsort_r(v->br, v->nbr, sizeof(*v->br), cmp_bridge_sec, d->specs);
	for (size_t k = 1; k < v->nbr; k++) {
		const struct dl_pci_spec *x = &d->specs[v->br[k - 1]];
		const struct dl_pci_spec *y = &d->specs[v->br[k]];

		if (x->domain == y->domain && x->secbus == y->secbus)
			return VFAIL(v, y->line,
				     "bus %02x is already the secondary bus of %s (line %u)",
				     y->secbus, dl_pci_spec_name(x, a, sizeof(a)), x->line);
	}
	return 0;
}

/* Parents: the bridge whose secondary bus a function sits on. */
static int link_parents(struct vctx *v)
{
	struct dl_pci_desc *d = v->d;

	for (size_t i = 0; i < d->n; i++) {
		struct dl_pci_spec *s = &d->specs[i];
		size_t lo = 0, hi = v->nbr;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			const struct dl_pci_spec *m = &d->specs[v->br[mid]];

			if (m->domain < s->domain ||
			    (m->domain == s->domain && m->secbus < s->bus))
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < v->nbr && d->specs[v->br[lo]].domain == s->domain &&
		    d->specs[v->br[lo]].secbus == s->bus)
			s->parent = (long)v->br[lo];
	}
	return 0;
}

/* Port types by position: a root port on a root bus, an upstream port
 * below a root or downstream port, a downstream port below an upstream
 * port. */
static int check_port_positions(struct vctx *v)
{
	struct dl_pci_desc *d = v->d;
	char a[24], b[24];

	for (size_t i = 0; i < d->n; i++) {
		struct dl_pci_spec *s = &d->specs[i];
		const struct dl_pci_spec *p = s->parent >= 0 ? &d->specs[s->parent] : NULL;

		if (s->config)
			continue;
		dl_pci_spec_name(s, a, sizeof(a));
		if (s->type == DL_PCI_SPEC_ROOTPORT && p)
			return VFAIL(v, s->line, "root port %s must be on a root bus, not behind %s",
				     a, dl_pci_spec_name(p, b, sizeof(b)));
		if (s->type == DL_PCI_SPEC_UPSTREAM &&
		    (!p || (p->type != DL_PCI_SPEC_ROOTPORT &&
			    p->type != DL_PCI_SPEC_DOWNSTREAM)))
			return VFAIL(v, s->line,
				     "upstream port %s must be below a root port or a "
				     "downstream port",
				     a);
		if (s->type == DL_PCI_SPEC_DOWNSTREAM &&
		    (!p || p->type != DL_PCI_SPEC_UPSTREAM))
			return VFAIL(v, s->line,
				     "downstream port %s must be below an upstream port", a);
	}
	return 0;
}

/* Raise the bus each ancestor of spec @i needs to @top. */
static void need_bus(struct vctx *v, size_t i, int top)
{
	for (long p = v->d->specs[i].parent; p >= 0; p = v->d->specs[p].parent) {
		if (top > v->need[p]) {
			v->need[p] = top;
			v->need_src[p] = (long)i;
		}
	}
}

/* Subordinate buses cover everything below, VF buses included; those
 * not given are computed. */
static int check_subordinate_buses(struct vctx *v)
{
	struct dl_pci_desc *d = v->d;
	char a[24], b[24];

	for (size_t i = 0; i < d->n; i++) {
		v->need[i] = -1;
		v->need_src[i] = -1;
	}
	for (size_t i = 0; i < d->n; i++) {
		const struct dl_pci_spec *s = &d->specs[i];
		unsigned int bad_vf = 0;
		int top = s->bus;
		int vf = vf_max_bus(s, &bad_vf);

		if (vf == -ERANGE)
			return VFAIL(v, s->line, "VF %u of %s would be past bus ff", bad_vf,
				     dl_pci_spec_name(s, a, sizeof(a)));
		if (vf > top)
			top = vf;
		if (dl_pci__spec_is_bridge(s))
			top = s->subbus > s->secbus ? s->subbus : s->secbus;
		need_bus(v, i, top);
	}
	for (size_t k = v->nbr; k-- > 0;) {
		/* deepest (highest secondary) first, so parents see children's
		 * computed subordinate buses */
		size_t i = v->br[k];
		struct dl_pci_spec *s = &d->specs[i];

		if (s->subbus < 0) {
			s->subbus = v->need[i] > s->secbus ? v->need[i] : s->secbus;
			need_bus(v, i, s->subbus);
		} else if (v->need[i] > s->subbus) {
			const struct dl_pci_spec *q = &d->specs[v->need_src[i]];

			return VFAIL(v, s->line,
				     "buses %02x-%02x of %s do not cover bus %02x needed "
				     "by %s (line %u)",
				     s->secbus, s->subbus, dl_pci_spec_name(s, a, sizeof(a)),
				     v->need[i], dl_pci_spec_name(q, b, sizeof(b)), q->line);
		}
	}
	return 0;
}

/* Bus ranges nest or are disjoint. */
static int check_bus_ranges_nest(struct vctx *v)
{
	struct dl_pci_desc *d = v->d;
	char a[24], b[24];

	for (size_t k = 0; k < v->nbr; k++) {
		const struct dl_pci_spec *x = &d->specs[v->br[k]];

		for (size_t m = k + 1; m < v->nbr; m++) {
			const struct dl_pci_spec *y = &d->specs[v->br[m]];

			if (y->domain != x->domain || y->secbus > x->subbus)
				break;
			if (!is_ancestor(d->specs, (long)v->br[k], (long)v->br[m]))
				return VFAIL(v, y->line,
					     "buses %02x-%02x of %s overlap buses "
					     "%02x-%02x of %s (line %u)",
					     y->secbus, y->subbus,
					     dl_pci_spec_name(y, a, sizeof(a)), x->secbus,
					     x->subbus, dl_pci_spec_name(x, b, sizeof(b)),
					     x->line);
		}
	}
	return 0;
}

/* Root buses are outside every bridge's bus range. */
static int check_root_buses_outside(struct vctx *v)
{
	struct dl_pci_desc *d = v->d;
	char a[24], b[24];

	for (size_t i = 0; i < d->n; i++) {
		const struct dl_pci_spec *s = &d->specs[i];

		if (s->parent >= 0)
			continue;
		for (size_t k = 0; k < v->nbr; k++) {
			const struct dl_pci_spec *x = &d->specs[v->br[k]];

			if (x->domain != s->domain || s->bus < x->secbus ||
			    s->bus > x->subbus)
				continue;
			if (s->config) {
				/*
				 * Real hardware: no bridge leads to the bus, so
				 * the kernel finds it as a root bus of its own
				 * (pcibios_fixup_peer_bridges() on x86 scans the
				 * buses no bridge claimed).
				 */
				if (is_first_on_bus(d, i) &&
				    dl_pci__note(d, s->line,
						 "bus %02x is inside buses %02x-%02x of %s "
						 "(line %u) but no bridge has it as its "
						 "secondary bus: imported as a root bus",
						 s->bus, x->secbus, x->subbus,
						 dl_pci_spec_name(x, b, sizeof(b)),
						 x->line) < 0)
					return -ENOMEM;
				break;
			}
			return VFAIL(v, s->line,
				     "bus %02x of %s is inside buses %02x-%02x "
				     "of %s (line %u) but no bridge has it as its "
				     "secondary bus",
				     s->bus, dl_pci_spec_name(s, a, sizeof(a)), x->secbus,
				     x->subbus, dl_pci_spec_name(x, b, sizeof(b)), x->line);
		}
	}
	return 0;
}

/* VF routing IDs, one domain at a time: on the PF's bus range, owned by
 * no function and no other VF. */
static int check_vf_routing_ids(struct vctx *v)
{
	struct dl_pci_desc *d = v->d;
	uint32_t *owner = malloc(65536 * sizeof(*owner));
	int r = 0;

	if (!owner)
		return -ENOMEM;
	for (size_t k = 0; k < d->n && r == 0; k++) {
		uint32_t dom = d->specs[v->order[k]].domain;

		if (k > 0 && d->specs[v->order[k - 1]].domain == dom)
			continue;
		r = check_vfs(d, dom, owner, v->err);
	}
	free(owner);
	return r;
}

/* Whether specs @a and @b are functions of one device (slot). */
static bool same_slot(const struct dl_pci_spec *a, const struct dl_pci_spec *b)
{
	return a->domain == b->domain && a->bus == b->bus &&
	       dl_pci_slot(a->devfn) == dl_pci_slot(b->devfn);
}

/* Multi-function bits: a device with a function other than 0, or with
 * more than one function. */
static int set_multifunction(struct vctx *v)
{
	struct dl_pci_desc *d = v->d;

	for (size_t k = 0; k < d->n; k++) {
		struct dl_pci_spec *s = &d->specs[v->order[k]];

		s->multifunction = dl_pci_fn(s->devfn) != 0;
		if (k > 0 && same_slot(&d->specs[v->order[k - 1]], s))
			s->multifunction = true;
		if (k + 1 < d->n && same_slot(&d->specs[v->order[k + 1]], s))
			s->multifunction = true;
	}
	return 0;
}

/* PCIe port types by position (parents first: bus order). */
static int set_pcie_types(struct vctx *v)
{
	struct dl_pci_desc *d = v->d;

	for (size_t k = 0; k < d->n; k++) {
		/* sorted by bus: a parent (lower bus) comes before its children */
		struct dl_pci_spec *s = &d->specs[v->order[k]];

		assert(s->parent < 0 || d->specs[s->parent].bus < s->bus);

		/* imported functions keep the type their bytes say, unless
		 * their capabilities could not be read */
		if (s->pcie && (!s->config || s->config_len < DL_PCI_CFG_LEGACY_SIZE))
			s->pcie_type = pcie_type_of(d, s);
	}
	return 0;
}

/* Addresses, per root bus (topology-place.c). */
static int assign_addresses(struct vctx *v)
{
	return dl_pci__desc_assign_addresses(v->d, v->order, v->err);
}

/* The passes, in order: each may rely on what those before it checked
 * or computed. */
static int (*const validate_passes[])(struct vctx *) = {
	check_unique,
	check_numvfs,
	check_secondary_buses,
	link_parents,
	check_port_positions,
	check_subordinate_buses,
	check_bus_ranges_nest,
	check_root_buses_outside,
	check_vf_routing_ids,
	set_multifunction,
	set_pcie_types,
	assign_addresses,
};

int dl_pci_desc_validate(struct dl_pci_desc *d, struct dl_pci_error *err)
{
	struct vctx v = { .d = d, .err = err };
	int r = -ENOMEM;

	assert_return(d, -EINVAL);
	d->validated = false;
	if (!d->n) {
		d->validated = true;
		return 0;
	}
	v.order = calloc(d->n, sizeof(*v.order));
	v.br = calloc(d->n, sizeof(*v.br));
	v.need = calloc(d->n, sizeof(*v.need));
	v.need_src = calloc(d->n, sizeof(*v.need_src));
	if (v.order && v.br && v.need && v.need_src) {
		r = 0;
		for (size_t i = 0; r == 0 && i < ARRAY_SIZE(validate_passes); i++)
			r = validate_passes[i](&v);
	}
	if (r == 0)
		d->validated = true;
	if (r == -ENOMEM && err)
		dl_pci__fail(err, d->source, 0, "out of memory");
	free(v.need_src);
	free(v.need);
	free(v.br);
	free(v.order);
	return r;
}
