/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Attributes of inodes and the replies that carry them: getattr's and
 * lookup's (an entry). Each kind computes its own (struct kind_ops
 * .stat); the helpers here fill in what all share.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "view.h"

/* Fills @st for an inode of @mode and @size (st_ino: by node_stat()). */
void fill_stat(struct dl_fs *fs, fuse_ino_t ino, mode_t mode, off_t size,
	       struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_size = size;
	st->st_blksize = 4096;
	st->st_uid = fs->owner_uid;
	st->st_gid = fs->owner_gid;
	st->st_atime = st->st_mtime = st->st_ctime = fs->start;
}

/*
 * Whether the request comes from the view's root: root, or the user
 * who serves it. Every file shows as that user's: a user who serves
 * their own tree drives it as root drives the kernel's sysfs (through a
 * user namespace that maps them to root, devlife-run's, it is root's).
 */
bool privileged(struct dl_fs *fs, fuse_req_t req)
{
	uid_t uid = fuse_req_ctx(req)->uid;

	return uid == 0 || uid == fs->owner_uid;
}

/* The cache time of a device's directory and bus link (view.h). */
double timeout_device(const struct key *k)
{
	(void)k;
	return DEVICE_TIMEOUT;
}

/* No cache time: entries whose existence or name can change without a
 * notification (IOMMU groups, slots) are looked up each time. */
double no_cache(const struct key *k)
{
	(void)k;
	return 0;
}

/* A directory that exists as long as its node. */
int stat_dir(struct dl_fs *fs, const struct key *k, struct stat *st)
{
	(void)k;
	fill_stat(fs, 0, S_IFDIR | 0755, 0, st);
	return 0;
}

/* A write-only attribute that exists as long as its node. */
int stat_wronly(struct dl_fs *fs, const struct key *k, struct stat *st)
{
	(void)k;
	fill_stat(fs, 0, S_IFREG | 0200, ATTR_MAX, st);
	return 0;
}

/* A link whose size is its target's length, as its kind's @readlink
 * gives it; the link exists while that finds a target. */
int stat_symlink(struct dl_fs *fs, const struct key *k, struct stat *st)
{
	char target[PATH_MAX];
	int r;

	r = kind_ops_of(k->kind)->readlink(fs, k, target, sizeof(target));
	if (r < 0)
		return r;
	fill_stat(fs, 0, S_IFLNK | 0777, (off_t)strlen(target), st);
	return 0;
}

/*
 * stat of the inode @ino naming @k. Called inside the active section of
 * the device @k names, if any. Returns 0 or -ENOENT.
 */
int node_stat(struct dl_fs *fs, fuse_ino_t ino, const struct key *k,
	      struct stat *st)
{
	const struct kind_ops *ops = kind_ops_of(k->kind);
	int r;

	if (!ops || !ops->stat)
		return -ENOENT;
	r = ops->stat(fs, k, st);
	st->st_ino = ino;
	return r;
}

/*
 * Reply to a lookup with the inode naming @k, creating its node. Called
 * inside the active section of the device @k names, if any.
 */
void reply_entry(fuse_req_t req, struct dl_fs *fs, const struct key *k)
{
	const struct kind_ops *ops = kind_ops_of(k->kind);
	struct fuse_entry_param e;
	int r;

	memset(&e, 0, sizeof(e));
	r = node_stat(fs, 0, k, &e.attr);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	e.ino = node_get(fs, k);
	if (!e.ino) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	e.attr.st_ino = e.ino;
	e.attr_timeout = e.entry_timeout = ops->timeout ? ops->timeout(k)
							: TIMEOUT;
	if (fuse_reply_entry(req, &e) != 0)
		node_forget(fs, e.ino, 1); /* the kernel never got it */
}

/* Reply to a lookup with a static directory or file. */
void reply_static(fuse_req_t req, struct dl_fs *fs, enum kind kind)
{
	struct key k = { .kind = kind };

	reply_entry(req, fs, &k);
}

/* A reply of @text from @off, at most @size bytes. */
void reply_text(fuse_req_t req, const char *text, size_t len, size_t size,
		off_t off)
{
	size_t n = off >= 0 && (size_t)off < len ? len - (size_t)off : 0;

	if (n > size)
		n = size;
	fuse_reply_buf(req, n ? text + off : NULL, n);
}
