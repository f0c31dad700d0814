/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DEVLIFE_TREE_H
#define DEVLIFE_TREE_H

#include <stddef.h>
#include <stdint.h>

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

/**
 * dl_tree_new() - create an empty device tree
 * @ret: where to store the new tree
 *
 * A tree owns a registry of published devices (looked up by name), the
 * topology lock, the registered drivers, a trace ring and a default worker
 * pool (see dl_tree_workqueue()).
 *
 * Context: any thread; may block (allocates, starts worker threads).
 * Ownership: on success the caller owns the tree and must free it with
 * dl_tree_free(). On failure nothing is allocated and *ret is untouched.
 * Return: 0, -EINVAL if @ret is NULL, -ENOMEM, or a negative errno from
 * thread creation.
 */
DL_MUST_CHECK int dl_tree_new(struct dl_tree **ret);

/**
 * dl_tree_free() - remove every device and free the tree
 * @tree: the tree, or NULL (then nothing happens)
 *
 * Removes every root device in wait mode (which removes their subtrees),
 * closes and frees the tree's workqueues, unregisters the remaining drivers
 * and frees the tree. Devices the caller still holds lifetime references on
 * stay valid memory until those references are put, but they are DEAD.
 *
 * Context: any thread that holds no active reference and no device lock in
 * this tree; blocks until every in-flight user of every device has left.
 * Return: nothing.
 */
void dl_tree_free(struct dl_tree *tree);

/**
 * struct dl_tree_stats - counters of a tree, a snapshot
 * @devices_live: devices currently published (LIVE)
 * @devices_allocated: device objects whose memory is not yet released
 * @adds: successful dl_device_add() calls since the tree was made
 * @removes: removals completed (devices that reached DEAD)
 * @remove_busy: try-mode removals refused with -EBUSY
 * @remove_timeout: removals refused with -ETIMEDOUT
 * @work_run: work items that ran
 * @work_cancelled: work items cancelled or skipped because their device
 *                  was going away
 */
struct dl_tree_stats {
	uint64_t devices_live;
	uint64_t devices_allocated;
	uint64_t adds;
	uint64_t removes;
	uint64_t remove_busy;
	uint64_t remove_timeout;
	uint64_t work_run;
	uint64_t work_cancelled;
};

/**
 * dl_tree_get_stats() - read the counters of a tree
 * @tree: the tree
 * @ret: where to store them
 *
 * Context: any thread; does not block.
 * Return: 0 or -EINVAL. The figures may be stale as soon as they are read.
 */
int dl_tree_get_stats(struct dl_tree *tree, struct dl_tree_stats *ret);

/**
 * typedef dl_report_fn - receives a diagnostic report
 * @tree: the tree the report is about
 * @text: a NUL-terminated, multi-line text (valid only during the call)
 * @arg: the argument given with the callback
 */
typedef void (*dl_report_fn)(struct dl_tree *tree, const char *text, void *arg);

/**
 * dl_tree_set_drain_report() - report removals that wait too long
 * @tree: the tree
 * @threshold_ns: how long a removal may wait for users before a report is
 *                made (0 turns reporting off)
 * @fn: receives the report, or NULL to print it to stderr
 * @arg: passed to @fn
 *
 * When a removal waits longer than @threshold_ns for active users of a
 * device, the report names the device and each holder: the thread (tid and
 * name) and, in builds with debug checks, the tag and call site of its
 * dl_device_enter(). The report is made once per wait.
 *
 * @fn (else stderr) also receives, whatever @threshold_ns, the report of a
 * committed removal still waiting past its caller's deadline (see
 * dl_device_remove()).
 *
 * Context: any thread; does not block.
 * Return: 0 or -EINVAL.
 */
int dl_tree_set_drain_report(struct dl_tree *tree, uint64_t threshold_ns,
			     dl_report_fn fn, void *arg);

/**
 * dl_tree_for_each_root() - call @fn for each root device (a snapshot)
 * @tree: the tree
 * @fn: called with a lifetime reference held by the iterator; return
 *      non-zero to stop
 * @arg: passed to @fn
 *
 * Context: any thread; takes the topology lock only to copy the list, so
 * @fn may add or remove devices.
 * Return: 0, the first non-zero value @fn returned, -EINVAL or -ENOMEM.
 */
int dl_tree_for_each_root(struct dl_tree *tree,
			  int (*fn)(struct dl_device *dev, void *arg),
			  void *arg);

/**
 * dl_debug_checks_enabled() - whether this build checks lock order
 * Context: any thread.
 * Return: 1 when lock-order, wait-for (deadlocks through waits: flush,
 * drain, removal, device lock), holder-tracking and reference-misuse
 * checks are compiled in, else 0.
 */
int dl_debug_checks_enabled(void);

#ifdef __cplusplus
}
#endif
#endif
