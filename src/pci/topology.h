/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI topologies: a plain description (a list of device specs) that the
 * parsers produce and a separate step instantiates into a dl_tree.
 *
 * Sources of a description:
 *  - the built-in default (dl_pci_desc_default());
 *  - a topology file (docs/topology.md): one device per line, key=value;
 *  - an `lspci -x`/`-xxx`/`-xxxx` dump (with or without -v text);
 *  - a sysfs directory such as /sys/bus/pci.
 *
 * Every parser validates what it built (dl_pci_desc_validate()) before it
 * returns it, so a description in a caller's hands is always consistent:
 * unique functions, proper bus numbering, VF routing IDs inside their
 * bridge's bus range. On bad input a parser returns -EINVAL, builds
 * nothing, and says what is wrong as "SOURCE:LINE: message".
 *
 * The parsers and dl_pci_spec_template() need nothing but this layer's
 * config model (no tree, no core), so they can be fuzzed alone.
 */
#ifndef DEVLIFE_PCI_TOPOLOGY_H
#define DEVLIFE_PCI_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "devfn.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dl_tree;

/**
 * enum dl_pci_spec_type - what kind of function a spec describes
 * @DL_PCI_SPEC_ENDPOINT: a type 0 function
 * @DL_PCI_SPEC_BRIDGE: a PCI-to-PCI bridge (type 1); with PCI Express it
 *                      is a switch port: upstream below a root or
 *                      downstream port, downstream below an upstream port
 * @DL_PCI_SPEC_ROOTPORT: a PCI Express root port (type 1, on a root bus)
 * @DL_PCI_SPEC_UPSTREAM: a PCI Express switch upstream port
 * @DL_PCI_SPEC_DOWNSTREAM: a PCI Express switch downstream port
 */
enum dl_pci_spec_type {
	DL_PCI_SPEC_ENDPOINT = 0,
	DL_PCI_SPEC_BRIDGE,
	DL_PCI_SPEC_ROOTPORT,
	DL_PCI_SPEC_UPSTREAM,
	DL_PCI_SPEC_DOWNSTREAM,
};

/**
 * struct dl_pci_sriov_spec - SR-IOV of a PF spec
 * @total: TotalVFs; 0 when the function has no SR-IOV capability
 * @offset: First VF Offset
 * @stride: VF Stride
 * @vf_device: VF Device ID
 * @numvfs: VFs to enable when the description is instantiated
 * @vf_bars: per-VF VF BAR sizes and kinds
 */
struct dl_pci_sriov_spec {
	uint16_t total;
	uint16_t offset;
	uint16_t stride;
	uint16_t vf_device;
	uint16_t numvfs;
	struct dl_pci_bar_info vf_bars[6];
};

/**
 * struct dl_pci_drv_params - per-function settings read by the sample
 *                            drivers (src/pci/drivers), from the
 *                            topology line
 * @probe_delay_us: probe sleeps this long (under the device lock)
 * @remove_delay_us: remove sleeps this long (under the device lock); the
 *                   faulty driver's bounded stall
 * @op_delay_us: the driver's other operations sleep this long:
 *               sriov_configure (sriov-pf, devlife-nic), mdev create and
 *               mdev child remove (mdev-parent), online and offline
 *               (auto-online, slow)
 * @probe_errno: faulty: probe fails with -@probe_errno (0: it succeeds)
 * @probe_vfs: sriov-pf: VFs its probe enables
 *
 * Plain data, written once before the function is added.
 */
struct dl_pci_drv_params {
	uint32_t probe_delay_us;
	uint32_t remove_delay_us;
	uint32_t op_delay_us;
	uint16_t probe_errno;
	uint16_t probe_vfs;
};

/**
 * struct dl_pci_spec - one PCI function of a description
 * @line: line of the source it came from (1-based; 0 if none), for
 *        messages
 * @domain: PCI domain (segment)
 * @bus: bus number
 * @devfn: device << 3 | function
 * @type: enum dl_pci_spec_type
 * @vendor: Vendor ID
 * @device: Device ID
 * @subvendor: Subsystem Vendor ID
 * @subdevice: Subsystem ID
 * @class: 24-bit class code
 * @rev: Revision ID
 * @secbus: bridges: secondary bus number
 * @subbus: bridges: subordinate bus number; -1 in a topology file means
 *          "compute it" (validation fills in the highest bus below,
 *          VF buses included)
 * @bars: BAR sizes and kinds (bar[i + 1] is empty after a 64-bit BAR)
 * @rom_size: expansion ROM size, 0 for none
 * @pcie: has a PCI Express capability (and a 4 KiB config space)
 * @link_speed: PCIe link speed 1..5 (0: default, gen3)
 * @link_width: PCIe link width (0: default, x4 for endpoints, x16 ports)
 * @slot: root/downstream ports: hot-plug slot number, -1 for no slot
 * @msi: MSI vectors (0: no MSI capability)
 * @msix: MSI-X table size (0: no MSI-X capability)
 * @sriov: SR-IOV capability, if @sriov.total
 * @driver: name of the driver to bind, or NULL (then any that matches)
 * @delay_us: delay of each config access, microseconds (the slow device)
 * @mdev_parent: the function can be a mediated-device parent
 * @mdev_types: its mdev types, "name:instances[,name:instances...]", or
 *              NULL
 * @params: settings of the sample drivers (probe_delay_us, ...)
 * @numa_node: NUMA node, -1 for none
 * @irq: legacy IRQ number (the sysfs `irq` file), 0 for none
 * @config: importers: the raw config bytes, or NULL for a synthesized
 *          function
 * @config_len: their number: 64, 256 or 4096
 * @unbound: importers: the source had no driver bound to it; it is not
 *           probed either
 * @resource: importers of sysfs trees: the source's `resource` text,
 *            served as it is; NULL to derive it from config space
 * @hints: importers: BAR sizes the dump cannot tell
 * @vf_config: importers: the config of one of the PF's VFs, used as the
 *             template of every VF; NULL to derive it from the PF
 * @vf_config_len: its length
 * @multifunction: set by validation: another function shares the device
 *                 number
 * @pcie_type: set by validation: PCI_EXP_TYPE_* of the PCIe capability
 * @parent: set by validation: index of the bridge above, -1 for a root
 *          bus
 * @bar_addr: set by validation for synthesized functions: assigned BAR
 *            (and ROM, index 6) addresses
 * @vf_bar_addr: likewise for the SR-IOV VF BARs
 * @win: set by validation for synthesized bridges: forwarding windows
 *       (base > limit means closed)
 *
 * All fields are plain data owned by the description; strings and
 * buffers are freed by dl_pci_desc_free().
 */
/* A spec's and struct dl_pci_func_attrs's @iommu_group: the kernel's choice (0, the
 * default), none, or group N. */
#define DL_PCI_IOMMU_AUTO 0
#define DL_PCI_IOMMU_NONE (-1)
#define DL_PCI_IOMMU_ID(n) ((n) + 1)

struct dl_pci_spec {
	unsigned int line;
	uint32_t domain;
	uint8_t bus;
	uint8_t devfn;
	enum dl_pci_spec_type type;
	uint16_t vendor;
	uint16_t device;
	uint16_t subvendor;
	uint16_t subdevice;
	uint32_t class;
	uint8_t rev;
	int secbus;
	int subbus;
	struct dl_pci_bar_info bars[6];
	uint64_t rom_size;
	bool pcie;
	unsigned int link_speed;
	unsigned int link_width;
	int slot;
	unsigned int msi;
	unsigned int msix;
	struct dl_pci_sriov_spec sriov;
	char *driver;
	uint32_t delay_us;
	bool mdev_parent;
	char *mdev_types;
	struct dl_pci_drv_params params;
	int numa_node;
	bool no_iov_res; /* an import whose `resource` had no IOV lines */
	bool slot_known; /* an import: the source had a slot below this port */
	bool in_slot;    /* an lspci import: lspci named this one's slot */
	unsigned int irq;
	bool unbound;
	char *resource;
	int iommu_group; /* DL_PCI_IOMMU_AUTO (0), _NONE or _ID(n) */
	bool acs;        /* an ACS capability, enabled as Linux does */

	uint8_t *config;
	size_t config_len;
	struct dl_pci_tmpl_hints hints;
	uint8_t *vf_config;
	size_t vf_config_len;

	bool multifunction;
	unsigned int pcie_type;
	long parent;
	uint64_t bar_addr[7];
	uint64_t vf_bar_addr[6];
	struct {
		uint32_t io_base, io_limit;
		uint32_t mem_base, mem_limit;
		uint64_t pref_base, pref_limit;
	} win;
};

/**
 * struct dl_pci_desc - a topology description
 * @specs: the functions, in source order
 * @n: how many
 * @cap: room allocated in @specs
 * @source: name used in messages (a file name, "<default>", "<stdin>")
 * @validated: dl_pci_desc_validate() succeeded since the last change
 * @notes: imports: where the source was ambiguous, what was chosen, as
 *         the kernel's enumeration would ("SOURCE:LINE: ..." lines), or
 *         NULL; devlifed prints them (docs/import.md)
 *
 * Plain data: not shared between threads while it is being changed.
 */
struct dl_pci_desc {
	struct dl_pci_spec *specs;
	size_t n;
	size_t cap;
	char *source;
	bool validated;
	char *notes;
};

/**
 * struct dl_pci_error - why a parser or instantiation refused its input
 * @line: the line of the source at fault (0 if none)
 * @msg: "SOURCE:LINE: what is wrong" (or "SOURCE: ..." without a line)
 */
struct dl_pci_error {
	unsigned int line;
	char msg[512];
};

/**
 * dl_pci_desc_new() - make an empty description
 * @source: name for messages, copied; NULL for "<memory>"
 * @ret: where to store it
 * Context: any thread; allocates.
 * Ownership: the caller owns the description; dl_pci_desc_free().
 * Return: 0, -EINVAL or -ENOMEM.
 */
int dl_pci_desc_new(const char *source, struct dl_pci_desc **ret);

/**
 * dl_pci_desc_free() - free a description and everything in it
 * @d: the description, or NULL
 * Context: any thread.
 * Return: NULL.
 */
struct dl_pci_desc *dl_pci_desc_free(struct dl_pci_desc *d);

/**
 * dl_pci_spec_init() - fill a spec with the defaults of a topology line
 * @s: the spec
 *
 * Zeroes it, then: endpoint, subbus -1, numa_node -1, slot -1, parent -1.
 *
 * Context: any thread.
 */
void dl_pci_spec_init(struct dl_pci_spec *s);

/**
 * dl_pci_desc_append() - add a copy of a spec to a description
 * @d: the description
 * @s: the spec; its strings and buffers are duplicated
 * @ret: where to store a pointer to the copy (valid until the next
 *       append), or NULL
 *
 * The description is no longer validated afterwards.
 *
 * Context: the description's owner.
 * Return: 0, -EINVAL or -ENOMEM (then @d is unchanged).
 */
int dl_pci_desc_append(struct dl_pci_desc *d, const struct dl_pci_spec *s,
		       struct dl_pci_spec **ret);

/**
 * dl_pci_desc_validate() - check a description and compute what it implies
 * @d: the description
 * @err: where to say what is wrong, or NULL
 *
 * Checks that every function is unique, that bridges have a secondary
 * bus above their own and ranges that nest, that every bus is either a
 * root bus or the secondary bus of exactly one bridge, that root ports sit
 * on root buses, and that the routing IDs of all possible VFs (TotalVFs;
 * for imported PFs the enabled ones) stay inside the parent bridge's bus
 * range and collide with nothing.
 * Fills in: computed subordinate buses, the parent of each spec, the
 * multi-function bit, the PCIe port type, and for synthesized functions
 * BAR addresses and bridge windows (32-bit memory from 0xc0000000,
 * 64-bit prefetchable memory from 0x4000000000, I/O from 0x1000).
 *
 * Context: the description's owner.
 * Return: 0; -EINVAL with @err filled; -ENOMEM.
 */
int dl_pci_desc_validate(struct dl_pci_desc *d, struct dl_pci_error *err);

/**
 * dl_pci_desc_parse_topology() - parse a topology file's text
 * @text: the text (need not be NUL-terminated)
 * @len: its length
 * @source: name for messages (the file name); NULL for "<memory>"
 * @err: where to say what is wrong, or NULL
 * @ret: where to store the validated description
 *
 * The format is in docs/topology.md.
 *
 * Context: any thread; allocates.
 * Ownership: on success the caller owns *@ret. On failure nothing is
 * allocated and *@ret is untouched.
 * Return: 0; -EINVAL (bad input, @err says where and why); -ENOMEM.
 */
int dl_pci_desc_parse_topology(const char *text, size_t len, const char *source,
			       struct dl_pci_error *err, struct dl_pci_desc **ret);

/**
 * dl_pci_desc_load_topology() - read and parse a topology file
 * @path: the file, or "-" for standard input
 * @err: where to say what is wrong, or NULL
 * @ret: where to store the validated description
 * Context: any thread; blocks on I/O.
 * Ownership: as dl_pci_desc_parse_topology().
 * Return: as dl_pci_desc_parse_topology(), or the negative errno of a
 * failed open or read (@err says which file).
 */
int dl_pci_desc_load_topology(const char *path, struct dl_pci_error *err,
			      struct dl_pci_desc **ret);

/**
 * dl_pci_desc_parse_lspci() - parse an lspci hex dump
 * @text: output of `lspci -x`, `-xxx` or `-xxxx`, with or without `-v`,
 *        `-vv`, `-D`, `-nn` (the text lines are read for region sizes,
 *        IRQ, NUMA node and the kernel driver; the rest is ignored)
 * @len: its length
 * @source: name for messages
 * @err: where to say what is wrong, or NULL
 * @ret: where to store the validated description
 *
 * Each function becomes a spec carrying its raw config bytes. Functions at
 * the routing ID of an enabled VF of a PF in the dump are not separate
 * specs: the first one's config becomes the PF's VF template and the PF's
 * NumVFs VFs are re-created by instantiation.
 *
 * Context: any thread; allocates.
 * Ownership: as dl_pci_desc_parse_topology().
 * Return: as dl_pci_desc_parse_topology().
 */
int dl_pci_desc_parse_lspci(const char *text, size_t len, const char *source,
			    struct dl_pci_error *err, struct dl_pci_desc **ret);

/**
 * dl_pci_desc_load_lspci() - read and parse an lspci dump file
 * @path: the file, or "-" for standard input
 * @err: where to say what is wrong, or NULL
 * @ret: where to store the validated description
 * Context: any thread; blocks on I/O.
 * Return: as dl_pci_desc_load_topology().
 */
int dl_pci_desc_load_lspci(const char *path, struct dl_pci_error *err,
			   struct dl_pci_desc **ret);

/**
 * dl_pci_desc_load_sysfs() - import a sysfs PCI tree
 * @dir: a directory laid out like /sys/bus/pci (with devices/) or like
 *       /sys/bus/pci/devices (entries named DDDD:BB:DD.F)
 * @err: where to say what is wrong, or NULL
 * @ret: where to store the validated description
 *
 * Reads each function's config (as much as is readable: an unprivileged
 * reader gets only the 64-byte header, then the capabilities that sysfs
 * reveals otherwise — PCI Express link attributes, sriov_* files — are
 * rebuilt), vendor/device/class, irq, numa_node, resource (BAR sizes),
 * the driver link and mdev_supported_types. Functions with a physfn link
 * are VFs and handled as in dl_pci_desc_parse_lspci().
 *
 * Context: any thread; blocks on I/O.
 * Return: as dl_pci_desc_load_topology(); -ENOENT if @dir has no
 * functions.
 */
int dl_pci_desc_load_sysfs(const char *dir, struct dl_pci_error *err,
			   struct dl_pci_desc **ret);

/**
 * dl_pci_default_topology() - the text of the built-in default topology
 * Context: any thread.
 * Return: a static, NUL-terminated topology file.
 */
const char *dl_pci_default_topology(void);

/**
 * dl_pci_desc_default() - the built-in default topology
 * @slow_delay_us: config access delay of the slow device (0000:00:05.0);
 *                 0 keeps the default of 100 ms
 * @ret: where to store the validated description
 *
 * A host bridge 0000:00:00.0; a root port 0000:00:01.0 (buses 01-02)
 * with a two-port SR-IOV NIC 0000:01:00.0/1 (8086:10fb, TotalVFs 64, VF
 * offset 0xc0, stride 2: VFs on buses 01 and 02); a GPU-like mdev parent
 * 0000:00:02.0 (class 0x030000); virtio network 0000:00:03.0 (1af4:1041)
 * and storage 0000:00:04.0 (1af4:1042); the slow device 0000:00:05.0.
 *
 * Context: any thread; allocates.
 * Return: 0 or -ENOMEM.
 */
int dl_pci_desc_default(uint32_t slow_delay_us, struct dl_pci_desc **ret);

/**
 * dl_pci_spec_template() - build the config template of a spec
 * @d: the validated description holding @s
 * @s: the spec
 * @ret: where to store the template (unsealed: the caller may still
 *       adjust it)
 *
 * Imported specs start from their raw bytes (so an unmodified instance
 * reads them back exactly); synthesized specs get the header, BARs at
 * their assigned addresses, bridge bus numbers and windows, and the
 * capabilities the spec asks for.
 *
 * Context: any thread; allocates.
 * Ownership: the caller owns one reference on *@ret.
 * Return: 0; -EINVAL (@d not validated, or a spec the config model
 * refuses); -ENOMEM.
 */
int dl_pci_spec_template(const struct dl_pci_desc *d, const struct dl_pci_spec *s,
			 struct dl_pci_tmpl **ret);

/**
 * dl_pci_desc_instantiate() - build a validated description into a tree
 * @d: the description
 * @tree: the tree
 * @err: where to say what is wrong, or NULL
 *
 * Adds one root device per root bus ("pciDDDD:BB") and the functions
 * below it, parents before children; configures delays, NUMA nodes, IRQs,
 * driver names and mdev types; enables each PF's numvfs VFs; binds the
 * named driver of a spec if it is registered (otherwise a spec with a
 * driver name stays unbound, and one without is autoprobed).
 *
 * Context: any thread holding no device lock and no active reference in
 * @tree; may block (probes run).
 * Ownership: the tree owns what was added. On failure everything this
 * call added has been removed again.
 * Return: 0; -EINVAL (not validated); -EEXIST (a root bus or function
 * of the same name is already in the tree); -ENOMEM; or the error of a
 * dl_device_add(). @err says which spec.
 */
int dl_pci_desc_instantiate(const struct dl_pci_desc *d, struct dl_tree *tree,
			    struct dl_pci_error *err);

/**
 * dl_pci_bdf_parse() - parse a function name
 * @s: "DDDD:BB:DD.F" (domain 4 to 8 hex digits) or "BB:DD.F" (domain 0)
 * @len: its length (no terminator needed)
 * @ret_domain: where to store the domain
 * @ret_bus: where to store the bus
 * @ret_devfn: where to store device << 3 | function
 * Context: any; pure.
 * Return: 0, or -EINVAL if @s is not such a name (device above 0x1f,
 * function above 7, wrong digit counts).
 */
int dl_pci_bdf_parse(const char *s, size_t len, uint32_t *ret_domain,
		     uint8_t *ret_bus, uint8_t *ret_devfn);

/**
 * dl_pci_bdf_format() - format "DDDD:BB:DD.F"
 * @domain: domain
 * @bus: bus
 * @devfn: device << 3 | function
 * @buf: where to write, 20 bytes are always enough
 * @len: size of @buf
 * Context: any; pure.
 * Return: @buf.
 */
char *dl_pci_bdf_format(uint32_t domain, uint8_t bus, uint8_t devfn, char *buf,
			size_t len);

/**
 * dl_pci_spec_name() - format a spec's "DDDD:BB:DD.F"
 * @s: the spec
 * @buf: at least 16 bytes (domains above 0xffff take more: 20 is always
 *       enough)
 * @len: size of @buf
 * Context: any; pure.
 * Return: @buf.
 */
char *dl_pci_spec_name(const struct dl_pci_spec *s, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
