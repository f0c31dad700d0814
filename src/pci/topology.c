/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Topology descriptions: management, function names, errors, the text
 * helpers the parsers share and the built-in default. Validation is in
 * topology-validate.c (address assignment in topology-place.c), the
 * topology-file parser in topology-parse.c, specs to config templates in
 * topology-template.c. Nothing here touches a tree.
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
	if (dev > DL_PCI_SLOT_MAX || fn > DL_PCI_FN_MAX)
		return -EINVAL;
	*ret_domain = dom;
	*ret_bus = (uint8_t)bus;
	*ret_devfn = dl_pci_devfn(dev, fn);
	return 0;
}

char *dl_pci_bdf_format(uint32_t domain, uint8_t bus, uint8_t devfn, char *buf,
			size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%u", (unsigned int)domain, bus,
		 dl_pci_slot(devfn), dl_pci_fn(devfn));
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
	free(s->resource);
	free(s->config);
	free(s->vf_config);
	s->driver = s->mdev_types = s->resource = NULL;
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
	free(d->notes);
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
	assert_return(!s->config || (s->config_len >= DL_PCI_CFG_HEADER_SIZE &&
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
	c.resource = s->resource ? strdup(s->resource) : NULL;
	c.config = memdup(s->config, s->config_len);
	c.vf_config = memdup(s->vf_config, s->vf_config_len);
	if ((s->driver && !c.driver) || (s->mdev_types && !c.mdev_types) ||
	    (s->resource && !c.resource) ||
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
