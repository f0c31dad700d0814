/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the topology file parser and validator
 * (dl_pci_desc_parse_topology(), docs/topology.md), then the config
 * templates of what it accepts (desc-common.h).
 */
#include <stdint.h>

#include "desc-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_pci_error err;
	struct dl_pci_desc *d = (struct dl_pci_desc *)0x1;
	int r;

	memset(&err, 'x', sizeof(err));
	r = dl_pci_desc_parse_topology((const char *)data, size, "fuzz", &err,
				       &d);
	check_parse_result(r, r == 0 ? d : (struct dl_pci_desc *)0x1, &err);
	if (r < 0)
		CHECK(d == (struct dl_pci_desc *)0x1);
	return 0;
}
