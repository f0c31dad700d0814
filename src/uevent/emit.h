/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's uevents: every change of the tree, sent as Linux sends it.
 *
 * The emitter watches the tree (dl_tree_watch()) and turns its lifecycle
 * events into uevents: DL_EV_ADD "add", DL_EV_BIND "bind" (with DRIVER),
 * DL_EV_UNBIND "unbind", DL_EV_ONLINE/OFFLINE "online"/"offline",
 * DL_EV_CHANGE "change" (with MDEV_STATE for an mdev parent's
 * registration), DL_EV_DEAD "remove". The event is built in the watcher,
 * while the device is what the event says, and queued; events are sent
 * one at a time, in order, each first through the kernel then as udev's
 * copy (netlink.h): by the view's invalidation thread right after the
 * invalidations queued before it (the @defer hook), or by the emitter's
 * own thread (without @defer, or once the view stopped).
 *
 * Order as on Linux for a listener that looks at the view: an event is
 * sent only after the view's cache invalidations queued for the same
 * change reached the kernel (the @defer hook, or @mark/@wait), so an "add" comes
 * after its directory resolves and a "remove" after its path gives
 * ENOENT; a parent's removal reports its children's removes first (the
 * core removes children first); a "bind" follows its "add".
 */
#ifndef DEVLIFE_UEVENT_EMIT_H
#define DEVLIFE_UEVENT_EMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "uevent.h"

struct dl_tree;
struct dl_device;
struct dl_uevent_emitter;

/**
 * struct dl_uevent_emitter_opts - how to emit
 * @netlink: send through NETLINK_KOBJECT_UEVENT of the caller's network
 *           namespace (which must be a private one)
 * @mark: called in the watcher after the view's own watcher: a token
 *        covering what the view queued for this change (NULL: none)
 * @wait: called on the sending thread before an event goes out, with its
 *        token (NULL: none)
 * @inval_times: with a stage log (DEVLIFE_UEVENT_STAGES, emit.c), when
 *               the view's invalidation thread last woke and last had a
 *               notification returned, in CLOCK_MONOTONIC ns (NULL: none)
 * @defer: called in the watcher, after @mark, with a function to run on
 *         another thread once what @mark covers reached the kernel
 *         (the view's invalidation thread: dl_fs_inval_call()), which
 *         then sends the event: no thread of the emitter's to wake. 0,
 *         or negative when it cannot (the emitter's thread sends the
 *         event, after @wait). NULL: the emitter's thread sends all.
 * @fence_arg: passed to @mark, @wait, @defer and @inval_times
 * @tap: called on the sending thread with each event as sent: the
 *       kernel's (SEQNUM added) and udev's (NULL: none)
 * @tap_arg: passed to @tap
 * @udev_db: directory of udev's database ("/run/udev"), kept as udev keeps
 *           it (data/+SUBSYSTEM:NAME files), or NULL
 */
struct dl_uevent_emitter_opts {
	bool netlink;
	uint64_t (*mark)(void *arg);
	void (*wait)(void *arg, uint64_t mark);
	void (*inval_times)(void *arg, uint64_t ret[2]);
	int (*defer)(void *arg, void (*fn)(void *fn_arg), void *fn_arg);
	void *fence_arg;
	void (*tap)(void *arg, const struct dl_uevent *kernel,
		    const struct dl_uevent *udev);
	void *tap_arg;
	const char *udev_db;
};

/**
 * dl_uevent_emitter_new() - start emitting the tree's events
 * @tree: the tree
 * @opts: options (copied; @udev_db copied)
 * @ret: where to store it
 *
 * Context: any thread but a watcher; starts a thread.
 * Return: 0; -EINVAL; -ENOSPC (too many watchers); a negative errno from
 * the netlink socket; -ENOMEM.
 */
int dl_uevent_emitter_new(struct dl_tree *tree,
			  const struct dl_uevent_emitter_opts *opts,
			  struct dl_uevent_emitter **ret);

/**
 * dl_uevent_emitter_synth() - send an event for @dev now (a write to its
 * `uevent` file, drivers/base/core.c uevent_store())
 * @e: the emitter
 * @dev: a function or mdev (caller holds a reference)
 * @buf: what was written: "ACTION [UUID [KEY=VALUE ...]]"
 * @len: its length
 *
 * As lib/kobject_uevent.c kobject_synth_uevent(): the action must be one
 * of the kernel's; an optional UUID adds SYNTH_UUID=, each KEY=VALUE adds
 * SYNTH_ARG_KEY=VALUE; without a UUID, SYNTH_UUID=0. Returns when the
 * event was sent.
 *
 * Context: any thread but the emitter's and a watcher; blocks until sent.
 * Return: 0; -EINVAL for a bad action, UUID or variable (nothing sent);
 * -ENOTSUP for a device without events; -ESHUTDOWN once stopping.
 */
int dl_uevent_emitter_synth(struct dl_uevent_emitter *e, struct dl_device *dev,
			    const char *buf, size_t len);

/**
 * dl_uevent_emitter_flush() - wait until everything queued so far is sent
 * @e: the emitter
 * Context: any thread but the emitter's and a watcher.
 */
void dl_uevent_emitter_flush(struct dl_uevent_emitter *e);

/**
 * struct dl_uevent_emitter_stats - counters
 * @sent: events sent (both copies)
 * @failed: events the kernel or the socket refused
 * @last_error: the last such error (negative errno), 0 if none
 */
struct dl_uevent_emitter_stats {
	uint64_t sent;
	uint64_t failed;
	int last_error;
};

/**
 * dl_uevent_emitter_stats() - read the counters
 * @e: the emitter
 * @ret: where to store them
 * Context: any thread.
 */
void dl_uevent_emitter_stats(struct dl_uevent_emitter *e,
			     struct dl_uevent_emitter_stats *ret);

/**
 * dl_uevent_emitter_free() - stop watching, send what is queued, free
 * @e: the emitter, or NULL
 * Context: any thread but a watcher; after the tree's last change that
 * should be reported; joins the thread.
 */
void dl_uevent_emitter_free(struct dl_uevent_emitter *e);

#endif
