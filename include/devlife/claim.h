/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DEVLIFE_CLAIM_H
#define DEVLIFE_CLAIM_H

#ifdef __cplusplus
extern "C" {
#endif

#include <stddef.h>

struct dl_device;

/**
 * typedef dl_claim_release_fn - a removal asks the claimant to let go
 * @dev: the claimed device
 * @arg: the argument given to dl_device_claim()
 *
 * Called (like VFIO's request callback) when a wait- or surprise-mode
 * removal needs the device; the claimant should stop using it and call
 * dl_device_unclaim(), from this callback or later from any thread. May be
 * called more than once if several removals ask.
 *
 * Context: the removing thread. It holds no lock of this library, unless
 * the removal was started by a driver callback of an ancestor of @dev
 * under that ancestor's device lock (a PF driver's remove removing its
 * VFs): then that device lock is held, and the callback must not take
 * it. Must not remove @dev or an ancestor of @dev: that removal would wait
 * for the one running this callback, which waits for the callback; it
 * returns -EDEADLK, and builds with debug checks abort with a message.
 */
typedef void (*dl_claim_release_fn)(struct dl_device *dev, void *arg);

/**
 * dl_device_claim() - claim a device exclusively
 * @dev: the device
 * @owner: who claims it (copied; shown in diagnostics)
 * @release: asked to let go when the device must be removed; may be NULL
 *           (then wait-mode removal simply waits for the unclaim)
 * @arg: passed to @release
 *
 * A claimed device refuses try-mode removal with -EBUSY; wait-mode removal
 * asks the claimant to release and waits (up to its deadline).
 *
 * Context: any thread; does not block.
 * Ownership: the claim holds a lifetime reference on @dev until released.
 * Return: 0; -EBUSY if already claimed; -ENODEV if @dev is not LIVE or is
 * being removed; -EINVAL; -ENOMEM.
 */
int dl_device_claim(struct dl_device *dev, const char *owner,
		    dl_claim_release_fn release, void *arg);

/**
 * dl_device_unclaim() - release a claim
 * @dev: the claimed device
 *
 * Context: any thread, including the release callback. Blocks while a
 * release callback for this claim runs on another thread (so that the
 * claimant may free the callback's argument once this returns); does not
 * block otherwise, nor when called from that callback. Builds with debug
 * checks abort with a report of both sides when that wait closes a cycle
 * of waits (the callback waiting, directly or through other threads, for
 * this caller: flushing a queue whose item this is, say).
 * Return: 0, or -EINVAL if @dev is not claimed.
 */
int dl_device_unclaim(struct dl_device *dev);

/**
 * dl_device_claim_owner() - who claims the device
 * @dev: the device
 * @buf: where to copy the owner's name
 * @len: size of @buf
 * Context: any thread; takes the tree's wait lock briefly.
 * Return: 1 if claimed (name copied, truncated to fit), 0 if not, -EINVAL.
 */
int dl_device_claim_owner(struct dl_device *dev, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
