/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private helpers of the PCI model layer (src/pci). Not installed, not
 * part of any API; only the .c files of src/pci include it.
 */
#ifndef DEVLIFE_PCI_INTERNAL_H
#define DEVLIFE_PCI_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * assert_return() turns a caller's bug at a public entry point into an
 * error return (systemd's idiom); internal invariants use assert().
 */
#define assert_return(expr, r)                                                 \
	do {                                                                   \
		if (__builtin_expect(!(expr), 0))                              \
			return (r);                                            \
	} while (0)

/* Class codes from the kernel's pci_ids.h (not exported to userspace). */
#ifndef PCI_CLASS_BRIDGE_HOST
#define PCI_CLASS_BRIDGE_HOST 0x0600
#endif
#ifndef PCI_CLASS_BRIDGE_PCI
#define PCI_CLASS_BRIDGE_PCI 0x0604
#endif

/* The multi-function bit of the header type (pci_regs.h has it from
 * Linux 6.6 on). */
#ifndef PCI_HEADER_TYPE_MFD
#define PCI_HEADER_TYPE_MFD 0x80
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Time units, as the kernel's vdso/time64.h names them. */
#define DL_USEC_PER_SEC 1000000u
#define DL_NSEC_PER_MSEC 1000000l
#define DL_NSEC_PER_USEC 1000u

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline int is_pow2_u64(uint64_t v)
{
	return v && !(v & (v - 1));
}

#endif
