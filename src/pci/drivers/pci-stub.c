/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pci-stub: Linux's placeholder driver, bound by name to keep a function
 * claimed; it has no callbacks.
 */
#include "drivers.h"

const struct dl_pci_driver dl_pci_stub_driver = {
	.name = "pci-stub",
};
