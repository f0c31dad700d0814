/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI configuration space model.
 *
 * A function's config space is split in two:
 *
 *  - a template (struct dl_pci_tmpl): 4096 bytes of reset values, a write
 *    mask and a write-1-to-clear mask per byte, BAR sizes, and the map of
 *    which dwords a function may change. It is built once, sealed, and
 *    from then on immutable and shared by reference count: every VF of a
 *    PF shares one template, so ten thousand VFs cost one template;
 *
 *  - an instance (struct dl_pci_cfg): a reference on the template plus an
 *    overlay that holds only the dwords that can change (those with a
 *    writable, RW1C or "volatile" bit). A typical VF overlay is a few
 *    dozen bytes; an instance never copies the 4 KiB.
 *
 * Behaviour: bits not in the write mask are read-only; bits in the RW1C
 * mask clear when written with 1 and ignore 0; BAR sizing works through
 * the masks (writing all-ones reads back the size mask with the flag bits
 * kept); unimplemented space inside the function's config size reads as
 * 0, and offsets past a conventional (256-byte) function's size read as
 * all-ones, as a master abort does. A function that does not exist at all
 * reads all-ones too, but that is the bus layer's business: it has no
 * instance to ask.
 *
 * Register offsets and bit names are those of <linux/pci_regs.h>.
 */
#ifndef DEVLIFE_PCI_CONFIG_H
#define DEVLIFE_PCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Size of an extended (PCIe) config space. */
#define DL_PCI_CFG_SIZE 4096
/** Size of a conventional config space. */
#define DL_PCI_CFG_LEGACY_SIZE 256
/** Size of the standard header: capabilities start at or above it, and a
 * dump (lspci -x, an unprivileged sysfs read) holds at least it. */
#define DL_PCI_CFG_HEADER_SIZE 64

/** Index of the expansion ROM in BAR tables (after BAR0..5). */
#define DL_PCI_ROM 6

/**
 * enum dl_pci_bar_flags - kind of a BAR
 * @DL_PCI_BAR_IO: I/O space (else memory)
 * @DL_PCI_BAR_64: 64-bit memory BAR, occupies this and the next BAR slot
 * @DL_PCI_BAR_PREF: prefetchable memory
 */
enum dl_pci_bar_flags {
	DL_PCI_BAR_IO = 1u << 0,
	DL_PCI_BAR_64 = 1u << 1,
	DL_PCI_BAR_PREF = 1u << 2,
};

/**
 * struct dl_pci_bar_info - size and kind of one BAR
 * @size: bytes decoded, a power of two; 0 when the BAR is not implemented
 *        (also for the upper half of a 64-bit BAR)
 * @flags: enum dl_pci_bar_flags
 */
struct dl_pci_bar_info {
	uint64_t size;
	unsigned int flags;
};

/**
 * struct dl_pci_pcie_params - what dl_pci_tmpl_add_pcie() builds
 * @port_type: PCI_EXP_TYPE_* (endpoint, root port, upstream/downstream
 *             switch port, RC integrated endpoint, ...)
 * @max_speed: link speed 1..5 (2.5, 5, 8, 16, 32 GT/s); 0 means 3
 * @max_width: link width (1, 2, 4, 8, 12, 16, 32); 0 means 4
 * @cur_speed: negotiated speed, 0 for @max_speed
 * @cur_width: negotiated width, 0 for @max_width
 * @max_payload: Max_Payload_Size Supported, encoded (0: 128 B .. 5: 4 KiB)
 * @flr: endpoints: Function Level Reset capable
 * @slot: root and downstream ports: a hot-plug slot is implemented
 * @slot_nr: physical slot number when @slot
 * @port_nr: link capabilities' port number
 */
struct dl_pci_pcie_params {
	unsigned int port_type;
	unsigned int max_speed;
	unsigned int max_width;
	unsigned int cur_speed;
	unsigned int cur_width;
	unsigned int max_payload;
	bool flr;
	bool slot;
	unsigned int slot_nr;
	unsigned int port_nr;
};

/**
 * struct dl_pci_sriov_params - what dl_pci_tmpl_add_sriov() builds
 * @total_vfs: TotalVFs, 1..65535
 * @initial_vfs: InitialVFs, 0 for @total_vfs
 * @vf_offset: First VF Offset (routing-ID distance from the PF to VF 0)
 * @vf_stride: VF Stride (distance between consecutive VFs); must not be
 *             0 when @total_vfs > 1
 * @vf_device: VF Device ID
 * @func_link: Function Dependency Link (usually the PF's function number)
 * @sup_pgsize: Supported Page Sizes, 0 for 0x553 (4K, 8K, 64K, 256K, 1M, 4M)
 * @vf_bars: per-VF size and kind of VF BAR0..5 (memory only)
 */
struct dl_pci_sriov_params {
	uint16_t total_vfs;
	uint16_t initial_vfs;
	uint16_t vf_offset;
	uint16_t vf_stride;
	uint16_t vf_device;
	uint8_t func_link;
	uint32_t sup_pgsize;
	struct dl_pci_bar_info vf_bars[6];
};

/**
 * struct dl_pci_tmpl_hints - what a raw config dump cannot say
 * @known: bit i set when @bar_size[i] is known (i = 0..5, DL_PCI_ROM),
 *         bit 8 + i when @vf_bar_size[i] is known
 * @bar_size: BAR sizes, 0 for not implemented
 * @vf_bar_size: per-VF sizes of the SR-IOV VF BARs
 * @config_size: 0 to take the config size from the dump's length (more
 *               than 256 bytes: extended), else 256 or 4096 (a PCIe
 *               function whose dump was cut short)
 *
 * A dump holds the addresses the BARs were programmed with, not their
 * sizes. Sizes that are not known are estimated as the largest power of
 * two the address is aligned to (capped at 256 MiB for memory and 256 for
 * I/O), which keeps the address representable; an all-zero BAR without a
 * hint is taken as not implemented.
 */
struct dl_pci_tmpl_hints {
	unsigned int known;
	uint64_t bar_size[7];
	uint64_t vf_bar_size[6];
	unsigned int config_size;
};

struct dl_pci_tmpl;
struct dl_pci_cfg;

/* ------------------------------------------------------------------ */
/* Templates                                                           */

/**
 * dl_pci_tmpl_new() - start building a template with a standard header
 * @header_type: PCI_HEADER_TYPE_NORMAL (0) or PCI_HEADER_TYPE_BRIDGE (1);
 *               the multi-function bit 0x80 may be or'ed in
 * @extended: true for a 4096-byte (PCIe) config space, false for 256
 * @ret: where to store the template
 *
 * The header gets its architected write masks: Command, the RW1C error
 * bits of Status, Cache Line Size, Latency Timer, Interrupt Line and, for
 * bridges, the bus numbers, the I/O, memory and prefetchable windows,
 * Secondary Status and Bridge Control. IDs, BARs and capabilities are
 * added with the other dl_pci_tmpl_* calls, then dl_pci_tmpl_seal().
 *
 * Context: any thread; allocates.
 * Ownership: the caller owns one reference; dl_pci_tmpl_put() drops it.
 * Return: 0, -EINVAL (bad header type) or -ENOMEM.
 */
int dl_pci_tmpl_new(unsigned int header_type, bool extended,
		    struct dl_pci_tmpl **ret);

/**
 * dl_pci_tmpl_new_from_bytes() - build a template from a config dump
 * @bytes: the dump (an lspci -xxxx block or a sysfs config file)
 * @len: its length: at least 64 (the header), at most 4096
 * @hints: BAR sizes the dump cannot tell, or NULL
 * @ret: where to store the (unsealed) template
 *
 * The reset values are the bytes of the dump, so an unmodified instance
 * reads back exactly @bytes (and zeros up to the config size). Write
 * masks are inferred: the standard header by header type, BARs from
 * @hints or the address alignment, and the known capabilities (Power
 * Management, MSI, MSI-X, PCI Express, SR-IOV, AER) walked from the
 * capability lists. Unknown capabilities are read-only. A dump longer
 * than 256 bytes makes an extended template. A dump of fewer than 256
 * bytes (what an unprivileged reader of sysfs gets) cannot contain the
 * capability list: the capability pointer and the Status bit are cleared
 * so the chain stays consistent; add capabilities with the builder calls
 * if more is known.
 *
 * Context: any thread; allocates.
 * Ownership: as dl_pci_tmpl_new().
 * Return: 0, -EINVAL (bad length, header type or config size) or -ENOMEM.
 */
int dl_pci_tmpl_new_from_bytes(const void *bytes, size_t len,
			       const struct dl_pci_tmpl_hints *hints,
			       struct dl_pci_tmpl **ret);

/**
 * dl_pci_tmpl_get() - take a reference on a template
 * @t: the template, or NULL
 * Context: any thread; never blocks.
 * Return: @t.
 */
struct dl_pci_tmpl *dl_pci_tmpl_get(struct dl_pci_tmpl *t);

/**
 * dl_pci_tmpl_put() - drop a reference; frees the template with the last
 * @t: the template, or NULL
 * Context: any thread; never blocks.
 * Return: NULL.
 */
struct dl_pci_tmpl *dl_pci_tmpl_put(struct dl_pci_tmpl *t);

/**
 * dl_pci_tmpl_set() - set reset value bytes of an unsealed template
 * @t: the template
 * @off: config offset
 * @width: 1, 2 or 4 (any alignment)
 * @val: the value, little-endian in config space
 *
 * Only the reset value changes; the masks stay as they are.
 *
 * Context: the builder's thread, before dl_pci_tmpl_seal().
 * Return: 0; -EINVAL (bad offset or width); -EPERM once sealed.
 */
int dl_pci_tmpl_set(struct dl_pci_tmpl *t, unsigned int off, unsigned int width,
		    uint32_t val);

/**
 * dl_pci_tmpl_set_mask() - set the write masks of a register
 * @t: the template
 * @off: config offset
 * @width: 1, 2 or 4
 * @wmask: bits software may write (RW)
 * @w1c: bits software clears by writing 1 (RW1C); they are removed from
 *       @wmask
 *
 * Context: the builder's thread, before dl_pci_tmpl_seal().
 * Return: 0; -EINVAL; -EPERM once sealed.
 */
int dl_pci_tmpl_set_mask(struct dl_pci_tmpl *t, unsigned int off,
			 unsigned int width, uint32_t wmask, uint32_t w1c);

/**
 * dl_pci_tmpl_set_volatile() - give bytes a per-function copy although RO
 * @t: the template
 * @off: first byte
 * @len: number of bytes
 *
 * For read-only registers the device model itself changes (a link status,
 * a presence bit): dl_pci_cfg_hw_write() may change only bytes that are
 * writable, RW1C or volatile.
 *
 * Context: the builder's thread, before dl_pci_tmpl_seal().
 * Return: 0; -EINVAL; -EPERM once sealed.
 */
int dl_pci_tmpl_set_volatile(struct dl_pci_tmpl *t, unsigned int off,
			     unsigned int len);

/**
 * dl_pci_tmpl_set_ids() - set the identification registers
 * @t: the template
 * @vendor: Vendor ID
 * @device: Device ID
 * @class: 24-bit class code (base class, subclass, prog-if), e.g. 0x020000
 * @rev: Revision ID
 * @subvendor: Subsystem Vendor ID (ignored for bridges, whose header has
 *             no such register)
 * @subdevice: Subsystem ID (ditto)
 *
 * Context: the builder's thread, before dl_pci_tmpl_seal().
 * Return: 0; -EINVAL; -EPERM once sealed.
 */
int dl_pci_tmpl_set_ids(struct dl_pci_tmpl *t, uint16_t vendor, uint16_t device,
			uint32_t class, uint8_t rev, uint16_t subvendor,
			uint16_t subdevice);

/**
 * dl_pci_tmpl_set_bar() - implement a BAR of the given size and kind
 * @t: the template
 * @bar: 0..5 (0..1 for a bridge), or DL_PCI_ROM for the expansion ROM
 * @size: bytes decoded, a power of two: >= 16 for memory, 4..256 for I/O,
 *        >= 2048 for the ROM
 * @flags: enum dl_pci_bar_flags (ignored for the ROM)
 *
 * The BAR's address bits become writable and its flag bits read-only, so
 * writing all-ones reads back the size mask with the flags kept. A 64-bit
 * BAR also takes the next slot (its upper dword).
 *
 * Context: the builder's thread, before dl_pci_tmpl_seal().
 * Return: 0; -EINVAL (bad size, flags, slot, or the slot is taken by a
 * 64-bit neighbour); -EPERM once sealed.
 */
int dl_pci_tmpl_set_bar(struct dl_pci_tmpl *t, unsigned int bar, uint64_t size,
			unsigned int flags);

/**
 * dl_pci_tmpl_add_cap() - append a standard capability to the list
 * @t: the template
 * @id: capability ID (PCI_CAP_ID_*)
 * @len: its length in bytes including the 2-byte header, 2..192
 * @ret_off: where to store its offset (dword aligned, in 0x40..0xff)
 *
 * Links the capability at the end of the list starting at 0x34 and sets
 * Status.CapList. The body is zero and read-only; the caller fills it with
 * dl_pci_tmpl_set() and dl_pci_tmpl_set_mask().
 *
 * Context: the builder's thread, before dl_pci_tmpl_seal().
 * Return: 0; -EINVAL; -ENOSPC (no room left below 0x100); -EPERM.
 */
int dl_pci_tmpl_add_cap(struct dl_pci_tmpl *t, unsigned int id,
			unsigned int len, unsigned int *ret_off);

/**
 * dl_pci_tmpl_add_ext_cap() - append an extended capability
 * @t: an extended template
 * @id: extended capability ID (PCI_EXT_CAP_ID_*)
 * @version: capability version, 0..15
 * @len: its length including the 4-byte header, 4..3840
 * @ret_off: where to store its offset (dword aligned, >= 0x100)
 *
 * Context: the builder's thread, before dl_pci_tmpl_seal().
 * Return: 0; -EINVAL (also for a conventional template); -ENOSPC; -EPERM.
 */
int dl_pci_tmpl_add_ext_cap(struct dl_pci_tmpl *t, unsigned int id,
			    unsigned int version, unsigned int len,
			    unsigned int *ret_off);

/**
 * dl_pci_tmpl_add_pm() - add a Power Management capability (version 3)
 * @t: the template
 * @ret_off: where to store its offset, or NULL
 *
 * PowerState and PME_En are writable, PME_Status is RW1C, No_Soft_Reset
 * is set, PME is signalled from D0, D3hot and D3cold.
 *
 * Context: the builder's thread, before dl_pci_tmpl_seal().
 * Return: as dl_pci_tmpl_add_cap().
 */
int dl_pci_tmpl_add_pm(struct dl_pci_tmpl *t, unsigned int *ret_off);

/**
 * dl_pci_tmpl_add_msi() - add an MSI capability
 * @t: the template
 * @nvec: vectors the function can request: 1, 2, 4, 8, 16 or 32
 * @addr64: 64-bit message address
 * @maskable: per-vector masking (adds Mask and Pending registers)
 * @ret_off: where to store its offset, or NULL
 *
 * Context: the builder's thread, before dl_pci_tmpl_seal().
 * Return: as dl_pci_tmpl_add_cap(); -EINVAL for a bad @nvec.
 */
int dl_pci_tmpl_add_msi(struct dl_pci_tmpl *t, unsigned int nvec, bool addr64,
			bool maskable, unsigned int *ret_off);

/**
 * dl_pci_tmpl_add_msix() - add an MSI-X capability
 * @t: the template
 * @nvec: table size, 1..2048
 * @table_bir: BAR holding the table (0..5)
 * @table_off: offset of the table in that BAR (8-byte aligned)
 * @pba_bir: BAR holding the Pending Bit Array
 * @pba_off: offset of the PBA (8-byte aligned)
 * @ret_off: where to store its offset, or NULL
 *
 * Enable and Function Mask are writable; the rest is read-only.
 *
 * Context: the builder's thread, before dl_pci_tmpl_seal().
 * Return: as dl_pci_tmpl_add_cap(); -EINVAL for bad arguments.
 */
int dl_pci_tmpl_add_msix(struct dl_pci_tmpl *t, unsigned int nvec,
			 unsigned int table_bir, uint32_t table_off,
			 unsigned int pba_bir, uint32_t pba_off,
			 unsigned int *ret_off);

/**
 * dl_pci_tmpl_add_pcie() - add a PCI Express capability (version 2)
 * @t: the template
 * @p: the port type, link and device parameters
 * @ret_off: where to store its offset, or NULL
 *
 * Builds the version 2 structure (60 bytes for ports, 52 for endpoints)
 * so that lspci -vvv decodes DevCap/DevCtl/DevSta, LnkCap/LnkCtl/LnkSta
 * (not for RC integrated endpoints), SltCap/SltCtl/SltSta (ports with a
 * slot), RootCap/RootCtl/RootSta (root ports) and the "2" registers. Control registers get the
 * spec's writable bits, error and change status bits are RW1C, and the
 * Link Status is volatile so the model can retrain a link.
 *
 * Context: the builder's thread, before dl_pci_tmpl_seal().
 * Return: as dl_pci_tmpl_add_cap(); -EINVAL for bad parameters.
 */
int dl_pci_tmpl_add_pcie(struct dl_pci_tmpl *t,
			 const struct dl_pci_pcie_params *p,
			 unsigned int *ret_off);

/**
 * dl_pci_tmpl_add_vendor_cap() - add a vendor-specific capability
 * @t: the template
 * @body: bytes following the 3-byte header (ID, next, length), or NULL for
 *        zeros
 * @body_len: their number; the capability is @body_len + 3 bytes long
 * @ret_off: where to store its offset, or NULL
 *
 * Context: the builder's thread, before dl_pci_tmpl_seal().
 * Return: as dl_pci_tmpl_add_cap().
 */
int dl_pci_tmpl_add_vendor_cap(struct dl_pci_tmpl *t, const void *body,
			       size_t body_len, unsigned int *ret_off);

/**
 * dl_pci_tmpl_add_sriov() - add an SR-IOV extended capability
 * @t: an extended, type 0 template
 * @p: TotalVFs, offset, stride, VF device ID, page sizes, VF BARs
 * @ret_off: where to store its offset, or NULL
 *
 * Writable as in the spec: VF Enable, VF MSE and ARI Capable Hierarchy in
 * SR-IOV Control, NumVFs, System Page Size (the supported bits), the VF
 * BARs' address bits (sized like BARs: all-ones reads back the per-VF size
 * mask); VF Migration Status is RW1C; everything else is read-only.
 * System Page Size resets to 4 KiB (1).
 *
 * Context: the builder's thread, before dl_pci_tmpl_seal().
 * Return: as dl_pci_tmpl_add_ext_cap(); -EINVAL for bad parameters
 * (stride 0 with several VFs, non-memory or badly sized VF BARs).
 */
int dl_pci_tmpl_add_sriov(struct dl_pci_tmpl *t,
			  const struct dl_pci_sriov_params *p,
			  unsigned int *ret_off);

/**
 * dl_pci_tmpl_add_acs() - append an Access Control Services capability
 * @t: the template (extended config space)
 * @ret_off: where to store its offset, or NULL
 *
 * Capable of and enabled for Source Validation, Request and Completion
 * Redirect and Upstream Forwarding, as Linux's pci_std_enable_acs()
 * leaves a port when an IOMMU is on; the control bits stay writable.
 *
 * Context: the builder's thread, before dl_pci_tmpl_seal().
 * Return: as dl_pci_tmpl_add_ext_cap().
 */
int dl_pci_tmpl_add_acs(struct dl_pci_tmpl *t, unsigned int *ret_off);

/**
 * dl_pci_tmpl_seal() - finish a template; it is immutable from now on
 * @t: the template
 *
 * Computes the overlay map (the dwords an instance must keep a copy of).
 * Sealing twice is harmless.
 *
 * Context: the builder's thread, before the template is shared.
 * Return: 0, or -EINVAL.
 */
int dl_pci_tmpl_seal(struct dl_pci_tmpl *t);

/**
 * dl_pci_tmpl_derive_vf() - build the template SR-IOV VFs of a PF share
 * @pf: the PF's template, with an SR-IOV capability
 * @ret: where to store the new, sealed template
 *
 * As the SR-IOV spec has it: Vendor and Device ID read 0xffff (the OS
 * takes them from the PF and its VF Device ID), class, revision and
 * subsystem IDs are the PF's, BARs read 0 (VF BARs live in the PF's
 * SR-IOV capability), Memory Space Enable and INTx are not implemented.
 * The PF's PM, MSI, MSI-X, PCI Express and vendor-specific capabilities
 * are copied with their masks and reset values, and the AER, ARI and
 * serial number extended capabilities; SR-IOV itself is not.
 *
 * Context: any thread; allocates. @pf must be sealed or owned by the
 * caller.
 * Ownership: the caller owns one reference on *@ret.
 * Return: 0; -EINVAL if @pf has no SR-IOV capability; -ENOMEM.
 */
int dl_pci_tmpl_derive_vf(const struct dl_pci_tmpl *pf,
			  struct dl_pci_tmpl **ret);

/**
 * dl_pci_tmpl_bar() - size and kind of a template's BAR
 * @t: the template
 * @bar: 0..5 or DL_PCI_ROM
 * @ret: where to store the info (size 0 if not implemented)
 * Context: any thread; lock-free once sealed.
 * Return: 0 or -EINVAL.
 */
int dl_pci_tmpl_bar(const struct dl_pci_tmpl *t, unsigned int bar,
		    struct dl_pci_bar_info *ret);

/**
 * dl_pci_tmpl_vf_bar() - per-VF size and kind of a VF BAR of SR-IOV
 * @t: the template (of a PF)
 * @bar: 0..5
 * @ret: where to store the info
 * Context: any thread; lock-free once sealed.
 * Return: 0; -ENOENT without SR-IOV; -EINVAL.
 */
int dl_pci_tmpl_vf_bar(const struct dl_pci_tmpl *t, unsigned int bar,
		       struct dl_pci_bar_info *ret);

/**
 * dl_pci_tmpl_config_size() - 256 or 4096
 * @t: the template
 * Context: any thread; lock-free.
 * Return: the size of the function's config space.
 */
unsigned int dl_pci_tmpl_config_size(const struct dl_pci_tmpl *t);

/**
 * dl_pci_tmpl_overlay_size() - bytes of per-instance overlay
 * @t: a sealed template
 * Context: any thread; lock-free.
 * Return: the overlay size an instance allocates, 0 if not sealed.
 */
unsigned int dl_pci_tmpl_overlay_size(const struct dl_pci_tmpl *t);

/* ------------------------------------------------------------------ */
/* Instances                                                           */

/**
 * dl_pci_cfg_new() - make a function's config space from a template
 * @t: a template; sealed here if it is not yet
 * @ret: where to store the instance
 *
 * The instance reads as the template's reset values until written.
 *
 * Context: any thread; allocates (only the overlay, not 4 KiB).
 * Ownership: the instance takes its own reference on @t; the caller owns
 * the instance and frees it with dl_pci_cfg_free().
 * Return: 0, -EINVAL or -ENOMEM.
 */
int dl_pci_cfg_new(struct dl_pci_tmpl *t, struct dl_pci_cfg **ret);

/**
 * dl_pci_cfg_free() - free an instance and drop its template reference
 * @c: the instance, or NULL
 * Context: any thread; nobody may use @c any more.
 * Return: NULL.
 */
struct dl_pci_cfg *dl_pci_cfg_free(struct dl_pci_cfg *c);

/**
 * dl_pci_cfg_tmpl() - the template of an instance (borrowed)
 * @c: the instance
 * Context: any thread; lock-free.
 * Return: the template, valid as long as @c is.
 */
const struct dl_pci_tmpl *dl_pci_cfg_tmpl(const struct dl_pci_cfg *c);

/**
 * dl_pci_cfg_size() - config size of an instance, 256 or 4096
 * @c: the instance
 * Context: any thread; lock-free.
 * Return: the size.
 */
unsigned int dl_pci_cfg_size(const struct dl_pci_cfg *c);

/**
 * dl_pci_cfg_read() - read any range of config space
 * @c: the instance
 * @off: first byte, < 4096
 * @buf: where to copy
 * @len: bytes, @off + @len <= 4096
 *
 * The whole range is read under the instance's lock, so it is consistent
 * with respect to concurrent writes. Bytes past a conventional function's
 * 256 read as 0xff.
 *
 * Context: any thread; takes the instance's lock (a leaf), never sleeps
 * otherwise.
 * Return: 0 or -EINVAL.
 */
int dl_pci_cfg_read(struct dl_pci_cfg *c, unsigned int off, void *buf,
		    size_t len);

/**
 * dl_pci_cfg_write() - write config space as software does
 * @c: the instance
 * @off: first byte
 * @buf: the bytes
 * @len: bytes, @off + @len <= 4096
 *
 * Each bit is written according to the masks: RW bits take the new value,
 * RW1C bits written with 1 clear, everything else is unchanged. Writes
 * past a conventional function's 256 bytes are dropped.
 *
 * Context: any thread; takes the instance's lock (a leaf).
 * Return: 0 or -EINVAL.
 */
int dl_pci_cfg_write(struct dl_pci_cfg *c, unsigned int off, const void *buf,
		     size_t len);

/**
 * dl_pci_cfg_readv() - read a 1, 2 or 4-byte register
 * @c: the instance
 * @off: its offset (any alignment)
 * @width: 1, 2 or 4
 * @ret: where to store the value
 * Context: as dl_pci_cfg_read().
 * Return: 0 or -EINVAL.
 */
int dl_pci_cfg_readv(struct dl_pci_cfg *c, unsigned int off, unsigned int width,
		     uint32_t *ret);

/**
 * dl_pci_cfg_writev() - write a 1, 2 or 4-byte register as software does
 * @c: the instance
 * @off: its offset (any alignment)
 * @width: 1, 2 or 4
 * @val: the value
 * Context: as dl_pci_cfg_write().
 * Return: 0 or -EINVAL.
 */
int dl_pci_cfg_writev(struct dl_pci_cfg *c, unsigned int off,
		      unsigned int width, uint32_t val);

/**
 * dl_pci_cfg_hw_write() - change registers as the device itself does
 * @c: the instance
 * @off: offset
 * @width: 1, 2 or 4
 * @val: the new value of the whole register
 * @mask: the bits to change (the others keep their value)
 *
 * Ignores the software masks: this is how the model sets a status bit,
 * records NumVFs or VF Enable, changes link state. Only bytes with a
 * per-instance copy (writable, RW1C or volatile in the template) can
 * change.
 *
 * Context: any thread; takes the instance's lock.
 * Return: 0; -EINVAL; -EROFS if a byte of @mask is template-only.
 */
int dl_pci_cfg_hw_write(struct dl_pci_cfg *c, unsigned int off,
			unsigned int width, uint32_t val, uint32_t mask);

/**
 * dl_pci_cfg_reset() - return every register to its reset value
 * @c: the instance
 *
 * What a Function Level Reset does to config space.
 *
 * Context: any thread; takes the instance's lock.
 */
void dl_pci_cfg_reset(struct dl_pci_cfg *c);

/**
 * dl_pci_cfg_find_cap() - walk the standard capability list
 * @c: the instance
 * @id: the capability ID to find
 * @after: 0 to search from the start, else the offset of a capability
 *         to continue after (to find a second one with the same ID)
 * @ret_off: where to store its offset
 *
 * Robust against loops and pointers out of range (at most 48 hops, as
 * Linux's walk).
 *
 * Context: as dl_pci_cfg_read().
 * Return: 0; -ENOENT if not present; -EINVAL.
 */
int dl_pci_cfg_find_cap(struct dl_pci_cfg *c, unsigned int id,
			unsigned int after, unsigned int *ret_off);

/**
 * dl_pci_cfg_find_ext_cap() - walk the extended capability list
 * @c: the instance
 * @id: the extended capability ID
 * @after: 0 to search from 0x100, else the offset to continue after
 * @ret_off: where to store its offset
 *
 * Context: as dl_pci_cfg_read().
 * Return: 0; -ENOENT (also for a conventional function); -EINVAL.
 */
int dl_pci_cfg_find_ext_cap(struct dl_pci_cfg *c, unsigned int id,
			    unsigned int after, unsigned int *ret_off);

/**
 * dl_pci_cfg_footprint() - heap bytes an instance uses (not the template)
 * @c: the instance
 * Context: any thread; lock-free.
 * Return: the size of the instance with its overlay.
 */
size_t dl_pci_cfg_footprint(const struct dl_pci_cfg *c);

/* ------------------------------------------------------------------ */
/* SR-IOV arithmetic                                                   */

/**
 * dl_pci_sriov_vf_rid() - routing ID of VF @n of a PF
 * @pf_rid: the PF's routing ID, bus << 8 | devfn
 * @offset: First VF Offset
 * @stride: VF Stride
 * @n: VF number, 0-based
 * @ret_rid: where to store bus << 8 | devfn of the VF
 *
 * RID = PF + offset + n * stride; the VF lands on a higher bus number when
 * the sum crosses 0xff in the devfn byte.
 *
 * Context: any; pure.
 * Return: 0, or -ERANGE if the RID passes bus 255.
 */
int dl_pci_sriov_vf_rid(uint16_t pf_rid, uint16_t offset, uint16_t stride,
			unsigned int n, uint16_t *ret_rid);

#ifdef __cplusplus
}
#endif
#endif
