/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Importing real hardware, what the two importers share: a function's
 * identity from its raw config bytes, its VFs folded into its PF, and
 * the notes an import leaves where its source is ambiguous. The
 * importers themselves are import-lspci.c (`lspci -x/-xxx/-xxxx` dumps)
 * and import-sysfs.c (sysfs trees); both produce a description whose
 * specs carry raw config bytes, and neither touches a tree.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>

#include "import.h"
#include "internal.h"
#include "topo-internal.h"

/* Raw config helpers                                                  */

unsigned int dl_pci__raw_find_cap(const uint8_t *b, size_t len, unsigned int id)
{
	unsigned int pos;

	if (len < DL_PCI_CFG_LEGACY_SIZE || !(get_le16(b + PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = b[(b[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_TYPE_CARDBUS
			? PCI_CB_CAPABILITY_LIST
			: PCI_CAPABILITY_LIST];
	for (int ttl = 48; ttl > 0; ttl--) {
		pos &= ~3u;
		if (pos < 0x40 || pos > DL_PCI_CFG_LEGACY_SIZE - 4)
			return 0;
		if (b[pos] == id)
			return pos;
		pos = b[pos + 1];
	}
	return 0;
}

unsigned int dl_pci__raw_find_ext_cap(const uint8_t *b, size_t len, unsigned int id)
{
	unsigned int pos = DL_PCI_CFG_LEGACY_SIZE;

	if (len < DL_PCI_CFG_SIZE)
		return 0;
	for (int ttl = 480; ttl > 0; ttl--) {
		uint32_t h = get_le32(b + pos);

		if (h == 0 || h == 0xffffffff)
			return 0;
		if (PCI_EXT_CAP_ID(h) == id)
			return pos;
		pos = PCI_EXT_CAP_NEXT(h);
		if (pos < DL_PCI_CFG_LEGACY_SIZE || pos > DL_PCI_CFG_SIZE - 4)
			return 0;
	}
	return 0;
}

void dl_pci__spec_from_config(struct dl_pci_spec *s)
{
	const uint8_t *b = s->config;
	unsigned int ht = b[PCI_HEADER_TYPE] & 0x7f, exp, sr;

	s->vendor = get_le16(b + PCI_VENDOR_ID);
	s->device = get_le16(b + PCI_DEVICE_ID);
	s->class = get_le32(b + PCI_CLASS_REVISION) >> 8;
	s->rev = b[PCI_REVISION_ID];
	s->type = DL_PCI_SPEC_ENDPOINT;
	/* pci_read_irq() in drivers/pci/probe.c: the Interrupt Line
	 * register when the function has an interrupt pin, else 0 */
	s->irq = b[PCI_INTERRUPT_PIN] ? b[PCI_INTERRUPT_LINE] : 0;
	if (ht == PCI_HEADER_TYPE_NORMAL) {
		s->subvendor = get_le16(b + PCI_SUBSYSTEM_VENDOR_ID);
		s->subdevice = get_le16(b + PCI_SUBSYSTEM_ID);
	} else if (ht == PCI_HEADER_TYPE_BRIDGE || ht == PCI_HEADER_TYPE_CARDBUS) {
		/* A CardBus bridge has a bus behind it too (its card bus at
		 * the same offsets): pci_scan_bridge_extend() scans both. */
		s->type = DL_PCI_SPEC_BRIDGE;
		s->secbus = b[PCI_SECONDARY_BUS];
		s->subbus = b[PCI_SUBORDINATE_BUS];
	}
	exp = dl_pci__raw_find_cap(b, s->config_len, PCI_CAP_ID_EXP);
	if (exp) {
		s->pcie = true;
		s->pcie_type = (get_le16(b + exp + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_TYPE) >> 4;
		if (ht == PCI_HEADER_TYPE_BRIDGE) {
			if (s->pcie_type == PCI_EXP_TYPE_ROOT_PORT)
				s->type = DL_PCI_SPEC_ROOTPORT;
			else if (s->pcie_type == PCI_EXP_TYPE_UPSTREAM)
				s->type = DL_PCI_SPEC_UPSTREAM;
			else if (s->pcie_type == PCI_EXP_TYPE_DOWNSTREAM)
				s->type = DL_PCI_SPEC_DOWNSTREAM;
		}
	}
	sr = ht == PCI_HEADER_TYPE_NORMAL
		     ? dl_pci__raw_find_ext_cap(b, s->config_len, PCI_EXT_CAP_ID_SRIOV)
		     : 0;
	if (sr && sr + PCI_EXT_CAP_SRIOV_SIZEOF <= DL_PCI_CFG_SIZE) {
		s->sriov.total = get_le16(b + sr + PCI_SRIOV_TOTAL_VF);
		s->sriov.offset = get_le16(b + sr + PCI_SRIOV_VF_OFFSET);
		s->sriov.stride = get_le16(b + sr + PCI_SRIOV_VF_STRIDE);
		s->sriov.vf_device = get_le16(b + sr + PCI_SRIOV_VF_DID);
		if (get_le16(b + sr + PCI_SRIOV_CTRL) & PCI_SRIOV_CTRL_VFE)
			s->sriov.numvfs = get_le16(b + sr + PCI_SRIOV_NUM_VF);
		if (!s->sriov.total)
			s->sriov.numvfs = 0;
	}
}

int dl_pci__fold_vfs(struct dl_pci_desc *d, const long *vf_of, struct dl_pci_error *err)
{
	size_t w = 0;

	for (size_t i = 0; i < d->n; i++) {
		struct dl_pci_spec *s = &d->specs[i];
		struct dl_pci_spec *pf;

		if (vf_of[i] < 0) {
			if (s->vendor == 0xffff) {
				char name[24];

				return dl_pci__fail(err, d->source, s->line,
						    "%s reads vendor ID 0xffff (no function) and "
						    "is no enabled VF of a PF in the input",
						    dl_pci_spec_name(s, name, sizeof(name)));
			}
			continue;
		}
		pf = &d->specs[vf_of[i]];
		if (!pf->vf_config) {
			pf->vf_config = s->config;
			pf->vf_config_len = s->config_len;
			s->config = NULL;
		}
	}
	for (size_t i = 0; i < d->n; i++) {
		if (vf_of[i] >= 0) {
			dl_pci__spec_clear(&d->specs[i]);
			continue;
		}
		d->specs[w++] = d->specs[i];
	}
	d->n = w;
	return 0;
}

int dl_pci__note(struct dl_pci_desc *d, unsigned int line, const char *fmt, ...)
{
	size_t have = d->notes ? strlen(d->notes) : 0;
	char msg[512], *n;
	va_list ap;
	int k;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		k = snprintf(NULL, 0, "%s:%u: %s\n", d->source, line, msg);
	else
		k = snprintf(NULL, 0, "%s: %s\n", d->source, msg);
	n = realloc(d->notes, have + (size_t)k + 1);
	if (!n)
		return -ENOMEM;
	if (line)
		snprintf(n + have, (size_t)k + 1, "%s:%u: %s\n", d->source, line, msg);
	else
		snprintf(n + have, (size_t)k + 1, "%s: %s\n", d->source, msg);
	d->notes = n;
	return 0;
}

/* The spec of @d at routing ID @rid of @domain that no PF claimed yet. */
static long spec_at(const struct dl_pci_desc *d, uint32_t domain, uint16_t rid,
		    const long *vf_of)
{
	for (size_t k = 0; k < d->n; k++) {
		const struct dl_pci_spec *v = &d->specs[k];

		if (v->domain == domain && (v->bus << 8 | v->devfn) == rid && vf_of[k] < 0)
			return (long)k;
	}
	return -1;
}

int dl_pci__find_vfs_by_rid(struct dl_pci_desc *d, long *vf_of)
{
	for (size_t i = 0; i < d->n; i++) {
		struct dl_pci_spec *pf = &d->specs[i];
		unsigned int n, found = 0;
		char name[24];

		for (n = 0; n < pf->sriov.numvfs && n < pf->sriov.total; n++) {
			uint16_t rid;
			long k;

			if (dl_pci_sriov_vf_rid((uint16_t)(pf->bus << 8 | pf->devfn),
						pf->sriov.offset, pf->sriov.stride, n,
						&rid) < 0)
				break;
			k = spec_at(d, pf->domain, rid, vf_of);
			if (k >= 0 && (size_t)k != i) {
				vf_of[k] = (long)i;
				found++;
			}
		}
		if (!pf->sriov.numvfs || found == pf->sriov.numvfs)
			continue;
		/*
		 * The source had VFs enabled (VF Enable, NumVFs) but holds
		 * only some of them: it is a partial dump. With none, the
		 * function is imported as the dump shows it, its SR-IOV
		 * registers unchanged, without VFs; with some, all NumVFs are
		 * enabled, as sriov_enable() in drivers/pci/iov.c adds them.
		 */
		dl_pci_spec_name(pf, name, sizeof(name));
		if (!found) {
			if (dl_pci__note(d, pf->line,
					 "%s has %u VFs enabled but none of them is in "
					 "the input: imported without VFs",
					 name, pf->sriov.numvfs) < 0)
				return -ENOMEM;
			pf->sriov.numvfs = 0;
		} else if (dl_pci__note(d, pf->line,
					"%s has %u VFs enabled and %u of them are in the "
					"input: all %u are enabled",
					name, pf->sriov.numvfs, found,
					pf->sriov.numvfs) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

void dl_pci__import_slot_at(struct dl_pci_desc *d, uint32_t domain, unsigned int bus)
{
	for (size_t i = 0; i < d->n; i++) {
		struct dl_pci_spec *p = &d->specs[i];

		if (p->domain == domain && p->secbus == (int)bus &&
		    (p->type == DL_PCI_SPEC_ROOTPORT ||
		     p->type == DL_PCI_SPEC_DOWNSTREAM))
			p->slot_known = true;
	}
}

void dl_pci__import_slots(struct dl_pci_desc *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->specs[i].in_slot)
			dl_pci__import_slot_at(d, d->specs[i].domain,
					       d->specs[i].bus);
}
