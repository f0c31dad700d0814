/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-pci, as pci-stub, binds only what is given to it (its ID table
 * is empty: driver_override, or a topology's choice) and takes any
 * function so given. It has no IOMMU groups to join yet.
 */
#include "drivers.h"

const struct dl_pci_driver dl_pci_vfio_driver = {
	.name = "vfio-pci",
};
