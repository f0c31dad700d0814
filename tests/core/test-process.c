/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Active references and the rest of the process: a thread whose slots
 * for a device are taken, a signal handler, thread-exit destructors,
 * fork().
 */
#include <signal.h>
#include <sys/wait.h>

#include "testutil.h"

/*
 * n devices whose first slot is the same one: with DL_PROBE (4) of them
 * held, the next is counted outside the thread's slots.
 */
/* A new device under parent whose first slot is want (or any, if -1). */
static struct dl_device *device_in_slot(struct dl_tree *tree,
					struct dl_device *parent, int want,
					const char *prefix)
{
	for (int i = 0; i < 4096; i++) {
		char name[32];
		struct dl_device *d;

		snprintf(name, sizeof(name), "%s%d", prefix, i);
		d = mkdev(tree, parent, name);
		if (want < 0 || dl__slot_index_abi(d) == (unsigned int)want)
			return d;
		ASSERT_EQ(dl_device_remove(d, DL_REMOVE_TRY, 0), 0);
		dl_device_put(d);
	}
	FAIL_AT("no device of slot %d", want);
}

/*
 * n devices whose first slot is the same one: with DL_PROBE (4) of them
 * held, the next is counted outside the thread's slots. The first n - 1
 * are roots, the last is a child of parent.
 */
static void same_slot_devices(struct dl_tree *tree, struct dl_device *parent,
			      struct dl_device **out, int n)
{
	out[0] = device_in_slot(tree, NULL, -1, "r0-");
	for (int i = 1; i < n; i++) {
		char prefix[16];

		snprintf(prefix, sizeof(prefix), "r%d-", i);
		out[i] = device_in_slot(tree, i == n - 1 ? parent : NULL,
					(int)dl__slot_index_abi(out[0]),
					prefix);
	}
}

/*
 * Case: the slots a device hashes to are all taken, so the thread's
 * reference on it is counted outside its slots. The thread's own checks
 * must still see it: removing it (or its parent) from the holding thread
 * says -EDEADLK at once instead of timing out, and remove_self works.
 */
TEST(full_slots_holder_is_seen)
{
	struct dl_tree *tree = mktree();
	struct dl_device *p = mkdev(tree, NULL, "p");
	struct dl_device *d[5];

	same_slot_devices(tree, p, d, 5);
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(dl_device_enter(d[i]), 0);
	ASSERT_EQ(atomic_load(&d[4]->fallback_active), 1);
	ASSERT_EQ(dl_device_remove(d[4], DL_REMOVE_WAIT, 2000000000), -EDEADLK);
	ASSERT_EQ(dl_device_remove(p, DL_REMOVE_WAIT, 2000000000), -EDEADLK);
	ASSERT_EQ(dl_device_remove_self(d[4], DL_REMOVE_TRY), 0);
	ASSERT_EQ(dl_device_state(d[4]), DL_STATE_DEAD);
	ASSERT_EQ(atomic_load(&d[4]->fallback_active), 0);
	for (int i = 0; i < 4; i++)
		dl_device_exit(d[i]);
	for (int i = 0; i < 5; i++)
		dl_device_put(d[i]);
	dl_device_put(p);
	free_tree(tree);
}

static void lock_parent_holding_full_slot_child(void *arg)
{
	struct dl_tree *tree = mktree();
	struct dl_device *p = mkdev(tree, NULL, "p");
	struct dl_device *d[5];

	(void)arg;
	same_slot_devices(tree, p, d, 5);
	for (int i = 0; i < 5; i++)
		if (dl_device_enter(d[i]) != 0)
			_exit(3);
	dl_device_lock(p); /* holding active(d[4]), outside the slots */
	fprintf(stderr, "took the parent's lock\n");
}

TEST(full_slots_holder_lock_order)
{
	expect_death(lock_parent_holding_full_slot_child, NULL,
		     "taken while holding active(r4-");
}

/*
 * Case: a signal handler enters a device while the library's enter on the
 * same thread is between claiming a slot and counting in it. The handler
 * would take the same slot and one count would be lost. A signal handler
 * may not enter (<devlife/device.h>); builds with debug checks abort.
 */
static struct dl_device *sig_dev;
static atomic_int sig_entered;

static void sig_handler(int sig)
{
	(void)sig;
	if (dl_device_enter(sig_dev) == 0) {
		dl_device_exit(sig_dev);
		atomic_fetch_add(&sig_entered, 1);
	}
}

static void raise_at_claim(const char *point, struct dl_device *dev)
{
	(void)dev;
	if (strcmp(point, "enter:slot-claimed") == 0 && sig_dev &&
	    dev != sig_dev)
		raise(SIGUSR1);
}

static void enter_interrupted_by_handler(void *arg)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d[2];

	(void)arg;
	same_slot_devices(tree, NULL, d, 2);
	sig_dev = d[1];
	signal(SIGUSR1, sig_handler);
	dl__test_set_hook(raise_at_claim);
	if (dl_device_enter(d[0]) != 0)
		_exit(3);
	fprintf(stderr, "d0 users %ld, d1 users %ld, handler entered %d\n",
		dl_device_active_users(d[0]), dl_device_active_users(d[1]),
		atomic_load(&sig_entered));
}

TEST(signal_handler_enter_aborts)
{
	expect_death(enter_interrupted_by_handler, NULL,
		     "a signal handler may not enter or exit a device");
}

/*
 * Case: a thread's last exit is made by a thread-exit destructor that
 * runs after the library's own (a pthread key created later). It must
 * still count.
 */
static pthread_key_t late_key;

static void late_exit(void *arg)
{
	dl_device_exit(arg);
}

static void *enter_and_leave_it_to_a_destructor(void *arg)
{
	struct dl_device *d = arg;

	if (dl_device_enter(d) != 0)
		FAIL_AT("enter failed");
	if (pthread_setspecific(late_key, d) != 0)
		FAIL_AT("pthread_setspecific failed");
	return NULL;
}

TEST(exit_from_late_thread_destructor)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "d");

	/* created after the library's key: its destructor runs later */
	ASSERT_EQ(pthread_key_create(&late_key, late_exit), 0);
	join(spawn(enter_and_leave_it_to_a_destructor, d));
	ASSERT_EQ(dl_device_active_users(d), 0);
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_TRY, 0), 0);
	pthread_key_delete(late_key);
	dl_device_put(d);
	free_tree(tree);
}

/*
 * Case: fork() while another thread is inside a device. That thread does
 * not exist in the child, so neither do its references: the child can
 * remove the device.
 */
struct held {
	struct dl_device *dev[5];
	struct gate in, out;
};

static void *hold_all(void *arg)
{
	struct held *h = arg;

	for (int i = 0; i < 5; i++)
		if (dl_device_enter(h->dev[i]) != 0)
			FAIL_AT("enter failed");
	gate_pass(&h->in);
	gate_pass(&h->out);
	for (int i = 0; i < 5; i++)
		dl_device_exit(h->dev[i]);
	return NULL;
}

TEST(fork_drops_other_threads_references)
{
	struct dl_tree *tree = mktree();
	struct held h;
	pthread_t t;
	pid_t pid;
	int status;

	/* the other thread holds four in its slots, one outside them */
	same_slot_devices(tree, NULL, h.dev, 5);
	gate_init(&h.in);
	gate_init(&h.out);
	t = spawn(hold_all, &h);
	gate_wait_entered(&h.in, 1);
	ASSERT_EQ(atomic_load(&h.dev[4]->fallback_active), 1);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int r0 = dl_device_remove(h.dev[0], DL_REMOVE_TRY, 0);
		int r4 = dl_device_remove(h.dev[4], DL_REMOVE_WAIT, 2000000000);

		if (r0 != 0 || r4 != 0) {
			fprintf(stderr, "child: remove says %d and %d\n", r0,
				r4);
			_exit(1);
		}
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	/* the parent is unchanged */
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(dl_device_active_users(h.dev[i]), 1);
	ASSERT_EQ(dl_device_remove(h.dev[0], DL_REMOVE_TRY, 0), -EBUSY);
	gate_open(&h.in);
	gate_open(&h.out);
	join(t);
	for (int i = 0; i < 5; i++)
		dl_device_put(h.dev[i]);
	free_tree(tree);
}

TEST_MAIN(full_slots_holder_is_seen, full_slots_holder_lock_order,
	  signal_handler_enter_aborts, exit_from_late_thread_destructor,
	  fork_drops_other_threads_references)
