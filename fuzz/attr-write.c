/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: every parser behind a write to the sysfs view.
 *
 * The first byte picks the attribute, the rest is what was written:
 *   0  remove, rescan, bus/pci/rescan, online   dl_fs__store_text + _bool
 *   1  sriov_drivers_autoprobe                  + dl_fs__store_kbool
 *   2  sriov_numvfs                             + dl_fs__store_ulong
 *   3  driver_override (a real PCI function)    dl_pci_platform_driver_override
 *   4  drivers/NAME/{bind,unbind}               store_text, then a lookup
 *   5  mdev_supported_types/TYPE/create         dl_mdev_uuid_parse
 *   6  config (a real function, 4 KiB with PCIe, MSI-X, SR-IOV): records
 *      of [offset:2][length:1][bytes] written as sysfs writes them
 *
 * Checked besides memory safety: the text parsers against a model of
 * the kernel's kstrtoul()/kstrtobool() (with the two leniencies this
 * view has always had, listed in kstrtoul_model()); a driver_override
 * that is accepted reads back as written; a UUID that is accepted is
 * canonical and parses to itself; config writes never change read-only
 * identity (IDs, header type, capability pointer) and a reset restores
 * the reset image exactly.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <devlife/devlife.h>

#include "config.h"
#include "fuzz.h"
#include "mdev.h"
#include "parse.h"
#include "pci.h"
#include "platform.h"
#include "topology.h"


/* As src/fs/sysfs.c: a page, plus the terminator. */
#define ATTR_MAX 4096

static const char topo[] =
	"0000:00:03.0 vendor=0x8086 device=0x10fb class=0x020000 rev=0x01 "
	"bar0=512K,64 bar2=16K msix=64 msi=8 link=gen3x8 "
	"sriov=8,offset=0x80,stride=2,vfdev=0x10ed vfbar0=16K,64,pref\n";

static struct dl_tree *tree;
static struct dl_device *func;
static uint8_t reset_image[DL_PCI_CFG_SIZE];

static void setup(void)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	struct dl_pci_tmpl *t;
	struct dl_pci_cfg *cfg;

	if (tree)
		return;
	CHECK(dl_tree_new(&tree) == 0);
	if (dl_pci_desc_parse_topology(topo, strlen(topo), "fuzz", &err, &d)) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
	CHECK(dl_pci_spec_template(d, &d->specs[0], &t) == 0);
	CHECK(dl_pci_cfg_new(t, &cfg) == 0);
	dl_pci_tmpl_put(t);
	CHECK(dl_pci_func_new(tree, 0, 0, 3 << 3, cfg, NULL, &func) == 0);
	/* A root of its own, with no driver: enterable, nothing probes. */
	CHECK(dl_device_add(func, NULL) == 0);
	CHECK(dl_pci_config_read(func, 0, reset_image, DL_PCI_CFG_SIZE) ==
	      DL_PCI_CFG_SIZE);
	dl_pci_desc_free(d);
}

/*
 * The kernel's kstrtoul(s, 0, &v) on a store's text (its trailing newline
 * already dropped): lib/kstrtox.c's kstrtoull(), which skips one leading
 * '+', then _parse_integer_fixup_radix() and _parse_integer(); no white
 * space, no '-'. Returns 0 and *v, or -EINVAL (-ERANGE is folded into
 * -EINVAL, as every store that uses it does).
 */
static int kstrtoul_model(const char *s, unsigned long *v)
{
	unsigned int base = 10;
	unsigned long x = 0;
	const char *p;
	bool any = false;

	if (*s == '+')
		s++;
	p = s;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    isxdigit((unsigned char)p[2])) {
		base = 16;
		p += 2;
	} else if (p[0] == '0') {
		base = 8;
	}
	for (; *p; p++) {
		unsigned int d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned int)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned int)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned int)(*p - 'A' + 10);
		else
			break;
		if (d >= base)
			break;
		if (x > (~0ul - d) / base)
			return -EINVAL;
		x = x * base + d;
		any = true;
	}
	if (!any || *p)
		return -EINVAL;
	*v = x;
	return 0;
}

static int kstrtobool_model(const char *s, bool *v)
{
	switch (s[0]) {
	case 'y': case 'Y': case '1':
		*v = true;
		return 0;
	case 'n': case 'N': case '0':
		*v = false;
		return 0;
	case 'o': case 'O':
		if (s[1] == 'n' || s[1] == 'N') {
			*v = true;
			return 0;
		}
		if (s[1] == 'f' || s[1] == 'F') {
			*v = false;
			return 0;
		}
		return -EINVAL;
	default:
		return -EINVAL;
	}
}

/* store_text: a C string up to the first NUL, one newline dropped. */
static int text_of(const uint8_t *data, size_t size, char *text)
{
	int n = dl_fs__store_text((const char *)data, size, text, ATTR_MAX + 1);
	size_t c;

	if (n < 0) {
		CHECK(n == -EINVAL);
		CHECK(size == 0 || size > ATTR_MAX);
		return n;
	}
	CHECK(size >= 1 && size <= ATTR_MAX);
	c = strnlen((const char *)data, size);
	CHECK((size_t)n == c || ((size_t)n == c - 1 && data[c - 1] == '\n'));
	CHECK(strlen(text) == (size_t)n);
	CHECK(memcmp(text, data, (size_t)n) == 0);
	return n;
}

static void numbers(const char *text, int which)
{
	unsigned long v = 0, m = 0;
	bool b = false, mb = false;
	int r, mr;

	switch (which) {
	case 0:
		r = dl_fs__store_bool(text, &b);
		mr = kstrtoul_model(text, &m);
		CHECK(r == mr);
		if (r == 0)
			CHECK(b == (m != 0));
		break;
	case 1:
		r = dl_fs__store_kbool(text, &b);
		mr = kstrtobool_model(text, &mb);
		CHECK(r == mr);
		if (r == 0)
			CHECK(b == mb);
		break;
	default:
		r = dl_fs__store_ulong(text, 0xffff, &v);
		mr = kstrtoul_model(text, &m);
		if (mr == 0 && m > 0xffff)
			mr = -EINVAL;
		CHECK(r == mr);
		if (r == 0)
			CHECK(v == m && v <= 0xffff);
		break;
	}
}

static void driver_override(const char *text)
{
	char before[64], after[128];
	size_t n = strlen(text);
	int r;

	CHECK(dl_pci_platform_driver_override(func, NULL, before,
					      sizeof(before)) == 0);
	r = dl_pci_platform_driver_override(func, text, NULL, 0);
	CHECK(dl_pci_platform_driver_override(func, NULL, after,
					      sizeof(after)) == 0);
	if (r < 0) {
		CHECK(r == -EINVAL);
		CHECK(strcmp(before, after) == 0);
		return;
	}
	CHECK(r == 0);
	if (n && text[n - 1] == '\n')
		n--;
	if (n == 0) {
		CHECK(strcmp(after, "(null)") == 0);
	} else {
		CHECK(strlen(after) == n && memcmp(after, text, n) == 0);
		for (size_t i = 0; i < n; i++)
			CHECK(isgraph((unsigned char)text[i]) &&
			      text[i] != '/');
	}
	/* leave it clear for the next input */
	CHECK(dl_pci_platform_driver_override(func, "", NULL, 0) == 0);
}

static void bind_name(const char *text)
{
	struct dl_device *dev;

	/* As write_drvattr(): a name, then a lookup in the tree. */
	if (strlen(text) > DL_NAME_MAX)
		return;
	if (dl_device_lookup(tree, text, &dev) == 0) {
		CHECK(strcmp(dl_device_name(dev), text) == 0);
		dl_device_put(dev);
	}
}

static void uuid(const uint8_t *data, size_t size)
{
	char out[DL_MDEV_UUID_LEN + 1], again[DL_MDEV_UUID_LEN + 1];

	memset(out, 'x', sizeof(out));
	if (dl_mdev_uuid_parse((const char *)data, size, out) < 0)
		return;
	CHECK(strlen(out) == DL_MDEV_UUID_LEN);
	for (int i = 0; i < DL_MDEV_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			CHECK(out[i] == '-');
		else
			CHECK(isxdigit((unsigned char)out[i]) &&
			      !isupper((unsigned char)out[i]));
	}
	CHECK(dl_mdev_uuid_parse(out, DL_MDEV_UUID_LEN, again) == 0);
	CHECK(strcmp(out, again) == 0);
	CHECK(size == DL_MDEV_UUID_LEN ||
	      (size == DL_MDEV_UUID_LEN + 1 && data[size - 1] == '\n'));
}

static void config(const uint8_t *data, size_t size)
{
	uint8_t now[DL_PCI_CFG_SIZE];
	struct dl_pci_func *f = dl_pci_func_of(func);

	dl_pci_cfg_reset(f->cfg);
	while (size >= 3) {
		unsigned int off = (unsigned int)data[0] << 8 | data[1];
		size_t len = data[2], n;
		int r;

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		/* As op_write(): past the page nothing; else clipped. */
		if (off >= ATTR_MAX)
			n = 0;
		else
			n = len > (size_t)(ATTR_MAX - off) ? ATTR_MAX - off : len;
		r = n ? dl_pci_config_write(func, off, data, n) : 0;
		CHECK(r >= 0 && (size_t)r <= n);
		data += len;
		size -= len;
		/* the header is enough here; the whole space at the end */
		CHECK(dl_pci_config_read(func, 0, now, 64) == 64);
		/* vendor, device, header type, capabilities pointer */
		CHECK(memcmp(now, reset_image, 4) == 0);
		CHECK(now[0x0e] == reset_image[0x0e]);
		CHECK(now[0x34] == reset_image[0x34]);
	}
	dl_pci_cfg_reset(f->cfg);
	CHECK(dl_pci_config_read(func, 0, now, sizeof(now)) ==
	      (int)sizeof(now));
	CHECK(memcmp(now, reset_image, sizeof(now)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[ATTR_MAX + 1];
	unsigned int op;

	setup();
	if (size < 1)
		return 0;
	op = data[0] % 7;
	data++;
	size--;
	if (op == 5) {
		uuid(data, size);
		return 0;
	}
	if (op == 6) {
		config(data, size);
		return 0;
	}
	if (text_of(data, size, text) < 0)
		return 0;
	switch (op) {
	case 0:
	case 1:
	case 2:
		numbers(text, (int)op);
		break;
	case 3:
		driver_override(text);
		break;
	case 4:
		bind_name(text);
		break;
	}
	return 0;
}
