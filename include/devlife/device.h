/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DEVLIFE_DEVICE_H
#define DEVLIFE_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dl_tree;
struct dl_device;

/*
 * DL_MUST_CHECK marks the calls whose result must be looked at: an enter
 * that failed holds nothing (exiting it is a bug), a lookup or a
 * constructor that failed stored nothing.
 */
#ifndef DL_MUST_CHECK
#if defined(__GNUC__) || defined(__clang__)
#define DL_MUST_CHECK __attribute__((warn_unused_result))
#else
#define DL_MUST_CHECK
#endif
#endif

/** Longest device name, without the terminating NUL. */
#define DL_NAME_MAX 63

/**
 * enum dl_device_state - where a device is in its life
 * @DL_STATE_NEW: built, not yet added; invisible; nobody can enter it
 * @DL_STATE_LIVE: published, enterable; a driver may be bound
 * @DL_STATE_REMOVING: one remover owns it; it may still go back to LIVE if
 *                     a try-mode or deadline removal is refused (until
 *                     then lookups still find it and enters wait for the
 *                     decision, see dl_device_remove())
 * @DL_STATE_DEAD: removed for good; only its memory remains, for as long
 *                 as lifetime references do
 */
enum dl_device_state {
	DL_STATE_NEW = 0,
	DL_STATE_LIVE,
	DL_STATE_REMOVING,
	DL_STATE_DEAD,
};

/**
 * struct dl_device_type - what a bus layer tells the core about its devices
 * @name: the type's name ("pci", "mdev", ...), shown in traces; also used
 *        by drivers to say which devices they can drive
 * @release: called once, when the last lifetime reference is gone and no
 *           RCU reader can see the device any more; frees what the bus
 *           layer hung off the device (not the device itself). May be NULL.
 *
 * Context of @release: a call_rcu worker thread or the thread of the last
 * put; no lock of this library held; must not block for long.
 */
struct dl_device_type {
	const char *name;
	void (*release)(struct dl_device *dev);
};

/**
 * dl_device_new() - build a device, closed and unpublished
 * @tree: the tree it will live in
 * @type: its type; must outlive the device
 * @name: unique name in @tree, 1 to DL_NAME_MAX printable bytes without '/'
 * @priv_size: bytes of zeroed private memory for the bus layer, reachable
 *             with dl_device_priv(); 0 for none
 * @ret: where to store the device
 *
 * The device starts in DL_STATE_NEW with its active gate closed: nobody
 * can enter it until dl_device_add() has linked and published it.
 *
 * Context: any thread; may block (allocates).
 * Ownership: on success the caller owns the one lifetime reference. On
 * failure nothing is allocated and *ret is untouched.
 * Return: 0, -EINVAL (bad argument or name) or -ENOMEM.
 */
DL_MUST_CHECK int dl_device_new(struct dl_tree *tree,
				const struct dl_device_type *type,
				const char *name, size_t priv_size,
				struct dl_device **ret);

/**
 * dl_device_add() - link a device under its parent, publish it, probe it
 * @dev: a device in DL_STATE_NEW
 * @parent: its parent, or NULL for a root device
 *
 * Takes an active reference on @parent for the whole operation, so a child
 * can never be added under a parent whose removal has started: either this
 * fails with -ENODEV, or it completes before the parent's removal drains
 * and the parent's removal then removes the child too. Once linked and
 * published the device's gate opens and, unless autoprobe was turned off,
 * a matching driver is bound (its probe may fail; the add still succeeds).
 *
 * Context: any thread, including a driver's probe or remove callback of
 * @parent (while holding device_lock(@parent)); must not hold the topology
 * lock. May block.
 * Ownership: on success the tree takes its own references (registry and
 * parent link); the caller keeps its reference and must still put it. The
 * device holds a lifetime reference on @parent until its memory is
 * released. On failure the device stays NEW, the caller still owns it and
 * dl_device_put() frees it.
 * Return: 0; -EINVAL if @dev is not NEW or belongs to another tree than
 * @parent; -EEXIST if the name is taken (also by a device still being
 * removed); -ENODEV if @parent is not LIVE or is being removed.
 */
int dl_device_add(struct dl_device *dev, struct dl_device *parent);

/**
 * dl_device_get() - take a lifetime reference
 * @dev: a device the caller already holds a reference on, or NULL
 *
 * Context: any thread; never blocks.
 * Return: @dev.
 */
struct dl_device *dl_device_get(struct dl_device *dev);

/**
 * dl_device_put() - drop a lifetime reference
 * @dev: the device, or NULL
 *
 * When the last reference goes, the device's memory is released after an
 * RCU grace period (the type's release callback runs first). A put that
 * would take the count below zero aborts with a message in builds with
 * debug checks.
 *
 * Context: any thread; never blocks.
 * Return: NULL, so that callers can write `dev = dl_device_put(dev);`.
 */
struct dl_device *dl_device_put(struct dl_device *dev);

/**
 * dl_device_lookup() - find a published device by name
 * @tree: the tree
 * @name: the name
 * @ret: where to store the device
 *
 * Found: LIVE devices, and REMOVING ones whose removal may still be
 * refused (try mode, or a deadline: until it commits, a removal that is
 * then refused was not visible). Never found: a device whose removal can
 * no longer be refused (wait or surprise mode without a deadline, or any
 * removal once it has drained and committed), a DEAD one, one whose last
 * reference is being dropped.
 *
 * Context: any thread, registered with the library or not; lock-free.
 * Ownership: on success the caller owns a lifetime reference.
 * Return: 0, -EINVAL or -ENOENT. The device may start being removed as
 * soon as this returns; use dl_device_enter() to use it.
 */
DL_MUST_CHECK int dl_device_lookup(struct dl_tree *tree, const char *name,
				   struct dl_device **ret);

/**
 * dl_device_enter() - start using a device (take an active reference)
 * @dev: a device the caller holds a lifetime reference on
 *
 * Succeeds only while the device is LIVE and no removal has deactivated
 * it. While the caller is inside, removal of @dev (and of its ancestors)
 * waits, or refuses in try mode. Nests: a thread may enter the same device
 * several times. The common case writes only thread-local memory.
 *
 * A removal that may still be refused (try mode, or one with a deadline)
 * is invisible until it decides: an enter that meets its closed gate
 * waits for the decision, then succeeds (refused) or fails (committed).
 * The wait is bounded (a try decides at once; a deadline removal by its
 * deadline). It is not taken, and the enter fails at once, when waiting
 * could deadlock: on a thread that holds an active reference (on any
 * device) or a device lock, or that is running a removal or one of its
 * callbacks (claim release, watcher, driver remove, work done). A removal
 * without a deadline in wait or surprise mode cannot be refused: enters
 * fail at once.
 *
 * Not async-signal-safe: a signal handler must not enter or exit a device
 * (it could interrupt this thread's own enter or exit between taking a
 * slot and counting in it, and a count would be lost). Builds with debug
 * checks abort with a message when a handler interrupts the library's
 * enter or exit; one that interrupts the inline fast path of
 * <devlife/inline.h> cannot be detected.
 *
 * Context: any thread, not a signal handler; does not block except to
 * wait for a refusable removal's decision as above. Must be paired with
 * dl_device_exit() on the same thread (a thread-exit destructor of that
 * thread may make the exit: the thread's record outlives the library's
 * own destructor while it holds references). Do not hold an active
 * reference while taking the device lock of one of @dev's ancestors.
 * Return: 0; -ENODEV if the device is not (or no longer) enterable; or
 * -EINVAL if @dev is NULL.
 */
DL_MUST_CHECK int dl_device_enter(struct dl_device *dev);

/**
 * dl_device_enter_tagged() - dl_device_enter() with a tag for diagnostics
 * @dev: as dl_device_enter()
 * @tag: a static string naming the user ("config-read", "sriov_numvfs"),
 *       shown with the thread and call site when a removal waits too long
 *
 * Context: as dl_device_enter().
 * Return: as dl_device_enter().
 */
DL_MUST_CHECK int dl_device_enter_tagged(struct dl_device *dev,
					const char *tag);

/**
 * dl_device_exit() - stop using a device (drop an active reference)
 * @dev: a device this thread entered
 *
 * Wakes a removal waiting for @dev's users when this was the last one.
 * Does not touch @dev's memory after the reference is dropped. Exiting a
 * device that was not entered aborts with a message in builds with debug
 * checks.
 *
 * Context: the thread that entered, not a signal handler; never blocks.
 * A NULL @dev is ignored.
 */
void dl_device_exit(struct dl_device *dev);

/**
 * dl_device_active_users() - count the active references on a device
 * @dev: the device
 *
 * Exact at some instant during the call (it issues a memory barrier on
 * every thread of the process, so it is slow: for diagnostics and busy
 * checks, not for fast paths).
 *
 * Context: any thread; may block briefly.
 * Return: the count (>= 0), or -EINVAL.
 */
long dl_device_active_users(struct dl_device *dev);

/**
 * enum dl_remove_flags - how dl_device_remove() treats users
 *
 * Exactly one of these modes is given; they are not bits to combine (a
 * value other than these three is -EINVAL).
 *
 * @DL_REMOVE_WAIT: wait for every active user of the subtree to leave;
 *                  ask claimants to release and wait for them
 * @DL_REMOVE_TRY: if any device of the subtree has an active user or a
 *                 claim, change nothing and return -EBUSY; success means
 *                 the subtree is gone and can be physically pulled
 * @DL_REMOVE_SURPRISE: the hardware is already gone: mark the subtree gone
 *                      first (dl_device_is_gone() turns true so in-flight
 *                      operations fail fast with -ENODEV), then wait as in
 *                      WAIT mode. The marks are made at once even if
 *                      another removal of the device is under way (this
 *                      call then waits for that one).
 */
enum dl_remove_flags {
	DL_REMOVE_WAIT = 0,
	DL_REMOVE_TRY = 1,
	DL_REMOVE_SURPRISE = 2,
};

/** Timeout value meaning "no deadline". */
#define DL_NO_TIMEOUT ((int64_t)-1)

/**
 * dl_device_remove() - remove a device and its subtree
 * @dev: the device (the caller holds a lifetime reference)
 * @flags: one of enum dl_remove_flags (a mode, not a bit mask)
 * @timeout_ns: how long to wait for users and claimants before giving up
 *              (0: do not wait at all, -ETIMEDOUT if anybody is inside),
 *              or DL_NO_TIMEOUT. Counted on CLOCK_MONOTONIC: a step of
 *              the wall clock changes nothing. Counts until the removal
 *              has drained; after that it cannot be refused. If, past
 *              the deadline, the committed removal still waits for a
 *              descendant's removal run by another thread (or for a
 *              running online/offline callback of one), it reports that
 *              once through the tree's report function (else on stderr;
 *              dl_tree_set_drain_report()) and keeps waiting.
 *
 * One caller wins the removal; every concurrent caller waits until the
 * device is DEAD (or, if the winner's removal is refused, competes again).
 * The winner deactivates and drains the subtree holding no device lock,
 * negotiates claims, unpublishes the device, removes the children deepest
 * first, cancels pending work, calls the driver's remove under the device
 * lock, unlinks the device and marks it DEAD. A removal that cannot be
 * refused (wait or surprise mode without a deadline) unpublishes first.
 *
 * A refused removal (-EBUSY, -ETIMEDOUT, -ENOMEM) rolls everything back
 * and, apart from a delay, was invisible to every other thread: the
 * device stayed published (lookups found it), enters that met its closed
 * gates waited for the decision and then succeeded (see
 * dl_device_enter() for the threads that cannot wait), and a refused
 * surprise takes back its gone marks. What other threads can see is
 * dl_device_state() saying REMOVING meanwhile, the trace (remove-start,
 * rollback) and a claim attempt failing with -ENODEV meanwhile.
 *
 * A work item may remove its own device or an ancestor of it (an error
 * handler queued from an interrupt): the active reference its worker took
 * for it is given up first, and the worker does not exit it again.
 *
 * Context: any thread, including a driver callback of an ancestor (while
 * holding the ancestor's device lock: the PF driver removing its VFs) and
 * a work item of @dev or of a descendant. Must not be called while
 * holding an active reference on @dev or on a descendant (use
 * dl_device_remove_self()), @dev's device lock or a descendant's, or the
 * topology lock; not from a signal handler. May block.
 * Return: 0 once the device is DEAD (also when another caller removed it);
 * -EBUSY (try mode, users or claims present); -ETIMEDOUT (deadline passed,
 * rolled back); -EDEADLK if the calling thread holds an active reference
 * on the subtree, or runs the claim release callback of a device of the
 * subtree (builds with debug checks abort then); -EDEADLK also if the
 * calling thread is itself running the removal of @dev (a callback of that
 * removal, such as a child's driver remove, a watcher or a cancelled work
 * item's done, removing its device or an ancestor: it would wait for
 * itself; builds with debug checks print a report, then return); -EINVAL
 * for a NEW device or bad flags.
 *
 * Builds with debug checks follow this call's waits (the drain, another
 * thread's removal of @dev) and abort with a report of every thread
 * involved when one closes a cycle of waits: a user of @dev (or of a
 * descendant) waiting, directly or through other threads, for this one
 * (for a device lock it holds, a work item it runs, a removal it runs).
 */
int dl_device_remove(struct dl_device *dev, unsigned int flags,
		     int64_t timeout_ns);

/**
 * dl_device_remove_self() - remove a device from inside its own user
 * @dev: a device the calling thread entered exactly once (the handler of a
 *       "remove" attribute)
 * @flags: as for dl_device_remove()
 *
 * Drops the caller's own active reference first (as kernfs_remove_self()
 * does), then removes the device. Two concurrent self-removals of one
 * device both return only after it is DEAD.
 *
 * Context: the thread that entered @dev, or a work item of @dev (whose
 * worker's reference is then the one given up); may block.
 * Ownership: on every return the caller's active reference is gone (do not
 * call dl_device_exit()); its lifetime reference is untouched.
 * Return: as dl_device_remove(). In try mode the caller's own reference is
 * not counted as a user.
 */
int dl_device_remove_self(struct dl_device *dev, unsigned int flags);

/**
 * dl_device_state() - the state of a device, a snapshot
 * @dev: the device
 * Context: any thread; lock-free.
 * Return: the state; may be stale as soon as it is read.
 */
enum dl_device_state dl_device_state(const struct dl_device *dev);

/**
 * dl_device_is_gone() - whether the hardware behind @dev was surprise-removed
 * @dev: the device
 *
 * Bus layers check this in their I/O paths so that in-flight operations
 * fail fast with -ENODEV instead of waiting on hardware that is not there.
 *
 * Context: any thread; lock-free.
 * Return: true from the moment a surprise removal of @dev or an ancestor
 * starts, whoever else is removing it; false again if every such surprise
 * removal was refused (its deadline passed); true for ever once the
 * device is DEAD after one.
 */
bool dl_device_is_gone(const struct dl_device *dev);

/**
 * dl_device_name() - the device's name
 * @dev: the device
 * Context: any thread; lock-free.
 * Return: the name, valid as long as the caller's reference on @dev; NULL
 * if @dev is NULL.
 */
const char *dl_device_name(const struct dl_device *dev);

/**
 * dl_device_type() - the type the device was built with
 * @dev: the device
 * Context: any thread; lock-free.
 * Return: the type given to dl_device_new(), or NULL if @dev is NULL.
 */
const struct dl_device_type *dl_device_type(const struct dl_device *dev);

/**
 * dl_device_tree() - the tree the device belongs to
 * @dev: the device
 * Context: any thread; lock-free.
 * Return: the tree, or NULL if @dev is NULL.
 */
struct dl_tree *dl_device_tree(const struct dl_device *dev);

/**
 * dl_device_id() - a number naming this device in traces
 * @dev: the device
 * Context: any thread; lock-free.
 * Return: a number unique among the devices of the tree for the tree's
 * life (never reused, unlike names), or 0 if @dev is NULL.
 */
uint64_t dl_device_id(const struct dl_device *dev);

/**
 * dl_device_priv() - the bus layer's private memory of @dev
 * @dev: the device
 * Context: any thread; the memory lives as long as the device's memory
 * (until the type's release callback returns).
 * Return: the priv_size bytes given to dl_device_new(), or NULL if that
 * was 0 or @dev is NULL.
 */
void *dl_device_priv(struct dl_device *dev);

/**
 * dl_device_parent() - the parent of @dev
 * @dev: the device
 *
 * Context: any thread. A child pins its parent, so the returned pointer is
 * valid as long as the caller's reference on @dev is.
 * Ownership: borrowed; take dl_device_get() to keep it longer.
 * Return: the parent or NULL for a root.
 */
struct dl_device *dl_device_parent(const struct dl_device *dev);

/**
 * dl_device_for_each_child() - call @fn for each child (a snapshot)
 * @dev: the parent
 * @fn: called with a lifetime reference held by the iterator, without any
 *      lock of this library; return non-zero to stop
 * @arg: passed to @fn
 *
 * Children of any state present when the snapshot was taken are visited;
 * @fn checks the state if it cares.
 *
 * Context: any thread; takes the topology lock only to copy the list.
 * Return: 0, the first non-zero value of @fn, -EINVAL or -ENOMEM.
 */
int dl_device_for_each_child(struct dl_device *dev,
			     int (*fn)(struct dl_device *child, void *arg),
			     void *arg);

/**
 * dl_device_lock() - take the device lock
 * @dev: the device
 *
 * The device lock serializes lifecycle callbacks on @dev (probe, remove,
 * online, offline, driver-initiated child changes). Order: active(D)
 * before device_lock(D) before device_lock(child of D) before the
 * topology lock. In builds with debug checks an acquisition that breaks
 * this order aborts with a report naming both locks and both threads
 * instead of hanging; so does a wait for the lock that closes a cycle of
 * waits (its owner draining a device this thread is inside, or waiting
 * through other threads for this one: see dl_device_remove()).
 *
 * Context: any thread; may block. Not recursive.
 */
void dl_device_lock(struct dl_device *dev);

/**
 * dl_device_unlock() - release the device lock
 * @dev: the device, locked by this thread
 * Context: the thread that took the lock; never blocks. Unlocking a lock
 * the thread does not hold aborts in builds with debug checks.
 */
void dl_device_unlock(struct dl_device *dev);

/**
 * dl_device_lock_held() - whether this thread holds @dev's device lock
 * @dev: the device
 * Context: any thread; lock-free. For assertions in driver callbacks.
 * Return: 1 if the calling thread holds it, else 0 (also for NULL).
 */
int dl_device_lock_held(struct dl_device *dev);

#ifdef __cplusplus
}
#endif
#endif
