/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The trace ring: the last DL_TRACE_RING lifecycle events of a tree, with
 * monotonic timestamps. Lifecycle events are rare next to enter/exit, so a
 * mutex is the right tool.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core.h"

/* One record of @dev's (or, with no @dev, of @name's). */
static void record(struct dl_tree *tree, const struct dl_device *dev,
		   const char *name, enum dl_trace_event ev, int32_t arg,
		   struct dl_trace_record *out)
{
	struct dl_trace_record *r;

	memset(out, 0, sizeof(*out));
	if (!tree->ring)
		return;
	pthread_mutex_lock(&tree->trace_lock);
	tree->trace_seq++;
	r = &tree->ring[tree->trace_seq % DL_TRACE_RING];
	r->seq = tree->trace_seq;
	r->ts_ns = dl__now_ns();
	r->dev_id = dev ? dev->id : 0;
	r->event = (uint32_t)ev;
	r->arg = arg;
	snprintf(r->name, sizeof(r->name), "%s", dev ? dev->name :
		 name ? name : "");
	*out = *r;
	pthread_mutex_unlock(&tree->trace_lock);
}

void dl__trace_record(struct dl_tree *tree, const struct dl_device *dev,
		      enum dl_trace_event ev, int32_t arg,
		      struct dl_trace_record *out)
{
	record(tree, dev, NULL, ev, arg, out);
}

void dl__trace_notify(struct dl_tree *tree, const struct dl_device *dev,
		      const struct dl_trace_record *rec)
{
	if (!rec->seq ||
	    atomic_load_explicit(&tree->nwatchers, memory_order_relaxed) == 0)
		return;
	pthread_rwlock_rdlock(&tree->watch_lock);
	for (int i = 0; i < 8; i++)
		if (tree->watchers[i].fn)
			tree->watchers[i].fn((struct dl_device *)dev, rec,
					     tree->watchers[i].arg);
	pthread_rwlock_unlock(&tree->watch_lock);
}

void dl__trace(struct dl_tree *tree, const struct dl_device *dev,
	       enum dl_trace_event ev, int32_t arg)
{
	struct dl_trace_record rec;

	dl__trace_record(tree, dev, ev, arg, &rec);
	dl__trace_notify(tree, dev, &rec);
}

DL_EXPORT int dl_device_notify_change(struct dl_device *dev, int32_t reason)
{
	assert_return(dev, -EINVAL);
	dl__trace(dl_device_tree(dev), dev, DL_EV_CHANGE, reason);
	return 0;
}

DL_EXPORT int dl_trace_note(struct dl_tree *tree, const char *name,
			    uint32_t event, int32_t arg)
{
	struct dl_trace_record rec;

	assert_return(tree && event >= DL_EV_SCEN_STEP && event <= DL_EV_HOST,
		      -EINVAL);
	record(tree, NULL, name, (enum dl_trace_event)event, arg, &rec);
	dl__trace_notify(tree, NULL, &rec);
	return 0;
}

DL_EXPORT int dl_tree_watch(struct dl_tree *tree, dl_watch_fn fn, void *arg)
{
	int r = -ENOSPC;

	assert_return(tree && fn, -EINVAL);
	pthread_rwlock_wrlock(&tree->watch_lock);
	for (int i = 0; i < 8; i++) {
		if (!tree->watchers[i].fn) {
			tree->watchers[i].fn = fn;
			tree->watchers[i].arg = arg;
			atomic_fetch_add(&tree->nwatchers, 1);
			r = 0;
			break;
		}
	}
	pthread_rwlock_unlock(&tree->watch_lock);
	return r;
}

DL_EXPORT int dl_tree_unwatch(struct dl_tree *tree, dl_watch_fn fn,
			      void *arg)
{
	int r = -ENOENT;

	assert_return(tree && fn, -EINVAL);
	pthread_rwlock_wrlock(&tree->watch_lock);
	for (int i = 0; i < 8; i++) {
		if (tree->watchers[i].fn == fn && tree->watchers[i].arg == arg) {
			tree->watchers[i].fn = NULL;
			tree->watchers[i].arg = NULL;
			atomic_fetch_sub(&tree->nwatchers, 1);
			r = 0;
			break;
		}
	}
	pthread_rwlock_unlock(&tree->watch_lock);
	return r;
}

DL_EXPORT size_t dl_trace_read(struct dl_tree *tree, uint64_t *cursor,
			       struct dl_trace_record *buf, size_t n)
{
	uint64_t seq, oldest;
	size_t got = 0;

	assert_return(tree && cursor && buf, 0);
	pthread_mutex_lock(&tree->trace_lock);
	oldest = tree->trace_seq >= DL_TRACE_RING ?
			 tree->trace_seq - DL_TRACE_RING + 1 : 1;
	seq = *cursor < oldest ? oldest : *cursor;
	while (seq <= tree->trace_seq && got < n) {
		buf[got++] = tree->ring[seq % DL_TRACE_RING];
		seq++;
	}
	*cursor = seq;
	pthread_mutex_unlock(&tree->trace_lock);
	return got;
}

DL_EXPORT const char *dl_trace_event_name(uint32_t event)
{
	static const char *const names[] = {
		[DL_EV_ADD] = "add",
		[DL_EV_REMOVE_START] = "remove-start",
		[DL_EV_SURPRISE] = "surprise",
		[DL_EV_DRAINED] = "drained",
		[DL_EV_ROLLBACK] = "rollback",
		[DL_EV_DEAD] = "dead",
		[DL_EV_RELEASE] = "release",
		[DL_EV_BIND] = "bind",
		[DL_EV_PROBE_FAIL] = "probe-fail",
		[DL_EV_UNBIND] = "unbind",
		[DL_EV_ONLINE] = "online",
		[DL_EV_OFFLINE] = "offline",
		[DL_EV_CLAIM] = "claim",
		[DL_EV_UNCLAIM] = "unclaim",
		[DL_EV_CLAIM_REQUEST] = "claim-request",
		[DL_EV_WORK_CANCEL] = "work-cancel",
		[DL_EV_DRAIN_SLOW] = "drain-slow",
		[DL_EV_CHANGE] = "change",
		[DL_EV_SCEN_STEP] = "scen-step",
		[DL_EV_SCEN_FIRE] = "scen-fire",
		[DL_EV_SCEN_HOLD] = "scen-hold",
		[DL_EV_SCEN_UNHOLD] = "scen-unhold",
		[DL_EV_SCEN_PASS] = "scen-pass",
		[DL_EV_SCEN_FAIL] = "scen-fail",
		[DL_EV_HOST] = "host",
	};

	if (event < sizeof(names) / sizeof(names[0]) && names[event])
		return names[event];
	return "?";
}
