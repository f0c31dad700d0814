/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The attributes of a device (K_ATTR): one row of attrs[] each, with
 * what shows and stores it, as a struct device_attribute in Linux. Adding
 * an attribute to every PCI function is one row here (and its show or
 * store beside it). The node's idx is the row's index.
 *
 * Reads and writes run inside the device's active section, tagged with
 * the attribute's name, and are answered from inside it: a removal that
 * waits for them completes only after the reader or writer has its
 * answer.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "parse.h"
#include "view.h"

/* The standard configuration header: what an unprivileged reader sees. */
#define CONFIG_HEADER_SIZE 64
/* Configuration space size if the function does not say. */
#define CONFIG_DEFAULT_SIZE 256

/* Which devices have an attribute. */
#define ON_PCI 1u
#define ON_MDEV 2u

/**
 * struct attr - one attribute of a device directory
 * @name:     file name
 * @mode:     permission bits
 * @on:       which devices have it (ON_PCI, ON_MDEV)
 * @pci_attr: enum dl_pci_attr shown (and asked whether visible), or -1
 * @visible:  whether @dev has it now, beside @on and @pci_attr (or NULL)
 * @show:     text into @buf (at most @len): its length or a negative errno
 * @store:    a write's text (newline stripped): 0 or a negative errno
 * @size:     st_size (NULL: a page)
 * @bin_read, @bin_write: binary contents at an offset, instead of
 *            @show/@store: bytes done or a negative errno
 * @removes_self: the `remove` attribute (kernfs_remove_self())
 * @fixed:    never changes for the device's life (the IDs, which
 *            pci_setup_device() reads once): the kernel may cache it
 */
struct attr {
	const char *name;
	unsigned int mode;
	unsigned int on;
	int pci_attr;
	bool (*visible)(struct dl_fs *fs, struct dl_device *dev);
	int (*show)(struct dl_fs *fs, struct dl_device *dev,
		    const struct attr *a, char *buf, size_t len);
	int (*store)(struct dl_fs *fs, struct dl_device *dev, const char *text);
	off_t (*size)(struct dl_device *dev);
	int (*bin_read)(fuse_req_t req, struct dl_device *dev, char *buf,
			size_t size, off_t off);
	int (*bin_write)(struct dl_device *dev, const char *data, size_t size,
			 off_t off);
	bool removes_self;
	bool fixed;
};

/*
 * The parsers of attribute writes are pure functions in parse.c, where
 * they are fuzzed alone (fuzz/attr-write.c).
 */

/* A sysfs store's text: at most a page, trailing newline ignored. */
int store_text(const char *data, size_t size, char *out, size_t outlen)
{
	return dl_fs__store_text(data, size, out, outlen);
}

/* kstrtobool-ish for remove/rescan: "1"/"0", with kstrtoul's bases. */
int store_bool(const char *s, bool *ret)
{
	return dl_fs__store_bool(s, ret);
}

/* Linux's kstrtobool(): y/Y/1/on true, n/N/0/off false. */
static int store_kbool(const char *s, bool *ret)
{
	return dl_fs__store_kbool(s, ret);
}

/* vendor, device, class, ...: dl_pci_attr_show(). */
static int show_pci(struct dl_fs *fs, struct dl_device *dev,
		    const struct attr *a, char *buf, size_t len)
{
	(void)fs;
	return dl_pci_attr_show(dev, (enum dl_pci_attr)a->pci_attr, buf, len);
}

/* config: binary, the whole space to root, the header to others. */
static off_t size_config(struct dl_device *dev)
{
	int r = dl_pci_config_size(dev);

	return r > 0 ? r : CONFIG_DEFAULT_SIZE;
}

static int read_config(fuse_req_t req, struct dl_device *dev, char *buf,
		       size_t size, off_t off)
{
	size_t want = size;

	/* Unprivileged readers see only the standard header. */
	if (!privileged(fuse_req_userdata(req), req)) {
		if (off >= CONFIG_HEADER_SIZE)
			want = 0;
		else if (off + (off_t)want > CONFIG_HEADER_SIZE)
			want = (size_t)(CONFIG_HEADER_SIZE - off);
	}
	if (want > ATTR_MAX - (size_t)off)
		want = ATTR_MAX - (size_t)off;
	return want ? dl_pci_config_read(dev, (unsigned int)off, buf, want) : 0;
}

/* sysfs_kf_bin_write(): at or past the file's size, -EFBIG (a writer
 * looping on a short count stops there); a write running past it is cut
 * (and pci_write_config() cuts it again at the space's end). */
static int write_config(struct dl_device *dev, const char *data, size_t size,
			off_t off)
{
	if (off < 0 || off >= size_config(dev))
		return -EFBIG;
	return dl_pci_config_write(dev, (unsigned int)off, data,
				   size > (size_t)(ATTR_MAX - off)
					   ? (size_t)(ATTR_MAX - off)
					   : size);
}

/* driver_override */
static int show_override(struct dl_fs *fs, struct dl_device *dev,
			 const struct attr *a, char *buf, size_t len)
{
	(void)fs, (void)a;
	return dl_pci_platform_driver_override(dev, NULL, buf, len - 1) < 0
		       ? -EIO
		       : (int)strlen(strcat(buf, "\n"));
}

/* driver_set_override() (drivers/base/driver.c): the text ends at the
 * first newline; empty (nothing, "\n", "\0") clears. */
static int store_override(struct dl_fs *fs, struct dl_device *dev,
			  const char *text)
{
	char name[ATTR_MAX + 1];

	(void)fs;
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(text, "\n"), text);
	return dl_pci_platform_driver_override(dev, name, NULL, 0);
}

/* numa_node: numa_node_store(), kstrtoint() then an online node. */
static int store_numa_node(struct dl_fs *fs, struct dl_device *dev,
			   const char *text)
{
	unsigned long v;
	bool neg = text[0] == '-';
	int r;

	(void)fs;
	/* kstrtoint(): kstrtoll() takes one '-' (then no '+'), else
	 * kstrtoull() with its '+' */
	if (neg && text[1] == '+')
		return -EINVAL;
	r = dl_fs__store_ulong(text + neg, neg ? 1ul + INT_MAX : INT_MAX, &v);
	if (r < 0)
		return r;
	return dl_pci_set_numa_node(dev, neg ? (int)(0 - (long)v) : (int)v);
}

/* remove: `echo 1` is done by write_attr() (removes_self); this checks
 * the text of the others ("0" does nothing). */
static int store_remove(struct dl_fs *fs, struct dl_device *dev,
			const char *text)
{
	bool on;

	(void)fs, (void)dev;
	return store_bool(text, &on);
}

/* rescan (of the function: its platform rescans below it) */
static int store_rescan(struct dl_fs *fs, struct dl_device *dev,
			const char *text)
{
	bool on;
	int r = store_bool(text, &on);

	if (r == 0 && on && fs->plat)
		r = dl_pci_platform_rescan(fs->plat, dev);
	return r;
}

/* online: as Linux's, only where the driver can do both. */
static bool visible_online(struct dl_fs *fs, struct dl_device *dev)
{
	return dl_pci_platform_supports_online(fs->plat, dev);
}

static int show_online(struct dl_fs *fs, struct dl_device *dev,
		       const struct attr *a, char *buf, size_t len)
{
	(void)fs, (void)a;
	return snprintf(buf, len, "%d\n", dl_device_is_online(dev));
}

static int store_online(struct dl_fs *fs, struct dl_device *dev,
			const char *text)
{
	bool on;
	int r;

	(void)fs;
	/* Enters the device again and takes its device lock: -ENODEV
	 * once its removal has begun. */
	r = store_kbool(text, &on);
	if (r == 0)
		r = on ? dl_device_online(dev) : dl_device_offline(dev);
	return r;
}

/* sriov_numvfs */
static int store_numvfs(struct dl_fs *fs, struct dl_device *dev,
			const char *text)
{
	unsigned long v;
	int r;

	/* kstrtou16() */
	r = dl_fs__store_ulong(text, 0xffff, &v);
	if (r < 0)
		return r;
	/* active(PF) is held by the request; the PF's device lock is taken
	 * inside, as Linux's sriov_numvfs_store() takes it, and the PF's
	 * driver does the work (its sriov_configure). */
	if (fs->plat)
		return dl_pci_platform_sriov_numvfs(fs->plat, dev, (unsigned int)v);
	dl_device_lock(dev);
	r = dl_pci_sriov_set_numvfs(dev, (unsigned int)v);
	dl_device_unlock(dev);
	return r;
}

/* sriov_drivers_autoprobe */
static int store_autoprobe(struct dl_fs *fs, struct dl_device *dev,
			   const char *text)
{
	bool on;
	int r;

	(void)fs;
	r = store_kbool(text, &on);
	if (r == 0)
		r = dl_pci_sriov_set_drivers_autoprobe(dev, on);
	return r;
}

/* uevent_store(): kobject_synth_uevent() sends the event, or -EINVAL. */
static int store_uevent(struct dl_fs *fs, struct dl_device *dev,
			const char *text)
{
	struct dl_uevent vars;
	char action[9];

	if (fs->synth)
		return fs->synth(fs->synth_arg, dev, text, strlen(text));
	return dl_uevent_synth_parse(text, strlen(text), action, &vars);
}

#define SHOW(file, what) \
	{ .name = file, .mode = 0444, .on = ON_PCI, .pci_attr = what, \
	  .show = show_pci }
/* The IDs: read from the config header when the function is made
 * (dl_pci_func_new(), as pci_setup_device()), never again. */
#define SHOW_FIXED(file, what) \
	{ .name = file, .mode = 0444, .on = ON_PCI, .pci_attr = what, \
	  .show = show_pci, .fixed = true }

/* In listing order. */
static const struct attr attrs[] = {
	{ .name = "config", .mode = 0644, .on = ON_PCI, .pci_attr = -1,
	  .size = size_config, .bin_read = read_config,
	  .bin_write = write_config },
	SHOW_FIXED("vendor", DL_PCI_ATTR_VENDOR),
	SHOW_FIXED("device", DL_PCI_ATTR_DEVICE),
	SHOW_FIXED("class", DL_PCI_ATTR_CLASS),
	SHOW_FIXED("revision", DL_PCI_ATTR_REVISION),
	SHOW_FIXED("subsystem_vendor", DL_PCI_ATTR_SUBSYSTEM_VENDOR),
	SHOW_FIXED("subsystem_device", DL_PCI_ATTR_SUBSYSTEM_DEVICE),
	SHOW("irq", DL_PCI_ATTR_IRQ),
	SHOW("resource", DL_PCI_ATTR_RESOURCE),
	SHOW("modalias", DL_PCI_ATTR_MODALIAS),
	{ .name = "numa_node", .mode = 0644, .on = ON_PCI,
	  .pci_attr = DL_PCI_ATTR_NUMA_NODE, .show = show_pci,
	  .store = store_numa_node },
	/* attr-info.c: what the kernel computes */
	{ .name = "uevent", .mode = 0644, .on = ON_PCI | ON_MDEV,
	  .pci_attr = -1, .show = show_uevent, .store = store_uevent },
	{ .name = "current_link_speed", .mode = 0444, .on = ON_PCI,
	  .pci_attr = -1, .visible = attr_visible_pcie,
	  .show = show_cur_link_speed },
	{ .name = "current_link_width", .mode = 0444, .on = ON_PCI,
	  .pci_attr = -1, .visible = attr_visible_pcie,
	  .show = show_cur_link_width },
	{ .name = "max_link_speed", .mode = 0444, .on = ON_PCI,
	  .pci_attr = -1, .visible = attr_visible_pcie,
	  .show = show_max_link_speed },
	{ .name = "max_link_width", .mode = 0444, .on = ON_PCI,
	  .pci_attr = -1, .visible = attr_visible_pcie,
	  .show = show_max_link_width },
	{ .name = "local_cpus", .mode = 0444, .on = ON_PCI, .pci_attr = -1,
	  .show = show_local_cpus },
	{ .name = "local_cpulist", .mode = 0444, .on = ON_PCI, .pci_attr = -1,
	  .show = show_local_cpulist },
	{ .name = "dma_mask_bits", .mode = 0444, .on = ON_PCI, .pci_attr = -1,
	  .show = show_dma_mask_bits },
	{ .name = "consistent_dma_mask_bits", .mode = 0444, .on = ON_PCI,
	  .pci_attr = -1, .show = show_dma_mask_bits },
	{ .name = "enable", .mode = 0644, .on = ON_PCI, .pci_attr = -1,
	  .show = show_enable, .store = store_enable },
	{ .name = "d3cold_allowed", .mode = 0644, .on = ON_PCI, .pci_attr = -1,
	  .show = show_d3cold, .store = store_d3cold },
	/* pci-sysfs.c DEVICE_ATTR_WO(reset), pci.c DEVICE_ATTR_RW(reset_method):
	 * present when a reset method probed as the function was added */
	{ .name = "reset", .mode = 0200, .on = ON_PCI, .pci_attr = -1,
	  .visible = attr_visible_reset, .store = store_reset },
	{ .name = "reset_method", .mode = 0644, .on = ON_PCI, .pci_attr = -1,
	  .visible = attr_visible_reset, .show = show_reset_method,
	  .store = store_reset_method },
	{ .name = "driver_override", .mode = 0644, .on = ON_PCI,
	  .pci_attr = -1, .show = show_override, .store = store_override },
	/* pci-sysfs.c: DEVICE_ATTR_IGNORE_LOCKDEP(remove, 0220, ...);
	 * mdev_sysfs.c: DEVICE_ATTR_WO(remove), 0200 */
	{ .name = "remove", .mode = 0220, .on = ON_PCI, .pci_attr = -1,
	  .store = store_remove, .removes_self = true },
	{ .name = "remove", .mode = 0200, .on = ON_MDEV, .pci_attr = -1,
	  .store = store_remove, .removes_self = true },
	{ .name = "rescan", .mode = 0200, .on = ON_PCI, .pci_attr = -1,
	  .store = store_rescan },
	{ .name = "online", .mode = 0644, .on = ON_PCI, .pci_attr = -1,
	  .visible = visible_online, .show = show_online,
	  .store = store_online },
	SHOW("sriov_totalvfs", DL_PCI_ATTR_SRIOV_TOTALVFS),
	{ .name = "sriov_numvfs", .mode = 0664, .on = ON_PCI,
	  .pci_attr = DL_PCI_ATTR_SRIOV_NUMVFS, .show = show_pci,
	  .store = store_numvfs },
	SHOW("sriov_offset", DL_PCI_ATTR_SRIOV_OFFSET),
	SHOW("sriov_stride", DL_PCI_ATTR_SRIOV_STRIDE),
	SHOW("sriov_vf_device", DL_PCI_ATTR_SRIOV_VF_DEVICE),
	{ .name = "sriov_drivers_autoprobe", .mode = 0644, .on = ON_PCI,
	  .pci_attr = DL_PCI_ATTR_SRIOV_DRIVERS_AUTOPROBE, .show = show_pci,
	  .store = store_autoprobe },
};
#define NATTRS (int)(sizeof(attrs) / sizeof(attrs[0]))

static bool attr_visible(struct dl_fs *fs, struct dl_device *dev, int i)
{
	const struct attr *a = &attrs[i];

	if (!(a->on & (is_func(dev) ? ON_PCI : is_mdev(dev) ? ON_MDEV : 0)))
		return false;
	if (a->visible)
		return a->visible(fs, dev);
	if (a->pci_attr >= 0)
		return dl_pci_attr_visible(dev, (enum dl_pci_attr)a->pci_attr);
	return true;
}

/* The index of @dev's attribute @name, or -1 if it has none. */
/* The name of row @i, or NULL past the last (for invalidations). */
const char *attr_name(int i)
{
	return i >= 0 && i < NATTRS ? attrs[i].name : NULL;
}

/* Whether row @i never changes for its device's life. */
bool attr_fixed(int i)
{
	return i >= 0 && i < NATTRS && attrs[i].fixed;
}

int attr_index(struct dl_fs *fs, struct dl_device *dev, const char *name)
{
	for (int i = 0; i < NATTRS; i++)
		if (strcmp(attrs[i].name, name) == 0 && attr_visible(fs, dev, i))
			return i;
	return -1;
}

/* Adds @dev's attributes to a listing. */
void attr_list(struct dl_fs *fs, struct dl_device *dev, struct dirbuf *b)
{
	for (int i = 0; i < NATTRS; i++)
		if (attr_visible(fs, dev, i))
			dirbuf_add(b, attrs[i].name, 0, S_IFREG);
}

static int stat_attr(struct dl_fs *fs, const struct key *k, struct stat *st)
{
	const struct attr *a = &attrs[k->idx];

	fill_stat(fs, 0, S_IFREG | a->mode,
		  a->size ? a->size((struct dl_device *)k->dev) : ATTR_MAX, st);
	return 0;
}

/* A removed device's attribute held open: its mode, a page's size. */
static int stat_gone_attr(struct dl_fs *fs, const struct key *k,
			  struct stat *st)
{
	fill_stat(fs, 0, S_IFREG | attrs[k->idx].mode, ATTR_MAX, st);
	return 0;
}

static bool fixed_attr(const struct key *k)
{
	return attrs[k->idx].fixed;
}

static double timeout_attr(const struct key *k)
{
	return attrs[k->idx].fixed ? FIXED_TIMEOUT : DEVICE_TIMEOUT;
}

static void read_attr(fuse_req_t req, struct dl_fs *fs, const struct key *k,
		      size_t size, off_t off)
{
	const struct attr *a = &attrs[k->idx];
	struct dl_device *dev = (struct dl_device *)k->dev;
	char buf[ATTR_MAX];
	struct hookctx hc;
	int r = 0;

	if (!(a->mode & 0444)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (dl_device_enter_tagged(dev, a->name) < 0) {
		reply_refused(fs, req, DL_FS_READ, k);
		return;
	}
	/* A readable attribute shows its contents one way or the other. */
	fs_assert(a->bin_read || a->show);
	r = hook_begin(fs, &hc, DL_FS_READ, req, k, NULL, dev);
	if (r == 0 && off >= 0 && off < ATTR_MAX) {
		r = a->bin_read ? a->bin_read(req, dev, buf, size, off)
				: a->show(fs, dev, a, buf, sizeof(buf));
		if (r >= 0) {
			/* What the reader gets (reply_text() cuts). */
			hook_end(fs, &hc, a->bin_read ? r :
				 (off >= r ? 0 : (int)((size_t)(r - off) < size ?
						       (size_t)(r - off) : size)));
			/* Reply from inside: the reader has its data before
			 * a removal waiting for us can complete. */
			if (a->bin_read)
				fuse_reply_buf(req, buf, (size_t)r);
			else
				reply_text(req, buf, (size_t)r, size, off);
			dl_device_exit(dev);
			return;
		}
	}
	if (r == -ENOENT)
		r = -ENODEV;
	hook_end(fs, &hc, r);
	dl_device_exit(dev);
	fuse_reply_err(req, -r);
}

/*
 * A second `echo 1 > remove` while the device is already going: as
 * kernfs_remove_self(), wait until it is gone and report success; a
 * write that "removed" something returns only once it is really gone.
 */
static bool remove_going(struct dl_device *dev, const char *data, size_t size)
{
	char text[ATTR_MAX + 1];
	bool on;

	return store_text(data, size, text, sizeof(text)) >= 0 &&
	       store_bool(text, &on) == 0 && on &&
	       dl_device_state(dev) != DL_STATE_LIVE &&
	       dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT) == 0;
}

static void write_attr(fuse_req_t req, struct dl_fs *fs, const struct key *k,
		       const char *data, size_t size, off_t off)
{
	const struct attr *a = &attrs[k->idx];
	struct dl_device *dev = (struct dl_device *)k->dev;
	char text[ATTR_MAX + 1];
	struct hookctx hc;
	bool on;
	int r;

	if (!(a->mode & 0222)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (dl_device_enter_tagged(dev, a->name) < 0) {
		/* refused: a scenario still sees it (no reference held) */
		r = hook_begin(fs, &hc, DL_FS_WRITE, req, k, NULL, NULL);
		if (r == 0)
			r = a->removes_self && remove_going(dev, data, size)
				    ? 0 : -ENODEV;
		hook_end(fs, &hc, r < 0 ? r : (int)size);
		if (r < 0)
			fuse_reply_err(req, -r);
		else
			reply_store(req, 0, size);
		return;
	}
	r = hook_begin(fs, &hc, DL_FS_WRITE, req, k, NULL, dev);
	if (r < 0) {
		hook_end(fs, &hc, r);
		dl_device_exit(dev);
		fuse_reply_err(req, -r);
		return;
	}
	if (a->bin_write) {
		r = a->bin_write(dev, data, size, off);
		hook_end(fs, &hc, r);
		dl_device_exit(dev);
		if (r < 0)
			fuse_reply_err(req, -r);
		else
			fuse_reply_write(req, (size_t)r);
		return;
	}
	r = store_text(data, size, text, sizeof(text));
	if (r >= 0 && a->removes_self && store_bool(text, &on) == 0 && on) {
		/* Drops this request's active reference first, then
		 * removes; returns once the device is gone. */
		hook_end(fs, &hc, (int)size);
		r = dl_device_remove_self(dev, DL_REMOVE_WAIT);
		reply_store(req, r, size);
		return;
	}
	/* Stores that lock the device (sriov_numvfs, online) take its lock
	 * themselves, inside the active section, as Linux's do. */
	fs_assert(!dl_device_lock_held(dev));
	if (r >= 0)
		r = a->store ? a->store(fs, dev, text) : -EACCES;
	/*
	 * Reply from inside, as reads do: a removal that waited for this
	 * store returns only after the writer has its answer (S5: the
	 * sriov_numvfs writer learns it was refused before `remove` says
	 * the PF is gone), and after the kernel's view agrees with what the
	 * store changed (reply_store()). Then leave by the device: once
	 * replied to, the kernel may forget the inode and the node go.
	 */
	hook_end(fs, &hc, r < 0 ? r : (int)size);
	reply_store(req, r, size);
	dl_device_exit(dev);
}

/* DEVICE-DIRECTORY/NAME, for scenario hooks. */
static int path_attr(struct dl_fs *fs, const struct key *k, char *buf,
		     size_t len)
{
	(void)fs;
	return dev_file_path((struct dl_device *)k->dev, buf, len, "%s",
			     attrs[k->idx].name);
}

/*
 * A write to an attribute of a removed device: ENODEV, as kernfs's once
 * the node is deactivated; but `echo 1 > remove` reports success, as
 * kernfs_remove_self() does to a writer whose removal another won. In
 * the kernel two writers of `remove` run side by side (kernfs serialises
 * only writers of the same open file); FUSE serialises writes to one
 * inode (fuse_file_write_iter() takes inode_lock()), so the loser's
 * write reaches the daemon only after the winner's returned, the device
 * gone.
 */
static void write_gone_attr(fuse_req_t req, struct dl_fs *fs,
			    const struct key *k, const char *data, size_t size)
{
	const struct attr *a = &attrs[k->idx];
	char text[ATTR_MAX + 1];
	bool on;

	(void)fs;
	if (a->removes_self && store_text(data, size, text, sizeof(text)) >= 0 &&
	    store_bool(text, &on) == 0 && on)
		reply_store(req, 0, size);
	else
		fuse_reply_err(req, ENODEV);
}

const struct kind_ops kind_attr = {
	.stat = stat_attr, .read = read_attr, .write = write_attr,
	.path = path_attr, .write_gone = write_gone_attr,
	.stat_gone = stat_gone_attr, .fixed = fixed_attr,
	.timeout = timeout_attr,
};
