/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A PCI function's power/ directory (drivers/base/power/sysfs.c):
 *
 *   DDDD:BB:DD.F/power/                                      (K_POWER)
 *     control, runtime_status, runtime_active_time,
 *     runtime_suspended_time, autosuspend_delay_ms           (K_POWER_ATTR)
 *     wakeup, wakeup_count, ...   (only when the function can wake)
 *
 * dpm_sysfs_add() makes the directory with the runtime group (a PCI
 * function has runtime PM callbacks) and, if device_can_wakeup(), the
 * wakeup group; a kernel without CONFIG_PM_ADVANCED_DEBUG (Debian's)
 * has nothing else there. The model is src/pci/pm.c. Reads and writes
 * run inside the function's active section, as attr.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "view.h"

/**
 * struct pattr - one file of power/
 * @name: file name
 * @mode: permission bits (the kernel's DEVICE_ATTR_RW/_RO)
 * @wakeup: in the wakeup group (only on a function that can wake)
 * @show: text into @buf, its length or a negative errno
 * @store: a write's text (one trailing newline removed), 0 or -errno;
 *         NULL for a read-only file
 */
struct pattr {
	const char *name;
	unsigned int mode;
	bool wakeup;
	int (*show)(struct dl_device *dev, const char *name, char *buf,
		    size_t len);
	int (*store)(struct dl_device *dev, const char *text);
};

static int show_control(struct dl_device *dev, const char *name, char *buf,
			size_t len)
{
	(void)name;
	return dl_pci_pm_control_show(dev, buf, len);
}

static int show_status(struct dl_device *dev, const char *name, char *buf,
		       size_t len)
{
	(void)name;
	return dl_pci_pm_status_show(dev, buf, len);
}

static int show_time(struct dl_device *dev, const char *name, char *buf,
		     size_t len)
{
	return dl_pci_pm_time_show(dev, strstr(name, "suspended") != NULL, buf,
				   len);
}

/* autosuspend_delay_ms_show()/_store(): -EIO unless the driver uses
 * autosuspend (pm_runtime_use_autosuspend()); none of devlife's does. */
static int show_autosuspend(struct dl_device *dev, const char *name, char *buf,
			    size_t len)
{
	(void)dev, (void)name, (void)buf, (void)len;
	return -EIO;
}

static int store_autosuspend(struct dl_device *dev, const char *text)
{
	(void)dev, (void)text;
	return -EIO;
}

static const struct pattr pattrs[] = {
	{ "autosuspend_delay_ms", 0644, false, show_autosuspend, store_autosuspend },
	{ "control", 0644, false, show_control, dl_pci_pm_control_store },
	{ "runtime_active_time", 0444, false, show_time, NULL },
	{ "runtime_status", 0444, false, show_status, NULL },
	{ "runtime_suspended_time", 0444, false, show_time, NULL },
	{ "wakeup", 0644, true, dl_pci_pm_wakeup_show, dl_pci_pm_wakeup_store },
	{ "wakeup_abort_count", 0444, true, dl_pci_pm_wakeup_show, NULL },
	{ "wakeup_active", 0444, true, dl_pci_pm_wakeup_show, NULL },
	{ "wakeup_active_count", 0444, true, dl_pci_pm_wakeup_show, NULL },
	{ "wakeup_count", 0444, true, dl_pci_pm_wakeup_show, NULL },
	{ "wakeup_expire_count", 0444, true, dl_pci_pm_wakeup_show, NULL },
	{ "wakeup_last_time_ms", 0444, true, dl_pci_pm_wakeup_show, NULL },
	{ "wakeup_max_time_ms", 0444, true, dl_pci_pm_wakeup_show, NULL },
	{ "wakeup_total_time_ms", 0444, true, dl_pci_pm_wakeup_show, NULL },
};
#define NPATTRS (int)(sizeof(pattrs) / sizeof(pattrs[0]))

static bool pattr_visible(struct dl_device *dev, int i)
{
	return i >= 0 && i < NPATTRS && (!pattrs[i].wakeup || dl_pci_pm_can_wakeup(dev));
}

static void lookup_power(fuse_req_t req, struct dl_fs *fs,
			 const struct key *dir, const char *name)
{
	struct dl_device *dev = (struct dl_device *)dir->dev;

	for (int i = 0; i < NPATTRS; i++) {
		if (strcmp(pattrs[i].name, name) == 0 && pattr_visible(dev, i)) {
			struct key k = { K_POWER_ATTR, dev, i, 0, NULL };

			reply_entry(req, fs, &k);
			return;
		}
	}
	fuse_reply_err(req, ENOENT);
}

static void list_power(struct dl_fs *fs, const struct key *dir,
		       struct dirbuf *b)
{
	(void)fs;
	for (int i = 0; i < NPATTRS; i++)
		if (pattr_visible((struct dl_device *)dir->dev, i))
			dirbuf_add(b, pattrs[i].name, 0, S_IFREG);
}

const struct kind_ops kind_power = {
	.stat = stat_dir, .lookup = lookup_power, .list = list_power,
};

static int stat_pattr(struct dl_fs *fs, const struct key *k, struct stat *st)
{
	if (!pattr_visible((struct dl_device *)k->dev, k->idx))
		return -ENOENT;
	fill_stat(fs, 0, S_IFREG | pattrs[k->idx].mode, ATTR_MAX, st);
	return 0;
}

static int stat_gone_pattr(struct dl_fs *fs, const struct key *k,
			   struct stat *st)
{
	fill_stat(fs, 0, S_IFREG | pattrs[k->idx].mode, ATTR_MAX, st);
	return 0;
}

static void read_pattr(fuse_req_t req, struct dl_fs *fs, const struct key *k,
		       size_t size, off_t off)
{
	const struct pattr *a = &pattrs[k->idx];
	struct dl_device *dev = (struct dl_device *)k->dev;
	char buf[ATTR_MAX];
	struct hookctx hc;
	int r;

	if (dl_device_enter_tagged(dev, "power") < 0) {
		reply_refused(fs, req, DL_FS_READ, k);
		return;
	}
	r = hook_begin(fs, &hc, DL_FS_READ, req, k, NULL, dev);
	if (r == 0)
		r = a->show(dev, a->name, buf, sizeof(buf));
	if (r >= 0) {
		hook_end(fs, &hc, off >= r ? 0 : (int)((size_t)(r - off) < size ?
						      (size_t)(r - off) : size));
		reply_text(req, buf, (size_t)r, size, off);
	} else {
		hook_end(fs, &hc, r);
		fuse_reply_err(req, -r);
	}
	dl_device_exit(dev);
}

static void write_pattr(fuse_req_t req, struct dl_fs *fs, const struct key *k,
			const char *data, size_t size, off_t off)
{
	const struct pattr *a = &pattrs[k->idx];
	struct dl_device *dev = (struct dl_device *)k->dev;
	char text[ATTR_MAX + 1];
	struct hookctx hc;
	int r;

	(void)off;
	if (!a->store) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (dl_device_enter_tagged(dev, "power") < 0) {
		reply_refused(fs, req, DL_FS_WRITE, k);
		return;
	}
	r = hook_begin(fs, &hc, DL_FS_WRITE, req, k, NULL, dev);
	if (r == 0)
		r = store_text(data, size, text, sizeof(text));
	if (r >= 0)
		r = a->store(dev, text);
	hook_end(fs, &hc, r < 0 ? r : (int)size);
	reply_store(req, r, size);
	dl_device_exit(dev);
}

/* DEVICE-DIRECTORY/power/NAME, for scenario hooks. */
static int path_pattr(struct dl_fs *fs, const struct key *k, char *buf,
		      size_t len)
{
	(void)fs;
	return dev_file_path((struct dl_device *)k->dev, buf, len, "power/%s",
			     pattrs[k->idx].name);
}

const struct kind_ops kind_power_attr = {
	.stat = stat_pattr, .read = read_pattr, .write = write_pattr,
	.path = path_pattr, .stat_gone = stat_gone_pattr,
};
