/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A function's address on its bus: devfn is the slot (device number,
 * 0-31) in bits 7:3 and the function number (0-7) in bits 2:0, as the
 * kernel's PCI_SLOT(), PCI_FUNC() and PCI_DEVFN() (include/uapi/linux/pci.h)
 * take it apart and put it together. Standalone: the host channel's
 * protocol uses it without the PCI model.
 */
#ifndef DEVLIFE_PCI_DEVFN_H
#define DEVLIFE_PCI_DEVFN_H

#include <stdint.h>

#define DL_PCI_SLOT_MAX 0x1f /* the highest device number on a bus */
#define DL_PCI_FN_MAX 7      /* the highest function number of a device */

static inline unsigned int dl_pci_slot(uint8_t devfn)
{
	return devfn >> 3;
}

static inline unsigned int dl_pci_fn(uint8_t devfn)
{
	return devfn & DL_PCI_FN_MAX;
}

static inline uint8_t dl_pci_devfn(unsigned int slot, unsigned int fn)
{
	return (uint8_t)((slot & DL_PCI_SLOT_MAX) << 3 | (fn & DL_PCI_FN_MAX));
}

#endif
