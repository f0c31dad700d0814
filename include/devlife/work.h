/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DEVLIFE_WORK_H
#define DEVLIFE_WORK_H

#ifndef DL_MUST_CHECK /* the result must be looked at (device.h) */
#if defined(__GNUC__) || defined(__clang__)
#define DL_MUST_CHECK __attribute__((warn_unused_result))
#else
#define DL_MUST_CHECK
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

struct dl_tree;
struct dl_device;
struct dl_workqueue;

/**
 * typedef dl_work_fn - the body of a work item
 * @dev: the device it is bound to; the worker holds an active reference on
 *       it for the whole call, so the device cannot be removed meanwhile
 * @arg: the argument given when queuing
 */
typedef void (*dl_work_fn)(struct dl_device *dev, void *arg);

/**
 * typedef dl_work_done_fn - called once when a work item is finished with
 * @arg: the argument given when queuing
 * @status: 0 if the body ran; -ECANCELED if it was still queued when a
 *          removal of its device that cannot be refused had closed the
 *          device (the removal cancels it, or the worker that takes it
 *          sees the closed device first: an ordered queue's item behind
 *          a running one), or its queue closed without draining; -ENODEV
 *          if it was skipped: a worker had already taken it when the
 *          device closed, or took it while a removal that may still be
 *          refused held the device and that removal then went through
 *
 * Runs without any active reference on the item's device. Use it to free
 * @arg. Context: a worker of the queue; or the removing thread, for an
 * item its removal cancels, and that thread may hold the device lock of
 * an ancestor (a PF driver's remove callback removing its VFs: the
 * callback must not take that lock); or the thread of dl_tree_free().
 */
typedef void (*dl_work_done_fn)(void *arg, int status);

/**
 * dl_workqueue_new() - create a workqueue with its own worker threads
 * @tree: the tree whose devices it serves
 * @name: a name for diagnostics
 * @max_active: how many items may run at once (threads); 1 makes an
 *              ordered queue: items run one at a time in queuing order
 * @ret: where to store it
 *
 * Context: any thread; may block.
 * Ownership: the caller owns the queue; dl_workqueue_free() releases it.
 * dl_tree_free() frees queues still open.
 * Return: 0, -EINVAL, -ENOMEM or a thread-creation error.
 */
DL_MUST_CHECK int dl_workqueue_new(struct dl_tree *tree, const char *name,
				   unsigned int max_active,
				   struct dl_workqueue **ret);

/**
 * dl_tree_workqueue() - the tree's shared worker pool (unordered)
 * @tree: the tree
 * Context: any thread.
 * Return: the queue; owned by the tree.
 */
struct dl_workqueue *dl_tree_workqueue(struct dl_tree *tree);

/**
 * dl_work_queue() - queue work bound to a device
 * @wq: the queue
 * @dev: the device the work is for
 * @fn: the body; runs only while @dev can be entered
 * @done: called once afterwards (ran, cancelled or skipped), or NULL;
 *        the item counts as queued until it returns (a flush waits for
 *        it), so it must not flush or close @wq (-EDEADLK)
 * @arg: passed to both
 *
 * The item holds a lifetime reference on @dev until @done returns. When
 * its turn comes the worker enters @dev; if that fails the body is skipped.
 * Removing @dev cancels the items not yet started. No work ever runs on a
 * device that is being removed or gone.
 *
 * Context: any thread, including a driver's probe (queue an asynchronous
 * online) or another work item; never blocks except on allocation.
 * Ownership: on failure neither @fn nor @done is called and @arg stays
 * the caller's.
 * Return: 0; -ENODEV if @dev is not LIVE or is being removed; -ESHUTDOWN
 * if @wq is closed; -EINVAL; -ENOMEM.
 */
int dl_work_queue(struct dl_workqueue *wq, struct dl_device *dev,
		  dl_work_fn fn, dl_work_done_fn done, void *arg);

/**
 * dl_workqueue_flush() - wait until everything queued before the call is done
 * @wq: the queue
 *
 * Context: any thread except one of @wq's own workers (that would wait for
 * itself: -EDEADLK); may block. Builds with debug checks abort with a
 * report of both sides when the wait closes a cycle of waits: an item it
 * waits for waits, directly or through other threads, for the caller (it
 * removes a device the caller is inside, wants a device lock the caller
 * holds, ...), as dl_device_remove() says.
 * Return: 0, -EINVAL or -EDEADLK.
 */
int dl_workqueue_flush(struct dl_workqueue *wq);

/**
 * dl_workqueue_close() - stop producers, then drain
 * @wq: the queue
 *
 * First closes the queue to producers: every dl_work_queue() that starts
 * after this point fails with -ESHUTDOWN and every one already in flight
 * has finished queuing. Then waits until every queued item has run (or
 * been skipped) and the workers are idle. This is the order a bus must
 * follow when it goes away: close the event sources, drain, tear down.
 *
 * Context: any thread except @wq's own workers; may block. Waits are
 * checked as dl_workqueue_flush()'s.
 * Return: 0, -EINVAL or -EDEADLK.
 */
int dl_workqueue_close(struct dl_workqueue *wq);

/**
 * dl_workqueue_free() - close a queue, stop its threads and free it
 * @wq: the queue, or NULL
 * Context: as dl_workqueue_close().
 */
void dl_workqueue_free(struct dl_workqueue *wq);

#ifdef __cplusplus
}
#endif
#endif
