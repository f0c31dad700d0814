/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Config-space instances: one per function, a small overlay of the
 * writable and volatile dwords over a shared sealed template, with the
 * semantics of each write (RW, RW1C, read-only) and capability lookups.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>

#include "config-internal.h"
#include "config.h"
#include "internal.h"

/* ------------------------------------------------------------------ */
/* Instances                                                           */

int dl_pci_cfg_new(struct dl_pci_tmpl *t, struct dl_pci_cfg **ret)
{
	struct dl_pci_cfg *c;

	assert_return(t && ret, -EINVAL);
	dl_pci_tmpl_seal(t);
	c = malloc(sizeof(*c) + 4 * (size_t)t->nov);
	if (!c)
		return -ENOMEM;
	if (dl_mutex_init(&c->lock)) {
		free(c);
		return -ENOMEM;
	}
	c->tmpl = dl_pci_tmpl_get(t);
	for (unsigned int d = 0; d < NDWORDS; d++)
		if (t->ov_slot[d] != OV_NONE)
			memcpy(c->ov + 4 * t->ov_slot[d], t->data + 4 * d, 4);
	*ret = c;
	return 0;
}

struct dl_pci_cfg *dl_pci_cfg_free(struct dl_pci_cfg *c)
{
	if (!c)
		return NULL;
	dl_mutex_destroy(&c->lock);
	dl_pci_tmpl_put(c->tmpl);
	free(c);
	return NULL;
}

const struct dl_pci_tmpl *dl_pci_cfg_tmpl(const struct dl_pci_cfg *c)
{
	return c->tmpl;
}

unsigned int dl_pci_cfg_size(const struct dl_pci_cfg *c)
{
	return dl_pci_tmpl_config_size(c->tmpl);
}

size_t dl_pci_cfg_footprint(const struct dl_pci_cfg *c)
{
	return sizeof(*c) + 4 * (size_t)c->tmpl->nov;
}

/* Pointer to the current byte at @off, or NULL if it is template-only. */
static uint8_t *ov_byte(struct dl_pci_cfg *c, unsigned int off)
{
	uint16_t slot = c->tmpl->ov_slot[off / 4];

	assert(slot == OV_NONE || slot < c->tmpl->nov);
	return slot == OV_NONE ? NULL : &c->ov[4 * slot + off % 4];
}

/* Reads one byte; caller holds c->lock. */
static uint8_t read_byte_locked(struct dl_pci_cfg *c, unsigned int off)
{
	const uint8_t *p;

	dl_mutex_assert_held(&c->lock);
	if (off >= dl_pci_cfg_size(c))
		return 0xff;
	p = ov_byte(c, off);
	return p ? *p : c->tmpl->data[off];
}

int dl_pci_cfg_read(struct dl_pci_cfg *c, unsigned int off, void *buf, size_t len)
{
	uint8_t *out = buf;

	assert_return(c && (buf || !len) && range_ok(off, len), -EINVAL);
	dl_mutex_lock(&c->lock);
	for (size_t i = 0; i < len; i++)
		out[i] = read_byte_locked(c, off + (unsigned int)i);
	dl_mutex_unlock(&c->lock);
	return 0;
}

int dl_pci_cfg_write(struct dl_pci_cfg *c, unsigned int off, const void *buf,
		     size_t len)
{
	const struct dl_pci_tmpl *t;
	const uint8_t *in = buf;
	unsigned int size;

	assert_return(c && (buf || !len) && range_ok(off, len), -EINVAL);
	t = c->tmpl;
	size = dl_pci_cfg_size(c);
	dl_mutex_lock(&c->lock);
	for (size_t i = 0; i < len && off + i < size; i++) {
		unsigned int o = off + (unsigned int)i;
		uint8_t wm = t->wmask[o], w1 = t->w1c[o], v = in[i];
		uint8_t *p;

		if (!(wm | w1))
			continue;
		p = ov_byte(c, o);
		assert(p);
		*p = (uint8_t)((*p & ~wm & ~(w1 & v)) | (v & wm));
	}
	dl_mutex_unlock(&c->lock);
	return 0;
}

int dl_pci_cfg_readv(struct dl_pci_cfg *c, unsigned int off, unsigned int width,
		     uint32_t *ret)
{
	uint8_t b[4];
	int r;

	assert_return(ret && width_ok(width), -EINVAL);
	r = dl_pci_cfg_read(c, off, b, width);
	if (r < 0)
		return r;
	*ret = width == 1 ? b[0] : width == 2 ? get_le16(b) : get_le32(b);
	return 0;
}

int dl_pci_cfg_writev(struct dl_pci_cfg *c, unsigned int off,
		      unsigned int width, uint32_t val)
{
	uint8_t b[4];

	assert_return(width_ok(width), -EINVAL);
	put_le32(b, val);
	return dl_pci_cfg_write(c, off, b, width);
}

int dl_pci_cfg_hw_write(struct dl_pci_cfg *c, unsigned int off,
			unsigned int width, uint32_t val, uint32_t mask)
{
	assert_return(c && width_ok(width) && range_ok(off, width), -EINVAL);
	for (unsigned int i = 0; i < width; i++)
		if (((mask >> (8 * i)) & 0xff) &&
		    (off + i >= dl_pci_cfg_size(c) || !ov_byte(c, off + i)))
			return -EROFS;
	dl_mutex_lock(&c->lock);
	for (unsigned int i = 0; i < width; i++) {
		uint8_t m = (uint8_t)(mask >> (8 * i)), v = (uint8_t)(val >> (8 * i));
		uint8_t *p;

		if (!m)
			continue;
		p = ov_byte(c, off + i);
		*p = (uint8_t)((*p & ~m) | (v & m));
	}
	dl_mutex_unlock(&c->lock);
	return 0;
}

void dl_pci_cfg_reset(struct dl_pci_cfg *c)
{
	const struct dl_pci_tmpl *t = c->tmpl;

	dl_mutex_lock(&c->lock);
	for (unsigned int d = 0; d < NDWORDS; d++)
		if (t->ov_slot[d] != OV_NONE)
			memcpy(c->ov + 4 * t->ov_slot[d], t->data + 4 * d, 4);
	dl_mutex_unlock(&c->lock);
}

int dl_pci_cfg_find_cap(struct dl_pci_cfg *c, unsigned int id,
			unsigned int after, unsigned int *ret_off)
{
	unsigned int pos, type;
	int r = -ENOENT;

	assert_return(c && ret_off && id <= 0xff, -EINVAL);
	assert_return(after == 0 || (after >= DL_PCI_CFG_HEADER_SIZE && after < DL_PCI_CFG_LEGACY_SIZE),
		      -EINVAL);
	dl_mutex_lock(&c->lock);
	if (!(read_byte_locked(c, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		goto out;
	type = read_byte_locked(c, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
	if (after)
		pos = read_byte_locked(c, after + PCI_CAP_LIST_NEXT);
	else
		pos = read_byte_locked(c, type == PCI_HEADER_TYPE_CARDBUS
						  ? PCI_CB_CAPABILITY_LIST
						  : PCI_CAPABILITY_LIST);
	for (int ttl = CAP_TTL; ttl > 0; ttl--) {
		unsigned int cid;

		pos &= ~3u;
		if (pos < DL_PCI_CFG_HEADER_SIZE || pos > DL_PCI_CFG_LEGACY_SIZE - 4)
			break;
		cid = read_byte_locked(c, pos);
		if (cid == 0xff)
			break;
		if (cid == id) {
			*ret_off = pos;
			r = 0;
			break;
		}
		pos = read_byte_locked(c, pos + PCI_CAP_LIST_NEXT);
	}
out:
	dl_mutex_unlock(&c->lock);
	return r;
}

/* Reads a little-endian dword; caller holds c->lock. */
static uint32_t read32_locked(struct dl_pci_cfg *c, unsigned int off)
{
	dl_mutex_assert_held(&c->lock);
	return (uint32_t)read_byte_locked(c, off) |
	       (uint32_t)read_byte_locked(c, off + 1) << 8 |
	       (uint32_t)read_byte_locked(c, off + 2) << 16 |
	       (uint32_t)read_byte_locked(c, off + 3) << 24;
}

int dl_pci_cfg_find_ext_cap(struct dl_pci_cfg *c, unsigned int id,
			    unsigned int after, unsigned int *ret_off)
{
	unsigned int pos = DL_PCI_CFG_LEGACY_SIZE;
	int r = -ENOENT;

	assert_return(c && ret_off && id <= 0xffff, -EINVAL);
	assert_return(after == 0 || (after >= DL_PCI_CFG_LEGACY_SIZE &&
				     after <= DL_PCI_CFG_SIZE - 4),
		      -EINVAL);
	if (!c->tmpl->extended)
		return -ENOENT;
	dl_mutex_lock(&c->lock);
	if (after) {
		pos = PCI_EXT_CAP_NEXT(read32_locked(c, after));
		if (pos < DL_PCI_CFG_LEGACY_SIZE)
			goto out;
	}
	for (int ttl = EXT_CAP_TTL; ttl > 0; ttl--) {
		uint32_t h;

		if (pos > DL_PCI_CFG_SIZE - 4)
			break;
		h = read32_locked(c, pos);
		if (h == 0 || h == 0xffffffff)
			break;
		if (PCI_EXT_CAP_ID(h) == id) {
			*ret_off = pos;
			r = 0;
			break;
		}
		pos = PCI_EXT_CAP_NEXT(h);
		if (pos < DL_PCI_CFG_LEGACY_SIZE)
			break;
	}
out:
	dl_mutex_unlock(&c->lock);
	return r;
}

/* ------------------------------------------------------------------ */

int dl_pci_sriov_vf_rid(uint16_t pf_rid, uint16_t offset, uint16_t stride,
			unsigned int n, uint16_t *ret_rid)
{
	uint64_t rid;

	assert_return(ret_rid, -EINVAL);
	rid = (uint64_t)pf_rid + offset + (uint64_t)n * stride;
	if (rid > 0xffff)
		return -ERANGE;
	*ret_rid = (uint16_t)rid;
	return 0;
}
