/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the config-space model (src/pci/config-*.c). */
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdint.h>

#include "config.h"
#include "pci-test.h"

static uint32_t rd(struct dl_pci_cfg *c, unsigned int off, unsigned int w)
{
	uint32_t v = 0xdeadbeef;

	if (dl_pci_cfg_readv(c, off, w, &v) < 0)
		return 0xdeadbeef;
	return v;
}

static void wr(struct dl_pci_cfg *c, unsigned int off, unsigned int w, uint32_t v)
{
	dl_pci_cfg_writev(c, off, w, v);
}

/* A type 0 function with a few BARs and every capability we build. */
static struct dl_pci_cfg *make_nic(struct dl_pci_tmpl **ret_t)
{
	struct dl_pci_pcie_params pp = { .port_type = PCI_EXP_TYPE_ENDPOINT,
					 .max_speed = 3, .max_width = 8,
					 .max_payload = 2, .flr = true };
	struct dl_pci_sriov_params sp = {
		.total_vfs = 64, .vf_offset = 0xc0, .vf_stride = 2,
		.vf_device = 0x10ed,
		.vf_bars = { [0] = { 16384, DL_PCI_BAR_64 | DL_PCI_BAR_PREF },
			     [3] = { 16384, DL_PCI_BAR_64 | DL_PCI_BAR_PREF } },
	};
	struct dl_pci_tmpl *t = NULL;
	struct dl_pci_cfg *c = NULL;
	unsigned int off;

	if (dl_pci_tmpl_new(PCI_HEADER_TYPE_NORMAL | 0x80, true, &t) < 0)
		return NULL;
	dl_pci_tmpl_set_ids(t, 0x8086, 0x10fb, 0x020000, 0x01, 0x8086, 0x000c);
	dl_pci_tmpl_set_bar(t, 0, 1 << 20, DL_PCI_BAR_64 | DL_PCI_BAR_PREF);
	dl_pci_tmpl_set_bar(t, 2, 32, DL_PCI_BAR_IO);
	dl_pci_tmpl_set_bar(t, 3, 16384, 0);
	dl_pci_tmpl_set_bar(t, 4, 16ull << 30, DL_PCI_BAR_64 | DL_PCI_BAR_PREF);
	dl_pci_tmpl_set_bar(t, DL_PCI_ROM, 512 * 1024, 0);
	dl_pci_tmpl_add_pm(t, &off);
	dl_pci_tmpl_add_msi(t, 8, true, true, &off);
	dl_pci_tmpl_add_msix(t, 64, 3, 0, 3, 0x2000, &off);
	dl_pci_tmpl_add_pcie(t, &pp, &off);
	dl_pci_tmpl_add_vendor_cap(t, "abc", 3, &off);
	dl_pci_tmpl_add_sriov(t, &sp, &off);
	if (dl_pci_cfg_new(t, &c) < 0) {
		dl_pci_tmpl_put(t);
		return NULL;
	}
	if (ret_t)
		*ret_t = t;
	else
		dl_pci_tmpl_put(t);
	return c;
}

TEST(header_ro_rw_rw1c)
{
	struct dl_pci_cfg *c = make_nic(NULL);

	ASSERT_TRUE(c);
	/* IDs and class are read-only */
	wr(c, PCI_VENDOR_ID, 4, 0x12345678);
	ASSERT_EQ(rd(c, PCI_VENDOR_ID, 2), 0x8086);
	ASSERT_EQ(rd(c, PCI_DEVICE_ID, 2), 0x10fb);
	wr(c, PCI_CLASS_REVISION, 4, 0);
	ASSERT_EQ(rd(c, PCI_CLASS_REVISION, 4), 0x02000001);
	ASSERT_EQ(rd(c, PCI_HEADER_TYPE, 1), 0x80);
	ASSERT_EQ(rd(c, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x000c8086);
	/* Command: only the architected bits stick */
	wr(c, PCI_COMMAND, 2, 0xffff);
	ASSERT_EQ(rd(c, PCI_COMMAND, 2), 0x0547);
	wr(c, PCI_COMMAND, 2, 0x0006);
	ASSERT_EQ(rd(c, PCI_COMMAND, 2), 0x0006);
	/* Status: CapList RO and set; error bits RW1C */
	ASSERT_EQ(rd(c, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, PCI_STATUS_CAP_LIST);
	ASSERT_OK(dl_pci_cfg_hw_write(c, PCI_STATUS, 2, 0xa000, 0xa000));
	ASSERT_EQ(rd(c, PCI_STATUS, 2), 0xa010);
	wr(c, PCI_STATUS, 2, 0x0000); /* writing 0 clears nothing */
	ASSERT_EQ(rd(c, PCI_STATUS, 2), 0xa010);
	wr(c, PCI_STATUS, 2, 0x8010); /* clears bit 15 only; CapList stays */
	ASSERT_EQ(rd(c, PCI_STATUS, 2), 0x2010);
	/* a dword write to command+status: command RW, status W1C */
	wr(c, PCI_COMMAND, 4, 0x20000002);
	ASSERT_EQ(rd(c, PCI_COMMAND, 4), 0x00100002);
	/* Interrupt Line RW, Interrupt Pin RO, cap pointer RO */
	wr(c, PCI_INTERRUPT_LINE, 2, 0xff0b);
	ASSERT_EQ(rd(c, PCI_INTERRUPT_LINE, 1), 0x0b);
	ASSERT_EQ(rd(c, PCI_INTERRUPT_PIN, 1), 0);
	wr(c, PCI_CAPABILITY_LIST, 1, 0x80);
	ASSERT_EQ(rd(c, PCI_CAPABILITY_LIST, 1), 0x40);
	/* the model's own update of an RO byte is refused */
	ASSERT_EQ(dl_pci_cfg_hw_write(c, PCI_VENDOR_ID, 2, 0, 0xffff), -EROFS);
	/* reset brings back the template's values */
	dl_pci_cfg_reset(c);
	ASSERT_EQ(rd(c, PCI_COMMAND, 4), 0x00100000);
	dl_pci_cfg_free(c);
	leak_check();
}

TEST(unaligned_and_bulk_access)
{
	struct dl_pci_cfg *c = make_nic(NULL);
	uint8_t buf[DL_PCI_CFG_SIZE];

	ASSERT_TRUE(c);
	/* a 4-byte read straddling two dwords */
	ASSERT_EQ(rd(c, 0x02, 4), 0x000010fb | (rd(c, 0x04, 2) << 16));
	ASSERT_EQ(rd(c, 0x01, 2), 0xfb80);
	ASSERT_OK(dl_pci_cfg_read(c, 0, buf, sizeof(buf)));
	ASSERT_EQ(buf[0], 0x86);
	ASSERT_EQ(buf[1], 0x80);
	/* unimplemented extended space reads 0 */
	ASSERT_EQ(rd(c, 0xffc, 4), 0);
	ASSERT_EQ(buf[0xfff], 0);
	/* out of range is refused */
	ASSERT_EQ(dl_pci_cfg_read(c, 4095, buf, 2), -EINVAL);
	ASSERT_EQ(dl_pci_cfg_readv(c, 4093, 4, &(uint32_t){ 0 }), -EINVAL);
	ASSERT_EQ(dl_pci_cfg_readv(c, 0, 3, &(uint32_t){ 0 }), -EINVAL);
	ASSERT_OK(dl_pci_cfg_readv(c, 4092, 4, &(uint32_t){ 0 }));
	dl_pci_cfg_free(c);
	leak_check();
}

TEST(conventional_space_beyond_256)
{
	struct dl_pci_tmpl *t;
	struct dl_pci_cfg *c;

	ASSERT_OK(dl_pci_tmpl_new(0, false, &t));
	ASSERT_OK(dl_pci_tmpl_set_ids(t, 0x1af4, 0x1000, 0x020000, 0, 0x1af4, 1));
	ASSERT_OK(dl_pci_cfg_new(t, &c));
	ASSERT_EQ(dl_pci_cfg_size(c), 256);
	ASSERT_EQ(rd(c, 0xfc, 4), 0);
	ASSERT_EQ(rd(c, 0x100, 4), 0xffffffff);
	ASSERT_EQ(rd(c, 0xffe, 2), 0xffff);
	wr(c, 0x100, 4, 0); /* dropped */
	ASSERT_EQ(rd(c, 0x100, 4), 0xffffffff);
	ASSERT_EQ(dl_pci_cfg_find_ext_cap(c, PCI_EXT_CAP_ID_SRIOV, 0, &(unsigned){ 0 }),
		  -ENOENT);
	/* no capabilities: CapList clear */
	ASSERT_EQ(rd(c, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	ASSERT_EQ(dl_pci_cfg_find_cap(c, PCI_CAP_ID_PM, 0, &(unsigned){ 0 }), -ENOENT);
	dl_pci_cfg_free(c);
	dl_pci_tmpl_put(t);
	leak_check();
}

TEST(bar_sizing)
{
	struct dl_pci_tmpl *t;
	struct dl_pci_cfg *c = make_nic(&t);
	struct dl_pci_bar_info bi;

	ASSERT_TRUE(c);
	/* BAR0/1: 64-bit prefetchable 1 MiB */
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_0, 4), 0x0000000c);
	wr(c, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	wr(c, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_0, 4), 0xfff0000c);
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_1, 4), 0xffffffff);
	wr(c, PCI_BASE_ADDRESS_0, 4, 0xfe812345);
	wr(c, PCI_BASE_ADDRESS_1, 4, 0x00000040);
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_0, 4), 0xfe80000c);
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_1, 4), 0x40);
	/* BAR2: 32 bytes of I/O */
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_2, 4), 0x1);
	wr(c, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_2, 4), 0xffffffe1);
	/* BAR3: 32-bit non-prefetchable 16 KiB */
	wr(c, PCI_BASE_ADDRESS_3, 4, 0xffffffff);
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_3, 4), 0xffffc000);
	/* BAR4/5: 64-bit prefetchable 16 GiB: the size spills into the
	 * upper dword */
	wr(c, PCI_BASE_ADDRESS_4, 4, 0xffffffff);
	wr(c, PCI_BASE_ADDRESS_5, 4, 0xffffffff);
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_4, 4), 0x0000000c);
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_5, 4), 0xfffffffc);
	/* ROM: 512 KiB, enable bit writable */
	wr(c, PCI_ROM_ADDRESS, 4, 0xffffffff);
	ASSERT_EQ(rd(c, PCI_ROM_ADDRESS, 4), 0xfff80001);
	wr(c, PCI_ROM_ADDRESS, 4, 0xfffffffe);
	ASSERT_EQ(rd(c, PCI_ROM_ADDRESS, 4), 0xfff80000);
	/* template info */
	ASSERT_OK(dl_pci_tmpl_bar(t, 0, &bi));
	ASSERT_EQ(bi.size, 1 << 20);
	ASSERT_EQ(bi.flags, DL_PCI_BAR_64 | DL_PCI_BAR_PREF);
	ASSERT_OK(dl_pci_tmpl_bar(t, 1, &bi));
	ASSERT_EQ(bi.size, 0);
	ASSERT_OK(dl_pci_tmpl_bar(t, 4, &bi));
	ASSERT_EQ(bi.size, 16ull << 30);
	dl_pci_cfg_free(c);
	dl_pci_tmpl_put(t);
	leak_check();
}

TEST(bar_rules)
{
	struct dl_pci_tmpl *t;
	struct dl_pci_cfg *c;

	ASSERT_OK(dl_pci_tmpl_new(0, false, &t));
	ASSERT_EQ(dl_pci_tmpl_set_bar(t, 0, 1000, 0), -EINVAL);        /* not pow2 */
	ASSERT_EQ(dl_pci_tmpl_set_bar(t, 0, 8, 0), -EINVAL);           /* < 16 */
	ASSERT_EQ(dl_pci_tmpl_set_bar(t, 0, 512, DL_PCI_BAR_IO), -EINVAL);
	ASSERT_EQ(dl_pci_tmpl_set_bar(t, 5, 4096, DL_PCI_BAR_64), -EINVAL);
	ASSERT_EQ(dl_pci_tmpl_set_bar(t, 0, 8ull << 30, 0), -EINVAL);  /* 32-bit */
	ASSERT_EQ(dl_pci_tmpl_set_bar(t, 6, 1024, 0), -EINVAL);        /* ROM < 2K */
	ASSERT_OK(dl_pci_tmpl_set_bar(t, 1, 4096, DL_PCI_BAR_64));
	ASSERT_EQ(dl_pci_tmpl_set_bar(t, 2, 4096, 0), -EINVAL);        /* upper half */
	ASSERT_EQ(dl_pci_tmpl_set_bar(t, 0, 4096, DL_PCI_BAR_64), -EINVAL);
	/* unimplemented BARs stay 0 whatever is written */
	ASSERT_OK(dl_pci_cfg_new(t, &c));
	ASSERT_EQ(dl_pci_tmpl_set_bar(t, 3, 4096, 0), -EPERM);         /* sealed */
	wr(c, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	wr(c, PCI_BASE_ADDRESS_3, 4, 0xffffffff);
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_0, 4), 0);
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_3, 4), 0);
	wr(c, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	ASSERT_EQ(rd(c, PCI_BASE_ADDRESS_1, 4), 0xfffff004);
	dl_pci_cfg_free(c);
	dl_pci_tmpl_put(t);
	leak_check();
}

TEST(bridge_header)
{
	struct dl_pci_tmpl *t;
	struct dl_pci_cfg *c;
	struct dl_pci_pcie_params pp = { .port_type = PCI_EXP_TYPE_ROOT_PORT,
					 .slot = true, .slot_nr = 1 };
	unsigned int off;

	ASSERT_OK(dl_pci_tmpl_new(PCI_HEADER_TYPE_BRIDGE, true, &t));
	ASSERT_OK(dl_pci_tmpl_set_ids(t, 0x8086, 0x3420, 0x060400, 2, 1, 1));
	ASSERT_EQ(dl_pci_tmpl_set_bar(t, 2, 4096, 0), -EINVAL); /* only 2 BARs */
	ASSERT_OK(dl_pci_tmpl_add_pcie(t, &pp, &off));
	ASSERT_OK(dl_pci_cfg_new(t, &c));
	ASSERT_EQ(rd(c, PCI_HEADER_TYPE, 1), 1);
	/* subsystem registers do not exist in a type 1 header */
	ASSERT_EQ(rd(c, 0x2c, 4), 0);
	/* bus numbers writable */
	wr(c, PCI_PRIMARY_BUS, 4, 0x00020100);
	ASSERT_EQ(rd(c, PCI_PRIMARY_BUS, 4), 0x00020100);
	ASSERT_EQ(rd(c, PCI_SECONDARY_BUS, 1), 1);
	ASSERT_EQ(rd(c, PCI_SUBORDINATE_BUS, 1), 2);
	/* windows: the type nibbles are RO */
	ASSERT_EQ(rd(c, PCI_IO_BASE, 1), 0xf1);
	wr(c, PCI_IO_BASE, 2, 0xffff);
	ASSERT_EQ(rd(c, PCI_IO_BASE, 2), 0xf1f1);
	wr(c, PCI_MEMORY_BASE, 4, 0xffffffff);
	ASSERT_EQ(rd(c, PCI_MEMORY_BASE, 4), 0xfff0fff0);
	wr(c, PCI_PREF_MEMORY_BASE, 4, 0);
	ASSERT_EQ(rd(c, PCI_PREF_MEMORY_BASE, 4), 0x00010001);
	wr(c, PCI_PREF_BASE_UPPER32, 4, 0x12345678);
	ASSERT_EQ(rd(c, PCI_PREF_BASE_UPPER32, 4), 0x12345678);
	/* secondary status RW1C */
	ASSERT_OK(dl_pci_cfg_hw_write(c, PCI_SEC_STATUS, 2, 0x2000, 0x2000));
	wr(c, PCI_SEC_STATUS, 2, 0x2000);
	ASSERT_EQ(rd(c, PCI_SEC_STATUS, 2), 0);
	/* PCIe: latency timers hardwired to 0 */
	wr(c, PCI_SEC_LATENCY_TIMER, 1, 0x40);
	ASSERT_EQ(rd(c, PCI_SEC_LATENCY_TIMER, 1), 0);
	/* root port: slot and root registers present */
	ASSERT_EQ(rd(c, off + PCI_EXP_FLAGS, 2), 0x0142);
	ASSERT_EQ(rd(c, off + PCI_EXP_SLTSTA, 2) & PCI_EXP_SLTSTA_PDS, PCI_EXP_SLTSTA_PDS);
	ASSERT_OK(dl_pci_cfg_hw_write(c, off + PCI_EXP_SLTSTA, 2, PCI_EXP_SLTSTA_PDC,
				      PCI_EXP_SLTSTA_PDC));
	wr(c, off + PCI_EXP_SLTSTA, 2, PCI_EXP_SLTSTA_PDC);
	ASSERT_EQ(rd(c, off + PCI_EXP_SLTSTA, 2), PCI_EXP_SLTSTA_PDS);
	wr(c, off + PCI_EXP_RTCTL, 2, 0xffff);
	ASSERT_EQ(rd(c, off + PCI_EXP_RTCTL, 2), 0x1f);
	dl_pci_cfg_free(c);
	dl_pci_tmpl_put(t);
	leak_check();
}

TEST(capability_chain)
{
	struct dl_pci_cfg *c = make_nic(NULL);
	unsigned int pm, msi, msix, exp, vndr, sriov, off;

	ASSERT_TRUE(c);
	ASSERT_OK(dl_pci_cfg_find_cap(c, PCI_CAP_ID_PM, 0, &pm));
	ASSERT_OK(dl_pci_cfg_find_cap(c, PCI_CAP_ID_MSI, 0, &msi));
	ASSERT_OK(dl_pci_cfg_find_cap(c, PCI_CAP_ID_MSIX, 0, &msix));
	ASSERT_OK(dl_pci_cfg_find_cap(c, PCI_CAP_ID_EXP, 0, &exp));
	ASSERT_OK(dl_pci_cfg_find_cap(c, PCI_CAP_ID_VNDR, 0, &vndr));
	/* the chain follows the order of creation */
	ASSERT_EQ(rd(c, PCI_CAPABILITY_LIST, 1), pm);
	ASSERT_EQ(pm, 0x40);
	ASSERT_EQ(rd(c, pm + 1, 1), msi);
	ASSERT_EQ(rd(c, msi + 1, 1), msix);
	ASSERT_EQ(rd(c, msix + 1, 1), exp);
	ASSERT_EQ(rd(c, exp + 1, 1), vndr);
	ASSERT_EQ(rd(c, vndr + 1, 1), 0);
	ASSERT_EQ(rd(c, vndr + 2, 1), 6);
	ASSERT_EQ(rd(c, vndr + 3, 1), 'a');
	ASSERT_EQ(dl_pci_cfg_find_cap(c, PCI_CAP_ID_VNDR, vndr, &off), -ENOENT);
	ASSERT_EQ(dl_pci_cfg_find_cap(c, PCI_CAP_ID_AGP, 0, &off), -ENOENT);
	/* no overlap: each starts after the previous one's end */
	ASSERT_LE(pm + 8, msi);
	ASSERT_LE(msi + 24, msix);
	ASSERT_LE(msix + 12, exp);
	ASSERT_LE(exp + 52, vndr); /* v2 endpoint: up to Link Status 2 */
	/* extended: SR-IOV first at 0x100, alone */
	ASSERT_OK(dl_pci_cfg_find_ext_cap(c, PCI_EXT_CAP_ID_SRIOV, 0, &sriov));
	ASSERT_EQ(sriov, 0x100);
	ASSERT_EQ(rd(c, 0x100, 4), 0x00010010);
	ASSERT_EQ(dl_pci_cfg_find_ext_cap(c, PCI_EXT_CAP_ID_ERR, 0, &off), -ENOENT);
	ASSERT_EQ(dl_pci_cfg_find_ext_cap(c, PCI_EXT_CAP_ID_SRIOV, sriov, &off), -ENOENT);

	/* PM: state RW, PME status RW1C */
	wr(c, pm + PCI_PM_CTRL, 2, 0xffff);
	ASSERT_EQ(rd(c, pm + PCI_PM_CTRL, 2), 0x010b);
	/* MSI: 8 vectors capable, 64-bit, maskable */
	ASSERT_EQ(rd(c, msi + PCI_MSI_FLAGS, 2), 0x0186);
	wr(c, msi + PCI_MSI_FLAGS, 2, 0xffff);
	ASSERT_EQ(rd(c, msi + PCI_MSI_FLAGS, 2), 0x01f7);
	wr(c, msi + PCI_MSI_ADDRESS_LO, 4, 0xffffffff);
	ASSERT_EQ(rd(c, msi + PCI_MSI_ADDRESS_LO, 4), 0xfffffffc);
	wr(c, msi + PCI_MSI_MASK_64, 4, 0xffffffff);
	ASSERT_EQ(rd(c, msi + PCI_MSI_MASK_64, 4), 0xff);
	/* MSI-X: table size RO, enable and mask-all RW */
	ASSERT_EQ(rd(c, msix + PCI_MSIX_FLAGS, 2), 63);
	wr(c, msix + PCI_MSIX_FLAGS, 2, 0xffff);
	ASSERT_EQ(rd(c, msix + PCI_MSIX_FLAGS, 2), 0xc03f);
	ASSERT_EQ(rd(c, msix + PCI_MSIX_PBA, 4), 0x2003);
	/* PCIe endpoint v2: DevCap with FLR, link x8 gen3 */
	ASSERT_EQ(rd(c, exp + PCI_EXP_FLAGS, 2), 0x0002);
	ASSERT_EQ(rd(c, exp + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR, PCI_EXP_DEVCAP_FLR);
	ASSERT_EQ(rd(c, exp + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_PAYLOAD, 2);
	ASSERT_EQ(rd(c, exp + PCI_EXP_LNKCAP, 4) & 0x3ff, 0x83);
	ASSERT_EQ(rd(c, exp + PCI_EXP_LNKSTA, 2) & 0x3ff, 0x83);
	ASSERT_EQ(rd(c, exp + PCI_EXP_LNKCAP2, 4), 0x0e);
	wr(c, exp + PCI_EXP_DEVCTL, 2, 0xffff); /* Initiate FLR reads 0 */
	ASSERT_EQ(rd(c, exp + PCI_EXP_DEVCTL, 2), 0x7fff);
	ASSERT_OK(dl_pci_cfg_hw_write(c, exp + PCI_EXP_DEVSTA, 2, 0xf, 0xf));
	wr(c, exp + PCI_EXP_DEVSTA, 2, 0x5);
	ASSERT_EQ(rd(c, exp + PCI_EXP_DEVSTA, 2), 0xa);
	/* link status is volatile: the model can retrain to x4 */
	ASSERT_OK(dl_pci_cfg_hw_write(c, exp + PCI_EXP_LNKSTA, 2, 0x43, 0x3ff));
	ASSERT_EQ(rd(c, exp + PCI_EXP_LNKSTA, 2) & 0x3ff, 0x43);
	wr(c, exp + PCI_EXP_LNKSTA, 2, 0); /* RO to software */
	ASSERT_EQ(rd(c, exp + PCI_EXP_LNKSTA, 2) & 0x3ff, 0x43);
	dl_pci_cfg_free(c);
	leak_check();
}

TEST(broken_chains_terminate)
{
	struct dl_pci_tmpl *t;
	struct dl_pci_cfg *c;
	unsigned int off;

	ASSERT_OK(dl_pci_tmpl_new(0, true, &t));
	/* a self-loop in the standard list and in the extended list */
	ASSERT_OK(dl_pci_tmpl_set(t, PCI_STATUS, 2, PCI_STATUS_CAP_LIST));
	ASSERT_OK(dl_pci_tmpl_set(t, PCI_CAPABILITY_LIST, 1, 0x40));
	ASSERT_OK(dl_pci_tmpl_set(t, 0x40, 2, 0x4009));
	ASSERT_OK(dl_pci_tmpl_set(t, 0x100, 4, 0x10010001));
	ASSERT_OK(dl_pci_cfg_new(t, &c));
	ASSERT_EQ(dl_pci_cfg_find_cap(c, PCI_CAP_ID_MSI, 0, &off), -ENOENT);
	ASSERT_OK(dl_pci_cfg_find_cap(c, PCI_CAP_ID_VNDR, 0, &off));
	ASSERT_EQ(dl_pci_cfg_find_ext_cap(c, PCI_EXT_CAP_ID_SRIOV, 0, &off), -ENOENT);
	ASSERT_OK(dl_pci_cfg_find_ext_cap(c, PCI_EXT_CAP_ID_ERR, 0, &off));
	dl_pci_cfg_free(c);
	dl_pci_tmpl_put(t);
	leak_check();
}

TEST(capability_space_runs_out)
{
	struct dl_pci_tmpl *t;
	unsigned int off, n = 0;
	int r;

	ASSERT_OK(dl_pci_tmpl_new(0, false, &t));
	while ((r = dl_pci_tmpl_add_vendor_cap(t, NULL, 13, &off)) == 0)
		n++;
	ASSERT_EQ(r, -ENOSPC);
	ASSERT_EQ(n, 12); /* 12 * 16 bytes from 0x40 to 0x100 */
	ASSERT_EQ(dl_pci_tmpl_add_ext_cap(t, 0x0b, 1, 8, &off), -EINVAL);
	dl_pci_tmpl_put(t);
	leak_check();
}

TEST(sriov_fields)
{
	struct dl_pci_tmpl *t;
	struct dl_pci_cfg *c = make_nic(&t);
	struct dl_pci_bar_info bi;
	unsigned int s;

	ASSERT_TRUE(c);
	ASSERT_OK(dl_pci_cfg_find_ext_cap(c, PCI_EXT_CAP_ID_SRIOV, 0, &s));
	ASSERT_EQ(rd(c, s + PCI_SRIOV_TOTAL_VF, 2), 64);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_INITIAL_VF, 2), 64);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_NUM_VF, 2), 0);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_VF_OFFSET, 2), 0xc0);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_VF_STRIDE, 2), 2);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_VF_DID, 2), 0x10ed);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_SUP_PGSIZE, 4), 0x553);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_SYS_PGSIZE, 4), 1);
	/* RO fields stay */
	wr(c, s + PCI_SRIOV_TOTAL_VF, 2, 5);
	wr(c, s + PCI_SRIOV_VF_OFFSET, 4, 0);
	wr(c, s + PCI_SRIOV_VF_DID, 2, 0);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_TOTAL_VF, 2), 64);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_VF_OFFSET, 4), 0x000200c0);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_VF_DID, 2), 0x10ed);
	/* NumVFs and the control bits are writable */
	wr(c, s + PCI_SRIOV_NUM_VF, 2, 8);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_NUM_VF, 2), 8);
	wr(c, s + PCI_SRIOV_CTRL, 2, 0xffff);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_CTRL, 2),
		  PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE | PCI_SRIOV_CTRL_ARI);
	/* System Page Size: only supported sizes */
	wr(c, s + PCI_SRIOV_SYS_PGSIZE, 4, 0xffffffff);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_SYS_PGSIZE, 4), 0x553);
	/* VF BAR0: 64-bit prefetchable, 16 KiB per VF */
	ASSERT_EQ(rd(c, s + PCI_SRIOV_BAR, 4), 0xc);
	wr(c, s + PCI_SRIOV_BAR, 4, 0xffffffff);
	wr(c, s + PCI_SRIOV_BAR + 4, 4, 0xffffffff);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_BAR, 4), 0xffffc00c);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_BAR + 4, 4), 0xffffffff);
	/* VF BAR2: not implemented */
	wr(c, s + PCI_SRIOV_BAR + 8, 4, 0xffffffff);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_BAR + 8, 4), 0);
	ASSERT_OK(dl_pci_tmpl_vf_bar(t, 3, &bi));
	ASSERT_EQ(bi.size, 16384);
	/* VF Migration Status RW1C-only, starts 0 */
	wr(c, s + PCI_SRIOV_STATUS, 2, 0xffff);
	ASSERT_EQ(rd(c, s + PCI_SRIOV_STATUS, 2), 0);
	dl_pci_cfg_free(c);
	dl_pci_tmpl_put(t);
	leak_check();
}

TEST(sriov_bad_params)
{
	struct dl_pci_tmpl *t;
	struct dl_pci_sriov_params sp = { .total_vfs = 4, .vf_offset = 1 };

	ASSERT_OK(dl_pci_tmpl_new(0, true, &t));
	ASSERT_EQ(dl_pci_tmpl_add_sriov(t, &sp, NULL), -EINVAL); /* stride 0 */
	sp.vf_stride = 1;
	sp.vf_bars[0].size = 4096;
	sp.vf_bars[0].flags = DL_PCI_BAR_IO;
	ASSERT_EQ(dl_pci_tmpl_add_sriov(t, &sp, NULL), -EINVAL); /* I/O VF BAR */
	sp.vf_bars[0].flags = DL_PCI_BAR_64;
	sp.vf_bars[5].size = 4096;
	sp.vf_bars[5].flags = DL_PCI_BAR_64;
	ASSERT_EQ(dl_pci_tmpl_add_sriov(t, &sp, NULL), -EINVAL); /* 64-bit in 5 */
	sp.vf_bars[5].flags = 0;
	ASSERT_OK(dl_pci_tmpl_add_sriov(t, &sp, NULL));
	ASSERT_EQ(dl_pci_tmpl_add_sriov(t, &sp, NULL), -EINVAL); /* twice */
	dl_pci_tmpl_put(t);
	ASSERT_OK(dl_pci_tmpl_new(0, false, &t));
	ASSERT_EQ(dl_pci_tmpl_add_sriov(t, &sp, NULL), -EINVAL); /* no ext space */
	dl_pci_tmpl_put(t);
	leak_check();
}

TEST(vf_routing_ids)
{
	uint16_t rid;

	/* PF 01:00.0, offset 0xc0, stride 2: VFs 01:18.0 .. 02:0f.6 */
	ASSERT_OK(dl_pci_sriov_vf_rid(0x0100, 0xc0, 2, 0, &rid));
	ASSERT_EQ(rid, 0x01c0);
	ASSERT_OK(dl_pci_sriov_vf_rid(0x0100, 0xc0, 2, 31, &rid));
	ASSERT_EQ(rid, 0x01fe);
	ASSERT_OK(dl_pci_sriov_vf_rid(0x0100, 0xc0, 2, 32, &rid));
	ASSERT_EQ(rid, 0x0200); /* first VF on the next bus */
	ASSERT_OK(dl_pci_sriov_vf_rid(0x0100, 0xc0, 2, 63, &rid));
	ASSERT_EQ(rid, 0x023e);
	/* PF 01:00.1 interleaves */
	ASSERT_OK(dl_pci_sriov_vf_rid(0x0101, 0xc0, 2, 0, &rid));
	ASSERT_EQ(rid, 0x01c1);
	ASSERT_OK(dl_pci_sriov_vf_rid(0x0101, 0xc0, 2, 63, &rid));
	ASSERT_EQ(rid, 0x023f);
	/* Intel 82599-like: offset 0x180 puts every VF a bus further */
	ASSERT_OK(dl_pci_sriov_vf_rid(0x0300, 0x180, 2, 1, &rid));
	ASSERT_EQ(rid, 0x0482);
	/* past bus 255 */
	ASSERT_EQ(dl_pci_sriov_vf_rid(0xff00, 0x100, 1, 0, &rid), -ERANGE);
	ASSERT_OK(dl_pci_sriov_vf_rid(0xff00, 0x80, 1, 0x7f, &rid));
	ASSERT_EQ(rid, 0xffff);
	leak_check();
}

TEST(vf_template_is_shared_and_small)
{
	struct dl_pci_tmpl *pf, *vf;
	struct dl_pci_cfg *pfc = make_nic(&pf), *v[64];
	unsigned int off;

	ASSERT_TRUE(pfc);
	ASSERT_OK(dl_pci_tmpl_derive_vf(pf, &vf));
	for (int i = 0; i < 64; i++)
		ASSERT_OK(dl_pci_cfg_new(vf, &v[i]));
	/* Vendor/Device read 0xffff; class, rev and subsystem are the PF's */
	ASSERT_EQ(rd(v[5], PCI_VENDOR_ID, 4), 0xffffffff);
	ASSERT_EQ(rd(v[5], PCI_CLASS_REVISION, 4), 0x02000001);
	ASSERT_EQ(rd(v[5], PCI_SUBSYSTEM_VENDOR_ID, 4), 0x000c8086);
	/* BARs read 0 and are not writable */
	wr(v[5], PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	ASSERT_EQ(rd(v[5], PCI_BASE_ADDRESS_0, 4), 0);
	/* MSE not implemented, bus master is */
	wr(v[5], PCI_COMMAND, 2, 0xffff);
	ASSERT_EQ(rd(v[5], PCI_COMMAND, 2), 0x0144);
	ASSERT_EQ(rd(v[6], PCI_COMMAND, 2), 0); /* per-VF state */
	/* capabilities copied, SR-IOV not */
	ASSERT_OK(dl_pci_cfg_find_cap(v[5], PCI_CAP_ID_EXP, 0, &off));
	ASSERT_EQ(rd(v[5], off + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR,
		  PCI_EXP_DEVCAP_FLR);
	ASSERT_OK(dl_pci_cfg_find_cap(v[5], PCI_CAP_ID_MSIX, 0, &off));
	wr(v[5], off + PCI_MSIX_FLAGS, 2, 0x8000);
	ASSERT_EQ(rd(v[5], off + PCI_MSIX_FLAGS, 2), 0x803f);
	ASSERT_EQ(dl_pci_cfg_find_ext_cap(v[5], PCI_EXT_CAP_ID_SRIOV, 0, &off), -ENOENT);
	ASSERT_EQ(dl_pci_cfg_size(v[5]), 4096);
	/* each VF costs its overlay only: far below 2 KiB */
	ASSERT_LE(dl_pci_cfg_footprint(v[5]), 256);
	ASSERT_LE(dl_pci_tmpl_overlay_size(vf), 128);
	printf("# VF instance footprint %zu bytes (overlay %u)\n",
	       dl_pci_cfg_footprint(v[5]), dl_pci_tmpl_overlay_size(vf));
	for (int i = 0; i < 64; i++)
		dl_pci_cfg_free(v[i]);
	dl_pci_tmpl_put(vf);
	dl_pci_cfg_free(pfc);
	dl_pci_tmpl_put(pf);
	/* no SR-IOV, no VF template */
	ASSERT_OK(dl_pci_tmpl_new(0, true, &pf));
	ASSERT_EQ(dl_pci_tmpl_derive_vf(pf, &vf), -EINVAL);
	dl_pci_tmpl_put(pf);
	leak_check();
}

TEST(template_from_bytes_round_trip)
{
	struct dl_pci_tmpl *t, *t2;
	struct dl_pci_cfg *c, *c2;
	uint8_t orig[DL_PCI_CFG_SIZE], back[DL_PCI_CFG_SIZE];
	unsigned int off;
	struct dl_pci_bar_info bi;

	c = make_nic(NULL);
	ASSERT_TRUE(c);
	/* program some state so the dump is not the reset value */
	wr(c, PCI_BASE_ADDRESS_0, 4, 0xfe800000);
	wr(c, PCI_BASE_ADDRESS_2, 4, 0xe000);
	wr(c, PCI_COMMAND, 2, 0x0407);
	ASSERT_OK(dl_pci_cfg_read(c, 0, orig, sizeof(orig)));
	ASSERT_OK(dl_pci_tmpl_new_from_bytes(orig, sizeof(orig), NULL, &t));
	ASSERT_OK(dl_pci_cfg_new(t, &c2));
	ASSERT_OK(dl_pci_cfg_read(c2, 0, back, sizeof(back)));
	ASSERT_MEMEQ(back, orig, sizeof(orig));
	/* masks were inferred */
	wr(c2, PCI_COMMAND, 2, 0xffff);
	ASSERT_EQ(rd(c2, PCI_COMMAND, 2), 0x0547);
	wr(c2, PCI_VENDOR_ID, 2, 0);
	ASSERT_EQ(rd(c2, PCI_VENDOR_ID, 2), 0x8086);
	/* BAR0 at 0xfe800000: size estimated from the alignment (8 MiB) */
	ASSERT_OK(dl_pci_tmpl_bar(t, 0, &bi));
	ASSERT_EQ(bi.size, 8 << 20);
	ASSERT_EQ(bi.flags, DL_PCI_BAR_64 | DL_PCI_BAR_PREF);
	ASSERT_OK(dl_pci_tmpl_bar(t, 2, &bi));
	ASSERT_EQ(bi.flags, DL_PCI_BAR_IO);
	ASSERT_OK(dl_pci_cfg_find_cap(c2, PCI_CAP_ID_MSI, 0, &off));
	wr(c2, off + PCI_MSI_FLAGS, 2, 1);
	ASSERT_EQ(rd(c2, off + PCI_MSI_FLAGS, 2), 0x0187);
	ASSERT_OK(dl_pci_cfg_find_ext_cap(c2, PCI_EXT_CAP_ID_SRIOV, 0, &off));
	wr(c2, off + PCI_SRIOV_NUM_VF, 2, 3);
	wr(c2, off + PCI_SRIOV_TOTAL_VF, 2, 3);
	ASSERT_EQ(rd(c2, off + PCI_SRIOV_NUM_VF, 4), 0x00000003);
	ASSERT_EQ(rd(c2, off + PCI_SRIOV_TOTAL_VF, 2), 64);
	ASSERT_OK(dl_pci_tmpl_vf_bar(t, 0, &bi));
	ASSERT_TRUE(bi.size >= 16); /* address 0: estimated */
	dl_pci_cfg_free(c2);

	/* with hints the sizes are exact */
	struct dl_pci_tmpl_hints h = { .known = 1u << 0 | 1u << 8,
				       .bar_size = { 1 << 20 },
				       .vf_bar_size = { 16384 } };
	ASSERT_OK(dl_pci_tmpl_new_from_bytes(orig, sizeof(orig), &h, &t2));
	ASSERT_OK(dl_pci_cfg_new(t2, &c2));
	wr(c2, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	ASSERT_EQ(rd(c2, PCI_BASE_ADDRESS_0, 4), 0xfff0000c);
	ASSERT_OK(dl_pci_cfg_find_ext_cap(c2, PCI_EXT_CAP_ID_SRIOV, 0, &off));
	wr(c2, off + PCI_SRIOV_BAR, 4, 0xffffffff);
	ASSERT_EQ(rd(c2, off + PCI_SRIOV_BAR, 4), 0xffffc00c);
	dl_pci_cfg_free(c2);
	dl_pci_tmpl_put(t2);
	dl_pci_tmpl_put(t);
	dl_pci_cfg_free(c);
	leak_check();
}

TEST(template_from_truncated_bytes)
{
	struct dl_pci_cfg *c = make_nic(NULL), *c2;
	struct dl_pci_tmpl *t;
	uint8_t orig[64], back[256];
	unsigned int off;

	ASSERT_TRUE(c);
	ASSERT_OK(dl_pci_cfg_read(c, 0, orig, sizeof(orig)));
	ASSERT_EQ(dl_pci_tmpl_new_from_bytes(orig, 63, NULL, &t), -EINVAL);
	ASSERT_OK(dl_pci_tmpl_new_from_bytes(orig, sizeof(orig), NULL, &t));
	/* caps could not be read: chain empty; the builder can add some */
	ASSERT_OK(dl_pci_tmpl_add_pm(t, &off));
	ASSERT_EQ(off, 0x40);
	ASSERT_OK(dl_pci_cfg_new(t, &c2));
	ASSERT_OK(dl_pci_cfg_read(c2, 0, back, sizeof(back)));
	ASSERT_MEMEQ(back, orig, 6);
	ASSERT_EQ(back[PCI_CAPABILITY_LIST], 0x40);
	ASSERT_EQ(dl_pci_cfg_size(c2), 256);
	ASSERT_EQ(dl_pci_cfg_find_cap(c2, PCI_CAP_ID_MSI, 0, &off), -ENOENT);
	dl_pci_cfg_free(c2);
	dl_pci_tmpl_put(t);
	dl_pci_cfg_free(c);
	leak_check();
}

TEST_MAIN(header_ro_rw_rw1c, unaligned_and_bulk_access,
	  conventional_space_beyond_256, bar_sizing, bar_rules, bridge_header,
	  capability_chain, broken_chains_terminate, capability_space_runs_out,
	  sriov_fields, sriov_bad_params, vf_routing_ids,
	  vf_template_is_shared_and_small, template_from_bytes_round_trip,
	  template_from_truncated_bytes)
