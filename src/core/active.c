/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Active references: "I am using this device now".
 *
 * The fast path is liburcu's urcu-memb read side applied to a per-device
 * count. Each thread owns DL_SLOTS slots (device pointer, count). enter()
 * finds or claims a slot for the device in the calling thread's own slots,
 * increments its count, and then checks the device's gate (deact). exit()
 * decrements the count. Neither writes a cache line another thread writes.
 *
 * A remover closes the gate (deact++), then makes a process-wide barrier
 * (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), one IPI per CPU running
 * this process) and sums the device's slots over all threads. This is
 * Dekker's protocol with the reader's full fence moved to the writer:
 *
 *   enter:  slot.count++ ; barrier() ; if (dev->gate.deact) back out
 *   remove: dev->gate.deact++ ; membarrier() ; sum(slots of dev)
 *
 * For every reader, the membarrier falls either after its increment (the
 * sum sees it) or before its check (it sees the closed gate and backs
 * out). Without membarrier (old kernels) readers use a full fence.
 *
 * The count is exact when the remover asks: that is what try mode's busy
 * check and the drain need; a global SRCU-like counter could not say
 * which device is busy.
 *
 * Once deactivated, a device stays closed for every later sum, so one
 * barrier covers any number of devices deactivated before it: a subtree
 * teardown pays it once (deact_gen / gen_done below).
 *
 * exit() must not touch the device after its decrement (the remover may
 * free it right after seeing zero). To wake a waiting remover it reads a
 * process-wide "drainers" count instead, paired the same way with a
 * barrier issued after that count is raised.
 *
 * A thread that holds more than DL_SLOTS devices at once (or whose slot
 * record could not be allocated) falls back to a per-device atomic count,
 * with full fences.
 */
#include <limits.h>
#include <linux/membarrier.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

#if defined(__SANITIZE_THREAD__)
#define DL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DL_TSAN 1
#endif
#endif
#ifndef DL_TSAN
#define DL_TSAN 0
#endif

pthread_mutex_t dl__threads_lock = PTHREAD_MUTEX_INITIALIZER;
CDS_LIST_HEAD(dl__threads);                  /* protected by dl__threads_lock */
static pthread_key_t thread_key;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
/*
 * The calling thread's record, and the same for <devlife/inline.h> when
 * its fast path may use a compiler barrier as its fence. initial-exec:
 * one %fs-relative load, no __tls_get_addr() call.
 */
static __thread struct dl__thread_abi *dl__tls_thread
	__attribute__((tls_model("initial-exec")));
DL_EXPORT __thread struct dl__thread_abi *dl__tls_fast
	__attribute__((tls_model("initial-exec")));

_Static_assert(offsetof(struct dl_device, gate) == 0,
	       "<devlife/inline.h> reads the gate at the head of a device");
_Static_assert(offsetof(struct dl__thread, abi) == 0,
	       "<devlife/inline.h> reads the slots at the head of a record");

static inline struct dl__thread *cur_thread(void)
{
	return (struct dl__thread *)(void *)dl__tls_thread;
}

static atomic_bool use_membarrier;           /* set once, at init */
static atomic_uint_fast64_t gen_started;     /* barriers started */
static atomic_uint_fast64_t gen_done;        /* highest barrier completed */

/* drains waiting for exits; exported for <devlife/inline.h> */
DL_EXPORT atomic_int dl__drainers;
static pthread_mutex_t drain_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t drain_cond;            /* CLOCK_MONOTONIC, at init */
/* enters held by a gate that a removal may still reopen (gate_wait()) */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;

/*
 * The reader's half of the barrier pair. With membarrier registered, a
 * compiler barrier suffices: the remover's membarrier() acts as a full
 * fence on this thread. ThreadSanitizer does not model membarrier (nor
 * fences), so under TSan the slot operations below are sequentially
 * consistent read-modify-writes and this is a real fence.
 */
static inline void reader_fence(void)
{
	if (!DL_TSAN &&
	    dl__likely(atomic_load_explicit(&use_membarrier,
					    memory_order_relaxed)))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
}

static inline void slot_set_count(struct dl__slot_abi *s, long old, long val)
{
	if (DL_TSAN) {
		if (val > old)
			atomic_fetch_add(&s->count, val - old);
		else
			atomic_fetch_sub(&s->count, old - val);
	} else {
		/* release: the holder's accesses to the device come before
		 * the decrement a remover may see (pairs with the acquire
		 * load in dl__active_sum()). */
		atomic_store_explicit(&s->count, val, memory_order_release);
	}
}

static bool holds_any(struct dl__thread *t)
{
	for (int i = 0; i < DL_SLOTS; i++)
		if (atomic_load_explicit(&t->abi.slots[i].count,
					 memory_order_relaxed) > 0)
			return true;
	for (int i = 0; i < DL_OVERFLOW; i++)
		if (atomic_load_explicit(&t->over[i].count,
					 memory_order_relaxed) > 0)
			return true;
	return false;
}

/*
 * The thread's key destructor. Other thread-exit code may still run after
 * it (a pthread key created after the library's, whose destructor exits a
 * device): while the thread holds references, the record stays in place
 * and the key is set again, so glibc calls this again in its next round
 * (up to PTHREAD_DESTRUCTOR_ITERATIONS) and a late exit finds its slot.
 */
static void thread_destructor(void *arg)
{
	struct dl__thread *t = arg;

	if (holds_any(t)) {
		if (++t->dtor_rounds < PTHREAD_DESTRUCTOR_ITERATIONS &&
		    pthread_setspecific(thread_key, t) == 0)
			return;
		/*
		 * A thread that exits inside an active section is a bug of
		 * the caller; its references stay counted (the record stays
		 * on the list) so removal keeps waiting instead of freeing
		 * a device somebody may still touch.
		 */
		fprintf(stderr,
			"devlife: thread %d (%s) exited holding active "
			"references; removals of those devices will wait\n",
			(int)t->tid, t->name);
		return;
	}
	dl__tls_thread = NULL;
	dl__tls_fast = NULL;
	pthread_mutex_lock(&dl__threads_lock);
	cds_list_del(&t->node);
	pthread_mutex_unlock(&dl__threads_lock);
	free(t);
}

/*
 * fork(): the child has one thread, the caller of fork(). The records of
 * every other thread describe threads that do not exist there: their
 * active references are dropped (fallback counts included), or the
 * child would wait for them for ever. dl__threads_lock is held across the
 * fork so that the child's list is whole.
 */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&dl__threads_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&dl__threads_lock);
}

static void atfork_child(void)
{
	struct dl__thread *t, *tmp, *self = cur_thread();

	cds_list_for_each_entry_safe(t, tmp, &dl__threads, node) {
		if (t == self)
			continue;
		for (int i = 0; i < DL_OVERFLOW; i++) {
			long c = atomic_load(&t->over[i].count);

			if (c > 0)
				atomic_fetch_sub(
					&atomic_load(&t->over[i].dev)
						 ->fallback_active,
					c);
		}
		cds_list_del(&t->node);
		free(t);
	}
	if (self)
		self->tid = gettid();
	pthread_mutex_unlock(&dl__threads_lock);
	pthread_mutex_init(&drain_lock, NULL);
	pthread_mutex_init(&gate_lock, NULL);
}

static void do_init(void)
{
	long r;

	if (pthread_key_create(&thread_key, thread_destructor) != 0)
		dl__die("pthread_key_create failed");
	dl__cond_init(&drain_cond);
	if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child) != 0)
		dl__die("pthread_atfork failed");
	r = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	if (r > 0 && (r & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    getenv("DEVLIFE_NO_MEMBARRIER") == NULL &&
	    syscall(__NR_membarrier,
		    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
		atomic_store(&use_membarrier, true);
}

void dl__active_init(void)
{
	pthread_once(&init_once, do_init);
}

static struct dl__thread *thread_register(void)
{
	struct dl__thread *t;

	dl__active_init();
	/* Not dl__calloc: a thread record is not a constructor's
	 * allocation and enter must keep working (fallback) without it. */
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->tid = gettid();
	if (pthread_getname_np(pthread_self(), t->name, sizeof(t->name)))
		t->name[0] = '\0';
	pthread_mutex_lock(&dl__threads_lock);
	cds_list_add(&t->node, &dl__threads);
	pthread_mutex_unlock(&dl__threads_lock);
	if (pthread_setspecific(thread_key, t) != 0) {
		pthread_mutex_lock(&dl__threads_lock);
		cds_list_del(&t->node);
		pthread_mutex_unlock(&dl__threads_lock);
		free(t);
		return NULL;
	}
	dl__tls_thread = &t->abi;
	if (!DL_TSAN && atomic_load(&use_membarrier))
		dl__tls_fast = &t->abi;
	return t;
}

struct dl__thread *dl__thread_self_maybe(void)
{
	return cur_thread() ? cur_thread() : thread_register();
}

struct dl__thread *dl__thread_self(void)
{
	struct dl__thread *t = dl__thread_self_maybe();

	if (!t)
		dl__die("out of memory registering thread %d", (int)gettid());
	return t;
}

/* The first slot of a device: the hash <devlife/inline.h> uses too. */
static inline unsigned int slot_index(const struct dl_device *dev)
{
	return dl__slot_index_abi(dev);
}

#define DL_PROBE 4

DL_EXPORT void dl__drain_wake(void)
{
	pthread_mutex_lock(&drain_lock);
	pthread_cond_broadcast(&drain_cond);
	pthread_mutex_unlock(&drain_lock);
}

static inline void maybe_wake(void)
{
	/* Pairs with the barrier after atomic_fetch_add(&dl__drainers) in
	 * dl__active_drain(). */
	if (dl__unlikely(atomic_load_explicit(&dl__drainers,
					      memory_order_relaxed)))
		dl__drain_wake();
}

/*
 * Count an enter outside the slots: on the device's atomic, and in the
 * thread's overflow table so that its own checks still see it.
 */
static int enter_fallback(struct dl__thread *t, struct dl_device *dev)
{
	struct dl__overflow *o = NULL;

	atomic_fetch_add(&dev->fallback_active, 1);
	if (atomic_load(&dev->gate.deact) != 0) {
		atomic_fetch_sub(&dev->fallback_active, 1);
		maybe_wake();
		return -ENODEV;
	}
	for (int i = 0; t && !o && i < DL_OVERFLOW; i++)
		if (atomic_load(&t->over[i].count) > 0 &&
		    atomic_load(&t->over[i].dev) == dev)
			o = &t->over[i];
	for (int i = 0; t && !o && i < DL_OVERFLOW; i++)
		if (atomic_load(&t->over[i].count) == 0)
			o = &t->over[i];
	if (o) {
		if (atomic_load(&o->count) == 0)
			atomic_store(&o->dev, dev);
		atomic_fetch_add(&o->count, 1);
	}
	return 0;
}

/* Drop an enter counted by enter_fallback(). */
static bool exit_fallback(struct dl__thread *t, struct dl_device *dev)
{
	long old;

	old = atomic_fetch_sub(&dev->fallback_active, 1);
	if (dl__unlikely(old <= 0)) {
		atomic_fetch_add(&dev->fallback_active, 1);
		return false;
	}
	for (int i = 0; t && i < DL_OVERFLOW; i++) {
		struct dl__overflow *p = &t->over[i];

		if (atomic_load(&p->count) > 0 && atomic_load(&p->dev) == dev) {
			atomic_fetch_sub(&p->count, 1);
			break;
		}
	}
	maybe_wake();
	return true;
}

/*
 * One attempt: 0, or -ENODEV with nothing counted (the gate is closed).
 */
static int enter_once(struct dl__thread *t, struct dl_device *dev,
		      const char *tag, void *site)
{
	struct dl__slot_abi *s = NULL, *free_slot = NULL;
	unsigned int idx;
	long c = 0;

	idx = slot_index(dev);
	for (unsigned int i = 0; i < DL_PROBE; i++) {
		struct dl__slot_abi *p = &t->abi.slots[(idx + i) & (DL_SLOTS - 1)];
		long pc = atomic_load_explicit(&p->count,
					       memory_order_relaxed);

		if (atomic_load_explicit(&p->dev, memory_order_relaxed) ==
		    dev) {
			s = p;
			c = pc;
			break;
		}
		if (pc == 0 && !free_slot)
			free_slot = p;
	}
	if (!s) {
		if (!free_slot)
			return enter_fallback(t, dev);
		s = free_slot;
		c = 0;
		/* A remover reading (dev, 0) ignores the slot; the count is
		 * published after the pointer. A signal handler entering on
		 * this thread between the two would take the same slot: see
		 * dl_device_enter() in <devlife/device.h>. */
		atomic_store_explicit(&s->dev, dev, memory_order_relaxed);
		DL_TEST_POINT("enter:slot-claimed", dev);
	}
	slot_set_count(s, c, c + 1);
	reader_fence(); /* pairs with dl__active_barrier() */
	if (dl__unlikely(atomic_load_explicit(&dev->gate.deact,
					      memory_order_relaxed) != 0)) {
		slot_set_count(s, c + 1, c);
		reader_fence();
		maybe_wake();
		return -ENODEV;
	}
	if (DL_DEBUG) {
		s->tag = tag;
		s->site = site;
	}
	return 0;
}

/*
 * Whether an enter that found the gate closed by removals that may all
 * still be refused may wait for their decision. Not if the thread holds
 * anything such a removal could be waiting for (an active reference: its
 * drain waits for it; a device lock: a user it drains may want it), nor
 * on a removal's own thread (its callbacks). Otherwise the wait is
 * bounded by the removal: a try decides at once, a deadline by its
 * deadline.
 */
static bool may_wait(struct dl__thread *t)
{
	return t->removing == 0 && dl__locks_held == 0 && !holds_any(t);
}

static bool gate_tentative(const struct dl_device *dev)
{
	return atomic_load(&dev->gate.deact) != 0 &&
	       atomic_load(&dev->gate_final) == 0;
}

static void gate_wait(struct dl_device *dev)
{
	DL_TEST_POINT("enter:held", dev);
	pthread_mutex_lock(&gate_lock);
	/* The closer changes the gate before it takes gate_lock to wake
	 * us (dl__gate_changed()): no lost wake-up. */
	while (gate_tentative(dev))
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
}

void dl__gate_changed(void)
{
	pthread_mutex_lock(&gate_lock);
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

static void lib_begin(struct dl__thread *t, const char *what,
		      struct dl_device *dev)
{
	if (DL_DEBUG && t && t->in_lib++)
		dl__die("%s(%s) on thread %d interrupted the library's own "
			"enter or exit on that thread: a signal handler may "
			"not enter or exit a device (<devlife/device.h>)",
			what, dev->name, (int)t->tid);
}

static void lib_end(struct dl__thread *t)
{
	if (DL_DEBUG && t)
		t->in_lib--;
}

static int enter_common(struct dl_device *dev, const char *tag, void *site)
{
	struct dl__thread *t = cur_thread();
	int r;

	if (dl__unlikely(!t)) {
		t = thread_register();
		if (!t)
			return enter_fallback(NULL, dev);
	}
	lib_begin(t, "dl_device_enter", dev);
	for (;;) {
		r = enter_once(t, dev, tag, site);
		if (dl__likely(r == 0) || !gate_tentative(dev) ||
		    !may_wait(t))
			break;
		lib_end(t);
		gate_wait(dev);
		lib_begin(t, "dl_device_enter", dev);
	}
	lib_end(t);
	return r;
}

DL_EXPORT int dl_device_enter(struct dl_device *dev)
{
	assert_return(dev, -EINVAL);
	return enter_common(dev, NULL, __builtin_return_address(0));
}

DL_EXPORT int dl_device_enter_tagged(struct dl_device *dev, const char *tag)
{
	assert_return(dev, -EINVAL);
	return enter_common(dev, tag, __builtin_return_address(0));
}

DL_EXPORT void dl_device_exit(struct dl_device *dev)
{
	struct dl__thread *t = cur_thread();

	if (dl__unlikely(!dev))
		return;
	if (dl__likely(t)) {
		unsigned int idx = slot_index(dev);

		lib_begin(t, "dl_device_exit", dev);
		for (unsigned int i = 0; i < DL_PROBE; i++) {
			struct dl__slot_abi *p =
				&t->abi.slots[(idx + i) & (DL_SLOTS - 1)];
			long c = atomic_load_explicit(&p->count,
						      memory_order_relaxed);

			if (c > 0 && atomic_load_explicit(
					     &p->dev, memory_order_relaxed) ==
					     dev) {
				slot_set_count(p, c, c - 1);
				/* From here on, dev may be freed. */
				reader_fence();
				lib_end(t);
				maybe_wake();
				return;
			}
		}
		lib_end(t);
	}
	if (dl__unlikely(!exit_fallback(t, dev)) && DL_DEBUG)
		dl__die("dl_device_exit(%s) without a matching "
			"dl_device_enter on thread %d",
			dev->name, (int)gettid());
}

void dl__removing_begin(void)
{
	dl__thread_self()->removing++;
}

void dl__removing_end(void)
{
	dl__thread_self()->removing--;
}

/* ------------------------------------------------------------------ */
/* The remover's side.                                                 */

void dl__deactivate_locked(struct dl_device *dev, bool final)
{
	dl__assert_topology_held(dev->tree);
	if (final)
		atomic_fetch_add(&dev->gate_final, 1);
	if (atomic_fetch_add(&dev->gate.deact, 1) == 0)
		/* seq_cst after the increment: a barrier numbered above
		 * this value started after the gate closed. */
		atomic_store_explicit(&dev->deact_gen,
				      atomic_load(&gen_started),
				      memory_order_relaxed);
}

void dl__reactivate_locked(struct dl_device *dev, bool final)
{
	int old;

	dl__assert_topology_held(dev->tree);
	old = atomic_fetch_sub(&dev->gate.deact, 1);

	if (old <= 0)
		dl__die("reactivating %s which was not deactivated",
			dev->name);
	if (final && atomic_fetch_sub(&dev->gate_final, 1) <= 0)
		dl__die("reopening %s: no final close to undo", dev->name);
}

void dl__gate_final_locked(struct dl_device *dev)
{
	dl__assert_topology_held(dev->tree);
	if (atomic_load(&dev->gate.deact) <= atomic_load(&dev->gate_final))
		dl__die("%s: a final close without a close", dev->name);
	atomic_fetch_add(&dev->gate_final, 1);
}

void dl__active_barrier(void)
{
	uint_fast64_t g = atomic_fetch_add(&gen_started, 1) + 1;
	uint_fast64_t d;

	if (atomic_load(&use_membarrier) &&
	    syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0,
		    0) != 0)
		dl__die("membarrier failed after registration");
	atomic_thread_fence(memory_order_seq_cst);
	d = atomic_load(&gen_done);
	while (d < g && !atomic_compare_exchange_weak(&gen_done, &d, g))
		;
}

static bool barrier_covers(struct dl_device *dev)
{
	uint64_t g = atomic_load_explicit(&dev->deact_gen,
					  memory_order_relaxed);

	return atomic_load(&gen_done) > g;
}

void dl__active_barrier_for(struct dl_device *dev)
{
	if (!barrier_covers(dev))
		dl__active_barrier();
}

static long sum_locked(struct dl_device *dev)
{
	struct dl__thread *t;
	long sum = atomic_load(&dev->fallback_active);

	dl__assert_mutex_held(&dl__threads_lock, "threads_lock");
	cds_list_for_each_entry(t, &dl__threads, node) {
		for (int i = 0; i < DL_SLOTS; i++) {
			struct dl__slot_abi *s = &t->abi.slots[i];
			long c = atomic_load_explicit(&s->count,
						      memory_order_acquire);

			if (c > 0 && atomic_load_explicit(
					     &s->dev, memory_order_relaxed) ==
					     dev)
				sum += c;
		}
	}
	return sum;
}

long dl__active_sum(struct dl_device *dev)
{
	long sum;

	pthread_mutex_lock(&dl__threads_lock);
	sum = sum_locked(dev);
	pthread_mutex_unlock(&dl__threads_lock);
	return sum;
}

static long sum_all(struct dl_device **devs, size_t n)
{
	long sum = 0;

	pthread_mutex_lock(&dl__threads_lock);
	for (size_t i = 0; i < n; i++)
		sum += sum_locked(devs[i]);
	pthread_mutex_unlock(&dl__threads_lock);
	return sum;
}

DL_EXPORT long dl_device_active_users(struct dl_device *dev)
{
	assert_return(dev, -EINVAL);
	dl__active_barrier();
	return dl__active_sum(dev);
}

bool dl__is_ancestor(const struct dl_device *anc, const struct dl_device *dev)
{
	for (const struct dl_device *p = dev->parent; p; p = p->parent)
		if (p == anc)
			return true;
	return false;
}

bool dl__self_holds_active_in(struct dl_device *dev, bool subtree)
{
	struct dl__thread *t = cur_thread();

	if (!t)
		return false;
	for (int i = 0; i < DL_SLOTS; i++) {
		struct dl_device *d;

		if (atomic_load(&t->abi.slots[i].count) <= 0)
			continue;
		d = atomic_load(&t->abi.slots[i].dev);
		/* d is pinned: this very thread holds an active ref. */
		if (d == dev || (subtree && dl__is_ancestor(dev, d)))
			return true;
	}
	for (int i = 0; i < DL_OVERFLOW; i++) {
		struct dl_device *d;

		if (atomic_load(&t->over[i].count) <= 0)
			continue;
		d = atomic_load(&t->over[i].dev);
		if (d == dev || (subtree && dl__is_ancestor(dev, d)))
			return true;
	}
	return false;
}

int dl__active_drain(struct dl_tree *tree, struct dl_device **devs,
		     size_t n, uint64_t deadline_ns)
{
	bool need = false;
	int ret = 0;
	uint64_t start, report_at = 0;
	bool reported = false;

	for (size_t i = 0; i < n; i++) {
		if (DL_DEBUG)
			dl__lockdep_check_drain(devs[i]);
		if (!need && !barrier_covers(devs[i]))
			need = true;
	}
	if (need)
		dl__active_barrier();
	/* Fast path: nobody inside. No wake-up protocol needed. */
	if (sum_all(devs, n) == 0)
		return 0;

	DL_TEST_POINT("drain:wait", devs[0]);
	if (DL_DEBUG) {
		dl__wait_begin(&(struct dl__wait){ .kind = DL_WAIT_DRAIN,
						   .devs = devs, .n = n });
		DL_TEST_POINT("wait:blocking", devs[0]);
	}
	start = dl__now_ns();
	pthread_mutex_lock(&tree->wait_lock);
	if (tree->report_threshold_ns)
		report_at = start + tree->report_threshold_ns;
	pthread_mutex_unlock(&tree->wait_lock);

	atomic_fetch_add(&dl__drainers, 1);
	dl__active_barrier(); /* pairs with maybe_wake() */
	pthread_mutex_lock(&drain_lock);
	for (;;) {
		uint64_t now, until;

		if (sum_all(devs, n) == 0)
			break;
		now = dl__now_ns();
		if (deadline_ns && now >= deadline_ns) {
			ret = -ETIMEDOUT;
			break;
		}
		if (report_at && !reported && now >= report_at) {
			char *text;
			dl_report_fn fn;
			void *arg;

			reported = true;
			pthread_mutex_unlock(&drain_lock);
			dl__trace(tree, devs[0], DL_EV_DRAIN_SLOW, 0);
			text = dl__holders_report(devs, n, now - start);
			pthread_mutex_lock(&tree->wait_lock);
			fn = tree->report_fn;
			arg = tree->report_arg;
			pthread_mutex_unlock(&tree->wait_lock);
			if (text) {
				if (fn)
					fn(tree, text, arg);
				else
					fprintf(stderr, "devlife: %s", text);
				free(text);
			}
			pthread_mutex_lock(&drain_lock);
			continue;
		}
		until = 0;
		if (deadline_ns)
			until = deadline_ns;
		if (report_at && !reported && (!until || report_at < until))
			until = report_at;
		(void)dl__cond_wait_until(&drain_cond, &drain_lock, until);
	}
	pthread_mutex_unlock(&drain_lock);
	atomic_fetch_sub(&dl__drainers, 1);
	if (DL_DEBUG)
		dl__wait_end();
	return ret;
}
