/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tree with a PCI platform built from a topology text, for the unit
 * tests of the platform, its drivers and mediated devices.
 */
#ifndef DEVLIFE_TESTS_PCI_PLATFORM_TEST_H
#define DEVLIFE_TESTS_PCI_PLATFORM_TEST_H

#include <string.h>

#include "pci-test.h"
#include "platform.h"

/* A new tree in *@ret_tree and its platform of @topo (docs/topology.md);
 * a bad topology fails the running test with the parser's message. */
static inline struct dl_pci_platform *test_platform(const char *topo,
						    struct dl_tree **ret_tree)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_platform *plat;
	struct dl_pci_desc *d;

	ASSERT_OK(dl_tree_new(ret_tree));
	if (dl_pci_desc_parse_topology(topo, strlen(topo), "t", &err, &d) < 0)
		FAIL_AT("%s", err.msg);
	if (dl_pci_platform_new(*ret_tree, d, &err, &plat) < 0)
		FAIL_AT("platform: %s", err.msg);
	return plat;
}

#endif
