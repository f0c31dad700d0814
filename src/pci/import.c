/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Importing real hardware: `lspci -x/-xxx/-xxxx` dumps and sysfs trees.
 * Both produce a description whose specs carry raw config bytes; neither
 * touches a tree.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "internal.h"
#include "topo-internal.h"
#include "topology.h"

/* ------------------------------------------------------------------ */
/* Raw config helpers                                                  */

/* Offset of standard capability @id in @b (at least 256 bytes), or 0. */
static unsigned int raw_find_cap(const uint8_t *b, size_t len, unsigned int id)
{
	unsigned int pos;

	if (len < DL_PCI_CFG_LEGACY_SIZE || !(get_le16(b + PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = b[(b[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_TYPE_CARDBUS
			? PCI_CB_CAPABILITY_LIST
			: PCI_CAPABILITY_LIST];
	for (int ttl = 48; ttl > 0; ttl--) {
		pos &= ~3u;
		if (pos < 0x40 || pos > DL_PCI_CFG_LEGACY_SIZE - 4)
			return 0;
		if (b[pos] == id)
			return pos;
		pos = b[pos + 1];
	}
	return 0;
}

static unsigned int raw_find_ext_cap(const uint8_t *b, size_t len, unsigned int id)
{
	unsigned int pos = DL_PCI_CFG_LEGACY_SIZE;

	if (len < DL_PCI_CFG_SIZE)
		return 0;
	for (int ttl = 480; ttl > 0; ttl--) {
		uint32_t h = get_le32(b + pos);

		if (h == 0 || h == 0xffffffff)
			return 0;
		if (PCI_EXT_CAP_ID(h) == id)
			return pos;
		pos = PCI_EXT_CAP_NEXT(h);
		if (pos < DL_PCI_CFG_LEGACY_SIZE || pos > DL_PCI_CFG_SIZE - 4)
			return 0;
	}
	return 0;
}

/* Fill the identification, type, buses and SR-IOV of @s from its bytes. */
static void spec_from_config(struct dl_pci_spec *s)
{
	const uint8_t *b = s->config;
	unsigned int ht = b[PCI_HEADER_TYPE] & 0x7f, exp, sr;

	s->vendor = get_le16(b + PCI_VENDOR_ID);
	s->device = get_le16(b + PCI_DEVICE_ID);
	s->class = get_le32(b + PCI_CLASS_REVISION) >> 8;
	s->rev = b[PCI_REVISION_ID];
	s->type = DL_PCI_SPEC_ENDPOINT;
	if (ht == PCI_HEADER_TYPE_NORMAL) {
		s->subvendor = get_le16(b + PCI_SUBSYSTEM_VENDOR_ID);
		s->subdevice = get_le16(b + PCI_SUBSYSTEM_ID);
	} else if (ht == PCI_HEADER_TYPE_BRIDGE) {
		s->type = DL_PCI_SPEC_BRIDGE;
		s->secbus = b[PCI_SECONDARY_BUS];
		s->subbus = b[PCI_SUBORDINATE_BUS];
	}
	exp = raw_find_cap(b, s->config_len, PCI_CAP_ID_EXP);
	if (exp) {
		s->pcie = true;
		s->pcie_type = (get_le16(b + exp + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_TYPE) >> 4;
		if (ht == PCI_HEADER_TYPE_BRIDGE) {
			if (s->pcie_type == PCI_EXP_TYPE_ROOT_PORT)
				s->type = DL_PCI_SPEC_ROOTPORT;
			else if (s->pcie_type == PCI_EXP_TYPE_UPSTREAM)
				s->type = DL_PCI_SPEC_UPSTREAM;
			else if (s->pcie_type == PCI_EXP_TYPE_DOWNSTREAM)
				s->type = DL_PCI_SPEC_DOWNSTREAM;
		}
	}
	sr = ht == PCI_HEADER_TYPE_NORMAL
		     ? raw_find_ext_cap(b, s->config_len, PCI_EXT_CAP_ID_SRIOV)
		     : 0;
	if (sr && sr + PCI_EXT_CAP_SRIOV_SIZEOF <= DL_PCI_CFG_SIZE) {
		s->sriov.total = get_le16(b + sr + PCI_SRIOV_TOTAL_VF);
		s->sriov.offset = get_le16(b + sr + PCI_SRIOV_VF_OFFSET);
		s->sriov.stride = get_le16(b + sr + PCI_SRIOV_VF_STRIDE);
		s->sriov.vf_device = get_le16(b + sr + PCI_SRIOV_VF_DID);
		if (get_le16(b + sr + PCI_SRIOV_CTRL) & PCI_SRIOV_CTRL_VFE)
			s->sriov.numvfs = get_le16(b + sr + PCI_SRIOV_NUM_VF);
		if (!s->sriov.total)
			s->sriov.numvfs = 0;
	}
}

/*
 * Functions at the routing ID of an enabled VF are not separate specs:
 * the first becomes its PF's VF template. Then drop them. A function
 * that reads vendor 0xffff and is no VF is refused.
 */
static int fold_vfs(struct dl_pci_desc *d, const long *vf_of, struct dl_pci_error *err)
{
	size_t w = 0;

	for (size_t i = 0; i < d->n; i++) {
		struct dl_pci_spec *s = &d->specs[i];
		struct dl_pci_spec *pf;

		if (vf_of[i] < 0) {
			if (s->vendor == 0xffff) {
				char name[24];

				return dl_pci__fail(err, d->source, s->line,
						    "%s reads vendor ID 0xffff (no function) and "
						    "is no enabled VF of a PF in the input",
						    dl_pci_spec_name(s, name, sizeof(name)));
			}
			continue;
		}
		pf = &d->specs[vf_of[i]];
		if (!pf->vf_config) {
			pf->vf_config = s->config;
			pf->vf_config_len = s->config_len;
			s->config = NULL;
		}
	}
	for (size_t i = 0; i < d->n; i++) {
		if (vf_of[i] >= 0) {
			dl_pci__spec_clear(&d->specs[i]);
			continue;
		}
		d->specs[w++] = d->specs[i];
	}
	d->n = w;
	return 0;
}

/* Mark the functions that are enabled VFs of a PF in @d (by routing ID). */
static void find_vfs_by_rid(const struct dl_pci_desc *d, long *vf_of)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct dl_pci_spec *pf = &d->specs[i];

		for (unsigned int n = 0; n < pf->sriov.numvfs && n < pf->sriov.total; n++) {
			uint16_t rid;

			if (dl_pci_sriov_vf_rid((uint16_t)(pf->bus << 8 | pf->devfn),
						pf->sriov.offset, pf->sriov.stride, n,
						&rid) < 0)
				break;
			for (size_t k = 0; k < d->n; k++) {
				const struct dl_pci_spec *v = &d->specs[k];

				if (k != i && v->domain == pf->domain &&
				    (v->bus << 8 | v->devfn) == rid && vf_of[k] < 0)
					vf_of[k] = (long)i;
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* lspci dumps                                                         */

struct lspci_dev {
	struct dl_pci_spec s;
	uint8_t buf[DL_PCI_CFG_SIZE];
	size_t len;
	bool open;
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

/* The -v text lines we understand; everything else is ignored. */
static void lspci_text(struct lspci_dev *dv, const char *p, size_t n)
{
	struct dl_pci_spec *s = &dv->s;
	uint64_t v;

	if (starts(p, n, "\tRegion ") && n > 9 && isdigit((unsigned char)p[8]) &&
	    p[9] == ':') {
		unsigned int i = (unsigned int)(p[8] - '0');

		if (i < 6 && find_size(p, n, &v)) {
			s->hints.known |= 1u << i;
			s->hints.bar_size[i] = v;
		}
	} else if (starts(p, n, "\tExpansion ROM at ")) {
		if (find_size(p, n, &v)) {
			s->hints.known |= 1u << DL_PCI_ROM;
			s->hints.bar_size[DL_PCI_ROM] = v;
		}
	} else if (starts(p, n, "\tNUMA node: ")) {
		if (dl_pci__parse_u64(p + 12, n - 12, false, &v) && v < 1024)
			s->numa_node = (int)v;
	} else if (starts(p, n, "\tInterrupt: pin ")) {
		const char *q = memmem(p, n, "IRQ ", 4);

		if (q && dl_pci__parse_u64(q + 4, (size_t)(p + n - q - 4), false, &v) &&
		    v <= 65535)
			s->irq = (unsigned int)v;
	} else if (starts(p, n, "\tKernel driver in use: ")) {
		size_t k = n - 23;
		bool ok = k > 0 && k <= 63;

		for (size_t i = 0; ok && i < k; i++) {
			unsigned char c = (unsigned char)p[23 + i];

			ok = isalnum(c) || c == '_' || c == '-' || c == '.';
		}
		if (ok) {
			free(s->driver);
			s->driver = strndup(p + 23, k);
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
	spec_from_config(s);
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

int dl_pci_desc_parse_lspci(const char *text, size_t len, const char *source,
			    struct dl_pci_error *err, struct dl_pci_desc **ret)
{
	struct dl_pci__lines l = { text, text + len, 0 };
	struct dl_pci_desc *d = NULL;
	struct lspci_dev *dv;
	long *vf_of = NULL;
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
		size_t tok = 0, colon;
		bool blank = true;

		if (memchr(p, '\0', n)) {
			r = dl_pci__fail(err, d->source, l.no, "NUL byte in line");
			goto fail;
		}
		for (size_t i = 0; i < n; i++)
			if (p[i] != ' ' && p[i] != '\t')
				blank = false;
		if (blank) {
			if (dv->open) {
				r = lspci_finish(d, dv, err);
				if (r < 0)
					goto fail;
			}
			continue;
		}
		if (p[0] == ' ' || p[0] == '\t') {
			if (!dv->open) {
				r = dl_pci__fail(err, d->source, l.no,
						 "indented text outside a device");
				goto fail;
			}
			lspci_text(dv, p, n);
			continue;
		}
		while (tok < n && p[tok] != ' ' && p[tok] != '\t')
			tok++;
		if (memchr(p, '.', tok)) {
			/* "DDDD:BB:DD.F description" starts a device */
			if (dv->open) {
				r = lspci_finish(d, dv, err);
				if (r < 0)
					goto fail;
			}
			memset(dv, 0, sizeof(*dv));
			dl_pci_spec_init(&dv->s);
			dv->s.line = l.no;
			if (dl_pci_bdf_parse(p, tok, &dv->s.domain, &dv->s.bus,
					     &dv->s.devfn) < 0) {
				r = dl_pci__fail(err, d->source, l.no,
						 "expected a function name DDDD:BB:DD.F or "
						 "BB:DD.F, got '%.*s'",
						 (int)tok, p);
				goto fail;
			}
			dv->open = true;
			continue;
		}
		for (colon = 0; colon < tok && isxdigit((unsigned char)p[colon]); colon++)
			;
		if (colon >= 2 && colon <= 3 && colon + 1 == tok && p[colon] == ':') {
			if (!dv->open) {
				r = dl_pci__fail(err, d->source, l.no,
						 "hex dump line outside a device");
				goto fail;
			}
			r = lspci_hex(d, dv, l.no, p, n, colon, err);
			if (r < 0)
				goto fail;
			continue;
		}
		r = dl_pci__fail(err, d->source, l.no,
				 "expected a device line 'DDDD:BB:DD.F description', a hex "
				 "dump line 'OFF: xx xx ...' or a blank line");
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
	vf_of = malloc(d->n * sizeof(*vf_of));
	if (!vf_of) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < d->n; i++)
		vf_of[i] = -1;
	find_vfs_by_rid(d, vf_of);
	r = fold_vfs(d, vf_of, err);
	if (r < 0)
		goto fail;
	r = dl_pci_desc_validate(d, err);
	if (r < 0)
		goto fail;
	free(vf_of);
	free(dv);
	*ret = d;
	return 0;
fail:
	if (r == -ENOMEM && err)
		dl_pci__fail(err, d->source, 0, "out of memory");
	if (dv->open)
		dl_pci__spec_clear(&dv->s);
	free(vf_of);
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

/* ------------------------------------------------------------------ */
/* sysfs                                                               */

/* Read a small attribute file into @buf (NUL-terminated, newline cut).
 * Returns its length or a negative errno. */
static ssize_t read_attr(int dirfd, const char *name, char *buf, size_t len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return n;
}

struct sysfs_ctx {
	const char *dir;       /* the devices directory */
	const char *entry;     /* current entry name */
	struct dl_pci_error *err;
};

static int attr_fail(struct sysfs_ctx *c, const char *attr, const char *what)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s/%s", c->dir, c->entry, attr);
	return dl_pci__fail(c->err, path, 1, "%s", what);
}

/* Returns 1 when read, 0 when absent, -EINVAL when unparsable. */
static int attr_u64(struct sysfs_ctx *c, int dfd, const char *name, bool hex,
		    uint64_t *ret)
{
	char buf[64];
	ssize_t n = read_attr(dfd, name, buf, sizeof(buf));

	if (n < 0)
		return 0;
	if (!dl_pci__parse_u64(buf, (size_t)n, hex, ret))
		return attr_fail(c, name, hex ? "expected a hex number" : "expected a number");
	return 1;
}

static int link_basename(int dfd, const char *name, char *buf, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
	const char *b;

	if (n < 0)
		return -errno;
	target[n] = '\0';
	b = strrchr(target, '/');
	b = b ? b + 1 : target;
	if (strlen(b) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, b);
	return 0;
}

static unsigned int speed_code(const char *s)
{
	static const char *const sp[] = { "2.5", "5.0", "8.0", "16.0", "32.0" };

	for (unsigned int i = 0; i < ARRAY_SIZE(sp); i++)
		if (!strncmp(s, sp[i], strlen(sp[i])) && s[strlen(sp[i])] == ' ')
			return i + 1;
	return 0;
}

static int sysfs_resources(struct sysfs_ctx *c, int dfd, struct dl_pci_spec *s)
{
	char buf[4096];
	ssize_t n = read_attr(dfd, "resource", buf, sizeof(buf));
	char *line = buf;

	unsigned int nl_count = 0;

	if (n < 0)
		return 0;
	/* read_attr() dropped the last newline: lines = newlines + 1 */
	for (ssize_t k = 0; k < n; k++)
		nl_count += buf[k] == '\n';
	nl_count += n > 0;
	/* resource_show() prints PCI_BRIDGE_RESOURCES lines (bridges
	 * PCI_NUM_RESOURCES): 13 (17) with CONFIG_PCI_IOV, 7 (11) without.
	 * The view prints what the source's kernel printed. */
	s->no_iov_res = nl_count == 7 || nl_count == 11;
	for (unsigned int i = 0; line && *line && i < 13; i++) {
		unsigned long long start, end, flags;
		char *nl = strchr(line, '\n');
		uint64_t size;

		if (nl)
			*nl = '\0';
		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3)
			return attr_fail(c, "resource", "expected lines of 3 hex numbers");
		size = end > start ? end - start + 1 : 0;
		if (!flags)
			size = 0;
		if (i <= DL_PCI_ROM) {
			s->hints.known |= 1u << i;
			s->hints.bar_size[i] = size;
		} else if (s->sriov.total) {
			/* the IOV resources cover TotalVFs VFs */
			s->hints.known |= 1u << (8 + i - 7);
			s->hints.vf_bar_size[i - 7] = size / s->sriov.total;
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

static int sysfs_mdev_types(int dfd, struct dl_pci_spec *s)
{
	int tfd = openat(dfd, "mdev_supported_types", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char list[1024] = "";
	size_t used = 0;
	struct dirent *e;
	DIR *dir;

	if (tfd < 0)
		return 0;
	dir = fdopendir(tfd);
	if (!dir) {
		close(tfd);
		return 0;
	}
	while ((e = readdir(dir))) {
		char path[NAME_MAX + 32], num[32];
		uint64_t v = 1;
		bool ok = true;
		int k;

		if (e->d_name[0] == '.')
			continue;
		for (const char *q = e->d_name; *q && ok; q++)
			ok = isalnum((unsigned char)*q) || *q == '_' || *q == '-' || *q == '.';
		if (!ok || strlen(e->d_name) > 63)
			continue;
		snprintf(path, sizeof(path), "%s/available_instances", e->d_name);
		if (read_attr(dirfd(dir), path, num, sizeof(num)) > 0)
			dl_pci__parse_u64(num, strlen(num), false, &v);
		if (v < 1 || v > 65535)
			v = 1;
		k = snprintf(list + used, sizeof(list) - used, "%s%s:%u", used ? "," : "",
			     e->d_name, (unsigned int)v);
		if (k < 0 || (size_t)k >= sizeof(list) - used)
			break;
		used += (size_t)k;
	}
	closedir(dir);
	if (used) {
		s->mdev_types = strdup(list);
		if (!s->mdev_types)
			return -ENOMEM;
		s->mdev_parent = true;
	}
	return 0;
}

/* Read one function; *ret_physfn gets the PF's name for a VF, else "". */
static int sysfs_function(struct sysfs_ctx *c, int devfd, struct dl_pci_spec *s,
			  uint8_t *cfg, char *ret_physfn, size_t physlen)
{
	int dfd = openat(devfd, c->entry, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char buf[128];
	uint64_t v;
	size_t got = 0;
	int fd, r;

	if (dfd < 0)
		return attr_fail(c, "", strerror(errno));
	ret_physfn[0] = '\0';
	fd = openat(dfd, "config", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = attr_fail(c, "config", strerror(errno));
		goto out;
	}
	while (got < DL_PCI_CFG_SIZE) {
		ssize_t n = pread(fd, cfg + got, DL_PCI_CFG_SIZE - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got < 64) {
		snprintf(buf, sizeof(buf), "only %zu bytes readable, need 64", got);
		r = attr_fail(c, "config", buf);
		goto out;
	}
	s->config = cfg;
	s->config_len = got >= DL_PCI_CFG_SIZE ? DL_PCI_CFG_SIZE
			: got >= DL_PCI_CFG_LEGACY_SIZE ? DL_PCI_CFG_LEGACY_SIZE
							: 64;
	spec_from_config(s);

	/* The kernel's view wins over what 64 bytes or a VF's config say. */
	if ((r = attr_u64(c, dfd, "vendor", true, &v)) < 0)
		goto out;
	if (r)
		s->vendor = (uint16_t)v;
	if ((r = attr_u64(c, dfd, "device", true, &v)) < 0)
		goto out;
	if (r)
		s->device = (uint16_t)v;
	if ((r = attr_u64(c, dfd, "class", true, &v)) < 0)
		goto out;
	if (r)
		s->class = (uint32_t)v & 0xffffff;
	if ((r = attr_u64(c, dfd, "irq", false, &v)) < 0)
		goto out;
	if (r && v <= 65535)
		s->irq = (unsigned int)v;
	if (read_attr(dfd, "numa_node", buf, sizeof(buf)) > 0) {
		if (!strcmp(buf, "-1"))
			s->numa_node = -1;
		else if (dl_pci__parse_u64(buf, strlen(buf), false, &v) && v < 1024)
			s->numa_node = (int)v;
	}

	if (s->config_len < DL_PCI_CFG_LEGACY_SIZE) {
		/* What the header could not tell, sysfs may. */
		if (read_attr(dfd, "max_link_speed", buf, sizeof(buf)) > 0) {
			s->pcie = true;
			s->link_speed = speed_code(buf);
			if (attr_u64(c, dfd, "max_link_width", false, &v) == 1 && v <= 32)
				s->link_width = (unsigned int)v;
		}
		if (attr_u64(c, dfd, "sriov_totalvfs", false, &v) == 1 && v && v <= 0xffff) {
			s->pcie = true;
			s->sriov.total = (uint16_t)v;
			if (attr_u64(c, dfd, "sriov_offset", false, &v) == 1)
				s->sriov.offset = (uint16_t)v;
			if (attr_u64(c, dfd, "sriov_stride", false, &v) == 1)
				s->sriov.stride = (uint16_t)v;
			if (attr_u64(c, dfd, "sriov_vf_device", true, &v) == 1)
				s->sriov.vf_device = (uint16_t)v;
			if (attr_u64(c, dfd, "sriov_numvfs", false, &v) == 1 &&
			    v <= s->sriov.total)
				s->sriov.numvfs = (uint16_t)v;
		}
	}
	r = sysfs_resources(c, dfd, s);
	if (r < 0)
		goto out;
	if (link_basename(dfd, "driver", buf, sizeof(buf)) == 0 && buf[0]) {
		s->driver = strdup(buf);
		if (!s->driver) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = sysfs_mdev_types(dfd, s);
	if (r < 0)
		goto out;
	if (link_basename(dfd, "physfn", ret_physfn, physlen) < 0)
		ret_physfn[0] = '\0';
	r = 0;
out:
	close(dfd);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int dl_pci_desc_load_sysfs(const char *dir, struct dl_pci_error *err,
			   struct dl_pci_desc **ret)
{
	char devdir[PATH_MAX], (*physfn)[32] = NULL;
	struct dl_pci_desc *d = NULL;
	struct sysfs_ctx c = { devdir, NULL, err };
	char **names = NULL;
	size_t nn = 0, cap = 0;
	uint8_t *cfg = NULL;
	long *vf_of = NULL;
	struct stat st;
	struct dirent *e;
	DIR *dh = NULL;
	int devfd = -1, r;

	assert_return(dir && ret, -EINVAL);
	if (snprintf(devdir, sizeof(devdir), "%s/devices", dir) >= (int)sizeof(devdir))
		return dl_pci__fail(err, dir, 0, "path too long");
	if (stat(devdir, &st) < 0 || !S_ISDIR(st.st_mode))
		snprintf(devdir, sizeof(devdir), "%s", dir);
	r = dl_pci_desc_new(dir, &d);
	if (r < 0)
		return r;
	devfd = open(devdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (devfd < 0) {
		r = -errno;
		dl_pci__fail(err, devdir, 0, "%s", strerror(-r));
		goto out;
	}
	dh = fdopendir(dup(devfd));
	if (!dh) {
		r = -errno;
		dl_pci__fail(err, devdir, 0, "%s", strerror(-r));
		goto out;
	}
	while ((e = readdir(dh))) {
		uint32_t dom;
		uint8_t bus, devfn;

		if (dl_pci_bdf_parse(e->d_name, strlen(e->d_name), &dom, &bus, &devfn) < 0)
			continue;
		if (nn == cap) {
			char **nb = realloc(names, (cap ? 2 * cap : 64) * sizeof(*nb));

			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			names = nb;
			cap = cap ? 2 * cap : 64;
		}
		names[nn] = strdup(e->d_name);
		if (!names[nn]) {
			r = -ENOMEM;
			goto out;
		}
		nn++;
	}
	if (!nn) {
		r = -ENOENT;
		dl_pci__fail(err, devdir, 0, "no PCI functions (DDDD:BB:DD.F entries)");
		goto out;
	}
	qsort(names, nn, sizeof(*names), cmp_names);
	cfg = malloc(DL_PCI_CFG_SIZE);
	physfn = calloc(nn, sizeof(*physfn));
	vf_of = malloc(nn * sizeof(*vf_of));
	if (!cfg || !physfn || !vf_of) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nn; i++) {
		struct dl_pci_spec s;

		dl_pci_spec_init(&s);
		dl_pci_bdf_parse(names[i], strlen(names[i]), &s.domain, &s.bus, &s.devfn);
		s.line = 0;
		c.entry = names[i];
		memset(cfg, 0, DL_PCI_CFG_SIZE);
		r = sysfs_function(&c, devfd, &s, cfg, physfn[i], sizeof(physfn[i]));
		if (r == 0)
			r = dl_pci_desc_append(d, &s, NULL);
		s.config = NULL; /* cfg is ours */
		dl_pci__spec_clear(&s);
		if (r < 0)
			goto out;
	}
	/* VFs: by their physfn link */
	for (size_t i = 0; i < nn; i++) {
		vf_of[i] = -1;
		if (!physfn[i][0])
			continue;
		for (size_t k = 0; k < nn; k++)
			if (!strcmp(names[k], physfn[i]))
				vf_of[i] = (long)k;
	}
	r = fold_vfs(d, vf_of, err);
	if (r == 0)
		r = dl_pci_desc_validate(d, err);
out:
	if (r == -ENOMEM && err)
		dl_pci__fail(err, dir, 0, "out of memory");
	if (dh)
		closedir(dh);
	if (devfd >= 0)
		close(devfd);
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	free(physfn);
	free(vf_of);
	free(cfg);
	if (r < 0) {
		dl_pci_desc_free(d);
		return r;
	}
	*ret = d;
	return 0;
}
