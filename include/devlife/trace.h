/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DEVLIFE_TRACE_H
#define DEVLIFE_TRACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dl_tree;
struct dl_device;

/**
 * enum dl_trace_event - lifecycle events recorded in a tree's trace ring
 */
enum dl_trace_event {
	DL_EV_ADD = 1,        /* published and enterable; arg: 0 */
	DL_EV_REMOVE_START,   /* removal won; arg: flags */
	DL_EV_SURPRISE,       /* marked gone by a surprise removal */
	DL_EV_DRAINED,        /* no active user left in the subtree; arg:
			       * devices in the subtree */
	DL_EV_ROLLBACK,       /* removal refused and undone; arg: -errno */
	DL_EV_DEAD,           /* unlinked, DEAD */
	DL_EV_RELEASE,        /* memory released */
	DL_EV_BIND,           /* driver bound; arg: 0 */
	DL_EV_PROBE_FAIL,     /* probe failed; arg: -errno */
	DL_EV_UNBIND,         /* driver's remove done */
	DL_EV_ONLINE,
	DL_EV_OFFLINE,
	DL_EV_CLAIM,
	DL_EV_UNCLAIM,
	DL_EV_CLAIM_REQUEST,  /* claimant asked to release */
	DL_EV_WORK_CANCEL,    /* arg: items cancelled */
	DL_EV_DRAIN_SLOW,     /* a drain exceeded the report threshold */
	DL_EV_CHANGE,         /* the bus layer changed what a device offers
			       * (dl_device_notify_change()); arg: the bus
			       * layer's reason */
	/* Notes (dl_trace_note()): not the core's; name as given */
	DL_EV_SCEN_STEP,      /* a scenario step begins; arg: its line */
	DL_EV_SCEN_FIRE,      /* a scenario rule's trigger matched; name:
			       * the device it acted on, or the rule's
			       * label; arg: the rule's line */
	DL_EV_SCEN_HOLD,      /* a scenario holds an operation; arg: line */
	DL_EV_SCEN_UNHOLD,    /* ... and lets it go on; arg: line */
	DL_EV_SCEN_PASS,      /* an assertion held; arg: its line */
	DL_EV_SCEN_FAIL,      /* an assertion failed, or a wait timed out;
			       * arg: its line */
	DL_EV_HOST,           /* a host event arrives; name: its function
			       * or bus; arg: enum dl_pci_host_event */
};

/**
 * struct dl_trace_record - one event
 * @seq: position in the ring's history (starts at 1, increases by 1)
 * @ts_ns: CLOCK_MONOTONIC time of the event, nanoseconds
 * @dev_id: dl_device_id() of the device
 * @event: enum dl_trace_event
 * @arg: event-specific, see enum dl_trace_event
 * @name: the device's name (NUL-terminated)
 */
struct dl_trace_record {
	uint64_t seq;
	uint64_t ts_ns;
	uint64_t dev_id;
	uint32_t event;
	int32_t arg;
	char name[64];
};

/**
 * dl_trace_read() - copy events out of the trace ring
 * @tree: the tree
 * @cursor: in: the first sequence number wanted (0 or 1 for the oldest
 *          kept); out: the sequence number to ask for next time
 * @buf: where to copy
 * @n: room in @buf
 *
 * The ring keeps the most recent DL_TRACE_RING events; older ones are
 * gone, and @cursor jumps over them (compare the first record's seq with
 * what you asked for to see how many were lost).
 *
 * Context: any thread; takes the ring's lock briefly.
 * Return: the number of records copied (never an error code). 0 means
 * nothing newer than @cursor is kept, or @n is 0, or a bad argument (a
 * NULL @tree, @cursor or @buf: a caller bug, and then @cursor is left
 * untouched). A reader calls it until it returns 0: it then has every
 * event kept so far.
 */
size_t dl_trace_read(struct dl_tree *tree, uint64_t *cursor,
		     struct dl_trace_record *buf, size_t n);

/**
 * dl_trace_note() - record an event that is not the core's
 * @tree: the tree
 * @name: what it is about (a device's name, a label; cut to 63 bytes),
 *        or NULL
 * @event: DL_EV_SCEN_* or DL_EV_HOST
 * @arg: as enum dl_trace_event says
 *
 * For the layers above the core (the host channel, scenarios), so that
 * one trace orders what they did with what the tree did. Watchers see
 * the record with a NULL device.
 *
 * Context: any thread; takes the ring's lock briefly, calls the
 * watchers.
 * Return: 0, or -EINVAL (no @tree, or @event not a note).
 */
int dl_trace_note(struct dl_tree *tree, const char *name, uint32_t event,
		  int32_t arg);

/** Number of events the ring keeps. */
#define DL_TRACE_RING 4096

/**
 * dl_trace_event_name() - a short name for an event
 * @event: an enum dl_trace_event value
 * Context: any thread.
 * Return: a static string ("add", "dead", ...), or "?" if unknown.
 */
const char *dl_trace_event_name(uint32_t event);

/**
 * dl_device_notify_change() - tell the tree's watchers a device changed
 * @dev: the device
 * @reason: what changed, as the bus layer defines it (the record's arg)
 *
 * Records DL_EV_CHANGE and calls the watchers: the kernel's KOBJ_CHANGE,
 * for changes that are neither an add, a removal nor a bind (a PF's VFs
 * enabled, an mdev parent registered).
 *
 * Context: any thread; the watchers run in it, under whatever locks the
 * caller holds (they only queue work).
 * Return: 0, or -EINVAL if @dev is NULL.
 */
int dl_device_notify_change(struct dl_device *dev, int32_t reason);

/**
 * typedef dl_watch_fn - receives each lifecycle event as it happens
 * @dev: the device (valid during the call; for DL_EV_RELEASE, the memory
 *       is about to be freed: read nothing but what @rec carries)
 * @rec: the event, as it is recorded in the ring
 * @arg: the argument given to dl_tree_watch()
 *
 * Context: the thread making the change, with no lock of this library
 * held except, for DL_EV_BIND, DL_EV_PROBE_FAIL, DL_EV_UNBIND,
 * DL_EV_ONLINE and DL_EV_OFFLINE, device_lock(@dev), and for
 * DL_EV_CHANGE what the caller of dl_device_notify_change() holds (a
 * PF's device_lock when its VFs are enabled). Must not block for
 * long, take device locks, or add or remove devices: hand such work to
 * another thread.
 */
typedef void (*dl_watch_fn)(struct dl_device *dev,
			    const struct dl_trace_record *rec, void *arg);

/**
 * dl_tree_watch() - call @fn for every lifecycle event of @tree
 * @tree: the tree
 * @fn: the callback
 * @arg: passed to @fn
 *
 * For subsystems that mirror the tree (a filesystem view invalidating its
 * cache, a host channel streaming the trace). At most 8 watchers.
 *
 * Context: any thread except from inside a watcher; may block briefly.
 * Return: 0, -EINVAL, or -ENOSPC when 8 watchers are registered.
 */
int dl_tree_watch(struct dl_tree *tree, dl_watch_fn fn, void *arg);

/**
 * dl_tree_unwatch() - stop calling @fn
 * @tree: the tree
 * @fn: as given to dl_tree_watch()
 * @arg: as given to dl_tree_watch()
 *
 * When this returns, @fn is not running and will not be called again.
 *
 * Context: any thread except from inside a watcher; may block until a
 * running call of @fn returns.
 * Return: 0, or -ENOENT if no such watcher.
 */
int dl_tree_unwatch(struct dl_tree *tree, dl_watch_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif
