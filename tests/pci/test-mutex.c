/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lock claims of the PCI layer (src/pci/mutex.h): in builds with debug
 * checks a struct dl_mutex knows its holder, a *_locked function whose
 * caller does not hold its lock aborts naming the claim, and unlocking a
 * mutex the thread does not hold aborts too. The platform's own claims
 * are checked through dl_pci__find_spec_locked() and
 * dl_pci__mark_absent_locked().
 */
#include <pthread.h>
#include <sys/wait.h>

#include <devlife/devlife.h>
#include <urcu-bp.h>

#include "mutex.h"
#include "platform-test.h"
#include "platform-internal.h"
#include "topology.h"

/* The child must die of SIGABRT, having named the broken claim. */
static void expect_claim_abort(void (*fn)(void *), void *arg, const char *needle)
{
	char out[4096];

	expect_abort(fn, arg, out, sizeof(out));
	ASSERT_CONTAINS(out, "lock claim broken");
	ASSERT_CONTAINS(out, needle);
}

static struct dl_mutex mx = DL_MUTEX_INITIALIZER;

static void *hold_elsewhere(void *arg)
{
	bool *held = arg;

	dl_mutex_lock(&mx);
	*held = dl_mutex_held(&mx);
	dl_mutex_unlock(&mx);
	return NULL;
}

TEST(held_only_by_its_holder)
{
	pthread_t t;
	bool other = false;

	ASSERT_FALSE(dl_mutex_held(&mx));
	dl_mutex_lock(&mx);
	ASSERT_TRUE(dl_mutex_held(&mx));
	dl_mutex_assert_held(&mx);
	dl_mutex_unlock(&mx);
	ASSERT_FALSE(dl_mutex_held(&mx));

	ASSERT_EQ(pthread_create(&t, NULL, hold_elsewhere, &other), 0);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	ASSERT_TRUE(other);
	ASSERT_FALSE(dl_mutex_held(&mx));
}

static void claim_without_lock(void *arg)
{
	(void)arg;
	dl_mutex_assert_held(&mx);
	fprintf(stderr, "survived\n");
}

TEST(claim_without_the_lock_aborts)
{
	expect_claim_abort(claim_without_lock, NULL, "dl_mutex_held(&mx)");
}

static void *lock_and_stay(void *arg)
{
	pthread_barrier_t *b = arg;

	dl_mutex_lock(&mx);
	pthread_barrier_wait(b); /* held */
	pthread_barrier_wait(b); /* the main thread has tried */
	dl_mutex_unlock(&mx);
	return NULL;
}

static void claim_while_another_holds(void *arg)
{
	pthread_barrier_t b;
	pthread_t t;

	(void)arg;
	pthread_barrier_init(&b, NULL, 2);
	pthread_create(&t, NULL, lock_and_stay, &b);
	pthread_barrier_wait(&b);
	dl_mutex_assert_held(&mx); /* held, but not by this thread */
	fprintf(stderr, "survived\n");
}

TEST(claim_while_another_thread_holds_aborts)
{
	expect_claim_abort(claim_while_another_holds, NULL, "dl_mutex_held(&mx)");
}

static void unlock_not_held(void *arg)
{
	(void)arg;
	dl_mutex_unlock(&mx);
	fprintf(stderr, "survived\n");
}

TEST(unlock_without_holding_aborts)
{
	expect_claim_abort(unlock_not_held, NULL, "owner");
}

/* The platform's claims, at their real sites. */
static const char topo[] =
	"0000:00:00.0 vendor=0x8086 device=0x29c0 class=0x060000\n"
	"0000:00:03.0 vendor=0x1af4 device=0x1041 class=0x020000 bar1=4K\n";

static struct dl_pci_platform *platform(struct dl_tree **ret_tree)
{
	return test_platform(topo, ret_tree);
}

static void find_spec_unlocked(void *arg)
{
	struct dl_tree *tree;
	struct dl_pci_platform *plat = platform(&tree);

	(void)arg;
	(void)dl_pci__find_spec_locked(plat, 0, 0, dl_pci_devfn(3, 0));
	fprintf(stderr, "survived\n");
}

TEST(find_spec_without_a_lock_aborts)
{
	expect_claim_abort(find_spec_unlocked, NULL, "plat->hw_lock");
}

static void mark_absent_with_hw_lock_only(void *arg)
{
	struct dl_tree *tree;
	struct dl_pci_platform *plat = platform(&tree);

	(void)arg;
	dl_mutex_lock(&plat->hw_lock);
	dl_pci__mark_absent_locked(plat, 1);
	fprintf(stderr, "survived\n");
}

TEST(mark_absent_without_scan_lock_aborts)
{
	expect_claim_abort(mark_absent_with_hw_lock_only, NULL, "plat->scan_lock");
}

TEST(claims_hold_with_the_locks)
{
	struct dl_tree *tree;
	struct dl_pci_platform *plat = platform(&tree);

	dl_mutex_lock(&plat->hw_lock);
	ASSERT_EQ(dl_pci__find_spec_locked(plat, 0, 0, dl_pci_devfn(3, 0)), 1);
	dl_mutex_unlock(&plat->hw_lock);
	dl_mutex_lock(&plat->scan_lock);
	ASSERT_EQ(dl_pci__find_spec_locked(plat, 0, 0, dl_pci_devfn(3, 0)), 1);
	dl_mutex_unlock(&plat->scan_lock);
	dl_pci_platform_free(plat);
	dl_tree_free(tree);
	for (int i = 0; i < 8; i++)
		urcu_bp_barrier();
	leak_check();
}

TEST_MAIN(held_only_by_its_holder, claim_without_the_lock_aborts,
	  claim_while_another_thread_holds_aborts, unlock_without_holding_aborts,
	  find_spec_without_a_lock_aborts, mark_absent_without_scan_lock_aborts,
	  claims_hold_with_the_locks)
