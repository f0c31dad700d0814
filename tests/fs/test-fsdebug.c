/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The view's claim checks (src/fs/fsdebug.h), as built in debug builds:
 * a mutex knows which thread holds it, so a *_locked function called
 * without its lock aborts with the claim instead of racing.
 */
#define DL_DEBUG_CHECKS 1
#include "harness.h"
#include "fsdebug.h"

static struct fs_mutex mx;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool flag;

static void *held_elsewhere(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)fs_mutex_held(&mx);
}

static bool held_by_other_thread(void)
{
	pthread_t t;
	void *res;

	if (pthread_create(&t, NULL, held_elsewhere, NULL) != 0 ||
	    pthread_join(t, &res) != 0)
		FAIL_AT("thread");
	return (intptr_t)res != 0;
}

TEST(held_only_by_its_holder)
{
	fs_mutex_init(&mx);
	ASSERT_FALSE(fs_mutex_held(&mx));
	fs_mutex_lock(&mx);
	ASSERT_TRUE(fs_mutex_held(&mx));
	ASSERT_FALSE(held_by_other_thread());
	fs_mutex_unlock(&mx);
	ASSERT_FALSE(fs_mutex_held(&mx));
	fs_mutex_destroy(&mx);
}

static void *signaller(void *arg)
{
	(void)arg;
	fs_mutex_lock(&mx);
	flag = true;
	/* the waiter gave the lock up while it waits */
	pthread_cond_signal(&cond);
	fs_mutex_unlock(&mx);
	return NULL;
}

TEST(cond_wait_hands_the_lock_over_and_back)
{
	pthread_t t;

	fs_mutex_init(&mx);
	fs_mutex_lock(&mx);
	ASSERT_EQ(pthread_create(&t, NULL, signaller, NULL), 0);
	while (!flag)
		fs_cond_wait(&cond, &mx);
	ASSERT_TRUE(fs_mutex_held(&mx));
	fs_mutex_unlock(&mx);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	fs_mutex_destroy(&mx);
}

static void claim_without_lock(void *arg)
{
	(void)arg;
	fs_mutex_init(&mx);
	fs_assert_held(&mx);
	_exit(0); /* not reached when the claim is checked */
}

TEST(unheld_claim_aborts_with_the_claim)
{
	char out[512];
	int status = run_captured(claim_without_lock, NULL, out, sizeof(out));

	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	ASSERT_CONTAINS(out, "claim broken: fs_mutex_held(&mx)");
}

TEST_MAIN(held_only_by_its_holder, cond_wait_hands_the_lock_over_and_back,
	  unheld_claim_aborts_with_the_claim)
