/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PCI slots, as drivers/pci/slot.c lays them out (pci_create_slot(),
 * called by pciehp's pci_hp_initialize() for every hot-plug capable root
 * or downstream port):
 *
 *   bus/pci/slots/                                          (static)
 *   bus/pci/slots/NAME/                                     (K_SLOT)
 *   bus/pci/slots/NAME/{address,cur_bus_speed,max_bus_speed} (K_SLOT_ATTR)
 *
 * A slot is its port (dev); it exists while the port does. NAME is the
 * port's Physical Slot Number; ports that share one are told apart as
 * make_slot_name() does, "N-1", "N-2", ..., here in the order the ports
 * were added (the lowest device id keeps "N"). pciutils reads `address`
 * to print a function's "Physical Slot" (lib/sysfs.c sysfs_fill_slots()).
 * The hot-plug core's control files (power, attention, latch, adapter)
 * are not served. A slot's name can change when a port sharing its
 * number goes, so the entries are not cached: every lookup asks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

enum { SA_ADDRESS, SA_CUR_BUS_SPEED, SA_MAX_BUS_SPEED, SA_COUNT };
static const char *const slot_attr_names[SA_COUNT] = {
	"address", "cur_bus_speed", "max_bus_speed",
};

/* The ports with a slot, each with its number, in the order they came. */
struct slots {
	struct devvec ports;
	int *psn;
};

static int by_id(const void *a, const void *b)
{
	uint64_t x = dl_device_id(*(struct dl_device *const *)a);
	uint64_t y = dl_device_id(*(struct dl_device *const *)b);

	return (x > y) - (x < y);
}

static int slots_get(struct dl_fs *fs, struct slots *s)
{
	struct devvec all = { 0 };
	int r = dl_tree_for_each_root(fs->tree, push_all, &all);

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; r >= 0 && i < all.n; i++)
		if (slot_psn(all.v[i]) >= 0)
			r = devvec_push(&s->ports, all.v[i]);
	devvec_clear(&all);
	if (r >= 0 && s->ports.n) {
		qsort(s->ports.v, s->ports.n, sizeof(s->ports.v[0]), by_id);
		s->psn = malloc(s->ports.n * sizeof(*s->psn));
		if (!s->psn)
			r = -ENOMEM;
		for (size_t i = 0; s->psn && i < s->ports.n; i++)
			s->psn[i] = slot_psn(s->ports.v[i]);
	}
	return r < 0 ? -ENOMEM : 0;
}

static void slots_clear(struct slots *s)
{
	devvec_clear(&s->ports);
	free(s->psn);
}

/* The name of the @i-th port's slot. */
static void slot_name(const struct slots *s, size_t i, char *buf, size_t len)
{
	unsigned int dup = 0;

	for (size_t j = 0; j < i; j++)
		dup += s->psn[j] == s->psn[i];
	if (dup)
		snprintf(buf, len, "%d-%u", s->psn[i], dup);
	else
		snprintf(buf, len, "%d", s->psn[i]);
}

/* bus/pci/slots/ */
static void lookup_slots(fuse_req_t req, struct dl_fs *fs,
			 const struct key *dir, const char *name)
{
	struct slots s;
	char n[24];
	struct key k;
	int r = -ENOENT;

	(void)dir;
	if (slots_get(fs, &s) < 0) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = 0; i < s.ports.n && r == -ENOENT; i++) {
		slot_name(&s, i, n, sizeof(n));
		if (strcmp(n, name) || node_enter(s.ports.v[i]) < 0)
			continue;
		k = (struct key){ K_SLOT, s.ports.v[i], 0, 0, NULL };
		reply_entry(req, fs, &k);
		node_exit(s.ports.v[i]);
		r = 0;
	}
	slots_clear(&s);
	if (r < 0)
		fuse_reply_err(req, -r);
}

static void list_slots(struct dl_fs *fs, const struct key *dir,
		       struct dirbuf *b)
{
	struct slots s;
	char n[24];

	(void)dir;
	if (slots_get(fs, &s) < 0)
		b->err = ENOMEM;
	for (size_t i = 0; i < s.ports.n; i++) {
		slot_name(&s, i, n, sizeof(n));
		dirbuf_add(b, n, 0, S_IFDIR);
	}
	slots_clear(&s);
}

const struct kind_ops kind_buspci_slots = {
	.stat = stat_dir, .lookup = lookup_slots, .list = list_slots,
	.timeout = no_cache,
};

/* bus/pci/slots/NAME/ */
static void lookup_slot(fuse_req_t req, struct dl_fs *fs,
			const struct key *dir, const char *name)
{
	for (int i = 0; i < SA_COUNT; i++) {
		if (strcmp(name, slot_attr_names[i]) == 0) {
			struct key k = { K_SLOT_ATTR, dir->dev, i, 0, NULL };

			reply_entry(req, fs, &k);
			return;
		}
	}
	fuse_reply_err(req, ENOENT);
}

static void list_slot(struct dl_fs *fs, const struct key *dir,
		      struct dirbuf *b)
{
	(void)fs, (void)dir;
	for (int i = 0; i < SA_COUNT; i++)
		dirbuf_add(b, slot_attr_names[i], 0, S_IFREG);
}

const struct kind_ops kind_slot = {
	.stat = stat_dir, .lookup = lookup_slot, .list = list_slot,
	.timeout = no_cache,
};

/* slot_attr_show() of each: drivers/pci/slot.c address_read_file()
 * ("%04x:%02x:%02x": pciehp's slot is device 0 of the port's secondary
 * bus), bus_speed_read(). */
static int slot_attr_text(struct dl_device *port, int idx, char *buf,
			  size_t len)
{
	unsigned int domain = 0;
	int bus;

	switch (idx) {
	case SA_ADDRESS:
		bus = slot_bus(port);
		if (bus < 0 || sscanf(dl_device_name(port), "%x:", &domain) != 1)
			return -ENODEV;
		return snprintf(buf, len, "%04x:%02x:00\n", domain, bus);
	case SA_CUR_BUS_SPEED:
		return slot_bus_speed(port, false, buf, len);
	default:
		return slot_bus_speed(port, true, buf, len);
	}
}

static int stat_slot_attr(struct dl_fs *fs, const struct key *k,
			  struct stat *st)
{
	(void)k;
	fill_stat(fs, 0, S_IFREG | 0444, ATTR_MAX, st);
	return 0;
}

static void read_slot_attr(fuse_req_t req, struct dl_fs *fs,
			   const struct key *k, size_t size, off_t off)
{
	struct dl_device *port = (struct dl_device *)k->dev;
	char text[64];
	int n;

	(void)fs;
	if (dl_device_enter(port) < 0) {
		fuse_reply_err(req, ENODEV);
		return;
	}
	n = slot_attr_text(port, k->idx, text, sizeof(text));
	dl_device_exit(port);
	if (n < 0)
		fuse_reply_err(req, -n);
	else
		reply_text(req, text, (size_t)n, size, off);
}

const struct kind_ops kind_slot_attr = {
	.stat = stat_slot_attr, .read = read_slot_attr, .timeout = no_cache,
};
