/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared by the topology and lspci fuzz targets: what every description a
 * parser accepts must allow. The parser validated it; each spec must build
 * its config template, an instance of it must read, and a PF's VF
 * template must derive.
 */
#ifndef DEVLIFE_FUZZ_DESC_COMMON_H
#define DEVLIFE_FUZZ_DESC_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "topology.h"


static inline void check_parse_result(int r, struct dl_pci_desc *d,
				      const struct dl_pci_error *err)
{
	if (r < 0) {
		CHECK(r == -EINVAL || r == -ENOMEM || r == -E2BIG ||
		      r == -ERANGE);
		if (r != -ENOMEM) {
			CHECK(memchr(err->msg, '\0', sizeof(err->msg)));
			CHECK(err->msg[0] != '\0');
		}
		CHECK(d == (struct dl_pci_desc *)0x1); /* untouched */
		return;
	}
	CHECK(r == 0 && d && d->validated);
	for (size_t i = 0; i < d->n; i++) {
		struct dl_pci_tmpl *t = NULL, *vf = NULL;
		struct dl_pci_cfg *c = NULL;
		uint8_t buf[DL_PCI_CFG_SIZE];
		int tr = dl_pci_spec_template(d, &d->specs[i], &t);

		/* A validated spec builds, or the model refuses it cleanly. */
		CHECK(tr == 0 || tr == -EINVAL);
		if (tr < 0)
			continue;
		CHECK(dl_pci_cfg_new(t, &c) == 0);
		CHECK(dl_pci_cfg_read(c, 0, buf, sizeof(buf)) == 0);
		if (dl_pci_tmpl_derive_vf(t, &vf) == 0)
			dl_pci_tmpl_put(vf);
		dl_pci_cfg_free(c);
		dl_pci_tmpl_put(t);
	}
	dl_pci_desc_free(d);
}

#endif
