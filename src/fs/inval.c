/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's caches (docs/view.md). Attribute contents are never cached
 * (direct I/O: they are computed on each read, as sysfs does); entries
 * and attributes are cached for TIMEOUT and invalidated when a device's
 * removal starts or ends and when a driver binds or unbinds.
 *
 * The invalidations are found by the tree's watcher, in the thread that
 * makes the change (often inside a request: echo 1 > remove), queued, and
 * sent by a thread of their own. Whoever made the change waits for them
 * with dl_fs_sync() before it answers (reply_store() for a sysfs store,
 * the host channel's settle hook for a host event): the kernel applies a
 * FUSE_NOTIFY_INVAL_ENTRY before the daemon's write(2) of it returns, so
 * once the queue is drained no process can see what is gone.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "view.h"

struct inval {
	struct inval *next;
	void (*fn)(void *arg);        /* a call (dl_fs_inval_call()), or NULL */
	void *arg;
	fuse_ino_t parent;            /* entry: the directory; inode: the inode */
	char name[DL_NAME_MAX + 1];   /* entry: the name; inode: "" */
};

/* Queues @iv for the notification thread (which frees it). */
static void inval_enqueue_locked(struct dl_fs *fs, struct inval *iv)
{
	fs_assert_held(&fs->inval_lock);
	fs_assert(!fs->inval_stop && !iv->next);
	*fs->inval_tail = iv;
	fs->inval_tail = &iv->next;
	fs->inval_queued++;
	pthread_cond_signal(&fs->inval_cond);
}

/* The oldest queued invalidation, taken off the queue, or NULL. */
static struct inval *inval_dequeue_locked(struct dl_fs *fs)
{
	struct inval *iv = fs->inval_head;

	fs_assert_held(&fs->inval_lock);
	if (!iv) {
		fs_assert(fs->inval_tail == &fs->inval_head);
		return NULL;
	}
	fs->inval_head = iv->next;
	if (!fs->inval_head)
		fs->inval_tail = &fs->inval_head;
	return iv;
}

/* Invalidate @name in directory @parent (or, with "", inode @parent). */
static void inval_push(struct dl_fs *fs, fuse_ino_t parent, const char *name)
{
	struct inval *iv;

	if (!parent)
		return; /* the kernel never looked up the directory */
	iv = calloc(1, sizeof(*iv));
	if (!iv)
		return; /* the entry stays until its timeout (view.h) */
	iv->parent = parent;
	fs_assert(strlen(name) < sizeof(iv->name)); /* device names, links */
	snprintf(iv->name, sizeof(iv->name), "%s", name);
	fs_mutex_lock(&fs->inval_lock);
	if (fs->inval_stop) {
		fs_mutex_unlock(&fs->inval_lock);
		free(iv);
		return;
	}
	inval_enqueue_locked(fs, iv);
	fs_mutex_unlock(&fs->inval_lock);
}

/*
 * Give the allocator's free memory back to the system once nodes were
 * forgotten: when a burst of forgets has ended (the view idle for
 * TRIM_QUIET_MS with no node freed, at least TRIM_QUIET_MIN nodes freed
 * since the last trim), and at most once every TRIM_EVERY_S while the
 * forgets go on. The nodes and devices of a burst (lspci over thousands
 * of functions, then their removal) are allocated by the FUSE worker
 * threads and freed in the RCU callbacks' thread; glibc gives back only
 * the top of the heap by itself, so without this the daemon keeps
 * growing with the history of the tree (20,000 add/remove cycles with
 * lspci: 11.5 MB to 24.7 MB, and 9.6 MB after one malloc_trim()). With
 * the trim at most once a second only, what the last second freed stayed
 * resident after a burst until the next idle second (the churn benchmark:
 * +5.4 MB as its last batch ended, +2.3 MB 2 s later).
 */
#define TRIM_EVERY_S 1
#define TRIM_QUIET_MS 20
#define TRIM_QUIET_MIN 64

struct trim {
	uint64_t freed;         /* nodes_freed at the last trim */
	uint64_t seen;          /* nodes_freed at the last idle look */
	struct timespec last;   /* CLOCK_MONOTONIC */
};

/* Called by notify_main() without inval_lock; @quiet: no node was freed
 * for TRIM_QUIET_MS. */
static void maybe_trim(struct dl_fs *fs, struct trim *t, bool quiet)
{
	fs_assert(!fs_mutex_held(&fs->inval_lock));
	uint64_t freed = atomic_load_explicit(&fs->nodes_freed,
					      memory_order_relaxed);
	struct timespec now;

	if (freed == t->freed)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!(quiet && freed - t->freed >= TRIM_QUIET_MIN) &&
	    now.tv_sec - t->last.tv_sec < TRIM_EVERY_S)
		return;
	t->freed = freed;
	t->last = now;
	urcu_bp_barrier(); /* the forgotten nodes' RCU callbacks have run */
	malloc_trim(0);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Waits for work, trimming when idle: every TRIM_QUIET_MS while nodes
 * freed since the last trim may still be resident, else every
 * TRIM_EVERY_S. */
static void idle_wait_locked(struct dl_fs *fs, struct trim *t)
{
	uint64_t freed = atomic_load_explicit(&fs->nodes_freed,
					      memory_order_relaxed);
	struct timespec ts;

	fs_assert_held(&fs->inval_lock);
	clock_gettime(CLOCK_MONOTONIC, &ts); /* inval_cond's clock */
	if (freed != t->freed) {
		ts.tv_nsec += TRIM_QUIET_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
	} else {
		ts.tv_sec += TRIM_EVERY_S;
	}
	t->seen = freed;
	if (fs_cond_timedwait(&fs->inval_cond, &fs->inval_lock, &ts) !=
	    ETIMEDOUT)
		return;
	fs_mutex_unlock(&fs->inval_lock);
	freed = atomic_load_explicit(&fs->nodes_freed, memory_order_relaxed);
	maybe_trim(fs, t, freed == t->seen);
	fs_mutex_lock(&fs->inval_lock);
}

/* The notification thread: sends the queued invalidations, outside any
 * request, until stopped (dropping what is left then). */
static void *notify_main(void *arg)
{
	struct dl_fs *fs = arg;
	struct trim trim = { 0 };
	bool stop;

	pthread_setname_np(pthread_self(), "dl-fs-inval");
	fs_mutex_lock(&fs->inval_lock);
	for (;;) {
		struct inval *iv;

		if (!fs->inval_head && !fs->inval_stop) {
			while (!fs->inval_head && !fs->inval_stop)
				idle_wait_locked(fs, &trim);
			atomic_store_explicit(&fs->inval_woke_ns, mono_ns(),
					      memory_order_relaxed);
		}
		iv = inval_dequeue_locked(fs);
		if (!iv)
			break; /* stopped and drained */
		stop = fs->inval_stop;
		fs_mutex_unlock(&fs->inval_lock);
		if (iv->fn) {
			/* a call runs even when stopping: its caller waits */
			iv->fn(iv->arg);
			goto next;
		}
		if (!stop && fs->inval_delay_us)
			usleep(fs->inval_delay_us);
		/*
		 * Synchronous: the kernel has unhashed the entry (and dropped
		 * the unused entries below it, whose inodes it then evicts
		 * and forgets) when this returns. -ENOENT: the kernel had no
		 * such entry (any more); nothing to do.
		 */
		if (!stop && iv->name[0])
			fuse_lowlevel_notify_inval_entry(fs->se, iv->parent,
							 iv->name,
							 strlen(iv->name));
		else if (!stop)
			fuse_lowlevel_notify_inval_inode(fs->se, iv->parent, 0,
							 0);
		atomic_store_explicit(&fs->inval_sent_ns, mono_ns(),
				      memory_order_relaxed);
		if (!stop)
			maybe_trim(fs, &trim, false);
next:
		free(iv);
		fs_mutex_lock(&fs->inval_lock);
		fs->inval_done++;
		pthread_cond_broadcast(&fs->inval_done_cond);
	}
	fs_mutex_unlock(&fs->inval_lock);
	return NULL;
}

void dl_fs_sync(struct dl_fs *fs)
{
	if (!fs)
		return;
	dl_fs_inval_wait(fs, dl_fs_inval_mark(fs));
	if (fs->settle)
		fs->settle(fs->settle_arg);
}

uint64_t dl_fs_inval_mark(struct dl_fs *fs)
{
	uint64_t m;

	fs_mutex_lock(&fs->inval_lock);
	m = fs->inval_queued;
	fs_mutex_unlock(&fs->inval_lock);
	return m;
}

void dl_fs_inval_wait(struct dl_fs *fs, uint64_t mark)
{
	fs_mutex_lock(&fs->inval_lock);
	while (fs->inval_done < mark && !fs->inval_stop)
		fs_cond_wait(&fs->inval_done_cond, &fs->inval_lock);
	fs_mutex_unlock(&fs->inval_lock);
}

int dl_fs_inval_call(struct dl_fs *fs, void (*fn)(void *arg), void *arg)
{
	struct inval *iv = calloc(1, sizeof(*iv));

	if (!iv)
		return -ENOMEM;
	iv->fn = fn;
	iv->arg = arg;
	fs_mutex_lock(&fs->inval_lock);
	if (fs->inval_stop || !fs->notify_started) {
		fs_mutex_unlock(&fs->inval_lock);
		free(iv);
		return -ESHUTDOWN;
	}
	inval_enqueue_locked(fs, iv);
	fs_mutex_unlock(&fs->inval_lock);
	return 0;
}

void dl_fs_inval_times(struct dl_fs *fs, uint64_t ret[2])
{
	ret[0] = atomic_load_explicit(&fs->inval_woke_ns, memory_order_relaxed);
	ret[1] = atomic_load_explicit(&fs->inval_sent_ns, memory_order_relaxed);
}

/*
 * The answer to a store. A store that changed the tree (remove, rescan,
 * sriov_numvfs, bind, unbind, mdev create and remove) has queued the
 * kernel's invalidations as it went; the writer learns the result only
 * once the kernel has applied them, so that when its write(2) returns the
 * change is visible, and what is gone is gone, to every process, as a
 * sysfs store returns after kernfs has added or removed its nodes. A
 * store that changed nothing waits for nothing (or for what another
 * change queued just before: at most that change's few notifications).
 */
void reply_store(fuse_req_t req, int r, size_t size)
{
	dl_fs_sync(fuse_req_userdata(req));
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, size);
}

/*
 * Queue the invalidation of the entry @name in the directory @dir names,
 * if the kernel knows the node @child names: without that node the kernel
 * holds no inode, hence no positive entry, for it (a negative entry is
 * never cached: a failed lookup's reply carries no timeout). So a device
 * nobody looked at costs no notification.
 */
static void inval_known(struct dl_fs *fs, const struct key *dir,
			const char *name, const struct key *child)
{
	if (child && !ino_of_key(fs, child))
		return;
	inval_push(fs, ino_of_key(fs, dir), name);
}

/* The device's link in each driver directory the kernel has looked up. */
static void inval_drvlinks(struct dl_fs *fs, struct dl_device *dev)
{
	char names[DRVDIRS_MAX][sizeof(fs->drvdirs[0])];
	unsigned int n;

	fs_mutex_lock(&fs->lock);
	n = fs->ndrvdirs;
	memcpy(names, fs->drvdirs, n * sizeof(names[0]));
	fs_mutex_unlock(&fs->lock);
	for (unsigned int i = 0; i < n; i++) {
		struct key dk = { K_DRVDIR, NULL, 0, 0, names[i] };
		struct key lk = { K_DRVLINK, dev, 0, 0, names[i] };

		inval_known(fs, &dk, dl_device_name(dev), &lk);
	}
}

/* mdev_supported_types of a removed parent, below its directory. */
static void inval_mtypes(struct dl_fs *fs, struct dl_device *dev,
			 const struct key *dir)
{
	struct key types = { K_MTYPES, dev, 0, 0, NULL };
	unsigned int ntypes = dl_mdev_type_count(dev);

	for (unsigned int t = 0; t < ntypes; t++) {
		struct key tk = { K_MTYPE, dev, (int)t, 0, NULL };
		struct key dk = { K_MTYPE_DEVS, dev, (int)t, 0, NULL };
		const char *tname = dl_mdev_type_name(dev, t);

		if (!tname || !ino_of_key(fs, &tk))
			continue;
		for (int a = 0; a < DL_MDEV_ATTR_COUNT; a++) {
			struct key ak = { K_MTYPE_ATTR, dev, (int)t,
					  (unsigned int)a, NULL };

			inval_known(fs, &tk,
				    dl_mdev_attr_name((enum dl_mdev_type_attr)a),
				    &ak);
		}
		inval_known(fs, &tk, "devices", &dk);
		inval_known(fs, &types, tname, &tk);
	}
	if (ntypes)
		inval_known(fs, dir, "mdev_supported_types", &types);
}

/*
 * The entries inside a removed device's directory that the kernel knows.
 * Invalidating the directory drops the unused entries below it, but one
 * in use (the `remove` file its writer still holds open, a shell's
 * working directory) stays hashed under its unhashed parent, and the
 * kernel keeps such an entry, with its inode and so the node and the
 * device, after its last use until memory pressure. Unhashed now, it is
 * dropped, and its node forgotten, when that use ends.
 */
static void inval_inside(struct dl_fs *fs, struct dl_device *dev)
{
	static const struct {
		enum link_kind kind;
		const char *name;
	} links[] = {
		{ L_SUBSYSTEM, "subsystem" },
		{ L_PHYSFN, "physfn" },
		{ L_MDEV_TYPE, "mdev_type" },
	};
	struct key dir = { K_DEVDIR, dev, 0, 0, NULL };
	const char *name;

	if (!ino_of_key(fs, &dir))
		return;
	for (int i = 0; (name = attr_name(i)); i++) {
		struct key k = { K_ATTR, dev, i, 0, NULL };

		/* A fixed attribute's contents are in the page cache: drop
		 * them, so that a file of it held open reads ENODEV. */
		if (attr_fixed(i))
			inval_push(fs, ino_of_key(fs, &k), "");
		inval_known(fs, &dir, name, &k);
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		struct key k = { K_LINK, dev, (int)links[i].kind, 0, NULL };

		inval_known(fs, &dir, links[i].name, &k);
	}
	inval_mtypes(fs, dev, &dir);
}

/* Every entry naming @dev: its directory and the links to it. */
static void inval_device(struct dl_fs *fs, struct dl_device *dev, bool dead)
{
	const char *name = dl_device_name(dev);
	struct dl_device *p = fs_parent(dev);
	struct dl_mdev *m = dl_mdev_of(dev);
	struct key self = { K_DEVDIR, dev, 0, 0, NULL };
	struct key link = { K_BUSLINK, dev, 0, 0, NULL };
	struct key dir = { p ? K_DEVDIR : K_DEVICES, p, 0, 0, NULL };

	if (dead)
		inval_inside(fs, dev);
	inval_known(fs, &dir, name, &self);
	if (is_func(dev)) {
		struct key cl = { K_CLASSLINK, dev, 0, 0, NULL };

		dir = (struct key){ K_BUSPCI_DEVICES, NULL, 0, 0, NULL };
		inval_known(fs, &dir, name, &link);
		inval_drvlinks(fs, dev);
		dir = (struct key){ K_CLASS_MDEVBUS, NULL, 0, 0, NULL };
		inval_known(fs, &dir, name, &cl);
	}
	if (m) {
		struct key ml = { K_MTYPE_DEVLINK, dev, (int)m->type, 0, NULL };

		dir = (struct key){ K_BUSMDEV_DEVICES, NULL, 0, 0, NULL };
		inval_known(fs, &dir, name, &link);
		dir = (struct key){ K_MTYPE_DEVS, m->parent, (int)m->type, 0,
				    NULL };
		inval_known(fs, &dir, name, &ml);
	}
	if (is_vf(dev)) {
		struct dl_pci_func *f = dl_pci_func_of(dev);
		struct key vl = { K_LINK, f->physfn, L_VIRTFN, f->vf_index,
				  NULL };
		char vname[24];

		dir = (struct key){ K_DEVDIR, f->physfn, 0, 0, NULL };
		snprintf(vname, sizeof(vname), "virtfn%u", f->vf_index);
		inval_known(fs, &dir, vname, &vl);
	}
}

/*
 * Called by the tree as things happen, in the thread that makes them
 * happen; never blocks (the kernel is told by notify_main()).
 */
void on_event(struct dl_device *dev, const struct dl_trace_record *rec,
	      void *arg)
{
	struct dl_fs *fs = arg;
	struct key k;

	if (!dev || rec->event == DL_EV_RELEASE)
		return;
	switch (rec->event) {
	case DL_EV_REMOVE_START:
		inval_device(fs, dev, false);
		break;
	case DL_EV_DEAD:
		/* The invalidations find the nodes by their keys: first. */
		inval_device(fs, dev, true);
		node_tombstone(fs, dev);
		break;
	case DL_EV_BIND:
	case DL_EV_UNBIND: {
		fuse_ino_t dir;

		k = (struct key){ K_DEVDIR, dev, 0, 0, NULL };
		dir = ino_of_key(fs, &k);
		inval_push(fs, dir, "driver");
		if (rec->event == DL_EV_UNBIND && is_func(dev))
			inval_drvlinks(fs, dev);
		/* What else the driver decides: whether the function offers
		 * mdev types, whether it has `online`. */
		if (dl_mdev_type_count(dev))
			inval_push(fs, dir, "mdev_supported_types");
		if (is_func(dev)) {
			/* and whether it is in class/mdev_bus */
			k = (struct key){ K_CLASS_MDEVBUS, NULL, 0, 0, NULL };
			inval_push(fs, ino_of_key(fs, &k), dl_device_name(dev));
			inval_push(fs, dir, "online");
		}
		break;
	}
	default:
		break;
	}
}

void inval_init(struct dl_fs *fs)
{
	pthread_condattr_t attr;

	fs->inval_tail = &fs->inval_head;
	fs_mutex_init(&fs->inval_lock);

	/* A wall-clock step must not stretch idle_wait_locked()'s timeout. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&fs->inval_cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&fs->inval_done_cond, NULL);
	/* Fault injection for the tests: every invalidation is that much
	 * slower, which a store must wait for all the same. */
	if (getenv("DEVLIFE_TEST_INVAL_DELAY_US"))
		fs->inval_delay_us = (unsigned int)strtoul(
			getenv("DEVLIFE_TEST_INVAL_DELAY_US"), NULL, 10);
}

/* After inval_stop_join(). */
void inval_destroy(struct dl_fs *fs)
{
	fs_assert(!fs->notify_started && !fs->inval_head);
	fs_mutex_destroy(&fs->inval_lock);
	pthread_cond_destroy(&fs->inval_cond);
	pthread_cond_destroy(&fs->inval_done_cond);
}

/* Starts the thread that sends the invalidations. */
int inval_start(struct dl_fs *fs)
{
	int r = pthread_create(&fs->notify_thread, NULL, notify_main, fs);

	if (r != 0)
		return -r;
	fs->notify_started = true;
	return 0;
}

/*
 * Sends no more invalidations: nobody answers the kernel any more, and
 * one could now wait forever for a directory lock held by a process
 * whose request will never be answered. Whoever waits in dl_fs_sync()
 * returns.
 */
void inval_stop(struct dl_fs *fs)
{
	fs_mutex_lock(&fs->inval_lock);
	fs->inval_stop = true;
	pthread_cond_signal(&fs->inval_cond);
	pthread_cond_broadcast(&fs->inval_done_cond);
	fs_mutex_unlock(&fs->inval_lock);
}

/* inval_stop(), then waits for the thread (it drops what is queued). */
void inval_stop_join(struct dl_fs *fs)
{
	if (!fs->notify_started)
		return;
	inval_stop(fs);
	pthread_join(fs->notify_thread, NULL);
	fs->notify_started = false;
}
