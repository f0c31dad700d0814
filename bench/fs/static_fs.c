/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The baseline for the sysfs benchmark: the least a libfuse low-level
 * filesystem can do to serve one 4096-byte file, /config (like libfuse's
 * hello_ll, multi-threaded as devlifed is). No caching options either
 * way: each open and read goes to the daemon, as with devlifed.
 */
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char content[4096];

static int stat_of(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == 1) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else if (ino == 2) {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		st->st_size = sizeof(content);
	} else {
		return -1;
	}
	return 0;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e = { 0 };

	if (parent != 1 || strcmp(name, "config") != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	e.ino = 2;
	e.attr_timeout = 1.0;
	e.entry_timeout = 1.0;
	stat_of(2, &e.attr);
	fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (stat_of(ino, &st) < 0)
		fuse_reply_err(req, ENOENT);
	else
		fuse_reply_attr(req, &st, 1.0);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != 2)
		fuse_reply_err(req, EISDIR);
	else
		fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	if (off >= (off_t)sizeof(content)) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > sizeof(content) - (size_t)off)
		size = sizeof(content) - (size_t)off;
	fuse_reply_buf(req, content + off, size);
}

static const struct fuse_lowlevel_ops ops = {
	.lookup = op_lookup,
	.getattr = op_getattr,
	.open = op_open,
	.read = op_read,
};

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se;
	struct fuse_loop_config *cfg;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MOUNTPOINT\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (char)i;
	fuse_opt_add_arg(&args, argv[0]);
	fuse_opt_add_arg(&args, "-odefault_permissions,fsname=static");
	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se || fuse_set_signal_handlers(se) != 0 ||
	    fuse_session_mount(se, argv[1]) != 0)
		return 1;
	cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_idle_threads(cfg, 4);
	r = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	fuse_opt_free_args(&args);
	return r ? 1 : 0;
}
