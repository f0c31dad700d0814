/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of topology descriptions: the topology-file parser (good
 * files, every kind of bad line with its line number), validation (bus
 * numbering, VF routing), the built-in default and spec templates.
 */
#include <linux/pci_regs.h>
#include <stdint.h>

#include "config.h"
#include "pci-test.h"
#include "topology.h"

static int parse(const char *text, struct dl_pci_error *err, struct dl_pci_desc **ret)
{
	return dl_pci_desc_parse_topology(text, strlen(text), "t.topo", err, ret);
}

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

TEST(default_topology)
{
	struct dl_pci_desc *d;
	struct dl_pci_spec *s;

	ASSERT_OK(dl_pci_desc_default(0, &d));
	ASSERT_EQ(d->n, 8);
	s = find(d, "0000:00:00.0");
	ASSERT_TRUE(s);
	ASSERT_EQ(s->class, 0x060000);
	s = find(d, "0000:00:01.0");
	ASSERT_TRUE(s && s->type == DL_PCI_SPEC_ROOTPORT);
	ASSERT_EQ(s->secbus, 1);
	ASSERT_EQ(s->subbus, 2);
	ASSERT_EQ(s->pcie_type, PCI_EXP_TYPE_ROOT_PORT);
	s = find(d, "0000:01:00.0");
	ASSERT_TRUE(s);
	ASSERT_EQ(s->vendor, 0x8086);
	ASSERT_EQ(s->class, 0x020000);
	ASSERT_EQ(s->sriov.total, 64);
	ASSERT_EQ(s->sriov.offset, 0xc0);
	ASSERT_EQ(s->sriov.stride, 2);
	ASSERT_EQ(s->sriov.vf_device, 0x10ed);
	ASSERT_TRUE(s->multifunction);
	ASSERT_EQ(s->pcie_type, PCI_EXP_TYPE_ENDPOINT);
	ASSERT_TRUE(s->parent >= 0);
	ASSERT_STREQ(dl_pci_spec_name(&d->specs[s->parent], (char[24]){ 0 }, 24),
		     "0000:00:01.0");
	ASSERT_TRUE(find(d, "0000:01:00.1")->multifunction);
	s = find(d, "0000:00:02.0");
	ASSERT_TRUE(s && s->mdev_parent);
	ASSERT_EQ(s->class, 0x030000);
	ASSERT_STREQ(s->mdev_types, "i915-GVTg_V5_4:2,i915-GVTg_V5_8:4");
	ASSERT_EQ(s->pcie_type, PCI_EXP_TYPE_RC_END);
	s = find(d, "0000:00:03.0");
	ASSERT_TRUE(s && s->vendor == 0x1af4 && s->device == 0x1041 && s->class == 0x020000);
	s = find(d, "0000:00:04.0");
	ASSERT_TRUE(s && s->vendor == 0x1af4 && s->device == 0x1042 && s->class == 0x010000);
	s = find(d, "0000:00:05.0");
	ASSERT_EQ(s->delay_us, 100000);
	ASSERT_TRUE(!find(d, "0000:00:01.0")->multifunction);
	dl_pci_desc_free(d);

	ASSERT_OK(dl_pci_desc_default(2500, &d));
	ASSERT_EQ(find(d, "0000:00:05.0")->delay_us, 2500);
	ASSERT_EQ(find(d, "0000:01:00.0")->delay_us, 0);
	dl_pci_desc_free(d);
	leak_check();
}

TEST(default_templates)
{
	struct dl_pci_desc *d;
	struct dl_pci_tmpl *t;
	struct dl_pci_cfg *c;
	unsigned int off;

	ASSERT_OK(dl_pci_desc_default(0, &d));
	/* root port: bus numbers and windows covering the NIC */
	ASSERT_OK(dl_pci_spec_template(d, find(d, "0000:00:01.0"), &t));
	ASSERT_OK(dl_pci_cfg_new(t, &c));
	ASSERT_EQ(rd(c, PCI_HEADER_TYPE, 1), 1);
	ASSERT_EQ(rd(c, PCI_PRIMARY_BUS, 4) & 0xffffff, 0x020100);
	ASSERT_EQ(rd(c, PCI_CLASS_REVISION, 4) >> 8, 0x060400);
	ASSERT_TRUE((rd(c, PCI_MEMORY_BASE, 2) & 0xfff0) <= (rd(c, PCI_MEMORY_LIMIT, 2) & 0xfff0));
	ASSERT_OK(dl_pci_cfg_find_cap(c, PCI_CAP_ID_EXP, 0, &off));
	ASSERT_EQ((rd(c, off + PCI_EXP_FLAGS, 2) & PCI_EXP_FLAGS_TYPE) >> 4,
		  PCI_EXP_TYPE_ROOT_PORT);
	ASSERT_EQ(rd(c, off + PCI_EXP_LNKCAP, 4) & 0x3ff, 0x103); /* gen3 x16 */
	dl_pci_cfg_free(c);
	dl_pci_tmpl_put(t);

	/* NIC PF: multi-function, SR-IOV with VF BARs at assigned addresses */
	ASSERT_OK(dl_pci_spec_template(d, find(d, "0000:01:00.1"), &t));
	ASSERT_OK(dl_pci_cfg_new(t, &c));
	ASSERT_EQ(rd(c, PCI_HEADER_TYPE, 1), 0x80);
	ASSERT_EQ(rd(c, PCI_VENDOR_ID, 4), 0x10fb8086);
	ASSERT_EQ(rd(c, PCI_INTERRUPT_PIN, 1), 1);
	ASSERT_EQ(rd(c, PCI_INTERRUPT_LINE, 1), 17);
	ASSERT_EQ(rd(c, PCI_COMMAND, 2), PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	ASSERT_OK(dl_pci_cfg_find_ext_cap(c, PCI_EXT_CAP_ID_SRIOV, 0, &off));
	ASSERT_EQ(rd(c, off + PCI_SRIOV_TOTAL_VF, 2), 64);
	ASSERT_EQ(rd(c, off + PCI_SRIOV_FUNC_LINK, 1), 1);
	ASSERT_EQ(rd(c, off + PCI_SRIOV_BAR, 4) & 0xf, 0xc);
	ASSERT_NE(rd(c, off + PCI_SRIOV_BAR + 4, 4), 0); /* above 4G */
	ASSERT_OK(dl_pci_cfg_find_cap(c, PCI_CAP_ID_MSIX, 0, &off));
	ASSERT_EQ(rd(c, off + PCI_MSIX_FLAGS, 2), 63);
	dl_pci_cfg_free(c);
	dl_pci_tmpl_put(t);

	/* host bridge: no capabilities */
	ASSERT_OK(dl_pci_spec_template(d, find(d, "0000:00:00.0"), &t));
	ASSERT_OK(dl_pci_cfg_new(t, &c));
	ASSERT_EQ(rd(c, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	ASSERT_EQ(dl_pci_cfg_size(c), 256);
	dl_pci_cfg_free(c);
	dl_pci_tmpl_put(t);
	dl_pci_desc_free(d);
	leak_check();
}

static const char good_file[] =
	"# a switch below a root port, with comments and blank lines\n"
	"\n"
	"   # indented comment\n"
	"00:00.0 vendor=8086 device=29c0 class=060000   # host bridge, short name\n"
	"0000:00:1c.0\ttype=rootport vendor=0x8086 device=0xa110 secbus=0x10\n"
	"0000:10:00.0 type=upstream vendor=0x10b5 device=0x8747 secbus=11\n"
	"0000:11:08.0 type=downstream vendor=0x10b5 device=0x8747 secbus=12 slot=8\n"
	"0000:11:10.0 type=downstream vendor=0x10b5 device=0x8747 secbus=20 slot=no\n"
	"0000:12:00.0 vendor=0x15b3 device=0x1017 class=0x020000 pcie=yes "
	"bar0=32M,64,pref sriov=8,offset=0x100,stride=1,vfdev=0x1018,numvfs=2 "
	"vfbar0=1M,64,pref driver=mlx5_core numa=1 irq=40 link=gen3x16 msix=64\n"
	"0000:20:00.0 vendor=0x1b36 device=0x0010 class=0x010802 pcie=yes bar0=16K,64 "
	"msi=4 delay_us=5000\n"
	"0001:00:00.0 vendor=0x1af4 device=0x1000 class=0x020000 bar0=32,io bar1=4K "
	"rom=256K\n";

TEST(good_file_parses)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	struct dl_pci_spec *s;

	if (parse(good_file, &err, &d) < 0)
		FAIL_AT("%s", err.msg);
	ASSERT_EQ(d->n, 8);
	ASSERT_EQ(d->specs[0].line, 4);
	ASSERT_EQ(d->specs[1].line, 5);
	/* computed subordinate buses: the VFs of 12:00.0 reach bus 13 */
	s = find(d, "0000:11:08.0");
	ASSERT_EQ(s->subbus, 0x13);
	ASSERT_EQ(s->slot, 8);
	ASSERT_EQ(s->pcie_type, PCI_EXP_TYPE_DOWNSTREAM);
	ASSERT_EQ(find(d, "0000:11:10.0")->slot, -1);
	ASSERT_EQ(find(d, "0000:11:10.0")->subbus, 0x20);
	s = find(d, "0000:10:00.0");
	ASSERT_EQ(s->subbus, 0x20);
	ASSERT_EQ(s->pcie_type, PCI_EXP_TYPE_UPSTREAM);
	s = find(d, "0000:00:1c.0");
	ASSERT_EQ(s->subbus, 0x20);
	ASSERT_EQ(s->class, 0x060400); /* default for bridges */
	ASSERT_EQ(s->slot, 0x1c);      /* root ports get a slot by default */
	s = find(d, "0000:12:00.0");
	ASSERT_STREQ(s->driver, "mlx5_core");
	ASSERT_EQ(s->numa_node, 1);
	ASSERT_EQ(s->irq, 40);
	ASSERT_EQ(s->sriov.numvfs, 2);
	ASSERT_EQ(s->bars[0].size, 32 << 20);
	ASSERT_EQ(s->bars[0].flags, DL_PCI_BAR_64 | DL_PCI_BAR_PREF);
	ASSERT_EQ(s->sriov.vf_bars[0].size, 1 << 20);
	ASSERT_EQ(s->link_speed, 3);
	ASSERT_EQ(s->link_width, 16);
	ASSERT_TRUE(s->pcie);
	/* addresses: 64-bit prefetchable above 4G, aligned */
	ASSERT_EQ(s->bar_addr[0] % (32 << 20), 0);
	ASSERT_TRUE(s->bar_addr[0] >= 0x4000000000ull);
	ASSERT_EQ(s->vf_bar_addr[0] % (1 << 20), 0);
	/* the downstream port's prefetchable window covers both */
	ASSERT_TRUE(find(d, "0000:11:08.0")->win.pref_base <= s->bar_addr[0]);
	ASSERT_TRUE(find(d, "0000:11:08.0")->win.pref_limit >=
		    s->vf_bar_addr[0] + 8 * (1 << 20) - 1);
	s = find(d, "0001:00:00.0");
	ASSERT_EQ(s->domain, 1);
	ASSERT_EQ(s->parent, -1);
	ASSERT_EQ(s->bars[0].flags, DL_PCI_BAR_IO);
	ASSERT_EQ(s->bar_addr[0], 0x1000);
	ASSERT_EQ(s->rom_size, 256 << 10);
	ASSERT_EQ(find(d, "0000:20:00.0")->delay_us, 5000);
	ASSERT_EQ(find(d, "0000:20:00.0")->msi, 4);
	dl_pci_desc_free(d);
	leak_check();
}

struct bad_case {
	const char *text;
	unsigned int line;
	const char *what;
};

#define HB "00:00.0 vendor=0x8086 device=0x1237 class=0x060000\n"
#define RP "00:01.0 type=rootport vendor=0x8086 device=0x3420 secbus=1\n"
#define EP(bdf) bdf " vendor=0x8086 device=0x10fb class=0x020000"

static const struct bad_case bad_cases[] = {
	{ HB "0:00.0 vendor=1 device=2 class=3\n", 2, "expected a function name" },
	{ HB "00:20.0 vendor=1 device=2 class=3\n", 2, "expected a function name" },
	{ HB "00:01.8 vendor=1 device=2 class=3\n", 2, "expected a function name" },
	{ "# c\n\n" EP("00:03.0") " colour=red\n", 3, "unknown key 'colour'" },
	{ EP("00:03.0") " vendor\n", 1, "expected key=value" },
	{ EP("00:03.0") " =5\n", 1, "expected key=value" },
	{ EP("00:03.0") " rev=\n", 1, "rev: empty value" },
	{ EP("00:03.0") " rev=1 rev=2\n", 1, "rev given twice" },
	{ HB HB, 2, "already defined at line 1" },
	{ "00:03.0 vendor=0x12345 device=1 class=0\n", 1, "vendor: expected a hex number" },
	{ "00:03.0 vendor=0xffff device=1 class=0\n", 1, "not a valid vendor ID" },
	{ "00:03.0 device=1 class=0\n", 1, "missing vendor=" },
	{ "00:03.0 vendor=1 class=0\n", 1, "missing device=" },
	{ "00:03.0 vendor=1 device=2\n", 1, "missing class=" },
	{ EP("00:03.0") " class=0x1000000\n", 1, "class given twice" },
	{ "00:03.0 vendor=1 device=2 class=0x1000000\n", 1, "class: expected" },
	{ EP("00:03.0") " bar0=1000\n", 1, "not a power of two" },
	{ EP("00:03.0") " bar0=4K,fast\n", 1, "unknown flag 'fast'" },
	{ EP("00:03.0") " bar0=4K,64,64\n", 1, "given twice" },
	{ EP("00:03.0") " bar5=4K,64\n", 1, "bar5 cannot be 64-bit" },
	{ EP("00:03.0") " bar0=4K,64 bar1=4K\n", 1, "bar1 is the upper half of 64-bit bar0" },
	{ EP("00:03.0") " bar0=512,io\n", 1, "I/O BAR is 4 to 256" },
	{ EP("00:03.0") " bar0=16,io,64\n", 1, "neither 64-bit nor prefetchable" },
	{ EP("00:03.0") " bar0=4G\n", 1, "at most 2G" },
	{ EP("00:03.0") " bar0=8\n", 1, "at least 16 bytes" },
	{ EP("00:03.0") " rom=1K\n", 1, "rom: expected a power-of-two size" },
	{ EP("00:03.0") " type=switch\n", 1, "type: expected endpoint" },
	{ EP("00:03.0") " pcie=maybe\n", 1, "pcie: expected yes or no" },
	{ EP("00:03.0") " link=gen6x4\n", 1, "link: expected genNxW" },
	{ EP("00:03.0") " link=gen3x4\n", 1, "link needs pcie=yes" },
	{ EP("00:03.0") " msi=3\n", 1, "msi: vectors must be" },
	{ EP("00:03.0") " msix=8\n", 1, "msix needs a memory BAR" },
	{ EP("00:03.0") " bar0=64 msix=8\n", 1, "does not fit in bar0" },
	{ EP("00:03.0") " delay_us=60000001\n", 1, "delay_us: expected a number" },
	{ EP("00:03.0") " numa=-2\n", 1, "numa: expected a number" },
	{ EP("00:03.0") " driver=a/b\n", 1, "driver: bad name" },
	{ EP("00:03.0") " mdev_types=a:0\n", 1, "bad instance count" },
	{ EP("00:03.0") " mdev_types=a,,b\n", 1, "bad type name" },
	{ EP("00:03.0") " mdev_types=a/b:1\n", 1, "bad type name" },
	{ EP("00:03.0") " sriov=0\n", 1, "sriov: expected TOTAL" },
	{ EP("00:03.0") " sriov=4,offset=0\n", 1, "offset must not be 0" },
	{ EP("00:03.0") " sriov=4,stride=0\n", 1, "stride must not be 0" },
	{ EP("00:03.0") " sriov=4,numvfs=5\n", 1, "numvfs 5 is above TotalVFs 4" },
	{ EP("00:03.0") " sriov=4,speed=5\n", 1, "sriov: unknown key 'speed'" },
	{ EP("00:03.0") " sriov=4 pcie=no\n", 1, "sriov needs pcie=yes" },
	{ EP("00:03.0") " vfbar0=4K\n", 1, "vfbar0 needs sriov=" },
	{ EP("00:03.0") " sriov=4 vfbar0=4K,io\n", 1, "unknown flag 'io'" },
	{ EP("00:03.0") " secbus=1\n", 1, "only bridges have them" },
	{ EP("00:03.0") " slot=3\n", 1, "slot needs pcie=yes" },
	{ EP("00:03.0") " pcie=yes slot=3\n", 1, "only root ports and downstream" },
	{ HB "00:01.0 type=bridge vendor=1 device=2\n", 2, "a bridge needs secbus=" },
	{ HB "00:01.0 type=bridge vendor=1 device=2 secbus=1 bar2=4K\n", 2,
	  "a bridge has only bar0 and bar1" },
	{ HB "01:01.0 type=bridge vendor=1 device=2 secbus=1\n", 2,
	  "must be above its own bus" },
	{ HB "00:01.0 type=bridge vendor=1 device=2 secbus=5 subbus=4\n", 2,
	  "below its secondary bus" },
	{ HB RP "00:02.0 type=rootport vendor=1 device=2 secbus=1\n", 3,
	  "bus 01 is already the secondary bus of 0000:00:01.0 (line 2)" },
	{ HB RP "01:00.0 type=rootport vendor=1 device=2 secbus=2\n", 3,
	  "must be on a root bus" },
	{ HB "00:01.0 type=downstream vendor=1 device=2 secbus=1\n", 2,
	  "must be below an upstream port" },
	{ HB "00:01.0 type=upstream vendor=1 device=2 secbus=1\n", 2,
	  "must be below a root port" },
	{ HB "00:01.0 type=rootport vendor=1 device=2 secbus=1 subbus=1\n" EP("01:00.0")
	  " sriov=64,offset=0x90,stride=2\n",
	  2, "do not cover bus 02 needed by 0000:01:00.0 (line 3)" },
	{ HB "00:01.0 type=rootport vendor=1 device=2 secbus=1 subbus=4\n"
	     "00:02.0 type=rootport vendor=1 device=2 secbus=3\n",
	  3, "overlap buses 01-04" },
	{ HB "00:01.0 type=rootport vendor=1 device=2 secbus=1 subbus=4\n" EP("03:00.0") "\n",
	  3, "inside buses 01-04" },
	{ RP EP("01:00.0") " sriov=4,offset=1,stride=1\n" EP("01:00.2") "\n", 2,
	  "VF 1 of 0000:01:00.0 would be 0000:01:00.2, which line 3 defines" },
	{ RP EP("01:00.0") " sriov=4,offset=4,stride=1\n" EP("01:00.1")
	  " sriov=4,offset=4,stride=1\n",
	  3, "a VF of the function at line 2" },
	{ EP("ff:00.0") " sriov=4,offset=0x100,stride=1\n", 1, "past bus ff" },
	{ EP("00:03.0") " \x01\n", 1, "expected key=value" },
	{ EP("00:03.0") "\x01\n", 1, "class: expected a hex number" },
};

TEST(bad_lines_have_line_numbers)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct dl_pci_error err = { 0, "" };
		struct dl_pci_desc *d = (void *)0x1;
		char prefix[32];
		int r = parse(c->text, &err, &d);

		if (r != -EINVAL)
			FAIL_AT("case %zu: parse returned %d, expected -EINVAL\n%s", i, r,
				c->text);
		if (d != (void *)0x1)
			FAIL_AT("case %zu: *ret was written on failure", i);
		if (err.line != c->line)
			FAIL_AT("case %zu: line %u, expected %u: %s", i, err.line, c->line,
				err.msg);
		snprintf(prefix, sizeof(prefix), "t.topo:%u: ", c->line);
		if (strncmp(err.msg, prefix, strlen(prefix)) || !strstr(err.msg, c->what))
			FAIL_AT("case %zu: message \"%s\" lacks \"%s%s\"", i, err.msg, prefix,
				c->what);
	}
	printf("# %zu bad inputs refused with the right line\n",
	       sizeof(bad_cases) / sizeof(bad_cases[0]));
	leak_check();
}

TEST(nul_byte_and_empty_input)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	static const char text[] = "# ok\n00:03.0 vendor=1 device=2 class=3\0 x\n";

	ASSERT_EQ(dl_pci_desc_parse_topology(text, sizeof(text) - 1, "nul", &err, &d),
		  -EINVAL);
	ASSERT_EQ(err.line, 2);
	ASSERT_TRUE(strstr(err.msg, "NUL byte"));
	/* an empty file is a valid, empty topology */
	ASSERT_OK(dl_pci_desc_parse_topology("", 0, "empty", &err, &d));
	ASSERT_EQ(d->n, 0);
	dl_pci_desc_free(d);
	/* CRLF line ends are accepted */
	ASSERT_OK(parse("# dos\r\n00:03.0 vendor=1 device=2 class=3\r\n", &err, &d));
	ASSERT_EQ(d->n, 1);
	ASSERT_EQ(d->specs[0].line, 2);
	dl_pci_desc_free(d);
	leak_check();
}

TEST(load_file)
{
	char path[] = "/tmp/dl-pci-topo-XXXXXX";
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	int fd = mkstemp(path);
	FILE *f;

	ASSERT_TRUE(fd >= 0);
	f = fdopen(fd, "w");
	fputs(dl_pci_default_topology(), f);
	fputs("0000:00:06.0 vendor=0x8086 device=0x1234 class=0x123456 bogus\n", f);
	fclose(f);
	ASSERT_EQ(dl_pci_desc_load_topology(path, &err, &d), -EINVAL);
	/* the message names the file and the line */
	{
		char want[96];
		unsigned int lines = 0;

		for (const char *p = dl_pci_default_topology(); *p; p++)
			lines += *p == '\n';
		snprintf(want, sizeof(want), "%s:%u: expected key=value, got 'bogus'", path,
			 lines + 1);
		ASSERT_STREQ(err.msg, want);
	}
	unlink(path);
	ASSERT_EQ(dl_pci_desc_load_topology("/nonexistent/x.topo", &err, &d), -ENOENT);
	ASSERT_TRUE(strstr(err.msg, "/nonexistent/x.topo: "));
	leak_check();
}

TEST(bdf_names)
{
	uint32_t dom;
	uint8_t bus, devfn;
	char buf[24];

	ASSERT_OK(dl_pci_bdf_parse("0000:01:1f.7", 12, &dom, &bus, &devfn));
	ASSERT_EQ(dom, 0);
	ASSERT_EQ(bus, 1);
	ASSERT_EQ(devfn, 0xff);
	ASSERT_OK(dl_pci_bdf_parse("10000:ab:00.1", 13, &dom, &bus, &devfn));
	ASSERT_EQ(dom, 0x10000);
	ASSERT_STREQ(dl_pci_bdf_format(dom, bus, devfn, buf, sizeof(buf)), "10000:ab:00.1");
	ASSERT_OK(dl_pci_bdf_parse("02:03.4", 7, &dom, &bus, &devfn));
	ASSERT_STREQ(dl_pci_bdf_format(dom, bus, devfn, buf, sizeof(buf)), "0000:02:03.4");
	ASSERT_EQ(dl_pci_bdf_parse("000:01:00.0", 11, &dom, &bus, &devfn), -EINVAL);
	ASSERT_EQ(dl_pci_bdf_parse("0000:01:00", 10, &dom, &bus, &devfn), -EINVAL);
	ASSERT_EQ(dl_pci_bdf_parse("0000-01:00.0", 12, &dom, &bus, &devfn), -EINVAL);
	ASSERT_EQ(dl_pci_bdf_parse("0000:01:00.0 ", 13, &dom, &bus, &devfn), -EINVAL);
	leak_check();
}

/* Deterministic xorshift, so a failure can be replayed. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

TEST(mutated_input_never_crashes)
{
	const char *base = dl_pci_default_topology();
	size_t n = strlen(base), ok = 0, bad = 0;
	char *buf = malloc(n + 64);
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	static const char alphabet[] = "0123456789abcdefx:.=,# \n\tKMG-_";

	ASSERT_TRUE(buf);
	for (int iter = 0; iter < 3000; iter++) {
		struct dl_pci_error err = { 0, "" };
		struct dl_pci_desc *d = NULL;
		size_t len = n;
		int edits = 1 + (int)(rnd(&seed) % 4), r;

		memcpy(buf, base, n);
		for (int e = 0; e < edits; e++) {
			size_t at = rnd(&seed) % len;

			switch (rnd(&seed) % 4) {
			case 0: /* replace a byte */
				buf[at] = alphabet[rnd(&seed) % (sizeof(alphabet) - 1)];
				break;
			case 1: /* any byte at all */
				buf[at] = (char)rnd(&seed);
				break;
			case 2: /* delete */
				memmove(buf + at, buf + at + 1, len - at - 1);
				len--;
				break;
			default: /* truncate */
				len = at;
				break;
			}
			if (!len)
				break;
		}
		r = dl_pci_desc_parse_topology(buf, len, "fuzz", &err, &d);
		if (r == 0) {
			ok++;
			/* a description that validated builds templates */
			for (size_t i = 0; i < d->n; i++) {
				struct dl_pci_tmpl *t;

				ASSERT_OK(dl_pci_spec_template(d, &d->specs[i], &t));
				dl_pci_tmpl_put(t);
			}
			dl_pci_desc_free(d);
		} else {
			ASSERT_EQ(r, -EINVAL);
			ASSERT_TRUE(err.msg[0]);
			bad++;
		}
	}
	free(buf);
	printf("# 3000 mutations: %zu accepted, %zu refused\n", ok, bad);
	leak_check();
}

TEST(programmatic_description)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	struct dl_pci_spec s, *p;

	ASSERT_OK(dl_pci_desc_new("api", &d));
	dl_pci_spec_init(&s);
	s.vendor = 0x8086;
	s.device = 0x1234;
	s.class = 0x020000;
	s.driver = "x";
	ASSERT_OK(dl_pci_desc_append(d, &s, &p));
	ASSERT_TRUE(p->driver != s.driver); /* copied */
	ASSERT_TRUE(!d->validated);
	ASSERT_OK(dl_pci_desc_validate(d, &err));
	ASSERT_TRUE(d->validated);
	ASSERT_OK(dl_pci_desc_append(d, &s, NULL)); /* same BDF */
	ASSERT_EQ(dl_pci_desc_validate(d, &err), -EINVAL);
	ASSERT_TRUE(strstr(err.msg, "already defined"));
	dl_pci_desc_free(d);
	leak_check();
}

TEST_MAIN(default_topology, default_templates, good_file_parses,
	  bad_lines_have_line_numbers, nul_byte_and_empty_input, load_file, bdf_names,
	  mutated_input_never_crashes, programmatic_description)
