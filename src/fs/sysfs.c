/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sysfs view over FUSE (low-level API, multi-threaded session):
 * setting it up, mounting, serving and tearing down. What it serves is
 * in the other files of src/fs (map: docs/design.md, "The sysfs view").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "view.h"

int dl_fs_check_mountpoint(const char *path, char *why, size_t whylen)
{
	struct stat st, pst;
	char parent[PATH_MAX];
	DIR *d;
	struct dirent *e;
	bool empty = true;

	if (stat(path, &st) < 0) {
		int err = errno;

		if (err == ENOTCONN)
			snprintf(why, whylen,
				 "%s is a stale FUSE mount (its daemon died); "
				 "run: fusermount3 -u %s",
				 path, path);
		else
			snprintf(why, whylen, "%s: %s", path, strerror(err));
		return err == ENOTCONN ? -EBUSY : -err;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "%s is not a directory", path);
		return -ENOTDIR;
	}
	snprintf(parent, sizeof(parent), "%s/..", path);
	if (stat(parent, &pst) == 0 &&
	    (pst.st_dev != st.st_dev || pst.st_ino == st.st_ino)) {
		struct statvfs vfs;

		/* A dead daemon's mount may still stat from cached
		 * attributes; statfs always asks the file system. */
		if (statvfs(path, &vfs) < 0 && errno == ENOTCONN)
			snprintf(why, whylen,
				 "%s is a stale FUSE mount (its daemon died); "
				 "run: fusermount3 -u %s",
				 path, path);
		else
			snprintf(why, whylen,
				 "%s is already a mount point (unmount it first)",
				 path);
		return -EBUSY;
	}
	d = opendir(path);
	if (!d) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	closedir(d);
	if (!empty) {
		snprintf(why, whylen, "%s is not empty", path);
		return -ENOTEMPTY;
	}
	return 0;
}

/* The FUSE session of @fs, with its mount options. 0, -ENOMEM or -EINVAL
 * (libfuse refused the options). */
static int session_new(struct dl_fs *fs, const struct dl_fs_options *opts)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	char optstr[256];

	snprintf(optstr, sizeof(optstr),
		 "-odefault_permissions,fsname=devlife,subtype=devlife%s",
		 opts->allow_other ? ",allow_other" : "");
	if (fuse_opt_add_arg(&args, "devlifed") ||
	    fuse_opt_add_arg(&args, optstr) ||
	    (opts->debug && fuse_opt_add_arg(&args, "-d"))) {
		fuse_opt_free_args(&args);
		return -ENOMEM;
	}
	fs->se = fuse_session_new(&args, &dl_fs_ops, sizeof(dl_fs_ops), fs);
	fuse_opt_free_args(&args);
	return fs->se ? 0 : -EINVAL;
}

/* Mounts @fs's session: 0, or the mount's errno (-ENODEV if it said
 * none: libfuse reports some failures only on stderr). */
static int session_mount(struct dl_fs *fs)
{
	errno = 0;
	if (fuse_session_mount(fs->se, fs->mountpoint) == 0) {
		fs->mounted = true;
		return 0;
	}
	return errno > 0 ? -errno : -ENODEV;
}

int dl_fs_new(struct dl_tree *tree, struct dl_pci_platform *plat,
	      const struct dl_fs_options *opts, struct dl_fs **ret)
{
	char why[PATH_MAX + 128];
	struct dl_fs *fs;
	int r;

	if (!tree || !opts || !opts->mountpoint || !ret)
		return -EINVAL;
	r = dl_fs_check_mountpoint(opts->mountpoint, why, sizeof(why));
	if (r < 0)
		return r;
	if (access("/dev/fuse", R_OK | W_OK) < 0)
		return -ENODEV;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->tree = tree;
	fs->plat = plat;
	fs->opts = *opts;
	fs->start = time(NULL);
	fs->owner_uid = geteuid();
	fs->owner_gid = getegid();
	inval_init(fs);
	hook_init(fs);
	r = nodes_init(fs);
	if (r < 0)
		goto fail;
	fs->mountpoint = realpath(opts->mountpoint, NULL);
	if (!fs->mountpoint) {
		r = -errno; /* gone since it was checked */
		goto fail;
	}
	r = session_new(fs, opts);
	if (r == 0)
		r = session_mount(fs);
	if (r == 0)
		r = inval_start(fs);
	if (r == 0)
		r = dl_tree_watch(tree, on_event, fs);
	if (r < 0)
		goto fail;
	fs->watching = true;
	*ret = fs;
	return 0;
fail:
	dl_fs_free(fs);
	return r;
}

int dl_fs_run(struct dl_fs *fs)
{
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	int r;

	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(cfg, 0);
	fuse_loop_cfg_set_idle_threads(cfg, 4);
	/*
	 * A store waits in its worker thread until the kernel has applied
	 * its invalidations, and an invalidation may wait for a directory
	 * lock held by a process whose lookup or readdir needs another
	 * worker to be answered (docs/view.md, "Deadlocks"): keep workers
	 * to spare beyond libfuse's default of 10.
	 */
	fuse_loop_cfg_set_max_threads(cfg, fs->opts.max_threads
						   ? fs->opts.max_threads
						   : DL_FS_MAX_THREADS);
	r = fuse_session_loop_mt(fs->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	inval_stop(fs);
	return r < 0 ? r : 0;
}

struct fuse_session *dl_fs_session(struct dl_fs *fs)
{
	return fs->se;
}

void dl_fs_exit(struct dl_fs *fs)
{
	if (fs && fs->se)
		fuse_session_exit(fs->se);
}

void dl_fs_free(struct dl_fs *fs)
{
	if (!fs)
		return;
	if (fs->watching)
		dl_tree_unwatch(fs->tree, on_event, fs);
	inval_stop_join(fs);
	if (fs->mounted)
		fuse_session_unmount(fs->se);
	if (fs->se)
		fuse_session_destroy(fs->se);
	nodes_free(fs);
	inval_destroy(fs);
	hook_destroy(fs);
	free(fs->mountpoint);
	free(fs);
}

void dl_fs_set_uevent_synth(struct dl_fs *fs,
			    int (*fn)(void *arg, struct dl_device *dev,
				      const char *buf, size_t len),
			    void *arg)
{
	fs->synth = fn;
	fs->synth_arg = arg;
}

void dl_fs_set_settle(struct dl_fs *fs, void (*fn)(void *arg), void *arg)
{
	fs->settle = fn;
	fs->settle_arg = arg;
}
