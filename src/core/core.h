/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private definitions of libdevlife's core. Nothing here is part of the
 * public ABI; bus layers of this project may include it, applications
 * may not.
 */
#ifndef DEVLIFE_CORE_H
#define DEVLIFE_CORE_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include <urcu-bp.h>
#include <urcu/list.h>
#include <urcu/rculfhash.h>

#include <devlife/devlife.h>
#include <devlife/inline.h>

#define DL_EXPORT __attribute__((visibility("default")))

/*
 * assert_return() checks a caller's bug at a public entry point and turns
 * it into an error return instead of a crash (systemd's idiom).
 */
#define assert_return(expr, r)                                                 \
	do {                                                                   \
		if (__builtin_expect(!(expr), 0))                              \
			return (r);                                            \
	} while (0)

#define dl__likely(x) __builtin_expect(!!(x), 1)
#define dl__unlikely(x) __builtin_expect(!!(x), 0)

/* ------------------------------------------------------------------ */
/* Debug checks and test pause points                                  */

#ifdef DL_DEBUG_CHECKS
#define DL_DEBUG 1
#else
#define DL_DEBUG 0
#endif

/* Abort with a message: reference misuse, broken lock order. */
_Noreturn void dl__die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#ifdef DL_TEST_HOOKS
/*
 * Test-only pause points. The test variant of the library calls the hook
 * at each named point of the lifecycle so that a test can stop a thread
 * exactly there and force an interleaving. Compiled out of the shared
 * library.
 */
typedef void (*dl__test_hook_fn)(const char *point, struct dl_device *dev);
extern _Atomic(dl__test_hook_fn) dl__test_hook;
#define DL_TEST_POINT(point, dev)                                              \
	do {                                                                   \
		dl__test_hook_fn h__ = atomic_load(&dl__test_hook);            \
		if (h__)                                                       \
			h__((point), (dev));                                   \
	} while (0)
void dl__test_set_hook(dl__test_hook_fn fn);
#else
#define DL_TEST_POINT(point, dev) ((void)0)
#endif

/* Counting allocator hook (tests inject allocation failures). */
void *dl__malloc(size_t size);
void *dl__calloc(size_t n, size_t size);
char *dl__strdup(const char *s);
#ifdef DL_TEST_HOOKS
/* Fail the Nth allocation from now (1 = the next one); 0 disables. */
void dl__test_fail_alloc_after(long n);
long dl__test_alloc_count(void);
#endif

/* ------------------------------------------------------------------ */
/* Tree                                                                */

struct dl_tree {
	struct cds_lfht *registry;         /* writers under topology_lock */
	/*
	 * Registry sizing (tree.c): the number of registered devices
	 * (topology_lock), the bucket count last asked for, and the helper
	 * thread that asks (resize_lock, a leaf under topology_lock).
	 */
	unsigned long nregistered;
	atomic_ulong reg_buckets;
	pthread_mutex_t resize_lock;
	pthread_cond_t resize_cond;
	unsigned long resize_want;         /* resize_lock */
	bool resizer_started, resizer_stop, resizer_failed; /* resize_lock */
	pthread_t resizer;

	/*
	 * The topology lock protects every children list, the roots list,
	 * registry insertion and deletion, and every device's deact counter.
	 * It is a leaf: never held across a callback, a drain or any wait.
	 */
	pthread_mutex_t topology_lock;
	struct cds_list_head roots;        /* protected by topology_lock */

	/*
	 * wait_lock/wait_cond: state transitions (REMOVING -> DEAD/LIVE) and
	 * claims. Leaf lock, held only to change or wait for those.
	 */
	pthread_mutex_t wait_lock;
	pthread_cond_t wait_cond;

	atomic_bool autoprobe;             /* a bus's drivers_autoprobe */
	pthread_mutex_t drivers_lock;      /* leaf; protects drivers */
	pthread_cond_t drivers_cond;       /* a driver's last pin went */
	struct cds_list_head drivers;

	pthread_mutex_t wq_lock;           /* protects workqueues list */
	struct cds_list_head workqueues;
	struct dl_workqueue *system_wq;    /* written once */

	/* watchers: read-locked around calls, write-locked to change */
	pthread_rwlock_t watch_lock;
	struct {
		dl_watch_fn fn;
		void *arg;
	} watchers[8];
	atomic_int nwatchers;              /* fast check, watch_lock */

	pthread_mutex_t trace_lock;        /* leaf; protects the ring */
	struct dl_trace_record *ring;
	uint64_t trace_seq;                /* last seq written */

	atomic_uint_fast64_t next_id;
	atomic_long refs;                  /* owner + one per allocated device */
	atomic_bool freeing;

	struct {
		atomic_uint_fast64_t devices_live, devices_allocated, adds,
			removes, remove_busy, remove_timeout, work_run,
			work_cancelled;
	} stats;

	/* drain report, protected by wait_lock */
	uint64_t report_threshold_ns;
	dl_report_fn report_fn;
	void *report_arg;
};

void dl__tree_put(struct dl_tree *tree);
void dl__trace(struct dl_tree *tree, const struct dl_device *dev,
	       enum dl_trace_event ev, int32_t arg);
/*
 * The two halves of dl__trace(): record into the ring (a leaf lock: may
 * be called under the topology lock or wait_lock, so that the ring's
 * order is the order of the state changes), then call the watchers (no
 * lock of ours held).
 */
void dl__trace_record(struct dl_tree *tree, const struct dl_device *dev,
		      enum dl_trace_event ev, int32_t arg,
		      struct dl_trace_record *out);
void dl__trace_notify(struct dl_tree *tree, const struct dl_device *dev,
		      const struct dl_trace_record *rec);

/* ------------------------------------------------------------------ */
/* Time (clock.c)                                                      */

#define DL_NSEC_PER_SEC 1000000000ull

/* CLOCK_MONOTONIC, in nanoseconds. */
uint64_t dl__now_ns(void);
/* A condition variable whose timed waits count CLOCK_MONOTONIC. */
void dl__cond_init(pthread_cond_t *cond);
/*
 * Wait on cond (mutex held) until signalled or until the monotonic
 * deadline_ns (0: no deadline). Returns 0, or ETIMEDOUT once the deadline
 * has passed (checked before waiting: a caller loops on its condition and
 * stops on ETIMEDOUT). A step of the wall clock changes nothing.
 */
int dl__cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex,
			uint64_t deadline_ns);

/* ------------------------------------------------------------------ */
/* Device                                                              */

struct dl_claim {
	char owner[64];
	dl_claim_release_fn release;
	void *arg;
	/* tree->wait_lock: release callbacks running now, and whether the
	 * claimant has let go (then the last caller frees the claim) */
	int calls;
	bool released;
	bool remover_frees;  /* unclaimed from inside a release callback */
};

struct dl_device {
	/*
	 * Active gate, first (<devlife/inline.h> reads it there). deact
	 * counts the removals that currently keep the device closed; enter
	 * fails while it is non-zero. Written under tree->topology_lock,
	 * read locklessly by enter (paired with the barrier of
	 * dl__active_barrier()). The rest of this line is read-mostly.
	 */
	struct dl__device_abi gate;
	/*
	 * How many of the removals counted in gate.deact can no longer be
	 * refused (a NEW device counts one). An enter that finds the gate
	 * closed fails at once if this is non-zero; otherwise every closer
	 * may still roll back, and the enter waits for the decision
	 * (active.c, "held enters"). Written under tree->topology_lock.
	 */
	atomic_int gate_final;
	_Atomic int state;                 /* enum dl_device_state; written
					    * under tree->wait_lock */
	struct dl_tree *tree;              /* written once before add */
	const struct dl_device_type *type; /* written once */
	struct dl_device *parent;          /* written once at add; pinned */
	uint64_t id;                       /* written once */
	unsigned long hash;                /* written once */
	void *priv;                        /* written once */
	/*
	 * The surprise removals that marked this device gone and have not
	 * been refused (a refused one takes its mark back): gone while
	 * non-zero. Atomic.
	 */
	atomic_int gone;
	atomic_bool adding;                /* dl_device_add() claimed it */
	bool autoprobe;                    /* written before add */

	struct rcu_head rcu;               /* deferred free */
	struct cds_list_head children;     /* protected by topology_lock */
	struct cds_list_head sibling;      /* protected by topology_lock */
	_Atomic uint64_t deact_gen;        /* topology_lock: barrier gen at
					    * the last 0 -> 1 of deact */
	atomic_long fallback_active;       /* enters of threads whose slots
					    * were full */
	atomic_bool online;                /* device lock for writers */
	bool linked;                       /* topology_lock */
	uint64_t walk_tag;                 /* topology_lock: removal walk */

	pthread_mutex_t lock;              /* the device lock */
	atomic_int lock_owner;             /* debug: tid holding lock */
	/* written under the device lock; read lock-free as a snapshot */
	_Atomic(struct dl_driver *) driver;
	void *drvdata;                     /* device lock (driver's) */

	struct dl_claim *claim;            /* tree->wait_lock */
	/* the thread running this device's online/offline callback, 0 if
	 * none (tree->wait_lock): a removal starts only once it is done */
	atomic_int onlining_tid;           /* read unlocked by waits.c */
	/* the thread running this device's removal, 0 if none (written
	 * under tree->wait_lock): a removal that would wait for its own
	 * thread fails instead (remove.c, waits.c) */
	atomic_int remover_tid;
	atomic_uint pending_work;          /* queued, not started items */

	/*
	 * What a lookup touches, together: the hash table's node (its next
	 * pointer and hash), the lifetime count, the publication flag and
	 * the name it compares. One or two cache lines instead of four.
	 */
	struct cds_lfht_node node; /* registry; topology_lock */
	atomic_long refcount;              /* lifetime references */
	atomic_bool published;             /* lookup filter */
	char name[];                       /* then the private area */
};

static inline bool dl__get_unless_zero(struct dl_device *dev)
{
	long c = atomic_load_explicit(&dev->refcount, memory_order_relaxed);

	while (c > 0) {
		if (atomic_compare_exchange_weak_explicit(
			    &dev->refcount, &c, c + 1, memory_order_acquire,
			    memory_order_relaxed))
			return true;
	}
	return false;
}

int dl__snapshot_list(struct dl_tree *tree, struct cds_list_head *head,
		      struct dl_device ***ret, size_t *ret_n);
int dl__for_each_in(struct dl_tree *tree, struct cds_list_head *head,
		    int (*fn)(struct dl_device *, void *), void *arg);
bool dl__is_ancestor(const struct dl_device *anc, const struct dl_device *dev);

/* ------------------------------------------------------------------ */
/* Active references (active.c)                                        */

/*
 * A thread's active references live in its own slots: the common enter
 * and exit touch only the calling thread's cache lines. A remover makes
 * the slots it reads coherent with one process-wide barrier
 * (membarrier(2), as liburcu's urcu-memb) and sums the slots of every
 * thread for the device.
 */
#define DL_SLOTS DL__SLOTS_ABI

/*
 * A thread's slots (struct dl__slot_abi: device pointer, count, debug tag
 * and call site, all written by the owner only) and its fence mode are
 * the head of its record, declared in <devlife/inline.h>: the inline fast
 * path reads and writes them. ABI.
 */

#define DL_HELD_LOCKS 16

/*
 * Active references a thread holds outside its slots (every slot its
 * device hashes to was taken): counted on the device's fallback_active
 * and, so that the thread's own checks (-EDEADLK, remove_self, the lock
 * order) and the holders report still see them, here. Written by the
 * owner, read by others under threads_lock.
 */
#define DL_OVERFLOW 32

struct dl__overflow {
	_Atomic(struct dl_device *) dev;
	atomic_long count;
};

/*
 * What a thread is blocked on, for the wait-for checks of builds with
 * debug checks (waits.c). Written by its thread under dl__threads_lock,
 * read by others under it; what it points to is pinned by the waiter
 * while it waits.
 */
enum dl__wait_kind {
	DL_WAIT_NONE,
	DL_WAIT_LOCK,    /* dev's device lock: its owner */
	DL_WAIT_DRAIN,   /* devs[]' active users: their holders */
	DL_WAIT_FLUSH,   /* a queue's items up to seq: their runners */
	DL_WAIT_REMOVAL, /* dev's removal, or its online callback: owner */
	DL_WAIT_CLAIM,   /* unclaim: the threads running claim's release
			  * callback */
};

struct dl__wait {
	int kind;
	struct dl_device *dev;           /* LOCK, REMOVAL */
	struct dl_device *const *devs;   /* DRAIN */
	size_t n;
	const void *wq;                  /* FLUSH */
	const char *wq_name;
	uint64_t seq;
	pid_t owner;                     /* REMOVAL */
	bool online;                     /* REMOVAL: owner runs a callback */
	const void *claim;               /* CLAIM */
	const char *fn;                  /* the public call that waits */
	void *site;                      /* and its caller */
};

struct dl__thread {
	struct dl__thread_abi abi;         /* first: <devlife/inline.h> */
	struct cds_list_head node;         /* dl__threads, dl__threads_lock */
	pid_t tid;
	char name[16];
	struct dl__overflow over[DL_OVERFLOW];
	/* debug lock tracking, owner only */
	struct dl_device *held[DL_HELD_LOCKS];
	int nheld;
	int topology_held;
	struct dl_tree *topology_tree;     /* the tree whose lock is held */
	int in_lib;        /* debug: inside enter/exit (a signal handler
			    * entering now would be reentrant); owner only */
	int removing;      /* removals this thread is running; owner only */
	int dtor_rounds;   /* thread-exit destructor calls so far */
	/* debug, dl__threads_lock: what it waits for; the queue item it
	 * runs (its body or done callback) */
	struct dl__wait wait;
	const void *work_wq;
	const char *work_wq_name;
	atomic_int lock_tid; /* the tid its device locks' lock_owner says */
	const void *claim_cb; /* the claim whose release callback it runs */
	uint64_t work_seq;
};

struct dl__thread *dl__thread_self(void);
/* Registry bookkeeping, topology_lock held: after an insertion, after
 * a deletion. */
void dl__registry_added_locked(struct dl_tree *tree);
void dl__registry_deleted_locked(struct dl_tree *tree);
/* Returns the thread's record or NULL (allocation failed). */
struct dl__thread *dl__thread_self_maybe(void);

/*
 * Close the gate (topology_lock held); final: this removal can no longer
 * be refused. dl__gate_final_locked() turns a close that could be refused
 * into a final one (a removal that commits). dl__gate_changed() wakes the
 * enters held by a close that could be refused, once it was reopened or
 * made final.
 */
void dl__deactivate_locked(struct dl_device *dev, bool final);
void dl__reactivate_locked(struct dl_device *dev, bool final);
void dl__gate_final_locked(struct dl_device *dev);
void dl__gate_changed(void);
/* The calling thread runs a removal (enters on closed gates fail). */
void dl__removing_begin(void);
void dl__removing_end(void);
/* Device locks the calling thread holds (lock.c, every build). */
extern __thread int dl__locks_held;
/* Make every deactivation done so far visible to all enters. */
void dl__active_barrier(void);
/* Barrier only if no completed barrier covers dev's deactivation. */
void dl__active_barrier_for(struct dl_device *dev);
/* Sum of active references (callers made a covering barrier). */
long dl__active_sum(struct dl_device *dev);
/* Whether the calling thread holds an active ref on dev or below it. */
bool dl__self_holds_active_in(struct dl_device *dev, bool subtree);
/*
 * Wait until every device of devs[] has no active user, or deadline
 * (0: none). Returns 0 or -ETIMEDOUT.
 */
int dl__active_drain(struct dl_tree *tree, struct dl_device **devs,
		     size_t n, uint64_t deadline_ns);
void dl__active_init(void);
/* Every thread's record (active.c), and the lock that protects the list. */
extern pthread_mutex_t dl__threads_lock;
extern struct cds_list_head dl__threads;
/*
 * The text a slow drain reports: who holds devs[] (holders.c); malloc'd,
 * NULL if out of memory. Takes dl__threads_lock.
 */
char *dl__holders_report(struct dl_device **devs, size_t n,
			 uint64_t waited_ns);

/* ------------------------------------------------------------------ */
/* Locks (lock.c)                                                      */

void dl__topology_lock(struct dl_tree *tree);
void dl__topology_unlock(struct dl_tree *tree);

/*
 * Lock claims of *_locked functions, checked in builds with debug checks
 * (aborting with the function's name). The topology lock and device
 * locks are tracked per thread, so the check is exact. For the plain
 * mutexes (wait_lock, threads_lock, a queue's lock) it can only say that
 * somebody holds the lock: pthread_mutex_trylock() succeeding means that
 * nobody did.
 */
void dl__check_topology_held(struct dl_tree *tree, const char *fn);
void dl__check_mutex_held(pthread_mutex_t *m, const char *what,
			  const char *fn);
#define dl__assert_topology_held(tree)                                         \
	do {                                                                   \
		if (DL_DEBUG)                                                  \
			dl__check_topology_held((tree), __func__);             \
	} while (0)
#define dl__assert_mutex_held(m, what)                                         \
	do {                                                                   \
		if (DL_DEBUG)                                                  \
			dl__check_mutex_held((m), (what), __func__);           \
	} while (0)
#define dl__assert_device_locked(dev)                                          \
	do {                                                                   \
		if (DL_DEBUG && !dl_device_lock_held(dev))                     \
			dl__die("%s(%s) called without its device lock",       \
				__func__, (dev)->name);                        \
	} while (0)
/* An invariant the code relies on, checked in builds with debug checks. */
#define dl__assert(cond)                                                       \
	do {                                                                   \
		if (DL_DEBUG && !(cond))                                       \
			dl__die("%s:%d: %s: invariant broken: %s", __FILE__,   \
				__LINE__, __func__, #cond);                    \
	} while (0)
/* Debug: a drain of dev is about to wait; check no forbidden lock held. */
void dl__lockdep_check_drain(struct dl_device *dev);

/* ------------------------------------------------------------------ */
/* Waits (waits.c)                                                     */

/*
 * The public call a thread is in, for reports: saved and set at the entry
 * of a call that may wait, restored on its return. Debug builds only.
 */
struct dl__api_call {
	const char *fn;
	void *site;
};
struct dl__api_call dl__api_begin(const char *fn, void *site);
void dl__api_end(struct dl__api_call saved);
#define DL_API_BEGIN(fn)                                                       \
	(DL_DEBUG ? dl__api_begin((fn), __builtin_return_address(0))            \
		  : (struct dl__api_call){ 0 })
#define DL_API_END(saved)                                                      \
	do {                                                                   \
		if (DL_DEBUG)                                                  \
			dl__api_end(saved);                                    \
	} while (0)

/*
 * Debug builds: the calling thread is about to block on *w. Records it
 * and follows who it waits for, who they wait for, and so on: if that
 * comes back to this thread, every thread of the cycle waits for ever,
 * and this aborts with a report of each one's wait, call site and
 * holdings. dl__wait_end(): it no longer waits.
 */
void dl__wait_begin(const struct dl__wait *w);
void dl__wait_end(void);
/* Debug builds: the calling thread runs claim's release callback (NULL:
 * no longer). */
void dl__claim_callback_running(const void *claim);
/* Debug builds: the calling thread runs an item of wq numbered seq (its
 * body or its done callback); wq NULL: no longer. */
void dl__work_running(const void *wq, const char *name, uint64_t seq);
/*
 * A removal of dev that would wait for the removal the calling thread is
 * running itself (a callback of that removal removing its device or an
 * ancestor). Builds with debug checks print the report; the caller fails
 * with -EDEADLK. wait_lock held.
 */
void dl__wait_self_report(struct dl_device *dev);
/* A call site as a person can use it (holders.c). */
void dl__describe_site(char *buf, size_t len, void *site);

/* ------------------------------------------------------------------ */
/* Drivers, work, claims                                               */

struct dl_driver {
	struct cds_list_head node;         /* tree->drivers_lock */
	struct dl_tree *tree;
	const struct dl_driver_ops *ops;
	void *data;
	bool dying;                        /* tree->drivers_lock */
	/* binds calling match() now, without drivers_lock: the driver
	 * stays on the list (and allocated) while pinned; drivers_lock */
	int pins;
};

/* The claim whose release callback this thread is running (claim.c). */
void dl__claim_callback_enter(struct dl_claim *c, struct dl_device *dev);
void dl__claim_callback_exit(void);
/* The device whose release callback this thread runs, or NULL. */
struct dl_device *dl__claim_callback_dev(void);

/* Call the driver's remove under the device lock (held by caller). */
void dl__driver_detach_locked(struct dl_device *dev);
void dl__drivers_free_all(struct dl_tree *tree);

void dl__work_cancel_device(struct dl_device *dev);
/*
 * In a work item's body: give up the active reference its worker took on
 * the item's device, if that device is dev (or, with subtree, dev or a
 * descendant of dev). Returns whether it did.
 */
bool dl__work_drop_active(struct dl_device *dev, bool subtree);
void dl__workqueues_free_all(struct dl_tree *tree);

#endif
