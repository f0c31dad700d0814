/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The topology-file parser: one line per function, "BDF key=value ...",
 * each key parsed by its own function (topology-keys.c), then the checks
 * that need the whole line; reading and parsing whole files.
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

/* ------------------------------------------------------------------ */
/* Topology files                                                      */

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
static int check_line(struct line_ctx *ctx, uint64_t seen)
{
	struct dl_pci_spec *s = ctx->s;
	bool bridge = dl_pci__spec_is_bridge(s);
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
		if (ctx->pcie_given && !s->pcie)
			return LFAIL(ctx, "%s needs pcie=yes",
				     s->sriov.total ? "sriov" : "a PCI Express port");
		s->pcie = true;
	}
	if (s->acs && !s->pcie)
		return LFAIL(ctx, "acs needs pcie=yes");
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
		s->slot = (int)dl_pci_slot(s->devfn);
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
	struct line_ctx ctx = { src, line, err, s, false };
	const char *hash = memchr(p, '#', n);
	const char *end = hash ? hash : p + n;
	uint64_t seen = 0;
	bool first = true;
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
		k = dl_pci__topology_key(key);
		if (k == K_COUNT)
			return LFAIL(&ctx, "unknown key '%.*s'", (int)key.n, key.s);
		if (!v.n)
			return LFAIL(&ctx, "%.*s: empty value", (int)key.n, key.s);
		if (seen & (1ull << k))
			return LFAIL(&ctx, "%.*s given twice", (int)key.n, key.s);
		seen |= 1ull << k;
		r = dl_pci__parse_key(&ctx, k, key, v);
		if (r < 0)
			return r;
	}
	if (first)
		return 1;
	return check_line(&ctx, seen);
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
