/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Importing a sysfs tree (/sys/bus/pci): each function's config, and the
 * kernel's own view of it (vendor/device/class, irq, numa_node,
 * resource, the driver link, mdev types); VFs by their physfn link.
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

#include "import.h"
#include "internal.h"
#include "topo-internal.h"
#include "topology.h"

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

/*
 * The source's `resource`: served as it is (its line count too: 7 from a
 * kernel without CONFIG_PCI_IOV, 13 with, 4 more for a bridge with a
 * bus), and the BAR, ROM and VF BAR sizes for the config template.
 */
static int sysfs_resources(struct sysfs_ctx *c, int dfd, struct dl_pci_spec *s)
{
	char buf[4096];
	ssize_t n = read_attr(dfd, "resource", buf, sizeof(buf));
	char *line = buf;
	size_t lines = 0;

	if (n < 0)
		return 0;
	for (const char *q = buf; *q; q++)
		lines += *q == '\n';
	if (n == sizeof(buf) - 1 || lines >= 17)
		return attr_fail(c, "resource", "more than 17 lines");
	/* read_attr() dropped the last newline: lines = newlines + 1.
	 * resource_show() prints PCI_BRIDGE_RESOURCES lines (bridges
	 * PCI_NUM_RESOURCES): 13 (17) with CONFIG_PCI_IOV, 7 (11) without. */
	lines += n > 0;
	s->no_iov_res = lines == 7 || lines == 11;
	if (n > 0) {
		/* read_attr() cut the last newline */
		s->resource = malloc((size_t)n + 2);
		if (!s->resource)
			return -ENOMEM;
		memcpy(s->resource, buf, (size_t)n);
		memcpy(s->resource + n, "\n", 2);
	}
	for (unsigned int i = 0; line && *line; i++) {
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
		} else if (i < 13 && s->sriov.total) {
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

/* The config space: as much as sysfs lets read, at least the header. */
static int sysfs_config(struct sysfs_ctx *c, int dfd, struct dl_pci_spec *s,
			uint8_t *cfg)
{
	char buf[128];
	size_t got = 0;
	int fd;

	fd = openat(dfd, "config", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return attr_fail(c, "config", strerror(errno));
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
		return attr_fail(c, "config", buf);
	}
	s->config = cfg;
	s->config_len = got >= DL_PCI_CFG_SIZE ? DL_PCI_CFG_SIZE
			: got >= DL_PCI_CFG_LEGACY_SIZE ? DL_PCI_CFG_LEGACY_SIZE
							: 64;
	dl_pci__spec_from_config(s);
	return 0;
}

/* The kernel's view wins over what 64 bytes or a VF's config say. */
static int sysfs_ids(struct sysfs_ctx *c, int dfd, struct dl_pci_spec *s)
{
	char buf[128];
	uint64_t v;
	int r;

	if ((r = attr_u64(c, dfd, "vendor", true, &v)) < 0)
		return r;
	if (r)
		s->vendor = (uint16_t)v;
	if ((r = attr_u64(c, dfd, "device", true, &v)) < 0)
		return r;
	if (r)
		s->device = (uint16_t)v;
	if ((r = attr_u64(c, dfd, "class", true, &v)) < 0)
		return r;
	if (r)
		s->class = (uint32_t)v & 0xffffff;
	if ((r = attr_u64(c, dfd, "irq", false, &v)) < 0)
		return r;
	if (r && v <= 65535)
		s->irq = (unsigned int)v;
	if (read_attr(dfd, "numa_node", buf, sizeof(buf)) > 0) {
		if (!strcmp(buf, "-1"))
			s->numa_node = -1;
		else if (dl_pci__parse_u64(buf, strlen(buf), false, &v) && v < 1024)
			s->numa_node = (int)v;
	}
	return 0;
}

/* What a header without its extended space could not tell, sysfs may. */
static void sysfs_link_sriov(struct sysfs_ctx *c, int dfd, struct dl_pci_spec *s)
{
	char buf[128];
	uint64_t v;

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

/* The iommu_group link (iommu_group_add_device()): its group, or none on
 * a machine without an IOMMU. */
static void sysfs_iommu_group(int dfd, struct dl_pci_spec *s)
{
	char buf[32];
	uint64_t v;

	if (link_basename(dfd, "iommu_group", buf, sizeof(buf)) == 0 &&
	    dl_pci__parse_u64(buf, strlen(buf), false, &v) && v <= 65535)
		s->iommu_group = DL_PCI_IOMMU_ID((int)v);
	else
		s->iommu_group = DL_PCI_IOMMU_NONE;
}

/* Read one function; *ret_physfn gets the PF's name for a VF, else "". */
static int sysfs_function(struct sysfs_ctx *c, int devfd, struct dl_pci_spec *s,
			  uint8_t *cfg, char *ret_physfn, size_t physlen)
{
	int dfd = openat(devfd, c->entry, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char buf[128];
	int r;

	if (dfd < 0)
		return attr_fail(c, "", strerror(errno));
	ret_physfn[0] = '\0';
	r = sysfs_config(c, dfd, s, cfg);
	if (r < 0)
		goto out;
	r = sysfs_ids(c, dfd, s);
	if (r < 0)
		goto out;
	if (s->config_len < DL_PCI_CFG_LEGACY_SIZE)
		sysfs_link_sriov(c, dfd, s);
	r = sysfs_resources(c, dfd, s);
	if (r < 0)
		goto out;
	if (link_basename(dfd, "driver", buf, sizeof(buf)) == 0 && buf[0]) {
		s->driver = strdup(buf);
		if (!s->driver) {
			r = -ENOMEM;
			goto out;
		}
	} else {
		s->unbound = true;
	}
	r = sysfs_mdev_types(dfd, s);
	if (r < 0)
		goto out;
	sysfs_iommu_group(dfd, s);
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

/* The names of the functions in the devices directory (dh). */
static int sysfs_names(DIR *dh, char ***ret_names, size_t *ret_n)
{
	char **names = NULL;
	size_t nn = 0, cap = 0;
	struct dirent *e;
	int r = 0;

	while ((e = readdir(dh))) {
		uint32_t dom;
		uint8_t bus, devfn;

		if (dl_pci_bdf_parse(e->d_name, strlen(e->d_name), &dom, &bus, &devfn) < 0)
			continue;
		if (nn == cap) {
			char **nb = realloc(names, (cap ? 2 * cap : 64) * sizeof(*nb));

			if (!nb) {
				r = -ENOMEM;
				break;
			}
			names = nb;
			cap = cap ? 2 * cap : 64;
		}
		names[nn] = strdup(e->d_name);
		if (!names[nn]) {
			r = -ENOMEM;
			break;
		}
		nn++;
	}
	*ret_names = names;
	*ret_n = nn;
	return r;
}

/* Read each function named (sorted) and append it to d. */
static int sysfs_functions(struct sysfs_ctx *c, int devfd, struct dl_pci_desc *d,
			   char **names, size_t nn, uint8_t *cfg,
			   char (*physfn)[32])
{
	int r;

	for (size_t i = 0; i < nn; i++) {
		struct dl_pci_spec s;

		dl_pci_spec_init(&s);
		dl_pci_bdf_parse(names[i], strlen(names[i]), &s.domain, &s.bus, &s.devfn);
		s.line = 0;
		c->entry = names[i];
		memset(cfg, 0, DL_PCI_CFG_SIZE);
		r = sysfs_function(c, devfd, &s, cfg, physfn[i], sizeof(physfn[i]));
		if (r == 0)
			r = dl_pci_desc_append(d, &s, NULL);
		s.config = NULL; /* cfg is ours */
		dl_pci__spec_clear(&s);
		if (r < 0)
			return r;
	}
	return 0;
}

/* VFs: by their physfn link */
static void sysfs_vf_of(char **names, size_t nn, char (*physfn)[32], long *vf_of)
{
	for (size_t i = 0; i < nn; i++) {
		vf_of[i] = -1;
		if (!physfn[i][0])
			continue;
		for (size_t k = 0; k < nn; k++)
			if (!strcmp(names[k], physfn[i]))
				vf_of[i] = (long)k;
	}
}

/*
 * DIR/slots/NAME/address ("DDDD:BB:DD", or "DDDD:BB" for a slot without
 * a device number: drivers/pci/slot.c address_read_file()): the ports
 * that had a slot. A source without slots/ had none.
 */
static void sysfs_slots(const char *dir, struct dl_pci_desc *d)
{
	char path[PATH_MAX], text[32];
	struct dirent *e;
	DIR *dh;

	if (snprintf(path, sizeof(path), "%s/slots", dir) >= (int)sizeof(path) ||
	    !(dh = opendir(path)))
		return;
	while ((e = readdir(dh))) {
		unsigned int domain, bus;
		FILE *f;

		if (e->d_name[0] == '.' ||
		    snprintf(path, sizeof(path), "%s/slots/%s/address", dir,
			     e->d_name) >= (int)sizeof(path) ||
		    !(f = fopen(path, "re")))
			continue;
		if (fgets(text, sizeof(text), f) &&
		    sscanf(text, "%x:%x", &domain, &bus) == 2 && bus <= 0xff)
			dl_pci__import_slot_at(d, domain, bus);
		fclose(f);
	}
	closedir(dh);
}

int dl_pci_desc_load_sysfs(const char *dir, struct dl_pci_error *err,
			   struct dl_pci_desc **ret)
{
	char devdir[PATH_MAX], (*physfn)[32] = NULL;
	struct dl_pci_desc *d = NULL;
	struct sysfs_ctx c = { devdir, NULL, err };
	char **names = NULL;
	size_t nn = 0;
	uint8_t *cfg = NULL;
	long *vf_of = NULL;
	struct stat st;
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
	r = sysfs_names(dh, &names, &nn);
	if (r < 0)
		goto out;
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
	r = sysfs_functions(&c, devfd, d, names, nn, cfg, physfn);
	if (r < 0)
		goto out;
	sysfs_vf_of(names, nn, physfn, vf_of);
	sysfs_slots(dir, d);
	r = dl_pci__fold_vfs(d, vf_of, err);
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
