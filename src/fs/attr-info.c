/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Attributes the kernel computes for every PCI function rather than
 * storing (drivers/pci/pci-sysfs.c, drivers/base/core.c): uevent, the
 * PCI Express link's speed and width, the local CPUs, the DMA masks.
 * Their rows are in attr.c's table; these are their show functions.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "view.h"

/* Config space offsets and fields (include/uapi/linux/pci_regs.h). */
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_CAP_ID_EXP 0x10
#define PCI_EXP_FLAGS 0x02
#define PCI_EXP_LNKCAP 0x0c
#define PCI_EXP_LNKSTA 0x12
#define PCI_EXP_LNKCAP2 0x2c
#define PCI_EXP_LNKCAP_SLS 0x0000000f
#define PCI_EXP_FLAGS_TYPE 0x00f0
#define PCI_EXP_FLAGS_SLOT 0x0100
#define PCI_EXP_TYPE_ROOT_PORT 0x4
#define PCI_EXP_TYPE_DOWNSTREAM 0x6
#define PCI_EXP_SLTCAP 0x14
#define PCI_EXP_SLTCAP_HPC 0x00000040
#define PCI_EXP_SLTCAP_PSN 0xfff80000
#define PCI_SECONDARY_BUS 0x19
/* Most capabilities a list can hold (the kernel's PCI_FIND_CAP_TTL). */
#define CAP_TTL 48
/* Most CPUs the local CPU attributes describe. */
#define MAX_CPUS 8192

static int cfg_read(struct dl_device *dev, unsigned int off, unsigned int len,
		    uint32_t *ret)
{
	uint8_t b[4];
	int r = dl_pci_config_read(dev, off, b, len);

	if (r < 0)
		return r;
	if (r != (int)len)
		return -EIO;
	*ret = 0;
	for (unsigned int i = 0; i < len; i++)
		*ret |= (uint32_t)b[i] << (8 * i);
	return 0;
}

/* The PCI Express capability's offset, or 0 (pci_find_capability()). */
static unsigned int pcie_cap(struct dl_device *dev)
{
	uint32_t v, id;
	unsigned int pos;
	int ttl = CAP_TTL;

	if (cfg_read(dev, PCI_STATUS, 2, &v) < 0 || !(v & PCI_STATUS_CAP_LIST) ||
	    cfg_read(dev, PCI_CAPABILITY_LIST, 1, &v) < 0)
		return 0;
	for (pos = v & ~3u; pos >= 0x40 && ttl--; pos = v & ~3u) {
		if (cfg_read(dev, pos, 1, &id) < 0 || id == 0xff)
			return 0;
		if (id == PCI_CAP_ID_EXP)
			return pos;
		if (cfg_read(dev, pos + 1, 1, &v) < 0)
			return 0;
	}
	return 0;
}

/* The four link attributes exist on PCI Express functions only
 * (pcie_dev_attrs_are_visible()). */
bool attr_visible_pcie(struct dl_fs *fs, struct dl_device *dev)
{
	(void)fs;
	return pcie_cap(dev) != 0;
}

/*
 * A register of the capability as pcie_capability_read_dword() reads it:
 * the link registers are 0 on functions without a link (Root Complex
 * integrated endpoints and event collectors), Link Capabilities 2 is 0
 * before version 2 of the capability.
 */
static int pcie_read(struct dl_device *dev, unsigned int reg, unsigned int len,
		     uint32_t *ret)
{
	unsigned int pos = pcie_cap(dev);
	uint32_t flags, type;
	int r;

	if (!pos)
		return -EINVAL;
	r = cfg_read(dev, pos + PCI_EXP_FLAGS, 2, &flags);
	if (r < 0)
		return r;
	type = (flags >> 4) & 0xf;
	*ret = 0;
	if (type == 0x9 || type == 0xa)
		return 0;
	if (reg == PCI_EXP_LNKCAP2 && (flags & 0xf) < 2)
		return 0;
	return cfg_read(dev, pos + reg, len, ret);
}

/* pci_speed_string() of a Link Speed field (pcie_link_speed[]). */
static const char *speed_string(unsigned int field)
{
	static const char *const speeds[] = {
		"Unknown", "2.5 GT/s PCIe", "5.0 GT/s PCIe", "8.0 GT/s PCIe",
		"16.0 GT/s PCIe", "32.0 GT/s PCIe", "64.0 GT/s PCIe",
	};

	return field < sizeof(speeds) / sizeof(speeds[0]) ? speeds[field]
							  : "Unknown";
}

static int link_speed(struct dl_device *dev, bool max, char *buf, size_t len)
{
	uint32_t v;
	unsigned int field = 0;
	int r;

	if (!max) {
		r = pcie_read(dev, PCI_EXP_LNKSTA, 2, &v);
		field = v & 0xf;
	} else {
		/* pcie_get_speed_cap(): the highest speed of the Supported
		 * Link Speeds Vector, else Link Capabilities' field (which
		 * then only means 2.5 or 5.0 GT/s). */
		r = pcie_read(dev, PCI_EXP_LNKCAP2, 4, &v);
		for (unsigned int bit = 7; r == 0 && v && bit >= 1; bit--)
			if (v & (1u << bit)) {
				field = bit;
				break;
			}
		if (r == 0 && !v) {
			r = pcie_read(dev, PCI_EXP_LNKCAP, 4, &v);
			field = (v & 0xf) <= 2 ? v & 0xf : 0;
		}
	}
	if (r < 0)
		return -EINVAL;
	return snprintf(buf, len, "%s\n", speed_string(field));
}

static int link_width(struct dl_device *dev, bool max, char *buf, size_t len)
{
	uint32_t v;

	if (pcie_read(dev, max ? PCI_EXP_LNKCAP : PCI_EXP_LNKSTA,
		      max ? 4 : 2, &v) < 0)
		return -EINVAL;
	return snprintf(buf, len, "%u\n", (v >> 4) & 0x3f);
}

/* current_link_speed_show() and the three others of pci-sysfs.c. */
int show_cur_link_speed(struct dl_fs *fs, struct dl_device *dev,
			const struct attr *a, char *buf, size_t len)
{
	(void)fs, (void)a;
	return link_speed(dev, false, buf, len);
}

/*
 * The hot-plug slot below a port, as pciehp registers it (pcie_init():
 * a root or downstream port whose PCI Express Capabilities say Slot
 * Implemented and whose Slot Capabilities say Hot-Plug Capable; the
 * slot is named by the Physical Slot Number): that number, else -1.
 * An import has none: its source's slots are not known.
 */
int slot_psn(struct dl_device *dev)
{
	const struct dl_pci_func *f = dl_pci_func_of(dev);
	unsigned int pos;
	uint32_t flags, sltcap, type;

	/* Ports are bridges: the endpoints and VFs of a large tree are
	 * passed over without a config read (slots_get() asks every
	 * function). */
	if (!f || f->no_slot || !(f->flags & DL_PCI_F_BRIDGE))
		return -1;
	pos = pcie_cap(dev);
	if (!pos || cfg_read(dev, pos + PCI_EXP_FLAGS, 2, &flags) < 0)
		return -1;
	type = (flags & PCI_EXP_FLAGS_TYPE) >> 4;
	if ((type != PCI_EXP_TYPE_ROOT_PORT &&
	     type != PCI_EXP_TYPE_DOWNSTREAM) ||
	    !(flags & PCI_EXP_FLAGS_SLOT) ||
	    cfg_read(dev, pos + PCI_EXP_SLTCAP, 4, &sltcap) < 0 ||
	    !(sltcap & PCI_EXP_SLTCAP_HPC))
		return -1;
	return (int)((sltcap & PCI_EXP_SLTCAP_PSN) >> 19);
}

/*
 * bus_speed_read() of the slot's bus (drivers/pci/slot.c): its
 * max_bus_speed and cur_bus_speed, which pci_set_bus_speed() takes from
 * the port's Link Capabilities (Max Link Speed) and Link Status
 * (Current Link Speed), each through pcie_link_speed[].
 */
int slot_bus_speed(struct dl_device *port, bool max, char *buf, size_t len)
{
	uint32_t v;

	if (pcie_read(port, max ? PCI_EXP_LNKCAP : PCI_EXP_LNKSTA,
		      max ? 4 : 2, &v) < 0)
		return -EINVAL;
	return snprintf(buf, len, "%s\n", speed_string(v & PCI_EXP_LNKCAP_SLS));
}

/* The port's secondary bus number, or -1. */
int slot_bus(struct dl_device *port)
{
	uint32_t v;

	return cfg_read(port, PCI_SECONDARY_BUS, 1, &v) < 0 ? -1 : (int)v;
}

int show_max_link_speed(struct dl_fs *fs, struct dl_device *dev,
			const struct attr *a, char *buf, size_t len)
{
	(void)fs, (void)a;
	return link_speed(dev, true, buf, len);
}

int show_cur_link_width(struct dl_fs *fs, struct dl_device *dev,
			const struct attr *a, char *buf, size_t len)
{
	(void)fs, (void)a;
	return link_width(dev, false, buf, len);
}

int show_max_link_width(struct dl_fs *fs, struct dl_device *dev,
			const struct attr *a, char *buf, size_t len)
{
	(void)fs, (void)a;
	return link_width(dev, true, buf, len);
}

/*
 * dma_mask_bits, consistent_dma_mask_bits: fls64() of the masks, which
 * pci_setup_device() sets to 32 bits and only a driver widens
 * (dma_set_mask()): devlife's drivers do no DMA and leave them.
 */
int show_dma_mask_bits(struct dl_fs *fs, struct dl_device *dev,
		       const struct attr *a, char *buf, size_t len)
{
	(void)fs, (void)dev, (void)a;
	return snprintf(buf, len, "32\n");
}

/*
 * uevent: the variables dev_uevent() and pci_uevent() give a function,
 * in their order (no ACTION, DEVPATH, SUBSYSTEM or SEQNUM: those belong
 * to an event, not to the file); an mdev's DRIVER alone. Writing it is
 * store_uevent() (attr.c).
 */
/*
 * enable (pci-sysfs.c enable_show()/enable_store()): the enable count;
 * kstrtoul(); under the device lock: a bound function EBUSY, non-zero
 * enables, 0 disables one that is enabled, else EIO.
 */
int show_enable(struct dl_fs *fs, struct dl_device *dev, const struct attr *a,
		char *buf, size_t len)
{
	(void)fs, (void)a;
	return snprintf(buf, len, "%d\n", dl_pci_enable_count(dev));
}

int store_enable(struct dl_fs *fs, struct dl_device *dev, const char *text)
{
	unsigned long v;
	int r = 0;

	(void)fs;
	if (dl_fs__store_ulong(text, ULONG_MAX, &v) < 0)
		return -EINVAL;
	dl_device_lock(dev);
	if (dl_device_driver(dev))
		r = -EBUSY;
	else if (v)
		r = dl_pci_enable_device(dev);
	else if (dl_pci_enable_count(dev) > 0)
		dl_pci_disable_device(dev);
	else
		r = -EIO;
	dl_device_unlock(dev);
	return r;
}

/*
 * d3cold_allowed (pci-sysfs.c d3cold_allowed_show()/_store()): "%u\n";
 * kstrtoul(), non-zero allows. The store's pci_bridge_d3_update() and
 * pm_runtime_resume() have nothing to act on: no power model.
 */
int show_d3cold(struct dl_fs *fs, struct dl_device *dev, const struct attr *a,
		char *buf, size_t len)
{
	(void)fs, (void)a;
	return snprintf(buf, len, "%u\n",
			atomic_load(&dl_pci_func_of(dev)->d3cold_allowed) ? 1u : 0u);
}

int store_d3cold(struct dl_fs *fs, struct dl_device *dev, const char *text)
{
	unsigned long v;

	(void)fs;
	if (dl_fs__store_ulong(text, ULONG_MAX, &v) < 0)
		return -EINVAL;
	atomic_store(&dl_pci_func_of(dev)->d3cold_allowed, v != 0);
	return 0;
}

int show_uevent(struct dl_fs *fs, struct dl_device *dev, const struct attr *a,
		char *buf, size_t len)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	struct dl_driver *drv = dl_device_driver(dev);
	int n = 0;

	(void)fs, (void)a;
	if (drv)
		n = snprintf(buf, len, "DRIVER=%s\n", dl_driver_name(drv));
	/* An mdev: its bus has no uevent callback (mdev_driver.c). */
	if (!f)
		return n < (int)len ? n : -EIO;
	n += snprintf(buf + n, len - (size_t)n,
		      "PCI_CLASS=%04X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\n"
		      "PCI_SLOT_NAME=%s\n"
		      "MODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n",
		      f->class, f->vendor, f->device, f->subvendor, f->subdevice,
		      dl_device_name(dev), f->vendor, f->device, f->subvendor,
		      f->subdevice, (f->class >> 16) & 0xff, (f->class >> 8) & 0xff,
		      f->class & 0xff);
	return n < (int)len ? n : -EIO;
}

/* The first line of a file of the host's sysfs, or -errno. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *fp = fopen(path, "re");
	int r = 0;

	if (!fp)
		return -errno;
	if (!fgets(buf, (int)len, fp))
		r = -EIO;
	fclose(fp);
	buf[strcspn(buf, "\n")] = '\0';
	return r;
}

/* A CPU list ("0-3,8") into @bits (MAX_CPUS of them); @ret_last: the
 * highest CPU in it. */
static int parse_cpulist(const char *s, uint32_t *bits, unsigned int *ret_last)
{
	unsigned int a, b;
	int n;

	memset(bits, 0, MAX_CPUS / 8);
	while (*s) {
		if (sscanf(s, "%u%n", &a, &n) != 1)
			return -EINVAL;
		s += n;
		b = a;
		if (*s == '-' && sscanf(s + 1, "%u%n", &b, &n) == 1)
			s += 1 + n;
		if (b < a || b >= MAX_CPUS)
			return -EINVAL;
		for (unsigned int i = a; i <= b; i++)
			bits[i / 32] |= 1u << (i % 32);
		*ret_last = b;
		if (*s == ',')
			s++;
		else if (*s)
			return -EINVAL;
	}
	return 0;
}

/*
 * cpumap_print_to_pagebuf(false, ...): the mask in hex, in 32-bit groups
 * separated by commas, most significant first, over nr_cpu_ids bits (the
 * first group only as wide as the bits it holds).
 */
static int print_cpumask(const uint32_t *bits, unsigned int nbits, char *buf,
			 size_t len)
{
	unsigned int groups = (nbits + 31) / 32, width = nbits % 32;
	int n = 0;

	if (!width)
		width = 32;
	for (unsigned int g = groups; g-- > 0 && n < (int)len;) {
		uint32_t v = bits[g] & (width == 32 ? ~0u : (1u << width) - 1);

		n += snprintf(buf + n, len - (size_t)n, "%s%0*x", g + 1 == groups ? "" : ",",
			      (int)(width + 3) / 4, v);
		width = 32;
	}
	n += snprintf(buf + n, len > (size_t)n ? len - (size_t)n : 0, "\n");
	return n < (int)len ? n : -EIO;
}

/*
 * local_cpus, local_cpulist: the CPUs of the function's NUMA node, or
 * every online CPU when it has none (pci_dev_show_local_cpu()), as the
 * host has them; a node the host lacks counts as none.
 */
static int local_cpus(struct dl_device *dev, bool list, char *buf, size_t len)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	uint32_t bits[MAX_CPUS / 32] = { 0 };
	char path[96], cpus[1024], possible[256];
	unsigned int last = 0, nr_cpu_ids = 0;
	int r = -ENOENT;

	if (f && f->numa_node >= 0) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist",
			 f->numa_node);
		r = read_line(path, cpus, sizeof(cpus));
	}
	if (r < 0)
		r = read_line("/sys/devices/system/cpu/online", cpus, sizeof(cpus));
	if (r < 0)
		return r;
	if (list)
		return snprintf(buf, len, "%s\n", cpus) < (int)len ? (int)strlen(buf) : -EIO;
	/* nr_cpu_ids: one past the last possible CPU. */
	r = read_line("/sys/devices/system/cpu/possible", possible, sizeof(possible));
	if (r == 0)
		r = parse_cpulist(possible, bits, &nr_cpu_ids);
	if (r == 0)
		r = parse_cpulist(cpus, bits, &last);
	if (r < 0)
		return -EIO;
	return print_cpumask(bits, nr_cpu_ids + 1, buf, len);
}

int show_local_cpus(struct dl_fs *fs, struct dl_device *dev,
		    const struct attr *a, char *buf, size_t len)
{
	(void)fs, (void)a;
	return local_cpus(dev, false, buf, len);
}

int show_local_cpulist(struct dl_fs *fs, struct dl_device *dev,
		       const struct attr *a, char *buf, size_t len)
{
	(void)fs, (void)a;
	return local_cpus(dev, true, buf, len);
}

/*
 * reset (pci-sysfs.c reset_store()): kstrtoul(), its error as is; only 1
 * (else -EINVAL); pci_reset_function() (dl_pci_platform_reset_function():
 * the driver's reset_prepare/reset_done around it). Both files exist when
 * a method probed as the function was added (pci_dev_reset_attr_is_visible()).
 */
bool attr_visible_reset(struct dl_fs *fs, struct dl_device *dev)
{
	(void)fs;
	return dl_pci_reset_files(dev);
}

int store_reset(struct dl_fs *fs, struct dl_device *dev, const char *text)
{
	unsigned long v;
	int r = dl_fs__store_ulong(text, ULONG_MAX, &v);

	if (r < 0)
		return r;
	if (v != 1)
		return -EINVAL;
	return dl_pci_platform_reset_function(fs->plat, dev);
}

/* reset_method (pci.c reset_method_show()/_store()) */
int show_reset_method(struct dl_fs *fs, struct dl_device *dev,
		      const struct attr *a, char *buf, size_t len)
{
	(void)fs, (void)a;
	return dl_pci_reset_method_show(dev, buf, len);
}

int store_reset_method(struct dl_fs *fs, struct dl_device *dev,
		       const char *text)
{
	(void)fs;
	return dl_pci_reset_method_store(dev, dl_device_parent(dev), text);
}
