/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sysfs view: a FUSE filesystem laid out like /sys for the PCI tree of
 * a dl_tree, so that lspci, setpci, shell scripts and tools written
 * against /sys/bus/pci use it as they use the kernel's.
 *
 *   bus/pci/devices/DDDD:BB:DD.F -> ../../../devices/pciDDDD:BB/.../DDDD:BB:DD.F
 *   bus/pci/drivers/NAME/{bind,unbind,DDDD:BB:DD.F -> device}
 *   bus/pci/rescan
 *   devices/pciDDDD:BB/DDDD:BB:DD.F/{config,vendor,device,...,remove,
 *                                    rescan,driver -> ...,physfn,virtfnN}
 *
 * Every operation on a device's file holds the device's active reference
 * for its duration: a removal waits for it, and once a removal has begun
 * the files fail (lookups ENOENT, I/O ENODEV). Removals and additions
 * invalidate the kernel's cached entries through a notification thread;
 * a store that changed the tree answers its writer only once the kernel
 * has applied them, and dl_fs_sync() gives the same promise to other
 * callers (the host channel): see docs/view.md.
 */
#ifndef DEVLIFE_FS_SYSFS_H
#define DEVLIFE_FS_SYSFS_H

#include <stdbool.h>
#include <stdint.h>

struct dl_tree;
struct dl_fs;
struct dl_pci_platform;
struct fuse_session;
struct dl_device;

/**
 * struct dl_fs_options - how to serve
 * @mountpoint: where to mount (an existing empty directory)
 * @allow_other: let other users than the mounting one in (allow_other)
 * @debug: FUSE debug output on stderr
 * @max_threads: most FUSE worker threads (0: DL_FS_MAX_THREADS)
 */
/** Most FUSE worker threads unless told otherwise: each store that
 * changed the tree holds one until the kernel's view agrees. */
#define DL_FS_MAX_THREADS 64

struct dl_fs_options {
	const char *mountpoint;
	bool allow_other;
	bool debug;
	unsigned int max_threads;
};

/**
 * dl_fs_new() - create the filesystem and mount it
 * @tree: the tree to serve
 * @plat: the PCI platform (rescan, remove keep the hardware), or NULL
 * @opts: options
 * @ret: where to store it
 *
 * The mountpoint is checked first, as dl_fs_check_mountpoint() does.
 *
 * Context: any thread; mounts (needs /dev/fuse and fusermount3 or root).
 * Return: 0; -EINVAL (a NULL argument, or options libfuse refuses);
 * what dl_fs_check_mountpoint() returns for the mountpoint (-ENOENT,
 * -ENOTDIR, -ENOTEMPTY, -EBUSY, -EACCES...); -ENODEV (no usable
 * /dev/fuse); the mount's own errno when mounting fails (-ENODEV if
 * libfuse gave none); -ENOMEM; -EAGAIN (no thread for invalidations).
 */
int dl_fs_new(struct dl_tree *tree, struct dl_pci_platform *plat,
	      const struct dl_fs_options *opts, struct dl_fs **ret);

/**
 * dl_fs_run() - serve requests until dl_fs_exit() or a signal
 * @fs: the filesystem
 * Context: the thread that will block serving; starts worker threads.
 * Return: 0, or a negative errno from the FUSE loop.
 */
int dl_fs_run(struct dl_fs *fs);

/**
 * dl_fs_session() - the FUSE session (for signal handlers)
 * @fs: the filesystem
 * Context: any thread. Return: the session.
 */
struct fuse_session *dl_fs_session(struct dl_fs *fs);

/**
 * dl_fs_exit() - make dl_fs_run() return
 * @fs: the filesystem
 * Context: any thread, including a signal handler's deferred work.
 */
void dl_fs_exit(struct dl_fs *fs);

/**
 * dl_fs_free() - unmount and free
 * @fs: the filesystem, or NULL
 * Context: after dl_fs_run() returned.
 */
void dl_fs_free(struct dl_fs *fs);

/**
 * dl_fs_sync() - wait until the kernel's view agrees with the tree
 * @fs: the filesystem, or NULL (nothing to wait for)
 *
 * Returns once every invalidation queued before the call has been
 * applied by the kernel: removed devices' entries are gone from its
 * caches for every process, and nothing cached stands for an old device
 * where a new one of the same name now is. Returns at once after
 * dl_fs_run() has returned (nobody answers the kernel any more).
 *
 * Context: any thread that holds no lock the FUSE request handlers take
 * (a request handler may call it: the kernel's notifications wait only
 * for directory locks that other requests' processes hold, and those
 * requests never wait for a change in the tree).
 */
void dl_fs_sync(struct dl_fs *fs);

/**
 * dl_fs_inval_mark() - how many cache invalidations were queued so far
 * @fs: the filesystem
 *
 * A tree watcher registered after the view's (dl_fs_new() registers it)
 * takes a mark in its callback: it covers what the view queued for the
 * same event. dl_fs_sync() waits for everything queued; this pair waits
 * for one event's share, from a thread that reports events in order.
 *
 * Context: any thread, tree watchers included; takes a leaf lock.
 * Return: the mark, for dl_fs_inval_wait().
 */
uint64_t dl_fs_inval_mark(struct dl_fs *fs);

/**
 * dl_fs_inval_wait() - wait until the kernel was told up to @mark
 * @fs: the filesystem
 * @mark: from dl_fs_inval_mark()
 *
 * When this returns, every invalidation queued before the mark reached
 * the kernel: a path removed then gives ENOENT, a driver link changed
 * reads anew. Returns at once once the view stopped notifying.
 *
 * Context: a thread of the caller's, never a FUSE request or a tree
 * watcher (the notifications may wait for the kernel's directory locks).
 */
void dl_fs_inval_wait(struct dl_fs *fs, uint64_t mark);

/**
 * dl_fs_inval_call() - run @fn on the invalidation thread once every
 * invalidation queued before it reached the kernel
 * @fs: the filesystem
 * @fn: what to run (must not wait for a request of this filesystem, nor
 *      for another call's end)
 * @arg: its argument
 *
 * As a dl_fs_inval_mark() then a dl_fs_inval_wait() on another thread,
 * without waking one: a tree watcher registered after the view's can
 * queue the report of an event behind the event's invalidations. Calls
 * run in the order queued. One accepted runs even if the view stops
 * meanwhile (its invalidations are then dropped, as dl_fs_inval_wait()
 * returns at once then).
 *
 * Context: any thread, tree watchers included; takes a leaf lock.
 * Return: 0; -ESHUTDOWN once the view stopped notifying (nothing
 * queued: the caller runs @fn its own way); -ENOMEM.
 */
int dl_fs_inval_call(struct dl_fs *fs, void (*fn)(void *arg), void *arg);

/**
 * dl_fs_inval_times() - when the invalidation thread last woke up with
 * work, and last had a notification returned (CLOCK_MONOTONIC ns), for
 * the event latency benchmark's per-stage figures
 * @fs: the filesystem
 * @ret: where to store them: [0] woke, [1] returned
 * Context: any thread.
 */
void dl_fs_inval_times(struct dl_fs *fs, uint64_t ret[2]);

struct dl_device;

/**
 * dl_fs_set_uevent_synth() - what a write to a device's `uevent` does
 * @fs: the filesystem
 * @fn: sends the event the write asks for (drivers/base/core.c
 *      uevent_store(): "ACTION [UUID [KEY=VALUE...]]"), returning 0 or a
 *      negative errno for the writer; called inside the device's active
 *      section
 * @arg: passed to @fn
 *
 * Without it a write is checked and changes nothing.
 *
 * Context: before dl_fs_run().
 */
void dl_fs_set_uevent_synth(struct dl_fs *fs,
			    int (*fn)(void *arg, struct dl_device *dev,
				      const char *buf, size_t len),
			    void *arg);

/**
 * dl_fs_set_settle() - what else a change waits for before it returns
 * @fs: the filesystem
 * @fn: called by dl_fs_sync() once the kernel's view agrees, before a
 *      store's write(2) or a host request returns; for the uevents that
 *      Linux sends from within the store (device_del() ->
 *      kobject_uevent()), so that they are on every listening socket
 *      when the write returns
 * @arg: passed to @fn
 *
 * Context: before dl_fs_run(); @fn runs in FUSE request threads and in
 * dl_fs_sync()'s callers, holding nothing.
 */
void dl_fs_set_settle(struct dl_fs *fs, void (*fn)(void *arg), void *arg);

/**
 * enum dl_fs_op - the operations a hook sees (struct dl_fs_hook)
 */
enum dl_fs_op {
	DL_FS_LOOKUP,   /* a name in a directory (path: the name's) */
	DL_FS_OPEN,     /* a file's open */
	DL_FS_READ,     /* an attribute's read */
	DL_FS_WRITE,    /* an attribute's, bind/unbind's or create's write */
	DL_FS_RELEASE,  /* a file's last close */
	DL_FS_READDIR,  /* a directory's listing being built (its opendir) */
};

/**
 * struct dl_fs_opinfo - one operation, as a hook sees it
 * @op: which
 * @path: the file's path under the mount, "/"-separated, no leading "/"
 *        ("devices/pci0000:00/0000:00:01.0/0000:01:00.0/config"): the
 *        canonical one (bus/pci/devices/X/config is the device's);
 *        for a lookup, the directory's path and the name
 * @pid: the calling process (as FUSE reports it)
 * @dev: the device whose active reference the operation holds while
 *       the hook runs, or NULL (none: release, bus/ directories, a
 *       driver's bind before it found its device, a refused operation)
 */
struct dl_fs_opinfo {
	enum dl_fs_op op;
	const char *path;
	int pid;
	struct dl_device *dev;
};

/**
 * struct dl_fs_hook - a scenario's view of the operations
 * @begin: called at the start of each operation, inside the active
 *         section of @op->dev, before the operation does anything; may
 *         block (a held operation keeps its device busy as a slow one
 *         would). Returns 0 to go on, or a negative errno the operation
 *         fails with. *@token is passed to @end.
 * @end: called once the operation's result is known, before it is
 *       answered (still inside the active section); must not block.
 *       @result: bytes read or written, 0, or a negative errno; a lookup
 *       reports 0 unless it was refused or failed by @begin.
 * @arg: their argument
 */
struct dl_fs_hook {
	int (*begin)(void *arg, const struct dl_fs_opinfo *op, void **token);
	void (*end)(void *arg, const struct dl_fs_opinfo *op, void *token,
		    int result);
	void *arg;
};

/**
 * dl_fs_set_hook() - see every operation (scenarios), or stop
 * @fs: the filesystem
 * @hook: the hook (copied), or NULL to remove the current one
 *
 * Without a hook an operation pays one predictable branch. Replacing or
 * removing a hook waits until no operation is between its old hook's
 * @begin and @end: the caller must first let held operations go.
 *
 * Context: any thread but a hook's; may block.
 */
void dl_fs_set_hook(struct dl_fs *fs, const struct dl_fs_hook *hook);

/**
 * dl_fs_check_mountpoint() - whether a directory can be mounted on
 * @path: the directory
 * @why: where to write a reason
 * @whylen: its size
 * Context: any thread.
 * Return: 0, or -ENOENT, -ENOTDIR, -ENOTEMPTY, -EBUSY (already a mount
 * point, stale FUSE mounts included: "Transport endpoint is not
 * connected" is reported as such), with @why filled in.
 */
int dl_fs_check_mountpoint(const char *path, char *why, size_t whylen);

#endif
