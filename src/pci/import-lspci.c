/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Importing `lspci -x/-xxx/-xxxx` dumps, with or without the -v text:
 * each function's config bytes become a spec; the text lines say what
 * the bytes cannot (region sizes, the kernel's IRQ, driver, NUMA node).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>

#include "import.h"
#include "internal.h"
#include "topo-internal.h"
#include "topology.h"

struct lspci_dev {
	struct dl_pci_spec s;
	uint8_t buf[DL_PCI_CFG_SIZE];
	size_t len;
	bool open;
	size_t indent;	 /* of the function's own -v text lines */
	bool indent_tab;
	bool irq_text; /* the text said which IRQ the kernel gave it */
	unsigned int irq;
};

static bool starts(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && !memcmp(p, lit, l);
}

/* "[size=128K]" somewhere in the line. */
static bool find_size(const char *p, size_t n, uint64_t *ret)
{
	for (size_t i = 0; i + 6 < n; i++) {
		if (memcmp(p + i, "[size=", 6))
			continue;
		const char *q = p + i + 6, *e = memchr(q, ']', n - i - 6);

		return e && dl_pci__parse_size(q, (size_t)(e - q), ret);
	}
	return false;
}

/*
 * The -v text lines we understand, without their indentation; everything
 * else is ignored. Only the function's own lines count, indented as its
 * first text line is (with a tab as lspci prints it, or with spaces when
 * pasted): the deeper lines belong to capabilities.
 */
static void lspci_text(struct lspci_dev *dv, const char *p, size_t n)
{
	size_t ind = 0;
	struct dl_pci_spec *s = &dv->s;
	uint64_t v;

	while (ind < n && (p[ind] == ' ' || p[ind] == '\t'))
		ind++;
	if (!dv->indent) {
		dv->indent = ind;
		dv->indent_tab = p[0] == '\t';
	}
	if (ind != dv->indent || (p[0] == '\t') != dv->indent_tab)
		return;
	p += ind;
	n -= ind;
	if (starts(p, n, "Region ") && n > 8 && isdigit((unsigned char)p[7]) &&
	    p[8] == ':') {
		unsigned int i = (unsigned int)(p[7] - '0');

		if (i < 6 && find_size(p, n, &v)) {
			s->hints.known |= 1u << i;
			s->hints.bar_size[i] = v;
		}
	} else if (starts(p, n, "Expansion ROM at ")) {
		if (find_size(p, n, &v)) {
			s->hints.known |= 1u << DL_PCI_ROM;
			s->hints.bar_size[DL_PCI_ROM] = v;
		}
	} else if (starts(p, n, "NUMA node: ")) {
		if (dl_pci__parse_u64(p + 11, n - 11, false, &v) && v < 1024)
			s->numa_node = (int)v;
	} else if (starts(p, n, "Physical Slot: ")) {
		/* show_verbose(): d->phy_slot, from the slot whose address
		 * is this function's bus and device (sysfs_fill_slots()) */
		s->in_slot = true;
	} else if (starts(p, n, "IOMMU group: ")) {
		/* lspci's show_kernel_machine()/show_verbose(): the
		 * iommu_group link's last component */
		if (dl_pci__parse_u64(p + 13, n - 13, false, &v) && v <= 65535)
			s->iommu_group = DL_PCI_IOMMU_ID((int)v);
	} else if (starts(p, n, "Interrupt: pin ")) {
		const char *q = memmem(p, n, "IRQ ", 4);

		if (q && dl_pci__parse_u64(q + 4, (size_t)(p + n - q - 4), false, &v) &&
		    v <= 65535) {
			dv->irq_text = true;
			dv->irq = (unsigned int)v;
		}
	} else if (starts(p, n, "Flags: ")) {
		/* -v: "Flags: bus master, fast devsel, latency 0, IRQ 16" */
		const char *q = memmem(p, n, ", IRQ ", 6);
		const char *e = q ? memchr(q + 6, ',', (size_t)(p + n - q - 6)) : NULL;

		if (q && dl_pci__parse_u64(q + 6, (size_t)((e ? e : p + n) - q - 6), false,
					   &v) && v <= 65535) {
			dv->irq_text = true;
			dv->irq = (unsigned int)v;
		}
	} else if (starts(p, n, "Kernel driver in use: ")) {
		size_t k = n - 22;
		bool ok = k > 0 && k <= 63;

		for (size_t i = 0; ok && i < k; i++) {
			unsigned char c = (unsigned char)p[22 + i];

			ok = isalnum(c) || c == '_' || c == '-' || c == '.';
		}
		if (ok) {
			free(s->driver);
			s->driver = strndup(p + 22, k);
		}
	}
}

static int lspci_finish(struct dl_pci_desc *d, struct lspci_dev *dv,
			struct dl_pci_error *err)
{
	struct dl_pci_spec *s = &dv->s;
	char name[24];
	int r;

	dv->open = false;
	dl_pci_spec_name(s, name, sizeof(name));
	if (dv->len != 64 && dv->len != DL_PCI_CFG_LEGACY_SIZE &&
	    dv->len != DL_PCI_CFG_SIZE) {
		r = dl_pci__fail(err, d->source, s->line,
				 "%s: %zu bytes of config dump; expected 64, 256 or 4096 "
				 "(lspci -x, -xxx or -xxxx)",
				 name, dv->len);
		dl_pci__spec_clear(s);
		return r;
	}
	s->config = dv->buf;
	s->config_len = dv->len;
	dl_pci__spec_from_config(s);
	if (dv->irq_text)
		s->irq = dv->irq;
	/* lspci -v prints "IOMMU group" wherever the link exists (pciutils
	 * 3.5 on): text without it is a machine without an IOMMU; a dump
	 * without text leaves the groups to the model */
	if (dv->indent && s->iommu_group == DL_PCI_IOMMU_AUTO)
		s->iommu_group = DL_PCI_IOMMU_NONE;
	r = dl_pci_desc_append(d, s, NULL);
	s->config = NULL;
	dl_pci__spec_clear(s);
	return r;
}

static int hexdigit(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

/* "OFF: xx xx ..." appended to @dv; 0 or -EINVAL. */
static int lspci_hex(struct dl_pci_desc *d, struct lspci_dev *dv, unsigned int line,
		     const char *p, size_t n, size_t colon, struct dl_pci_error *err)
{
	uint32_t off = 0;
	size_t i = colon + 1, count = 0;

	for (size_t k = 0; k < colon; k++)
		off = off << 4 | (uint32_t)hexdigit(p[k]);
	if (off != dv->len)
		return dl_pci__fail(err, d->source, line,
				    "expected the dump to continue at offset %zx, not %x",
				    dv->len, off);
	for (;;) {
		size_t j = i;
		int hi, lo;

		while (j < n && (p[j] == ' ' || p[j] == '\t'))
			j++;
		if (j == n)
			break; /* trailing blanks */
		if (j != i + 1 || p[i] != ' ' || j + 2 > n || !isxdigit((unsigned char)p[j]) ||
		    !isxdigit((unsigned char)p[j + 1]) ||
		    (j + 2 < n && p[j + 2] != ' ' && p[j + 2] != '\t'))
			return dl_pci__fail(err, d->source, line,
					    "malformed hex dump line at column %zu (bytes "
					    "are 'xx' separated by one space)",
					    j + 1);
		if (dv->len >= DL_PCI_CFG_SIZE)
			return dl_pci__fail(err, d->source, line,
					    "config dump longer than 4096 bytes");
		hi = hexdigit(p[j]);
		lo = hexdigit(p[j + 1]);
		dv->buf[dv->len++] = (uint8_t)(hi << 4 | lo);
		count++;
		i = j + 2;
	}
	if (!count || count > 16)
		return dl_pci__fail(err, d->source, line,
				    "malformed hex dump line (expected 1 to 16 bytes "
				    "'xx' after '%.*s:')",
				    (int)colon, p);
	return 0;
}

/*
 * When the dump's lspci showed drivers (a "Kernel driver in use" line of
 * some function), the functions without one had none bound: they stay
 * so. Otherwise nothing is known and they are probed as added.
 */
static void mark_unbound(struct dl_pci_desc *d)
{
	bool shown = false;

	for (size_t i = 0; i < d->n && !shown; i++)
		shown = d->specs[i].driver != NULL;
	for (size_t i = 0; i < d->n && shown; i++)
		d->specs[i].unbound = !d->specs[i].driver;
}

/*
 * One line of the dump: a blank line or a device line ends the open
 * device, an indented line is its text, a hex dump line its config.
 */
static int lspci_line(struct dl_pci_desc *d, struct lspci_dev *dv,
		      const struct dl_pci__lines *l, const char *p, size_t n,
		      struct dl_pci_error *err)
{
	size_t tok = 0, colon;
	bool blank = true;
	int r;

	if (memchr(p, '\0', n))
		return dl_pci__fail(err, d->source, l->no, "NUL byte in line");
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			blank = false;
	if (blank) {
		if (dv->open) {
			r = lspci_finish(d, dv, err);
			if (r < 0)
				return r;
		}
		return 0;
	}
	if (p[0] == ' ' || p[0] == '\t') {
		if (!dv->open)
			return dl_pci__fail(err, d->source, l->no,
					    "indented text outside a device");
		lspci_text(dv, p, n);
		return 0;
	}
	while (tok < n && p[tok] != ' ' && p[tok] != '\t')
		tok++;
	if (memchr(p, '.', tok)) {
		/* "DDDD:BB:DD.F description" starts a device */
		if (dv->open) {
			r = lspci_finish(d, dv, err);
			if (r < 0)
				return r;
		}
		memset(dv, 0, sizeof(*dv));
		dl_pci_spec_init(&dv->s);
		dv->s.line = l->no;
		if (dl_pci_bdf_parse(p, tok, &dv->s.domain, &dv->s.bus,
				     &dv->s.devfn) < 0)
			return dl_pci__fail(err, d->source, l->no,
					    "expected a function name DDDD:BB:DD.F or "
					    "BB:DD.F, got '%.*s'",
					    (int)tok, p);
		dv->open = true;
		return 0;
	}
	for (colon = 0; colon < tok && isxdigit((unsigned char)p[colon]); colon++)
		;
	if (colon >= 2 && colon <= 3 && colon + 1 == tok && p[colon] == ':') {
		if (!dv->open)
			return dl_pci__fail(err, d->source, l->no,
					    "hex dump line outside a device");
		r = lspci_hex(d, dv, l->no, p, n, colon, err);
		if (r < 0)
			return r;
		return 0;
	}
	return dl_pci__fail(err, d->source, l->no,
			    "expected a device line 'DDDD:BB:DD.F description', a hex "
			    "dump line 'OFF: xx xx ...' or a blank line");
}

/*
 * The whole dump read: mark the functions without a driver, fold the
 * VFs into their PFs, validate.
 */
static int lspci_complete(struct dl_pci_desc *d, struct dl_pci_error *err)
{
	long *vf_of;
	int r;

	mark_unbound(d);
	dl_pci__import_slots(d);
	vf_of = malloc(d->n * sizeof(*vf_of));
	if (!vf_of)
		return -ENOMEM;
	for (size_t i = 0; i < d->n; i++)
		vf_of[i] = -1;
	r = dl_pci__find_vfs_by_rid(d, vf_of);
	if (r == 0)
		r = dl_pci__fold_vfs(d, vf_of, err);
	if (r >= 0)
		r = dl_pci_desc_validate(d, err);
	free(vf_of);
	return r < 0 ? r : 0;
}

int dl_pci_desc_parse_lspci(const char *text, size_t len, const char *source,
			    struct dl_pci_error *err, struct dl_pci_desc **ret)
{
	struct dl_pci__lines l = { text, text + len, 0 };
	struct dl_pci_desc *d = NULL;
	struct lspci_dev *dv;
	const char *p;
	size_t n;
	int r;

	assert_return((text || !len) && ret, -EINVAL);
	dv = calloc(1, sizeof(*dv));
	if (!dv)
		return -ENOMEM;
	r = dl_pci_desc_new(source, &d);
	if (r < 0) {
		free(dv);
		return r;
	}
	while (dl_pci__next_line(&l, &p, &n)) {
		r = lspci_line(d, dv, &l, p, n, err);
		if (r < 0)
			goto fail;
	}
	if (dv->open) {
		r = lspci_finish(d, dv, err);
		if (r < 0)
			goto fail;
	}
	if (!d->n) {
		r = dl_pci__fail(err, d->source, 0, "no device found");
		goto fail;
	}
	r = lspci_complete(d, err);
	if (r < 0)
		goto fail;
	free(dv);
	*ret = d;
	return 0;
fail:
	if (r == -ENOMEM && err)
		dl_pci__fail(err, d->source, 0, "out of memory");
	if (dv->open)
		dl_pci__spec_clear(&dv->s);
	free(dv);
	dl_pci_desc_free(d);
	return r;
}

int dl_pci_desc_load_lspci(const char *path, struct dl_pci_error *err,
			   struct dl_pci_desc **ret)
{
	const char *src;
	char *buf;
	size_t len;
	int r;

	assert_return(path && ret, -EINVAL);
	src = strcmp(path, "-") ? path : "<stdin>";
	r = dl_pci__read_all(path, &buf, &len);
	if (r < 0) {
		if (err)
			dl_pci__fail(err, src, 0, "%s", strerror(-r));
		return r;
	}
	r = dl_pci_desc_parse_lspci(buf, len, src, err, ret);
	free(buf);
	return r;
}
