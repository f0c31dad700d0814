/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the importers: `lspci -xxxx` dumps (a checked-in sample,
 * bad dumps with their line numbers, this machine's own lspci when there
 * is one) and sysfs trees (this machine's, and a fake unprivileged one),
 * with the round trip dump -> model -> the same bytes and the same text.
 */
#include <ctype.h>
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "pci-test.h"
#include "topology.h"

#ifndef DL_PCI_TEST_DATA
#define DL_PCI_TEST_DATA "tests/pci/data"
#endif
#define SAMPLE DL_PCI_TEST_DATA "/lspci-vvv-xxxx.txt"

static struct dl_pci_spec *find(struct dl_pci_desc *d, const char *name)
{
	char buf[24];

	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(dl_pci_spec_name(&d->specs[i], buf, sizeof(buf)), name))
			return &d->specs[i];
	return NULL;
}

static uint32_t rd(struct dl_pci_cfg *c, unsigned int off, unsigned int w)
{
	uint32_t v = 0xdeadbeef;

	dl_pci_cfg_readv(c, off, w, &v);
	return v;
}

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		FAIL_AT("cannot open %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		FAIL_AT("cannot read %s", path);
	buf[n] = '\0';
	fclose(f);
	*ret_len = (size_t)n;
	return buf;
}

/* The hex lines of device @name in an lspci dump, as one string. */
static char *hex_block(const char *text, const char *name)
{
	size_t cap = 65536, used = 0;
	char *out = malloc(cap);
	const char *p = text;
	bool in = false;

	out[0] = '\0';
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (!strncmp(p, name, strlen(name)) && p[strlen(name)] == ' ')
			in = true;
		else if (!n)
			in = false;
		else if (in && isxdigit((unsigned char)p[0]) && memchr(p, ':', n) &&
			 !memchr(p, '.', n)) {
			memcpy(out + used, p, n);
			used += n;
			out[used++] = '\n';
			out[used] = '\0';
		}
		p = e ? e + 1 : p + n;
	}
	return out;
}

/* Format bytes as lspci's hex lines. */
static char *hex_lines(const uint8_t *b, size_t n)
{
	char *out = malloc(n * 4 + n / 16 * 8 + 16);
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!(i & 15))
			used += (size_t)sprintf(out + used, "%02zx:", i);
		used += (size_t)sprintf(out + used, " %02x", b[i]);
		if ((i & 15) == 15)
			out[used++] = '\n', out[used] = '\0';
	}
	return out;
}

/* Template of spec @s; its config read back over the spec's length. */
static void check_round_trip(struct dl_pci_desc *d, struct dl_pci_spec *s,
			     const char *text)
{
	char name[24], *want, *got;
	uint8_t back[DL_PCI_CFG_SIZE];
	struct dl_pci_tmpl *t;
	struct dl_pci_cfg *c;

	dl_pci_spec_name(s, name, sizeof(name));
	ASSERT_OK(dl_pci_spec_template(d, s, &t));
	ASSERT_OK(dl_pci_cfg_new(t, &c));
	ASSERT_OK(dl_pci_cfg_read(c, 0, back, s->config_len));
	if (s->config_len >= DL_PCI_CFG_LEGACY_SIZE)
		ASSERT_MEMEQ(back, s->config, s->config_len);
	else /* a 64-byte dump: the cap pointer was dropped with the caps */
		ASSERT_MEMEQ(back, s->config, 6);
	if (text && s->config_len >= DL_PCI_CFG_LEGACY_SIZE) {
		want = hex_block(text, name);
		got = hex_lines(back, s->config_len);
		if (strcmp(want, got))
			FAIL_AT("%s: regenerated dump differs:\n%s\nvs\n%s", name, got, want);
		free(want);
		free(got);
	}
	dl_pci_cfg_free(c);
	dl_pci_tmpl_put(t);
}

TEST(sample_dump_imports)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	struct dl_pci_spec *s;

	if (dl_pci_desc_load_lspci(SAMPLE, &err, &d) < 0)
		FAIL_AT("%s", err.msg);
	/* 13 functions, the 4 enabled VFs folded into their PF */
	ASSERT_EQ(d->n, 9);
	ASSERT_TRUE(!find(d, "0000:03:10.0"));
	s = find(d, "0000:00:00.0");
	ASSERT_EQ(s->config_len, 4096);
	ASSERT_EQ(s->vendor, 0x8086);
	ASSERT_EQ(s->device, 0x0d57);
	ASSERT_EQ(s->class, 0x060000);
	s = find(d, "0000:00:04.0");
	ASSERT_EQ(s->config_len, 64);
	ASSERT_STREQ(s->driver, "virtio-pci");
	ASSERT_EQ(s->hints.known & 1, 1);
	ASSERT_EQ(s->hints.bar_size[0], 512 << 10);
	s = find(d, "0000:00:1c.0");
	ASSERT_EQ(s->type, DL_PCI_SPEC_ROOTPORT);
	ASSERT_EQ(s->secbus, 3);
	ASSERT_EQ(s->subbus, 3);
	ASSERT_STREQ(s->driver, "pcieport");
	ASSERT_EQ(s->irq, 122);
	s = find(d, "0000:03:00.0");
	ASSERT_EQ(s->parent, find(d, "0000:00:1c.0") - d->specs);
	ASSERT_EQ(s->vendor, 0x8086);
	ASSERT_EQ(s->device, 0x1521);
	ASSERT_EQ(s->sriov.total, 8);
	ASSERT_EQ(s->sriov.numvfs, 4);
	ASSERT_EQ(s->sriov.offset, 0x80);
	ASSERT_EQ(s->sriov.stride, 4);
	ASSERT_EQ(s->sriov.vf_device, 0x1520);
	ASSERT_TRUE(s->vf_config != NULL);
	ASSERT_EQ(s->vf_config_len, 4096);
	ASSERT_EQ(get_le32_test(s->vf_config), 0xffffffff);
	ASSERT_EQ(s->hints.known, 1u << 0 | 1u << 2 | 1u << 3 | 1u << DL_PCI_ROM);
	ASSERT_EQ(s->hints.bar_size[0], 1 << 20);
	ASSERT_EQ(s->hints.bar_size[2], 32);
	ASSERT_EQ(s->hints.bar_size[DL_PCI_ROM], 512 << 10);
	ASSERT_STREQ(s->driver, "igb");
	ASSERT_EQ(s->irq, 17);
	ASSERT_EQ(find(d, "0000:03:00.1")->sriov.numvfs, 0);
	ASSERT_TRUE(!find(d, "0000:03:00.1")->vf_config);
	dl_pci_desc_free(d);
	leak_check();
}

TEST(sample_round_trip)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	struct dl_pci_spec *pf;
	struct dl_pci_tmpl *vt;
	struct dl_pci_cfg *c;
	uint8_t back[DL_PCI_CFG_SIZE];
	size_t len;
	char *text = slurp(SAMPLE, &len), *want, *got;

	if (dl_pci_desc_parse_lspci(text, len, "sample", &err, &d) < 0)
		FAIL_AT("%s", err.msg);
	for (size_t i = 0; i < d->n; i++)
		check_round_trip(d, &d->specs[i], text);
	/* the VF template regenerates VF 0's dump */
	pf = find(d, "0000:03:00.0");
	ASSERT_OK(dl_pci_tmpl_new_from_bytes(pf->vf_config, pf->vf_config_len, NULL, &vt));
	ASSERT_OK(dl_pci_cfg_new(vt, &c));
	ASSERT_OK(dl_pci_cfg_read(c, 0, back, sizeof(back)));
	want = hex_block(text, "0000:03:10.0");
	got = hex_lines(back, sizeof(back));
	ASSERT_STREQ(got, want);
	free(want);
	free(got);
	dl_pci_cfg_free(c);
	dl_pci_tmpl_put(vt);
	dl_pci_desc_free(d);
	free(text);
	leak_check();
}

TEST(masks_inferred_from_dump)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	struct dl_pci_tmpl *t;
	struct dl_pci_cfg *c;
	unsigned int off;

	if (dl_pci_desc_load_lspci(SAMPLE, &err, &d) < 0)
		FAIL_AT("%s", err.msg);
	ASSERT_OK(dl_pci_spec_template(d, find(d, "0000:03:00.0"), &t));
	ASSERT_OK(dl_pci_cfg_new(t, &c));
	/* BAR sizes from the "[size=...]" text */
	dl_pci_cfg_writev(c, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_0, 4), 0xfff00000);
	dl_pci_cfg_writev(c, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_2, 4), 0xffffffe1);
	dl_pci_cfg_writev(c, PCI_ROM_ADDRESS, 4, 0xffffffff);
	ASSERT_EQ(rd(c, PCI_ROM_ADDRESS, 4), 0xfff80001);
	/* architected registers */
	dl_pci_cfg_writev(c, PCI_COMMAND, 2, 0);
	ASSERT_EQ(rd(c, PCI_COMMAND, 2), 0);
	ASSERT_OK(dl_pci_cfg_find_ext_cap(c, PCI_EXT_CAP_ID_SRIOV, 0, &off));
	ASSERT_EQ(rd(c, off + PCI_SRIOV_NUM_VF, 2), 4);
	ASSERT_EQ(rd(c, off + PCI_SRIOV_CTRL, 2) & PCI_SRIOV_CTRL_VFE, PCI_SRIOV_CTRL_VFE);
	dl_pci_cfg_writev(c, off + PCI_SRIOV_TOTAL_VF, 2, 1);
	ASSERT_EQ(rd(c, off + PCI_SRIOV_TOTAL_VF, 2), 8);
	dl_pci_cfg_free(c);
	dl_pci_tmpl_put(t);
	/* the root port's bus numbers stay writable */
	ASSERT_OK(dl_pci_spec_template(d, find(d, "0000:00:1c.0"), &t));
	ASSERT_OK(dl_pci_cfg_new(t, &c));
	dl_pci_cfg_writev(c, PCI_SUBORDINATE_BUS, 1, 9);
	ASSERT_EQ(rd(c, PCI_SUBORDINATE_BUS, 1), 9);
	dl_pci_cfg_free(c);
	dl_pci_tmpl_put(t);
	dl_pci_desc_free(d);
	leak_check();
}

struct bad_dump {
	const char *text;
	unsigned int line;
	const char *what;
};

#define L16 " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
#define HDR64 "00: 86 80 00 10 00 00 00 00 00 00 00 02 00 00 00 00\n" \
	      "10:" L16 "20:" L16 "30:" L16

static const struct bad_dump bad_dumps[] = {
	{ "00: 86 80\n", 1, "hex dump line outside a device" },
	{ "hello\n", 1, "expected a device line" },
	{ "\tSubsystem: x\n", 1, "indented text outside a device" },
	{ "00:00.0 Host\n" HDR64 "\n00:01.0 x\n00: 86 8g" L16, 8, "malformed hex dump line" },
	{ "00:00.0 Host\n00: 86  80\n", 2, "malformed hex dump line" },
	{ "00:00.0 Host\n00:" L16 "20:" L16, 3, "continue at offset 10, not 20" },
	{ "00:00.0 Host\n00: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n", 2,
	  "expected 1 to 16 bytes" },
	{ "00:00.0 Host\n" HDR64 "40:" L16, 1, "80 bytes of config dump" },
	{ "00:00.0 Host\n\n", 1, "0 bytes of config dump" },
	{ "00:20.0 Host\n" HDR64, 1, "expected a function name" },
	{ "00:00.0 Host\n" HDR64 "\n00:00.0 Again\n" HDR64, 7, "already defined at line 1" },
	{ "00:00.0 Host\n00: ff ff ff ff 00 00 00 00 00 00 00 02 00 00 00 00\n10:" L16
	  "20:" L16 "30:" L16,
	  1, "reads vendor ID 0xffff" },
	{ "", 0, "no device found" },
};

TEST(bad_dumps_have_line_numbers)
{
	for (size_t i = 0; i < sizeof(bad_dumps) / sizeof(bad_dumps[0]); i++) {
		const struct bad_dump *b = &bad_dumps[i];
		struct dl_pci_error err = { 0, "" };
		struct dl_pci_desc *d = (void *)0x1;
		char prefix[32];
		int r = dl_pci_desc_parse_lspci(b->text, strlen(b->text), "d.txt", &err, &d);

		if (r != -EINVAL)
			FAIL_AT("case %zu: returned %d\n%s", i, r, b->text);
		if (d != (void *)0x1)
			FAIL_AT("case %zu: *ret written on failure", i);
		if (b->line)
			snprintf(prefix, sizeof(prefix), "d.txt:%u: ", b->line);
		else
			snprintf(prefix, sizeof(prefix), "d.txt: ");
		if (err.line != b->line || strncmp(err.msg, prefix, strlen(prefix)) ||
		    !strstr(err.msg, b->what))
			FAIL_AT("case %zu: \"%s\" (line %u), expected \"%s...%s\"", i, err.msg,
				err.line, prefix, b->what);
	}
	leak_check();
}

TEST(other_dump_shapes)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	/* no domain, CRLF, no description, 64 bytes, trailing blanks */
	static const char text[] = "00:1f.3 \r\n"
				   "00: 86 80 c8 a0 06 00 10 00 10 80 03 04 00 00 00 00  \r\n"
				   "10:" L16 "20:" L16 "30:" L16;

	if (dl_pci_desc_parse_lspci(text, strlen(text), "t", &err, &d) < 0)
		FAIL_AT("%s", err.msg);
	ASSERT_EQ(d->n, 1);
	ASSERT_EQ(d->specs[0].devfn, 0xfb);
	ASSERT_EQ(d->specs[0].class, 0x040380);
	ASSERT_EQ(d->specs[0].config_len, 64);
	check_round_trip(d, &d->specs[0], NULL);
	dl_pci_desc_free(d);
	leak_check();
}

TEST(this_machines_lspci)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	size_t cap = 1 << 20, len = 0, n;
	char *text = malloc(cap);
	FILE *p;

	if (access("/sys/bus/pci/devices", R_OK) < 0)
		SKIP_TEST("no /sys/bus/pci");
	if (system("command -v lspci >/dev/null") != 0)
		SKIP_TEST("lspci (Debian: pciutils) is not installed");
	p = popen("lspci -D -vvv -xxxx 2>/dev/null", "r");
	ASSERT_TRUE(p != NULL);
	while ((n = fread(text + len, 1, cap - len, p)) > 0) {
		len += n;
		if (len == cap)
			text = realloc(text, cap *= 2);
	}
	/* Installed, with devices in sysfs: it must show them. */
	if (pclose(p) != 0 || !len)
		FAIL_AT("lspci -D -vvv -xxxx failed or showed no device, "
			"though /sys/bus/pci/devices is there");
	if (dl_pci_desc_parse_lspci(text, len, "lspci", &err, &d) < 0)
		FAIL_AT("%s", err.msg);
	printf("# %zu functions from this machine's lspci\n", d->n);
	text = realloc(text, len + 1);
	text[len] = '\0';
	for (size_t i = 0; i < d->n; i++)
		check_round_trip(d, &d->specs[i], text);
	dl_pci_desc_free(d);
	free(text);
	leak_check();
}

TEST(this_machines_sysfs)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	int r;

	if (access("/sys/bus/pci/devices", R_OK) < 0)
		SKIP_TEST("no /sys/bus/pci");
	r = dl_pci_desc_load_sysfs("/sys/bus/pci", &err, &d);
	if (r == -ENOENT)
		SKIP_TEST("no PCI functions in /sys/bus/pci");
	if (r < 0)
		FAIL_AT("%s", err.msg);
	printf("# %zu functions from /sys/bus/pci\n", d->n);
	for (size_t i = 0; i < d->n; i++) {
		struct dl_pci_spec *s = &d->specs[i];
		char path[128], name[24];
		uint8_t buf[DL_PCI_CFG_SIZE];
		ssize_t got;
		int fd;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config",
			 dl_pci_spec_name(s, name, sizeof(name)));
		fd = open(path, O_RDONLY);
		ASSERT_TRUE(fd >= 0);
		got = pread(fd, buf, s->config_len, 0);
		close(fd);
		ASSERT_EQ(got, s->config_len);
		ASSERT_MEMEQ(s->config, buf, s->config_len);
		ASSERT_TRUE(s->hints.known & 1); /* resource was read */
		check_round_trip(d, s, NULL);
	}
	dl_pci_desc_free(d);
	leak_check();
}

static void put_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(data, 1, len, f) != len)
		FAIL_AT("cannot write %s", path);
	fclose(f);
}

static void put_str(const char *dir, const char *name, const char *s)
{
	put_file(dir, name, s, strlen(s));
}

/* mkdir @a/@b */
static void mkdirf(const char *a, const char *b)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", a, b);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		FAIL_AT("mkdir %s: %s", path, strerror(errno));
}

TEST(fake_unprivileged_sysfs)
{
	char root[] = "/tmp/dl-pci-sysfs-XXXXXX", dir[512], devs[512];
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	struct dl_pci_spec *s;
	struct dl_pci_tmpl *t;
	struct dl_pci_cfg *c;
	uint8_t cfg[64];
	unsigned int off;

	ASSERT_TRUE(mkdtemp(root));
	mkdirf(root, "devices");
	snprintf(devs, sizeof(devs), "%s/devices", root);
	/* a root port: 64 readable bytes, PCIe only by its link files */
	mkdirf(devs, "0000:00:01.0");
	snprintf(dir, sizeof(dir), "%s/devices/0000:00:01.0", root);
	memset(cfg, 0, sizeof(cfg));
	put_le16_test(cfg, 0x8086);
	put_le16_test(cfg + 2, 0x3420);
	cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	cfg[PCI_CLASS_DEVICE] = 0x04;
	cfg[PCI_CLASS_DEVICE + 1] = 0x06;
	cfg[PCI_HEADER_TYPE] = 1;
	cfg[PCI_SECONDARY_BUS] = 1;
	cfg[PCI_SUBORDINATE_BUS] = 1;
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	put_file(dir, "config", cfg, sizeof(cfg));
	put_str(dir, "vendor", "0x8086\n");
	put_str(dir, "device", "0x3420\n");
	put_str(dir, "class", "0x060400\n");
	put_str(dir, "max_link_speed", "8.0 GT/s PCIe\n");
	put_str(dir, "max_link_width", "16\n");
	/* a PF with SR-IOV known from sriov_* files, a driver, mdev types */
	mkdirf(devs, "0000:01:00.0");
	snprintf(dir, sizeof(dir), "%s/devices/0000:01:00.0", root);
	memset(cfg, 0, sizeof(cfg));
	put_le16_test(cfg, 0x8086);
	put_le16_test(cfg + 2, 0x10c9);
	cfg[PCI_CLASS_DEVICE + 1] = 0x02;
	cfg[PCI_BASE_ADDRESS_0] = 0x00;
	cfg[PCI_BASE_ADDRESS_0 + 3] = 0xfe;
	put_file(dir, "config", cfg, sizeof(cfg));
	put_str(dir, "vendor", "0x8086\n");
	put_str(dir, "device", "0x10c9\n");
	put_str(dir, "class", "0x020000\n");
	put_str(dir, "irq", "33\n");
	put_str(dir, "numa_node", "1\n");
	put_str(dir, "max_link_speed", "5.0 GT/s PCIe\n");
	put_str(dir, "max_link_width", "4\n");
	put_str(dir, "sriov_totalvfs", "8\n");
	put_str(dir, "sriov_offset", "128\n");
	put_str(dir, "sriov_stride", "2\n");
	put_str(dir, "sriov_vf_device", "10ca\n");
	put_str(dir, "sriov_numvfs", "1\n");
	put_str(dir, "resource",
		"0x00000000fe000000 0x00000000fe01ffff 0x0000000000040200\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x00000000fd000000 0x00000000fd01ffff 0x000000000014220c\n");
	if (symlink("../../../bus/pci/drivers/igb", strcat(strcpy((char[512]){ 0 }, dir),
							   "/driver")) < 0)
		FAIL_AT("symlink: %s", strerror(errno));
	mkdirf(dir, "mdev_supported_types");
	mkdirf(strcat(strcpy((char[512]){ 0 }, dir), "/mdev_supported_types"), "igb-vdev");
	put_str(strcat(strcpy((char[512]){ 0 }, dir), "/mdev_supported_types/igb-vdev"),
		"available_instances", "3\n");
	/* its VF */
	mkdirf(devs, "0000:01:10.0");
	snprintf(dir, sizeof(dir), "%s/devices/0000:01:10.0", root);
	memset(cfg, 0xff, 4);
	put_file(dir, "config", cfg, sizeof(cfg));
	put_str(dir, "vendor", "0x8086\n");
	put_str(dir, "device", "0x10ca\n");
	put_str(dir, "class", "0x020000\n");
	if (symlink("../0000:01:00.0", strcat(strcpy((char[512]){ 0 }, dir), "/physfn")) < 0)
		FAIL_AT("symlink: %s", strerror(errno));
	/* something that is not a function is ignored */
	mkdirf(devs, "not-a-function");

	if (dl_pci_desc_load_sysfs(root, &err, &d) < 0)
		FAIL_AT("%s", err.msg);
	ASSERT_EQ(d->n, 2);
	s = find(d, "0000:00:01.0");
	ASSERT_TRUE(s->pcie);
	ASSERT_EQ(s->pcie_type, PCI_EXP_TYPE_ROOT_PORT);
	ASSERT_EQ(s->link_speed, 3);
	ASSERT_OK(dl_pci_spec_template(d, s, &t));
	ASSERT_OK(dl_pci_cfg_new(t, &c));
	ASSERT_EQ(dl_pci_cfg_size(c), 4096);
	ASSERT_OK(dl_pci_cfg_find_cap(c, PCI_CAP_ID_EXP, 0, &off));
	ASSERT_EQ((rd(c, off + PCI_EXP_FLAGS, 2) & PCI_EXP_FLAGS_TYPE) >> 4,
		  PCI_EXP_TYPE_ROOT_PORT);
	ASSERT_EQ(rd(c, off + PCI_EXP_LNKCAP, 4) & 0x3ff, 0x103);
	dl_pci_cfg_free(c);
	dl_pci_tmpl_put(t);

	s = find(d, "0000:01:00.0");
	ASSERT_EQ(s->irq, 33);
	ASSERT_EQ(s->numa_node, 1);
	ASSERT_STREQ(s->driver, "igb");
	ASSERT_STREQ(s->mdev_types, "igb-vdev:3");
	ASSERT_TRUE(s->mdev_parent);
	ASSERT_EQ(s->sriov.total, 8);
	ASSERT_EQ(s->sriov.numvfs, 1);
	ASSERT_EQ(s->sriov.vf_device, 0x10ca);
	ASSERT_EQ(s->hints.bar_size[0], 128 << 10);
	ASSERT_EQ(s->hints.vf_bar_size[0], 16 << 10);
	ASSERT_TRUE(s->vf_config && s->vf_config_len == 64);
	ASSERT_OK(dl_pci_spec_template(d, s, &t));
	ASSERT_OK(dl_pci_cfg_new(t, &c));
	ASSERT_EQ(rd(c, PCI_VENDOR_ID, 4), 0x10c98086);
	dl_pci_cfg_writev(c, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_0, 4), 0xfffe0000);
	ASSERT_OK(dl_pci_cfg_find_ext_cap(c, PCI_EXT_CAP_ID_SRIOV, 0, &off));
	ASSERT_EQ(rd(c, off + PCI_SRIOV_VF_OFFSET, 4), 0x00020080);
	ASSERT_EQ(rd(c, off + PCI_SRIOV_VF_DID, 2), 0x10ca);
	dl_pci_cfg_free(c);
	dl_pci_tmpl_put(t);
	dl_pci_desc_free(d);

	/* a bad attribute names its file */
	snprintf(dir, sizeof(dir), "%s/devices/0000:01:00.0", root);
	put_str(dir, "vendor", "zz\n");
	ASSERT_EQ(dl_pci_desc_load_sysfs(root, &err, &d), -EINVAL);
	ASSERT_TRUE(strstr(err.msg, "/devices/0000:01:00.0/vendor:1: expected a hex number"));
	/* and an empty directory has no functions */
	ASSERT_EQ(dl_pci_desc_load_sysfs("/tmp", &err, &d), -ENOENT);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		ASSERT_EQ(system(cmd), 0);
	}
	leak_check();
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

TEST(mutated_dumps_never_crash)
{
	size_t len, ok = 0, bad = 0;
	char *base = slurp(SAMPLE, &len), *buf;
	uint64_t seed = 0x2545f4914f6cdd1dull;
	static const char alphabet[] = "0123456789abcdefx:. \n\t";

	/* the first devices are enough and keep it fast */
	len = strstr(base, "0000:00:1c.0") - base;
	buf = malloc(len + 1);
	for (int iter = 0; iter < 1500; iter++) {
		struct dl_pci_error err = { 0, "" };
		struct dl_pci_desc *d = NULL;
		size_t n = len;
		int r;

		memcpy(buf, base, len);
		for (int e = 0, k = 1 + (int)(rnd(&seed) % 3); e < k && n; e++) {
			size_t at = rnd(&seed) % n;

			switch (rnd(&seed) % 3) {
			case 0:
				buf[at] = alphabet[rnd(&seed) % (sizeof(alphabet) - 1)];
				break;
			case 1:
				buf[at] = (char)rnd(&seed);
				break;
			default:
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			}
		}
		r = dl_pci_desc_parse_lspci(buf, n, "fuzz", &err, &d);
		if (r == 0) {
			for (size_t i = 0; i < d->n; i++)
				check_round_trip(d, &d->specs[i], NULL);
			dl_pci_desc_free(d);
			ok++;
		} else {
			ASSERT_EQ(r, -EINVAL);
			bad++;
		}
	}
	printf("# 1500 mutated dumps: %zu accepted, %zu refused\n", ok, bad);
	free(buf);
	free(base);
	leak_check();
}

TEST_MAIN(sample_dump_imports, sample_round_trip, masks_inferred_from_dump,
	  bad_dumps_have_line_numbers, other_dump_shapes, this_machines_lspci,
	  this_machines_sysfs, fake_unprivileged_sysfs, mutated_dumps_never_crash)
