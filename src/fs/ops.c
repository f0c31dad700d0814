/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The FUSE operations. Each finds the kind of the inode it is asked about
 * and calls the kind's row (struct kind_ops); none knows the kinds.
 *
 * References. A request about an inode runs while the kernel holds a
 * lookup count on it, so its node (and its key) stays for the request;
 * the device it names is held by a reference of the request's own
 * (key_of(), dropped by key_put()): a device that dies meanwhile turns
 * its nodes into tombstones (view.h) and they drop theirs. Operations on
 * a node that names a device hold the device's active reference while
 * they build the reply: entered here (tag "sysfs") for lookup, getattr,
 * readlink, opendir and open; by the kind itself for read and write,
 * which tag it with the attribute. Once replied to, the kernel may
 * forget the inode and the node go: a handler leaves by the key it
 * copied, never by the node.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

/*
 * What inode @ino names, into @k, with a reference on its device for the
 * request (node_key(); drop it with key_put()). Returns the kind's row,
 * or NULL with *@err: ENOENT if there is no such inode, ENODEV if it is
 * a tombstone (its device was removed; @k then names no device).
 */
static const struct kind_ops *key_of(struct dl_fs *fs, fuse_ino_t ino,
				     struct key *k, int *err)
{
	const struct kind_ops *ops;
	int r = node_key(fs, ino, k);

	if (r < 0) {
		*err = -r;
		return NULL;
	}
	ops = kind_ops_of(k->kind);
	if (!ops) {
		key_put(k);
		*err = ENOENT;
	}
	return ops;
}

/* Connection setup: what we want of the kernel's caches. No reference. */
static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* Every path through bus/pci/devices crosses a symlink: let the
	 * kernel keep their targets (only `driver` ever changes, and it is
	 * invalidated when it does). */
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	/* Attribute files are generated per read; no readdir cache. */
	conn->want &= ~(unsigned int)FUSE_CAP_READDIRPLUS;
	conn->want &= ~(unsigned int)FUSE_CAP_READDIRPLUS_AUTO;
}

/* lookup of @name in @parent; holds active(parent's device) while the
 * kind looks (which enters the found device too, for its entry). */
static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct dl_fs *fs = fuse_req_userdata(req);
	const struct kind_ops *ops;
	struct hookctx hc;
	struct key dir;
	int r;

	ops = key_of(fs, parent, &dir, &r);
	if (!ops) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (!ops->lookup || node_enter((struct dl_device *)dir.dev) < 0) {
		fuse_reply_err(req, ENOENT);
		key_put(&dir);
		return;
	}
	r = hook_begin(fs, &hc, DL_FS_LOOKUP, req, &dir, name,
		       (struct dl_device *)dir.dev);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		ops->lookup(req, fs, &dir, name);
	/* the kind replied: a lookup's result is not known here */
	hook_end(fs, &hc, r);
	node_exit((struct dl_device *)dir.dev);
	key_put(&dir);
}

/* The kernel forgets @nlookup lookups of @ino: may drop the node and its
 * lifetime reference. No active reference. */
static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	node_forget(fuse_req_userdata(req), ino, nlookup);
	fuse_reply_none(req);
}

/* op_forget for many inodes at once. No active reference. */
static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct dl_fs *fs = fuse_req_userdata(req);

	for (size_t i = 0; i < count; i++)
		node_forget(fs, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/* stat of any inode; holds active(its device). */
static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct dl_fs *fs = fuse_req_userdata(req);
	const struct kind_ops *ops;
	struct stat st;
	struct key k;
	double timeout;
	int r;

	(void)fi;
	ops = key_of(fs, ino, &k, &r);
	if (!ops && r == ENODEV) { /* a tombstone */
		ops = kind_ops_of(k.kind);
		r = ops && ops->stat_gone ? ops->stat_gone(fs, &k, &st)
					  : -ENOENT;
		st.st_ino = ino;
		if (r < 0)
			fuse_reply_err(req, -r);
		else
			fuse_reply_attr(req, &st, TIMEOUT);
		return;
	}
	if (!ops) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (node_enter((struct dl_device *)k.dev) < 0)
		r = -ENOENT;
	else {
		r = node_stat(fs, ino, &k, &st);
		node_exit((struct dl_device *)k.dev);
	}
	timeout = ops->timeout ? ops->timeout(&k) : TIMEOUT;
	key_put(&k);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, timeout);
}

/* truncate/utimes of an attribute file: a no-op, then op_getattr (which
 * holds active(its device)). */
static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	/* Only truncation of attribute files (O_TRUNC on kernels that do
	 * not pass it in open): nothing to truncate, as in sysfs. */
	if (to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME |
		       FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
		       FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	(void)attr;
	op_getattr(req, ino, fi);
}

/* A link's target; holds active(the device the link belongs to). */
static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct dl_fs *fs = fuse_req_userdata(req);
	char target[PATH_MAX];
	const struct kind_ops *ops;
	struct key k;
	int r;

	ops = key_of(fs, ino, &k, &r);
	if (!ops) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (node_enter((struct dl_device *)k.dev) < 0)
		r = -ENOENT;
	else {
		r = ops->readlink ? ops->readlink(fs, &k, target,
						  sizeof(target))
				  : -EINVAL;
		node_exit((struct dl_device *)k.dev);
	}
	key_put(&k);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_readlink(req, target);
}

/* Directory listings: built at opendir into a buffer of dirents, in the
 * kernel's format (struct fuse_dirent: ino, off, namelen, type, name). */
struct dirent_hdr {
	uint64_t ino;
	uint64_t off;
	uint32_t namelen;
	uint32_t type;
};

void dirbuf_add(struct dirbuf *b, const char *name, fuse_ino_t ino,
		       mode_t mode)
{
	/* Some readers skip entries with inode 0: give every entry one. */
	struct stat st = { .st_ino = ino ? ino : 0xffffffffu, .st_mode = mode };
	size_t need;

	if (b->err)
		return;
	need = fuse_add_direntry(b->req, NULL, 0, name, NULL, 0);
	if (b->size + need > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		char *p;

		while (cap < b->size + need)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	fuse_add_direntry(b->req, b->p + b->size, need, name, &st,
			  (off_t)(b->size + need));
	b->size += need;
}

static void dirbuf_free(struct dirbuf *b)
{
	free(b->p);
	free(b);
}

/* A directory's listing, built whole here and kept in fi->fh for
 * readdir; holds active(the directory's device) while building it. */
static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct dl_fs *fs = fuse_req_userdata(req);
	struct dirbuf *b = calloc(1, sizeof(*b));
	const struct kind_ops *ops;
	struct key k;

	if (!b) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	b->req = req;
	dirbuf_add(b, ".", ino, S_IFDIR);
	dirbuf_add(b, "..", 0, S_IFDIR);
	ops = key_of(fs, ino, &k, &b->err);
	if (!ops)
		b->err = ENOENT;
	else if (!ops->list)
		b->err = ENOTDIR;
	else if (node_enter((struct dl_device *)k.dev) < 0)
		b->err = ENOENT;
	else {
		struct hookctx hc;
		int r = hook_begin(fs, &hc, DL_FS_READDIR, req, &k, NULL,
				   (struct dl_device *)k.dev);

		if (r < 0)
			b->err = -r;
		else
			ops->list(fs, &k, b);
		hook_end(fs, &hc, -b->err);
		node_exit((struct dl_device *)k.dev);
	}
	if (ops)
		key_put(&k);
	if (b->err) {
		int err = b->err;

		dirbuf_free(b);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)b;
	if (fuse_reply_open(req, fi) != 0)
		dirbuf_free(b);
}

/* Part of the listing opendir built. No reference: the listing is ours. */
static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct dirbuf *b = (struct dirbuf *)(uintptr_t)fi->fh;
	size_t end = (size_t)off, lim = (size_t)off + size, len;
	char *copy;

	(void)ino;
	if ((size_t)off >= b->size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	/* Whole entries only. fuse_add_direntry() stored each entry's end
	 * as its offset: walk to the last boundary that fits. */
	if (lim > b->size)
		lim = b->size;
	while (end < lim) {
		const struct dirent_hdr *h = (const void *)(b->p + end);

		if ((size_t)h->off > lim)
			break;
		end = (size_t)h->off;
	}
	/*
	 * Reply from a copy: once the kernel has the reply, the reader may
	 * close the directory and our releasedir free the listing while
	 * this thread is still returning from writev() (the sanitizers'
	 * writev interceptors read the buffer after the call and would see
	 * freed memory).
	 */
	len = end - (size_t)off;
	copy = malloc(len ? len : 1);
	if (!copy) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memcpy(copy, b->p + off, len);
	fuse_reply_buf(req, copy, len);
	free(copy);
}

/* Frees opendir's listing. No reference. */
static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	(void)ino;
	dirbuf_free((struct dirbuf *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* Opens a file (direct I/O: contents computed per read, as sysfs; or
 * cached, if fixed); holds active(its device) to check it is still
 * there. */
static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dl_fs *fs = fuse_req_userdata(req);
	const struct kind_ops *ops;
	struct hookctx hc;
	struct key k;
	bool fixed;
	int r;

	ops = key_of(fs, ino, &k, &r);
	if (!ops) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (!ops->read && !ops->write)
		r = -EISDIR;
	else if (node_enter((struct dl_device *)k.dev) < 0)
		r = -ENOENT;
	else {
		r = hook_begin(fs, &hc, DL_FS_OPEN, req, &k, NULL,
			       (struct dl_device *)k.dev);
		hook_end(fs, &hc, r);
		node_exit((struct dl_device *)k.dev);
	}
	fixed = r >= 0 && ops->fixed && ops->fixed(&k);
	key_put(&k);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	/*
	 * What can change is read through direct I/O: every read reaches
	 * the daemon, as every read of a sysfs file calls its show().
	 * What never changes for the device's life is read through the
	 * page cache and kept between opens (FOPEN_KEEP_CACHE); the
	 * device's removal drops those pages (inval_inside()), and a device
	 * added again under the same name has new inodes.
	 */
	fi->direct_io = !fixed;
	fi->keep_cache = fixed;
	fi->nonseekable = 0;
	fuse_reply_open(req, fi);
}

/* Reads a file; the kind holds active(its device), tagged with the
 * attribute, until it has replied. */
static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct dl_fs *fs = fuse_req_userdata(req);
	const struct kind_ops *ops;
	struct key k;
	int err;

	(void)fi;
	ops = key_of(fs, ino, &k, &err);
	if (!ops) {
		fuse_reply_err(req, err); /* a tombstone's: ENODEV */
		return;
	}
	if (!ops->read)
		fuse_reply_err(req, EACCES);
	else
		ops->read(req, fs, &k, size, off);
	key_put(&k);
}

/* Writes a file (root only); the kind holds active(its device), tagged
 * with the attribute, until it has replied (`remove`: until it drops
 * it to remove its own device). */
static void op_write(fuse_req_t req, fuse_ino_t ino, const char *data,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct dl_fs *fs = fuse_req_userdata(req);
	const struct kind_ops *ops;
	struct key k;
	int err;

	(void)fi;
	if (!privileged(fs, req)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	ops = key_of(fs, ino, &k, &err);
	if (!ops && err == ENODEV) { /* a tombstone */
		ops = kind_ops_of(k.kind);
		if (ops && ops->write_gone)
			ops->write_gone(req, fs, &k, data, size);
		else
			fuse_reply_err(req, ENODEV);
		return;
	}
	if (!ops)
		fuse_reply_err(req, err);
	else if (!ops->write)
		fuse_reply_err(req, EISDIR);
	else
		ops->write(req, fs, &k, data, size, off);
	if (ops)
		key_put(&k);
}

/* Closes a file: nothing to free (no per-open state). No reference
 * (a scenario's hook sees it without one). */
static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct dl_fs *fs = fuse_req_userdata(req);
	struct hookctx hc;
	struct key k;
	int r = 0;

	(void)fi;
	if (atomic_load_explicit(&fs->hook_on, memory_order_relaxed) &&
	    key_of(fs, ino, &k, &r)) {
		r = hook_begin(fs, &hc, DL_FS_RELEASE, req, &k, NULL, NULL);
		hook_end(fs, &hc, r);
		key_put(&k);
	}
	fuse_reply_err(req, r < 0 ? -r : 0);
}

/* statfs of the mount: fixed figures. No reference. */
static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st = { .f_bsize = 4096, .f_namemax = 255 };

	(void)ino;
	fuse_reply_statfs(req, &st);
}

/*
 * The namespace is the tree's; nothing is created, removed or renamed
 * through it. The errors are sysfs's: creating a file in a directory
 * without a create operation is EACCES (the VFS's lookup_open()), every
 * other change EPERM (vfs_mkdir(), vfs_unlink(), kernfs_iop_rename()
 * and the like). Left unimplemented, FUSE would say ENOSYS.
 */
/* create: EACCES, as lookup_open() in a kernfs directory. No reference. */
static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	(void)parent, (void)name, (void)mode, (void)fi;
	fuse_reply_err(req, EACCES);
}

/* mknod: EPERM. No reference. */
static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	(void)parent, (void)name, (void)mode, (void)rdev;
	fuse_reply_err(req, EPERM);
}

/* mkdir: EPERM (kernfs has no mkdir for sysfs). No reference. */
static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	(void)parent, (void)name, (void)mode;
	fuse_reply_err(req, EPERM);
}

/* unlink and rmdir: EPERM. No reference. */
static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

/* symlink: EPERM. No reference. */
static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	(void)link, (void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

/* rename: EPERM (kernfs_iop_rename() without syscall_ops). No
 * reference. */
static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	(void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
	fuse_reply_err(req, EPERM);
}

/* link: EPERM. No reference. */
static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	(void)ino, (void)newparent, (void)newname;
	fuse_reply_err(req, EPERM);
}

const struct fuse_lowlevel_ops dl_fs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.release = op_release,
	.statfs = op_statfs,
	.create = op_create,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_unlink,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
};
