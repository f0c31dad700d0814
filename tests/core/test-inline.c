/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The inline fast path of <devlife/inline.h>: it counts exactly as the
 * library's enter/exit (and pairs with them), fails on a closed gate,
 * wakes a waiting remover on its last exit, and steps aside (to the
 * library) where it cannot fence with a compiler barrier.
 */
#include <linux/membarrier.h>
#include <sys/syscall.h>

#include <devlife/inline.h>

#include "testutil.h"

static bool have_membarrier(void)
{
	long r = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	return r > 0 && (r & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	       !getenv("DEVLIFE_NO_MEMBARRIER") && !TU_TSAN;
}

static void try_remove_from_other_thread(struct dl_device *d, int expect)
{
	struct remover rm = REMOVER(d, DL_REMOVE_TRY);

	join(spawn(remove_thread, &rm));
	ASSERT_EQ(rm.ret, expect);
}

TEST(inline_counts_and_pairs_with_library)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "d");
	struct dl_device *e = mkdev(tree, NULL, "e");

	/* the thread's first enter takes the library's path */
	ASSERT_EQ(dl_device_enter_inline(d), 0);
	ASSERT_EQ(dl_device_active_users(d), 1);
	if (have_membarrier())
		ASSERT_TRUE(dl__tls_fast != NULL);
	/* then the fast path, nested, mixed with the library's */
	ASSERT_EQ(dl_device_enter_inline(d), 0);
	ASSERT_EQ(dl_device_enter(d), 0);
	ASSERT_EQ(dl_device_enter_inline(e), 0);
	ASSERT_EQ(dl_device_active_users(d), 3);
	ASSERT_EQ(dl_device_active_users(e), 1);
	dl_device_exit_inline(d);
	ASSERT_EQ(dl_device_active_users(d), 2);
	dl_device_exit(d);
	dl_device_exit_inline(e);
	ASSERT_EQ(dl_device_active_users(d), 1);
	ASSERT_EQ(dl_device_active_users(e), 0);
	/* busy for a try removal, until the last inline exit */
	try_remove_from_other_thread(d, -EBUSY);
	ASSERT_EQ(dl_device_state(d), DL_STATE_LIVE);
	dl_device_exit_inline(d);
	ASSERT_EQ(dl_device_active_users(d), 0);
	ASSERT_EQ(dl_device_enter_inline(NULL), -EINVAL);
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_TRY, 0), 0);
	ASSERT_EQ(dl_device_remove(e, DL_REMOVE_TRY, 0), 0);
	dl_device_put(d);
	dl_device_put(e);
	free_tree(tree);
}

/* A slot that already names the device: the fast path itself meets the
 * closed gate and must back out. */
TEST(inline_enter_fails_on_closed_gate)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "d");
	struct dl_device *c = mkdev(tree, d, "d.c");

	ASSERT_EQ(dl_device_enter_inline(d), 0);
	dl_device_exit_inline(d);
	ASSERT_EQ(dl_device_enter_inline(c), 0);
	dl_device_exit_inline(c);
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	ASSERT_EQ(dl_device_enter_inline(d), -ENODEV);
	ASSERT_EQ(dl_device_enter_inline(c), -ENODEV);
	ASSERT_EQ(dl_device_active_users(d), 0);
	ASSERT_EQ(dl_device_active_users(c), 0);
	dl_device_put(c);
	dl_device_put(d);
	free_tree(tree);
}

struct inline_holder {
	struct dl_device *dev;
	struct gate *in;
	struct gate out;
	int ret;
};

static void *inline_holder_thread(void *arg)
{
	struct inline_holder *h = arg;

	/* warm: the second enter is the fast path */
	h->ret = dl_device_enter_inline(h->dev);
	if (h->ret == 0) {
		dl_device_exit_inline(h->dev);
		h->ret = dl_device_enter_inline(h->dev);
	}
	gate_pass(h->in);
	if (h->ret == 0) {
		gate_pass(&h->out);
		dl_device_exit_inline(h->dev);
	}
	return NULL;
}

/* The remover waits with no deadline: only the inline exit's wake-up can
 * end its wait. */
TEST(inline_exit_wakes_the_remover)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "d");
	struct gate in = GATE_INIT;
	struct inline_holder h = { .dev = d, .in = &in };
	struct remover rm = REMOVER(d, DL_REMOVE_WAIT);
	pthread_t ht, rt;

	gate_init(&h.out);
	ht = spawn(inline_holder_thread, &h);
	gate_wait_entered(&in, 1);
	ASSERT_EQ(h.ret, 0);
	gate_open(&in);
	ASSERT_EQ(dl_device_active_users(d), 1);
	pause_arm(0, "drain:wait", d);
	rt = spawn(remove_thread, &rm);
	pause_wait(0); /* found the user, about to wait for it */
	ASSERT_EQ(dl_device_enter_inline(d), -ENODEV);
	pause_release(0);
	ASSERT_TRUE(still_running(rt, 100));
	ASSERT_EQ(dl_device_state(d), DL_STATE_REMOVING);
	gate_open(&h.out);
	join(ht);
	join(rt);
	ASSERT_EQ(rm.ret, 0);
	ASSERT_EQ(dl_device_state(d), DL_STATE_DEAD);
	dl_device_put(d);
	free_tree(tree);
}

/* Many threads entering and leaving with the fast path while removers
 * come and go: every removal sees the exact count, none returns with a
 * user inside. */
#define NUSERS 2
static atomic_bool stop_users;
static atomic_long inside_dead;

struct user {
	_Atomic(struct dl_device *) *devs;
	int n;
	atomic_long pairs;
};

static void *user_thread(void *arg)
{
	struct user *u = arg;
	unsigned int seed = (unsigned int)gettid();

	while (!atomic_load(&stop_users)) {
		struct dl_device *d = atomic_load(&u->devs[rand_r(&seed) % u->n]);

		if (dl_device_enter_inline(d) == 0) {
			if (dl_device_state(d) == DL_STATE_DEAD)
				atomic_fetch_add(&inside_dead, 1);
			atomic_fetch_add(&u->pairs, 1);
			dl_device_exit_inline(d);
		}
	}
	return NULL;
}

static bool enough_pairs(struct user *u)
{
	for (int i = 0; i < NUSERS; i++)
		if (atomic_load(&u[i].pairs) < 1000)
			return false;
	return true;
}

TEST(inline_users_against_removers)
{
	struct dl_tree *tree = mktree();
	enum { NDEV = 8 };
	_Atomic(struct dl_device *) devs[NDEV];
	struct dl_device **old_devs;
	size_t nold = 0, cap;
	struct user u[NUSERS];
	pthread_t t[NUSERS];
	long rounds = TU_SCALE(2000);
	uint64_t t0 = dl__now_ns();
	char name[32];

	for (int i = 0; i < NDEV; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		atomic_init(&devs[i], mkdev(tree, NULL, name));
	}
	cap = (size_t)rounds;
	old_devs = calloc(cap, sizeof(*old_devs));
	ASSERT_TRUE(old_devs != NULL);
	atomic_store(&stop_users, false);
	for (int i = 0; i < NUSERS; i++) {
		u[i] = (struct user){ .devs = devs, .n = NDEV };
		t[i] = spawn(user_thread, &u[i]);
	}
	/* at least `rounds` removals, and on until every user has entered
	 * often (a slow build may start them late); at most 30 s */
	for (long r = 0;; r++) {
		int i = (int)(r % NDEV);
		struct dl_device *old = atomic_load(&devs[i]);
		int ret;

		if (r >= rounds && (enough_pairs(u) ||
				    dl__now_ns() - t0 > 30000000000ull))
			break;
		ret = dl_device_remove(old, (r & 1) ? DL_REMOVE_TRY
						      : DL_REMOVE_WAIT,
				       DL_NO_TIMEOUT);
		if (ret == -EBUSY)
			continue;
		ASSERT_EQ(ret, 0);
		ASSERT_EQ(dl_device_state(old), DL_STATE_DEAD);
		snprintf(name, sizeof(name), "u%d", i);
		/* the users may still hold the old pointer: keep its
		 * lifetime reference until they stop */
		atomic_store(&devs[i], mkdev(tree, NULL, name));
		if (nold == cap) {
			cap *= 2;
			old_devs = realloc(old_devs, cap * sizeof(*old_devs));
			ASSERT_TRUE(old_devs != NULL);
		}
		old_devs[nold++] = old;
	}
	atomic_store(&stop_users, true);
	for (int i = 0; i < NUSERS; i++) {
		join(t[i]);
		ASSERT_GT(atomic_load(&u[i].pairs), 0);
	}
	ASSERT_EQ(atomic_load(&inside_dead), 0);
	ASSERT_GT(nold, 0);
	for (size_t k = 0; k < nold; k++) {
		/* every failed enter backed out */
		ASSERT_EQ(dl_device_active_users(old_devs[k]), 0);
		dl_device_put(old_devs[k]);
	}
	free(old_devs);
	for (int i = 0; i < NDEV; i++) {
		struct dl_device *d = atomic_load(&devs[i]);

		ASSERT_EQ(dl_device_active_users(d), 0);
		ASSERT_EQ(dl_device_remove(d, DL_REMOVE_TRY, 0), 0);
		dl_device_put(d);
	}
	free_tree(tree);
}

/* Without membarrier the compiler barrier is no fence: the fast path must
 * leave everything to the library. (Each test runs in its own process,
 * so the library's one-time setup sees the variable.) */
TEST(inline_without_membarrier_uses_library)
{
	struct dl_tree *tree;
	struct dl_device *d;

	setenv("DEVLIFE_NO_MEMBARRIER", "1", 1);
	tree = mktree();
	d = mkdev(tree, NULL, "d");
	ASSERT_EQ(dl_device_enter_inline(d), 0);
	ASSERT_TRUE(dl__tls_fast == NULL);
	ASSERT_EQ(dl_device_enter_inline(d), 0);
	ASSERT_EQ(dl_device_active_users(d), 2);
	dl_device_exit_inline(d);
	dl_device_exit_inline(d);
	ASSERT_EQ(dl_device_active_users(d), 0);
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_TRY, 0), 0);
	dl_device_put(d);
	free_tree(tree);
}

TEST_MAIN(inline_counts_and_pairs_with_library,
	  inline_enter_fails_on_closed_gate, inline_exit_wakes_the_remover,
	  inline_users_against_removers,
	  inline_without_membarrier_uses_library)
