/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devlife/inline.h - the active-reference fast path, inlined into the
 * caller.
 *
 * dl_device_enter() and dl_device_exit() are calls into the shared
 * library: two calls through the PLT and a thread-local lookup (8.9 ns a
 * pair against 1.3 ns inline on the reference machine of the project's
 * docs/performance.md, which says how to measure). A data path that enters a device per packet or
 * per request can include this header and use dl_device_enter_inline()
 * and dl_device_exit_inline() instead: the common case (this thread used
 * the device before) is then a few instructions in the caller, with no
 * call, no atomic read-modify-write and no store to memory another thread
 * writes. Everything else (the first use of a device by a thread, a full
 * set of slots, a closed gate, a waiting remover) goes to the library.
 *
 * The two are interchangeable with dl_device_enter()/dl_device_exit(): an
 * enter of one kind may be paired with an exit of the other.
 *
 * The structures below are the part of the library's layout this fast
 * path reads and writes. They are ABI: a change to them changes the
 * library's soname. Nothing else may use them.
 *
 * Built with ThreadSanitizer (which does not model membarrier), both
 * functions simply call the library.
 *
 * Like the library's, these are not async-signal-safe: a signal handler
 * must not call them (see dl_device_enter()).
 */
#ifndef DEVLIFE_INLINE_H
#define DEVLIFE_INLINE_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include <devlife/device.h>

#ifdef __cplusplus
#error "devlife/inline.h is C11 only; use dl_device_enter() from C++"
#endif

#if defined(__SANITIZE_THREAD__)
#define DL__INLINE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DL__INLINE_TSAN 1
#endif
#endif

/* ABI: one per-thread slot (the library's struct dl__slot) */
struct dl__slot_abi {
	_Atomic(struct dl_device *) dev;
	atomic_long count;
	const char *tag;
	void *site;
};

#define DL__SLOTS_ABI 16

/* ABI: the head of a thread's record (the library's struct dl__thread) */
struct dl__thread_abi {
	struct dl__slot_abi slots[DL__SLOTS_ABI];
};

/* ABI: the head of every struct dl_device */
struct dl__device_abi {
	atomic_int deact;   /* the gate: enter fails while nonzero */
};

/*
 * The calling thread's record, NULL until its first enter, and always NULL
 * when removers cannot fence this thread with membarrier(2) (old kernels,
 * DEVLIFE_NO_MEMBARRIER, a ThreadSanitizer build of the library): the
 * reader's half of the barrier pair is then a real fence, which the
 * library's functions take.
 */
extern __thread struct dl__thread_abi *dl__tls_fast
	__attribute__((tls_model("initial-exec")));
/* Removals waiting for users to exit (exits then wake them). */
extern atomic_int dl__drainers;
void dl__drain_wake(void);

/* Hash of a device pointer to its first slot, as the library's. */
static inline unsigned int dl__slot_index_abi(const struct dl_device *dev)
{
	uint64_t h = (uint64_t)(uintptr_t)dev * 0x9E3779B97F4A7C15ull;

	return (unsigned int)(h >> 60) & (DL__SLOTS_ABI - 1);
}


/**
 * dl_device_enter_inline() - dl_device_enter(), inlined in the caller
 * @dev: a device the caller holds a lifetime reference on
 *
 * Same contract as dl_device_enter(). The fast path is taken when the
 * calling thread's first slot for @dev already names @dev (it entered
 * @dev before); the first enter of a device by a thread goes to the
 * library. In builds with debug checks the holder report of a slow
 * removal shows the tag and call site of the thread's first enter of the
 * device, not of this one.
 *
 * Context: as dl_device_enter() (a closed gate is handed to the library,
 * which may wait for a refusable removal's decision). Pair with
 * dl_device_exit_inline() or dl_device_exit() on the same thread.
 * Return: as dl_device_enter().
 */
DL_MUST_CHECK static inline int dl_device_enter_inline(struct dl_device *dev)
{
#ifdef DL__INLINE_TSAN
	return dl_device_enter(dev);
#else
	struct dl__thread_abi *t = dl__tls_fast;
	struct dl__slot_abi *s;
	long c;

	if (__builtin_expect(!t || !dev, 0))
		return dl_device_enter(dev);
	s = &t->slots[dl__slot_index_abi(dev)];
	if (__builtin_expect(atomic_load_explicit(&s->dev,
						  memory_order_relaxed) != dev,
			     0))
		return dl_device_enter(dev);
	c = atomic_load_explicit(&s->count, memory_order_relaxed);
	atomic_store_explicit(&s->count, c + 1, memory_order_release);
	/* a remover's membarrier() is this thread's fence */
	atomic_signal_fence(memory_order_seq_cst);
	if (__builtin_expect(
		    atomic_load_explicit(
			    &((struct dl__device_abi *)(void *)dev)->deact,
			    memory_order_relaxed) == 0,
		    1))
		return 0;
	/* closed: back out, wake a remover that may count us, and let the
	 * library decide (fail, or wait for a removal that may be refused) */
	atomic_store_explicit(&s->count, c, memory_order_release);
	/* a remover's membarrier() is this thread's fence */
	atomic_signal_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&dl__drainers, memory_order_relaxed))
		dl__drain_wake();
	return dl_device_enter(dev);
#endif
}

/**
 * dl_device_exit_inline() - dl_device_exit(), inlined in the caller
 * @dev: a device this thread entered
 *
 * Same contract as dl_device_exit(): never touches @dev's memory after the
 * reference is dropped.
 *
 * Context: the thread that entered; never blocks.
 */
static inline void dl_device_exit_inline(struct dl_device *dev)
{
#ifdef DL__INLINE_TSAN
	dl_device_exit(dev);
#else
	struct dl__thread_abi *t = dl__tls_fast;
	struct dl__slot_abi *s;
	long c;

	if (__builtin_expect(!t, 0)) {
		dl_device_exit(dev);
		return;
	}
	s = &t->slots[dl__slot_index_abi(dev)];
	c = atomic_load_explicit(&s->count, memory_order_relaxed);
	if (__builtin_expect(
		    c <= 0 || atomic_load_explicit(&s->dev,
						   memory_order_relaxed) != dev,
		    0)) {
		dl_device_exit(dev);
		return;
	}
	/* release: this thread's accesses to the device come before the
	 * decrement a remover may see; from here on, dev may be freed */
	atomic_store_explicit(&s->count, c - 1, memory_order_release);
	/* a remover's membarrier() is this thread's fence */
	atomic_signal_fence(memory_order_seq_cst);
	if (__builtin_expect(atomic_load_explicit(&dl__drainers,
						  memory_order_relaxed),
			     0))
		dl__drain_wake();
#endif
}

#endif
