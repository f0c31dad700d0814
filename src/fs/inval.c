/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's caches. Attribute contents are never cached (direct I/O:
 * they are computed on each read, as sysfs does); entries and attributes
 * are cached for TIMEOUT and invalidated when a device's removal starts
 * or ends and when a driver binds or unbinds. The invalidations come
 * from the tree's watcher, possibly inside a request (echo 1 > remove),
 * so they are handed to a thread of their own: notifying the kernel from
 * inside a request can deadlock on its directory locks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

struct inval {
	struct inval *next;
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
		return; /* the entry expires after TIMEOUT anyway */
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

/* The notification thread: sends the queued invalidations, outside any
 * request, until stopped (dropping what is left then). */
static void *notify_main(void *arg)
{
	struct dl_fs *fs = arg;
	bool stop;

	pthread_setname_np(pthread_self(), "dl-fs-inval");
	fs_mutex_lock(&fs->inval_lock);
	for (;;) {
		struct inval *iv;

		while (!fs->inval_head && !fs->inval_stop)
			fs_cond_wait(&fs->inval_cond, &fs->inval_lock);
		iv = inval_dequeue_locked(fs);
		if (!iv)
			break; /* stopped and drained */
		stop = fs->inval_stop;
		fs_mutex_unlock(&fs->inval_lock);
		if (!stop && iv->name[0])
			fuse_lowlevel_notify_inval_entry(fs->se, iv->parent,
							 iv->name,
							 strlen(iv->name));
		else if (!stop)
			fuse_lowlevel_notify_inval_inode(fs->se, iv->parent, 0,
							 0);
		free(iv);
		fs_mutex_lock(&fs->inval_lock);
	}
	fs_mutex_unlock(&fs->inval_lock);
	return NULL;
}

/* Called by the tree as things happen (never blocks). */
void on_event(struct dl_device *dev, const struct dl_trace_record *rec,
		     void *arg)
{
	struct dl_fs *fs = arg;
	struct key k;
	struct dl_device *p;

	if (!dev || rec->event == DL_EV_RELEASE)
		return;
	switch (rec->event) {
	case DL_EV_REMOVE_START:
	case DL_EV_DEAD:
		p = fs_parent(dev);
		if (p) {
			k = (struct key){ K_DEVDIR, p, 0, 0, NULL };
			inval_push(fs, ino_of_key(fs, &k), dl_device_name(dev));
		} else {
			inval_push(fs, K_DEVICES, dl_device_name(dev));
		}
		if (is_func(dev))
			inval_push(fs, K_BUSPCI_DEVICES, dl_device_name(dev));
		if (is_vf(dev) && rec->event == DL_EV_DEAD) {
			struct dl_pci_func *f = dl_pci_func_of(dev);
			char name[24];

			k = (struct key){ K_DEVDIR, f->physfn, 0, 0, NULL };
			snprintf(name, sizeof(name), "virtfn%u", f->vf_index);
			inval_push(fs, ino_of_key(fs, &k), name);
		}
		break;
	case DL_EV_BIND:
	case DL_EV_UNBIND: {
		fuse_ino_t dir;

		k = (struct key){ K_DEVDIR, dev, 0, 0, NULL };
		dir = ino_of_key(fs, &k);
		inval_push(fs, dir, "driver");
		/* What else the driver decides: whether the function offers
		 * mdev types, whether it has `online`. */
		if (dl_mdev_type_count(dev))
			inval_push(fs, dir, "mdev_supported_types");
		if (is_func(dev))
			inval_push(fs, dir, "online");
		break;
	}
	default:
		break;
	}
}

void inval_init(struct dl_fs *fs)
{
	fs->inval_tail = &fs->inval_head;
	fs_mutex_init(&fs->inval_lock);
	pthread_cond_init(&fs->inval_cond, NULL);
}

/* After inval_stop_join(). */
void inval_destroy(struct dl_fs *fs)
{
	fs_assert(!fs->notify_started && !fs->inval_head);
	fs_mutex_destroy(&fs->inval_lock);
	pthread_cond_destroy(&fs->inval_cond);
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
 * whose request will never be answered.
 */
void inval_stop(struct dl_fs *fs)
{
	fs_mutex_lock(&fs->inval_lock);
	fs->inval_stop = true;
	pthread_cond_signal(&fs->inval_cond);
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
