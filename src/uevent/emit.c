/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's uevents (emit.h): a tree watcher that builds each event
 * and queues it, and one thread that sends the queue in order.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <devlife/devlife.h>

#include "device.h"
#include "mdev.h"
#include "emit.h"
#include "netlink.h"
#include "pci.h"
#include "udevdb.h"

#define NBUCKETS 256

/*
 * Per-stage times of each "remove" (CLOCK_MONOTONIC ns), written as a
 * line to the file DEVLIFE_UEVENT_STAGES names: the event latency
 * benchmark's breakdown (docs/performance.md). Without it, nothing is
 * timed.
 */
enum stage {
	ST_HOST,        /* a host event started on the bus's queue */
	ST_REMOVE,      /* a removal started (DL_EV_REMOVE_START) */
	ST_QUEUED,      /* this event queued (DL_EV_DEAD's watcher) */
	ST_PICKED,      /* the sending thread took it (the view's, or ours) */
	ST_INVAL_WOKE,  /* the view's invalidation thread last woke */
	ST_INVAL_SENT,  /* its last notification returned */
	ST_WAITED,      /* the wait for the view's invalidations returned */
	ST_KERNEL,      /* the kernel's copy sent, its SEQNUM read back */
	ST_DB,          /* udev's database written */
	ST_UDEV,        /* udev's copy sent */
	ST_COUNT
};

/* A queued event. */
struct item {
	struct item *next;
	struct dl_uevent ev;
	uint64_t mark;      /* the view's invalidations to wait for */
	uint64_t usec;      /* udev's USEC_INITIALIZED */
	uint64_t ticket;    /* its place in the queue */
	struct dl_uevent_emitter *e; /* when deferred */
	uint64_t st[ST_COUNT]; /* with a stage log */
};

/* What udev remembers of a device: when it first saw it. */
struct devrec {
	struct devrec *next;
	uint64_t id;
	uint64_t usec;
};

struct dl_uevent_emitter {
	struct dl_tree *tree;
	struct dl_uevent_emitter_opts o;
	char *udev_db;
	struct dl_uevent_sock *sock;        /* the thread's alone */
	pthread_t thread;
	bool started, watching;
	uint64_t start_usec;                /* written once */

	pthread_mutex_t lock;               /* everything below */
	pthread_cond_t more;                /* queue not empty, or stop */
	pthread_cond_t progress;            /* done moved */
	struct item *head, **tail;
	uint64_t queued, done;
	bool stop;
	bool own_thread;                    /* no more deferred (opts.defer) */
	struct devrec *recs[NBUCKETS];
	struct dl_uevent_emitter_stats stats;

	FILE *stages;                       /* the thread's alone, or NULL */
	_Atomic uint64_t st_host, st_remove; /* with a stage log */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* USEC_INITIALIZED of a device (lock held): set at its add, kept until
 * its remove; a device that was there before the emitter started was
 * "initialized" when it started (udev's coldplug). */
static uint64_t rec_usec(struct dl_uevent_emitter *e, uint64_t id, bool add,
			 bool remove)
{
	struct devrec **pp = &e->recs[id % NBUCKETS], *r;
	uint64_t usec;

	for (; (r = *pp); pp = &r->next)
		if (r->id == id)
			break;
	if (!r && !add)
		return e->start_usec;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return now_usec();
		r->id = id;
		r->usec = now_usec();
		r->next = e->recs[id % NBUCKETS];
		e->recs[id % NBUCKETS] = r;
		return r->usec;
	}
	usec = r->usec;
	if (remove) {
		*pp = r->next;
		free(r);
	}
	return usec;
}

static void run_deferred(void *arg);

/* Queue a built event; returns its ticket, 0 if it could not be queued. */
static uint64_t enqueue(struct dl_uevent_emitter *e, struct item *it,
			uint64_t id, bool add, bool remove)
{
	uint64_t t = 0;

	it->mark = e->o.mark ? e->o.mark(e->o.fence_arg) : 0;
	if (e->stages) {
		it->st[ST_HOST] = atomic_load_explicit(&e->st_host,
						       memory_order_relaxed);
		it->st[ST_REMOVE] = atomic_load_explicit(
			&e->st_remove, memory_order_relaxed);
		it->st[ST_QUEUED] = now_ns();
	}
	pthread_mutex_lock(&e->lock);
	if (!e->stop) {
		it->usec = rec_usec(e, id, add, remove);
		it->ticket = t = ++e->queued;
		it->e = e;
		/* Under the lock: tickets in the order the calls run. */
		if (e->own_thread || !e->o.defer ||
		    e->o.defer(e->o.fence_arg, run_deferred, it) < 0) {
			/* from now on: never one deferred past it */
			e->own_thread = true;
			*e->tail = it;
			e->tail = &it->next;
			pthread_cond_signal(&e->more);
		}
	}
	pthread_mutex_unlock(&e->lock);
	if (!t)
		free(it);
	return t;
}

static uint64_t queue_event(struct dl_uevent_emitter *e, struct dl_device *dev,
			    uint64_t id, const char *action,
			    const struct dl_uevent *extra, bool with_driver)
{
	struct item *it = calloc(1, sizeof(*it));
	/* The tree's own add and remove (a synthesized one carries
	 * SYNTH_UUID): udev keeps USEC_INITIALIZED across synthesized
	 * events, as it keeps it from its database. */
	bool add = !strcmp(action, "add") && !extra;
	bool remove = !strcmp(action, "remove") && !extra;

	if (!it)
		return 0;
	if (dl_uevent_of(dev, action, extra, with_driver, &it->ev) < 0) {
		free(it);
		return 0;
	}
	return enqueue(e, it, id, add, remove);
}

/* The tree's events, in the thread making the change (must not block). */
static void on_event(struct dl_device *dev, const struct dl_trace_record *rec,
		     void *arg)
{
	struct dl_uevent_emitter *e = arg;
	struct dl_uevent extra = { .len = 0 };
	const char *state = NULL;

	if (e->stages && rec->event == DL_EV_HOST)
		atomic_store_explicit(&e->st_host, now_ns(),
				      memory_order_relaxed);
	if (e->stages && rec->event == DL_EV_REMOVE_START)
		atomic_store_explicit(&e->st_remove, now_ns(),
				      memory_order_relaxed);
	if (!dev || (!dl_pci_func_of(dev) && !dl_mdev_of(dev)))
		return;
	switch (rec->event) {
	case DL_EV_ADD:
		queue_event(e, dev, rec->dev_id, "add", NULL, false);
		break;
	case DL_EV_BIND:
		queue_event(e, dev, rec->dev_id, "bind", NULL, true);
		break;
	case DL_EV_UNBIND:
		queue_event(e, dev, rec->dev_id, "unbind", NULL, false);
		break;
	case DL_EV_ONLINE:
	case DL_EV_OFFLINE:
		queue_event(e, dev, rec->dev_id,
			    rec->event == DL_EV_ONLINE ? "online" : "offline",
			    NULL, true);
		break;
	case DL_EV_CHANGE:
		if (rec->arg == DL_PCI_CHANGE_MDEV_REGISTERED)
			state = "registered";
		else if (rec->arg == DL_PCI_CHANGE_MDEV_UNREGISTERED)
			state = "unregistered";
		if (state && dl_uevent_add(&extra, "MDEV_STATE=%s", state))
			break;
		queue_event(e, dev, rec->dev_id, "change", &extra, true);
		break;
	case DL_EV_DEAD:
		queue_event(e, dev, rec->dev_id, "remove", NULL, false);
		break;
	default:
		break;
	}
}

static void stamp(struct dl_uevent_emitter *e, struct item *it, enum stage s)
{
	if (e->stages)
		it->st[s] = now_ns();
}

/* The stage log's line for a "remove", once sent. */
static void log_stages(struct dl_uevent_emitter *e, struct item *it)
{
	const char *action = dl_uevent_get(&it->ev, "ACTION");

	if (!e->stages || !action || strcmp(action, "remove"))
		return;
	fprintf(e->stages, "%s", dl_uevent_get(&it->ev, "DEVPATH"));
	for (int s = 0; s < ST_COUNT; s++)
		fprintf(e->stages, " %" PRIu64, it->st[s]);
	fprintf(e->stages, "\n");
	fflush(e->stages);
}

static void send_failed(struct dl_uevent_emitter *e, int r)
{
	pthread_mutex_lock(&e->lock);
	e->stats.failed++;
	e->stats.last_error = r;
	pthread_mutex_unlock(&e->lock);
}

/*
 * Send one event as udevd's worker follows the kernel: the kernel's copy
 * (broadcast to every listener before the send returns), then udev's
 * database entry (device_update_db()), then udev's copy
 * (device_monitor_send()): a libudev listener that reads the database on
 * udev's copy finds the device initialized.
 */
static void send_one(struct dl_uevent_emitter *e, struct item *it, bool wait)
{
	struct dl_uevent k = it->ev, u;
	uint64_t seq = 0;
	int r = 0;

	if (wait && e->o.wait)
		e->o.wait(e->o.fence_arg, it->mark);
	if (e->stages && e->o.inval_times) {
		uint64_t t[2];

		e->o.inval_times(e->o.fence_arg, t);
		it->st[ST_INVAL_WOKE] = t[0];
		it->st[ST_INVAL_SENT] = t[1];
	}
	stamp(e, it, ST_WAITED);
	if (e->sock)
		r = dl_uevent_send_kernel(e->sock, &it->ev, &seq);
	stamp(e, it, ST_KERNEL);
	if (r < 0) {
		send_failed(e, r);
		return;
	}
	if (!seq) /* no kernel: number them ourselves, for the tap */
		seq = it->ticket;
	u = it->ev;
	if (dl_uevent_add(&k, "SEQNUM=%" PRIu64, seq) ||
	    dl_uevent_add(&u, "SEQNUM=%" PRIu64, seq) ||
	    dl_uevent_add(&u, "USEC_INITIALIZED=%" PRIu64, it->usec))
		return;
	if (e->udev_db)
		dl_udevdb_update(e->udev_db, &u);
	stamp(e, it, ST_DB);
	if (e->sock && (r = dl_uevent_send_udev(e->sock, &u)) < 0) {
		send_failed(e, r);
		return;
	}
	stamp(e, it, ST_UDEV);
	log_stages(e, it);
	if (e->o.tap)
		e->o.tap(e->o.tap_arg, &k, &u);
	pthread_mutex_lock(&e->lock);
	e->stats.sent++;
	pthread_mutex_unlock(&e->lock);
}

/*
 * A deferred event (opts.defer), on the thread that runs it: what its
 * mark covered reached the kernel, and every earlier event was sent
 * (deferred before it, in ticket order: enqueue() defers under the
 * lock, and never again once one went to the emitter's own queue).
 */
static void run_deferred(void *arg)
{
	struct item *it = arg;
	struct dl_uevent_emitter *e = it->e;

	stamp(e, it, ST_PICKED);
	send_one(e, it, false);
	pthread_mutex_lock(&e->lock);
	e->done = it->ticket;
	pthread_cond_broadcast(&e->progress);
	pthread_mutex_unlock(&e->lock);
	free(it);
}

static void *emit_main(void *arg)
{
	struct dl_uevent_emitter *e = arg;

	pthread_setname_np(pthread_self(), "dl-uevent");
	pthread_mutex_lock(&e->lock);
	for (;;) {
		struct item *it;

		while (!e->head && !e->stop)
			pthread_cond_wait(&e->more, &e->lock);
		it = e->head;
		if (!it)
			break; /* stopped and drained */
		e->head = it->next;
		if (!e->head)
			e->tail = &e->head;
		/* the events deferred before it went out first */
		while (e->done + 1 < it->ticket)
			pthread_cond_wait(&e->progress, &e->lock);
		pthread_mutex_unlock(&e->lock);
		stamp(e, it, ST_PICKED);
		send_one(e, it, true);
		pthread_mutex_lock(&e->lock);
		e->done = it->ticket;
		pthread_cond_broadcast(&e->progress);
		free(it);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

static void wait_done(struct dl_uevent_emitter *e, uint64_t ticket)
{
	pthread_mutex_lock(&e->lock);
	while (e->done < ticket)
		pthread_cond_wait(&e->progress, &e->lock);
	pthread_mutex_unlock(&e->lock);
}

void dl_uevent_emitter_flush(struct dl_uevent_emitter *e)
{
	uint64_t t;

	pthread_mutex_lock(&e->lock);
	t = e->queued;
	pthread_mutex_unlock(&e->lock);
	wait_done(e, t);
}

int dl_uevent_emitter_synth(struct dl_uevent_emitter *e, struct dl_device *dev,
			    const char *buf, size_t len)
{
	struct dl_uevent vars;
	char action[9];
	uint64_t t;
	int r = dl_uevent_synth_parse(buf, len, action, &vars);

	if (r < 0)
		return r;
	if (!dl_pci_func_of(dev) && !dl_mdev_of(dev))
		return -ENOTSUP;
	t = queue_event(e, dev, dl_device_id(dev), action, &vars, true);
	if (!t)
		return -ESHUTDOWN;
	wait_done(e, t);
	return 0;
}

void dl_uevent_emitter_stats(struct dl_uevent_emitter *e,
			     struct dl_uevent_emitter_stats *ret)
{
	pthread_mutex_lock(&e->lock);
	*ret = e->stats;
	pthread_mutex_unlock(&e->lock);
}

/* udev's coldplug: every device there at start gets its database entry
 * (as `udevadm trigger` at boot makes udev write them). */
static int coldplug_one(struct dl_device *dev, void *arg)
{
	struct dl_uevent_emitter *e = arg;
	struct dl_uevent ev;

	if (dl_uevent_of(dev, "add", NULL, true, &ev) == 0 &&
	    dl_uevent_add(&ev, "USEC_INITIALIZED=%" PRIu64, e->start_usec) == 0)
		dl_udevdb_update(e->udev_db, &ev);
	return dl_device_for_each_child(dev, coldplug_one, e) < 0 ? -1 : 0;
}

int dl_uevent_emitter_new(struct dl_tree *tree,
			  const struct dl_uevent_emitter_opts *opts,
			  struct dl_uevent_emitter **ret)
{
	struct dl_uevent_emitter *e;
	int r;

	if (!tree || !opts || !ret)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->tree = tree;
	e->o = *opts;
	e->tail = &e->head;
	e->start_usec = now_usec();
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->more, NULL);
	pthread_cond_init(&e->progress, NULL);
	if (getenv("DEVLIFE_UEVENT_STAGES") &&
	    !(e->stages = fopen(getenv("DEVLIFE_UEVENT_STAGES"), "we"))) {
		r = -errno;
		goto fail;
	}
	r = -ENOMEM;
	if (opts->udev_db && !(e->udev_db = strdup(opts->udev_db)))
		goto fail;
	if (e->udev_db && (r = dl_udevdb_init(e->udev_db)) < 0)
		goto fail;
	if (e->udev_db)
		dl_tree_for_each_root(tree, coldplug_one, e);
	if (opts->netlink && (r = dl_uevent_sock_open(&e->sock)) < 0)
		goto fail;
	r = -pthread_create(&e->thread, NULL, emit_main, e);
	if (r < 0)
		goto fail;
	e->started = true;
	r = dl_tree_watch(tree, on_event, e);
	if (r < 0)
		goto fail;
	e->watching = true;
	*ret = e;
	return 0;
fail:
	dl_uevent_emitter_free(e);
	return r;
}

void dl_uevent_emitter_free(struct dl_uevent_emitter *e)
{
	if (!e)
		return;
	if (e->watching)
		dl_tree_unwatch(e->tree, on_event, e);
	pthread_mutex_lock(&e->lock);
	e->stop = true;
	pthread_cond_signal(&e->more);
	pthread_mutex_unlock(&e->lock);
	if (e->started)
		pthread_join(e->thread, NULL);
	wait_done(e, e->queued); /* what was deferred */
	for (int i = 0; i < NBUCKETS; i++)
		while (e->recs[i]) {
			struct devrec *r = e->recs[i];

			e->recs[i] = r->next;
			free(r);
		}
	dl_uevent_sock_close(e->sock);
	if (e->stages)
		fclose(e->stages);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->more);
	pthread_cond_destroy(&e->progress);
	free(e->udev_db);
	free(e);
}
