/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The scenario hook (docs/scenarios.md): what the handlers call at the
 * start and end of an operation when a hook is set. The handlers test
 * one flag (hook_begin() in view.h); everything here runs only with a
 * scenario loaded.
 *
 * The hook's lifetime: hook_busy counts the operations between their
 * begin and their end, under hook_lock; dl_fs_set_hook() waits for it to
 * be zero before it replaces the hook, so an end always reaches the
 * hook its begin did. The lock is never held while a hook runs: a held
 * operation blocks in begin without it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "view.h"

/* The static directories' paths, by kind (their inode numbers). */
static const char *const static_paths[K_STATIC_MAX] = {
	[K_ROOT] = "",
	[K_BUS] = "bus",
	[K_BUSPCI] = "bus/pci",
	[K_BUSPCI_DEVICES] = "bus/pci/devices",
	[K_BUSPCI_DRIVERS] = "bus/pci/drivers",
	[K_BUSPCI_RESCAN] = "bus/pci/rescan",
	[K_DEVICES] = "devices",
	[K_BUSMDEV] = "bus/mdev",
	[K_BUSMDEV_DEVICES] = "bus/mdev/devices",
	[K_BUSPCI_DRIVERS_PROBE] = "bus/pci/drivers_probe",
	[K_CLASS] = "class",
	[K_CLASS_MDEVBUS] = "class/mdev_bus",
	[K_MODULE] = "module",
	[K_KERNEL] = "kernel",
	[K_IOMMU_GROUPS] = "kernel/iommu_groups",
	[K_BUSPCI_DRIVERS_AUTOPROBE] = "bus/pci/drivers_autoprobe",
};

/* @k's path: its kind's, the static one, or its device's directory. */
static int key_path(struct dl_fs *fs, const struct key *k, char *buf,
		    size_t len)
{
	const struct kind_ops *ops = kind_ops_of(k->kind);

	if (ops && ops->path)
		return ops->path(fs, k, buf, len);
	if ((unsigned int)k->kind < K_STATIC_MAX && static_paths[k->kind])
		return snprintf(buf, len, "%s", static_paths[k->kind]) < (int)len
			       ? 0 : -ENAMETOOLONG;
	if (k->dev)
		return dev_path((struct dl_device *)k->dev, buf, len) < 0
			       ? -ENAMETOOLONG : 0;
	buf[0] = '\0';
	return 0;
}

int hook_begin_slow(struct dl_fs *fs, struct hookctx *c, enum dl_fs_op op,
		    fuse_req_t req, const struct key *k, const char *name,
		    struct dl_device *dev)
{
	struct dl_fs_hook h;
	size_t n;
	int r;

	pthread_mutex_lock(&fs->hook_lock);
	h = fs->hook;
	if (h.begin)
		fs->hook_busy++;
	pthread_mutex_unlock(&fs->hook_lock);
	if (!h.begin)
		return 0;
	if (key_path(fs, k, c->path, sizeof(c->path)) < 0)
		c->path[0] = '\0';
	if (name) {
		n = strlen(c->path);
		snprintf(c->path + n, sizeof(c->path) - n, "%s%s",
			 n ? "/" : "", name);
	}
	c->op = (struct dl_fs_opinfo){
		.op = op, .path = c->path, .dev = dev,
		.pid = req ? (int)fuse_req_ctx(req)->pid : 0,
	};
	c->token = NULL;
	c->active = true;
	r = h.begin(h.arg, &c->op, &c->token);
	return r < 0 ? r : 0;
}

void hook_end_slow(struct dl_fs *fs, struct hookctx *c, int result)
{
	struct dl_fs_hook h;

	/* Our begin is counted: the hook cannot change under us. */
	pthread_mutex_lock(&fs->hook_lock);
	h = fs->hook;
	pthread_mutex_unlock(&fs->hook_lock);
	if (h.end)
		h.end(h.arg, &c->op, c->token, result);
	c->active = false;
	pthread_mutex_lock(&fs->hook_lock);
	if (--fs->hook_busy == 0)
		pthread_cond_broadcast(&fs->hook_cond);
	pthread_mutex_unlock(&fs->hook_lock);
}

void dl_fs_set_hook(struct dl_fs *fs, const struct dl_fs_hook *hook)
{
	pthread_mutex_lock(&fs->hook_lock);
	/* New operations see no hook; then wait for the running ones. */
	fs->hook = (struct dl_fs_hook){ 0 };
	atomic_store(&fs->hook_on, false);
	while (fs->hook_busy)
		pthread_cond_wait(&fs->hook_cond, &fs->hook_lock);
	if (hook && hook->begin) {
		fs->hook = *hook;
		atomic_store(&fs->hook_on, true);
	}
	pthread_mutex_unlock(&fs->hook_lock);
}

void hook_init(struct dl_fs *fs)
{
	atomic_init(&fs->hook_on, false);
	pthread_mutex_init(&fs->hook_lock, NULL);
	pthread_cond_init(&fs->hook_cond, NULL);
}

void hook_destroy(struct dl_fs *fs)
{
	pthread_mutex_destroy(&fs->hook_lock);
	pthread_cond_destroy(&fs->hook_cond);
}

/*
 * The answer to a request refused before it entered its device (the
 * device's removal began): ENODEV, and a scenario still sees the
 * operation, begun and ended with no reference held.
 */
void reply_refused(struct dl_fs *fs, fuse_req_t req, enum dl_fs_op op,
		   const struct key *k)
{
	struct hookctx hc;

	(void)hook_begin(fs, &hc, op, req, k, NULL, NULL);
	hook_end(fs, &hc, -ENODEV);
	fuse_reply_err(req, ENODEV);
}
